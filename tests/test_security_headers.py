"""Security headers and safe links, in process (the app a worker serves: `front_door(create_app(...))`).

Every HTML response carries a Content-Security-Policy without inline script, X-Frame-Options,
Referrer-Policy and nosniff; every other response carries nosniff. Data values that are not http(s)
IRIs (`javascript:alert(1)` in a store or a result) never become links in the server's pages.
"""
from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from kg.rdf.vocabulary import PREFIXES
from kg.server.app import create_app, front_door
from kg.server.views.editor import editor_page
from kg.server.views.named_queries import NamedQuery, results_table
from kg.server.views.pages import HighlightedSpan, Reader, highlight, resource_page
from kg.server.settings import ServerSettings
from kg.server.views.site import Site

from conftest import REPO

ARTICLE = "/article/cgtn-2019-03-01-hanoi-summit"
HOSTILE_IRIS = ["javascript:alert(document.domain)", "JavaScript:alert(1)", "data:text/html,hello",
                "vbscript:msgbox(1)"]


@pytest.fixture(scope="module")
def app(built_release):
    settings = ServerSettings(release=str(built_release.path), queries=str(REPO / "queries"), workers=1)
    return front_door(create_app(built_release.store_path, settings))


def get(app, path: str, accept: str = "*/*") -> httpx.Response:
    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
            return await client.get(path, headers={"Accept": accept})
    return asyncio.run(fetch())


def assert_document_headers(response: httpx.Response) -> None:
    policy = {d.split()[0]: d.split()[1:] for d in response.headers["content-security-policy"].split(";") if d.strip()}
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-content-type-options"] == "nosniff"
    for name in ("content-security-policy", "x-frame-options", "referrer-policy", "x-content-type-options"):
        assert len(response.headers.get_list(name)) == 1, name


HTML_PAGES = {
    "home": ("/", 200), "entity": ("/entity/kim-jong-un", 200), "article": (ARTICLE, 200),
    "graph": (ARTICLE.replace("/article/", "/graph/article/"), 200), "ontology": ("/ontology", 200),
    "shapes": ("/shapes", 200), "dumps": ("/dumps/", 200), "editor": ("/sparql", 200),
    "queries": ("/queries", 200), "named query": ("/queries/disputed-claims?format=html", 200),
    "unknown resource": ("/entity/nobody-at-all", 404),
}


@pytest.mark.parametrize("name", HTML_PAGES)
def test_every_html_page_carries_the_security_headers(app, name: str) -> None:
    path, status = HTML_PAGES[name]
    response = get(app, path, accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert_document_headers(response)


OTHER_RESPONSES = {
    "sparql json": ("/sparql?query=ASK%7B%7D", "application/sparql-results+json", 200),
    "sparql error": ("/sparql?query=SELECT", "*/*", 400),
    "service description": ("/sparql", "text/turtle", 200),
    "queries json": ("/queries", "application/json", 200),
    "resource turtle": ("/entity/kim-jong-un.ttl", "*/*", 200),
    "dump listing json": ("/dumps/?format=json", "*/*", 200),
    "script": ("/static/editor.js", "*/*", 200),
    "style": ("/site.css", "*/*", 200),
    "json 404": ("/no/such/path", "*/*", 404),
    "openapi": ("/openapi.json", "*/*", 200),
}


@pytest.mark.parametrize("name", OTHER_RESPONSES)
def test_every_other_response_carries_nosniff(app, name: str) -> None:
    path, accept, status = OTHER_RESPONSES[name]
    response = get(app, path, accept)
    assert response.status_code == status
    assert not response.headers["content-type"].startswith("text/html")
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]


def test_the_reconcile_preview_card_may_be_framed_but_runs_no_script(app) -> None:
    """OpenRefine shows the preview in an iframe of its own page: the card may be framed, nothing else."""
    response = get(app, "/reconcile/preview?id=kim-jong-un")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy and "frame-ancestors *" in policy
    assert "x-frame-options" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def test_pages_use_no_inline_script_or_style(app) -> None:
    """What the policy forbids is not in the pages (the editor's data is a JSON block, not a script)."""
    for path, _ in HTML_PAGES.values():
        text = get(app, path, accept="text/html").text.lower()
        assert " style=" not in text and "<style" not in text, path
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", text), path  # no inline event handlers
        for tag in text.split("<script")[1:]:
            head = tag.split(">", 1)[0]
            assert " src=" in head or 'type="application/json"' in head, (path, head)


def test_editor_data_cannot_end_its_json_block() -> None:
    """Named-query text holding `</script>` or `<!--` stays inside the editor's JSON data block."""
    hostile = NamedQuery("x", "t", "<!--<script>", (), "SELECT * { ?s ?p '</script><script>alert(1)</script>' }")
    page = editor_page([hostile]).decode()
    block = page.split('id="editor-data">', 1)[1]
    assert "<" not in block.split("</script>", 1)[0]
    assert json.loads(block.split("</script>", 1)[0])["examples"][0]["description"] == "<!--<script>"


def hostile_store(base: str) -> tuple[Store, str]:
    """A store where an entity points to, and is pointed to by, IRIs of non-web schemes."""
    store = Store()
    subject = NamedNode(base + "entity/target")
    label = NamedNode(PREFIXES["rdfs"] + "label")
    store.add(Quad(subject, label, Literal("Target", language="en")))
    for number, iri in enumerate(HOSTILE_IRIS):
        store.add(Quad(subject, NamedNode(f"http://example.org/points{number}"), NamedNode(iri)))
        store.add(Quad(NamedNode(iri), NamedNode("http://example.org/to"), subject))
    store.add(Quad(subject, NamedNode("http://example.org/web"), NamedNode("https://example.org/fine")))
    return store, subject.value


def test_a_resource_page_links_no_iri_of_another_scheme(built_release) -> None:
    site = Site(built_release.path)
    store, iri = hostile_store(site.base)
    page = resource_page(store, site, iri)
    html = site.render(page["template"], page=page, title=page["label"], path="/entity/target", iri=iri)
    for hostile in HOSTILE_IRIS:
        assert f'href="{hostile.lower()}' not in html.lower()
    assert "javascript:alert(document.domain)" in html  # still shown, as text
    assert 'href="https://example.org/fine"' in html


def test_a_site_links_only_its_own_paths_and_web_iris(built_release) -> None:
    site = Site(built_release.path)
    assert site.href(site.base + "entity/x") == "/entity/x"
    assert site.href("https://www.wikidata.org/entity/Q1") == "https://www.wikidata.org/entity/Q1"
    assert site.href("HTTP://example.org/") == "HTTP://example.org/"
    for hostile in HOSTILE_IRIS + ["urn:isbn:1", "mailto:a@example.org"]:
        assert site.href(hostile) is None


def test_a_named_query_result_links_only_web_iris() -> None:
    bindings = [{"x": {"type": "uri", "value": iri}} for iri in [*HOSTILE_IRIS, "http://example.org/a"]]
    html = results_table({"head": {"vars": ["x"]}, "results": {"bindings": bindings}})
    assert html.count("<a ") == 1 and 'href="http://example.org/a"' in html
    assert "javascript:alert(document.domain)" in html


def test_article_text_links_no_span_target_of_another_scheme(built_release) -> None:
    site = Site(built_release.path)
    reader = Reader(Store(), site)
    spans = [HighlightedSpan(0, 4, [("mention", "javascript:alert(1)")]), HighlightedSpan(5, 9, [("mention", site.base + "entity/x")])]
    html = str(highlight(reader, "Evil Good", 0, 9, spans))
    assert "href=\"javascript:" not in html and html.count("<a ") == 1 and 'href="/entity/x"' in html
    assert "Evil" in html
