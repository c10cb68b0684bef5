"""The HTML pages in a real headless browser (Debian's chromium driven by playwright): pages render
without JavaScript, every local link resolves, and every highlighted mention covers exactly the
words its span names. Screenshots of the main pages go to tests/artifacts/."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
ARTICLE = "/article/cgtn-2019-03-01-hanoi-summit"
ANCHORS = """
PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
PREFIX dipl: <https://w3id.org/diplomacy-kg/ontology#>
SELECT ?begin ?end ?anchor WHERE { GRAPH ?g {
  ?span dipl:inArticle ?article ; nif:beginIndex ?begin ; nif:endIndex ?end ; nif:anchorOf ?anchor .
  ?resource ?grounds ?span .
  VALUES ?grounds { <http://groundedannotationframework.org/gaf#denotedBy> dipl:quotation dipl:paraphrase dipl:dateGroundedBy }
} }"""


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1200, "height": 1400})
    yield context.new_page()
    context.close()


def claim_and_event_paths(server) -> dict[str, str]:
    query = ("SELECT ?claim ?event WHERE { ?claim a <https://w3id.org/diplomacy-kg/ontology#Claim> ; "
             "<https://w3id.org/diplomacy-kg/ontology#attribution> ?a . "
             "?event <https://w3id.org/diplomacy-kg/ontology#participation> ?p } ORDER BY ?claim ?event LIMIT 1")
    row = httpx.get(server.sparql, params={"query": query}, headers={"Accept": "application/sparql-results+json"}
                    ).json()["results"]["bindings"][0]
    base = httpx.get(f"{server.base_url}/dumps/?format=json").json()["base"]
    return {name: "/" + row[name]["value"][len(base):] for name in ("claim", "event")}


TALL_PAGES = ("article", "ontology", "shapes", "graph")


def test_main_pages_render_and_are_screenshotted(release_server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    pages = {"home": "/", "article": ARTICLE, "entity": "/entity/kim-jong-un", "ontology": "/ontology",
             "dumps": "/dumps/", "shapes": "/shapes", "graph": ARTICLE.replace("/article/", "/graph/article/"),
             **claim_and_event_paths(release_server)}
    for name, path in pages.items():
        response = page.goto(release_server.base_url + path)
        assert response.status == 200, path
        assert page.locator("h1").first.inner_text().strip(), path
        # the viewport only for the tall pages: Chromium fails now and then to capture a whole page that tall
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=name not in TALL_PAGES)
    claim = claim_and_event_paths(release_server)["claim"]
    page.goto(release_server.base_url + claim)
    assert page.locator("section.attributions li").count() >= 1
    assert page.locator("section.attributions blockquote mark").count() >= 1


def test_every_local_link_on_the_main_pages_resolves(release_server, page):
    checked: set[str] = set()
    for path in ("/", ARTICLE, "/entity/kim-jong-un", "/shapes", *claim_and_event_paths(release_server).values()):
        page.goto(release_server.base_url + path)
        for href in page.locator("a[href]").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
            url = urljoin(release_server.base_url + path, href)
            if not url.startswith(release_server.base_url) or "/sparql" in url:
                continue
            url = url.split("#")[0]
            if url in checked:
                continue
            checked.add(url)
            response = httpx.get(url, headers={"Accept": "text/html"})
            assert response.status_code == 200, f"{href} on {path}"
    assert len(checked) > 50


def test_highlighted_mentions_land_on_the_right_words(release_server, page):
    rows = httpx.get(release_server.sparql, params={"query": ANCHORS},
                     headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
    expected = {f'{row["begin"]["value"]},{row["end"]["value"]}': row["anchor"]["value"] for row in rows}
    page.goto(release_server.base_url + ARTICLE)
    shown = page.locator("mark[data-char]").evaluate_all(
        "els => els.map(e => [e.dataset.char, e.textContent])")
    texts: dict[str, str] = {}
    for key, text in shown:  # a span split by an overlapping one is shown in pieces
        texts[key] = texts.get(key, "") + text
    assert texts.keys() == expected.keys()
    mismatched = {key: (texts[key], anchor) for key, anchor in expected.items() if texts[key] != anchor}
    assert not mismatched
    # a mention's link leads to the resource it names
    kim = page.locator('mark[id="char=84,95"] a').first
    assert kim.inner_text() == "Kim Jong Un" and kim.get_attribute("href") == "/entity/kim-jong-un"
