"""The query editor (YASGUI from npm, kg/static/editor.js) in a real headless browser (Debian's chromium,
driven by Playwright): links run queries, results are a table whose IRIs lead to this server's pages,
numbers become a chart, completion offers this dataset's terms, and nothing is fetched from elsewhere."""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

pytestmark = pytest.mark.browser

DIPL = "https://w3id.org/diplomacy-kg/ontology#"
PEOPLE = (f"SELECT ?person ?name WHERE {{ ?person a <{DIPL}Person> ; "
          "<http://www.w3.org/2000/01/rdf-schema#label> ?name } ORDER BY ?name")
COUNTS = "SELECT ?type (COUNT(?x) AS ?count) WHERE { ?x a ?type } GROUP BY ?type ORDER BY DESC(?count) LIMIT 8"
ROWS = ".yasr table.dataTable tbody tr"


@pytest.fixture
def page(browser, release_server) -> Iterator:
    """A fresh page (no stored tabs) that may only talk to the test servers; anything else is recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.elsewhere = []

    def guard(route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":  # the test servers
            route.continue_()
        else:
            page.elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    yield page
    context.close()


def open_query(page, server, query: str) -> None:
    page.goto(f"{server.base_url}/sparql?query={quote(query)}")
    page.wait_for_selector(ROWS)


def editor_text(page) -> str:
    return page.evaluate("yasgui.getTab().getQuery()")


def set_query(page, query: str) -> None:
    page.evaluate("query => { yasgui.getTab().setQuery(query); }", query)


def test_a_query_link_opens_the_editor_with_the_rows(page, release_server) -> None:
    open_query(page, release_server, PEOPLE)
    assert editor_text(page) == PEOPLE
    cells = page.locator(f"{ROWS} td").all_inner_texts()
    assert any("Kim Jong Un" in cell for cell in cells) and any("Donald Trump" in cell for cell in cells)
    assert page.locator("#status").inner_text() == ""  # not cut, no error: nothing to say
    assert page.elsewhere == []


def test_iris_link_to_this_servers_pages_never_off_site(page, release_server) -> None:
    open_query(page, release_server, PEOPLE)
    hrefs = page.locator(f"{ROWS} a.iri").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert "/entity/kim-jong-un" in hrefs
    assert "entity:kim-jong-un" in page.locator(f"{ROWS} a.iri").all_inner_texts()  # the dataset's own prefix
    assert all(href.startswith("/") for href in hrefs), hrefs
    page.locator(f"{ROWS} a.iri[href='/entity/kim-jong-un']").click()
    page.wait_for_load_state()
    assert page.url == f"{release_server.base_url}/entity/kim-jong-un"
    assert "Kim Jong Un" in page.locator("h1").inner_text()


def test_prefixed_names_in_the_table(page, release_server) -> None:
    open_query(page, release_server, COUNTS)
    texts = page.locator(f"{ROWS} a.iri").all_inner_texts()
    assert any(text.startswith("dipl:") for text in texts), texts
    assert page.locator(f"{ROWS} a.iri[href^='/ontology#']").count() >= 1


def test_sort_and_page_the_table(page, release_server) -> None:
    open_query(page, release_server, "SELECT ?s ?o WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?o }")
    assert page.locator(ROWS).count() == 50  # the first page of YASR's table
    assert "Showing 1 to 50 of" in page.locator(".yasr").inner_text()  # ...of the whole result, in pages
    page.wait_for_load_state("networkidle")  # the table has settled (YASR redraws it once laid out)
    header = page.locator(".yasr table.dataTable thead th", has_text="o")
    header.click()
    page.wait_for_selector(".yasr table.dataTable thead th.dt-ordering-asc")
    first = page.locator(f"{ROWS} td").nth(2).inner_text()
    header.click()
    page.wait_for_selector(".yasr table.dataTable thead th.dt-ordering-desc")
    last = page.locator(f"{ROWS} td").nth(2).inner_text()
    assert first != last  # the first row of ascending, then of descending order


def test_type_a_query_run_it_and_share_its_url(page, release_server) -> None:
    page.goto(f"{release_server.base_url}/sparql")
    page.wait_for_selector(".yasqe .CodeMirror")
    assert page.locator(".yasqe .cm-keyword").count() > 0  # highlighted: PREFIX, SELECT...
    page.locator(".yasqe .CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(f"SELECT ?name WHERE {{ ?p a <{DIPL}Person> ; <http://www.w3.org/2000/01/rdf-schema#label> ?name }}")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(ROWS)
    shared = parse_qs(urlsplit(page.url).query)["query"][0]
    assert shared == editor_text(page)
    again = page.context.new_page()
    again.goto(page.url)
    again.wait_for_selector(ROWS)
    assert again.locator(ROWS).count() == page.locator(ROWS).count()
    again.close()


def test_named_queries_are_examples(page, release_server) -> None:
    page.goto(f"{release_server.base_url}/sparql")
    page.wait_for_selector(".yasqe .CodeMirror")
    page.select_option("#examples", label="Disputed claims")
    assert "dipl:Claim" in editor_text(page)
    page.evaluate("() => { yasgui.getTab().query(); }")
    page.wait_for_selector(ROWS)
    assert "Ri Yong Ho" in page.locator(".yasr").inner_text()


def test_errors_show_the_servers_message(page, release_server) -> None:
    page.goto(f"{release_server.base_url}/sparql?query={quote('SELECT * WHERE { ?s ?p }')}")
    page.wait_for_selector("#status.error")
    assert page.locator("#status").inner_text().startswith("Error 400: malformed query")
    assert page.elsewhere == []


def test_numbers_are_charted(page, release_server) -> None:
    open_query(page, release_server, COUNTS)
    page.locator(".yasr .select_chart").click()
    page.wait_for_selector("figure.numbers-chart canvas")
    assert page.evaluate("Chart.getChart(document.querySelector('figure.numbers-chart canvas')).data.datasets[0].data.length") == 8


def test_downloads_in_csv_tsv_and_json(page, release_server) -> None:
    open_query(page, release_server, PEOPLE)
    for name, media_type in (("csv", "text/csv"), ("tsv", "text/tab-separated-values"),
                             ("json", "application/sparql-results+json")):
        href = page.locator(f"#download-{name}").get_attribute("href")
        answer = httpx.get(release_server.base_url + href, headers={"Accept": "text/html,*/*;q=0.8"})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(media_type), name
        assert "Kim Jong Un" in answer.text


def test_completion_offers_this_datasets_classes_and_properties(page, release_server) -> None:
    page.goto(f"{release_server.base_url}/sparql")
    page.wait_for_selector(".yasqe .CodeMirror")
    for query, expected in ((f"PREFIX dipl: <{DIPL}>\nSELECT * WHERE {{ ?s a dipl:Cla", "dipl:Claim"),
                            (f"PREFIX dipl: <{DIPL}>\nSELECT * WHERE {{ ?s dipl:spea", "dipl:speaker")):
        set_query(page, query)
        page.evaluate("() => { const y = yasgui.getTab().getYasqe(); y.focus(); y.setCursor({line: 1, ch: 1000}); }")
        page.keyboard.press("Control+Space")
        page.wait_for_selector(".CodeMirror-hints li")
        assert expected in page.locator(".CodeMirror-hints li").all_inner_texts()
        page.keyboard.press("Escape")
    assert page.elsewhere == []


HOSTILE_QUERY = ("SELECT ?x WHERE { VALUES ?x { <javascript:alert(document.domain)> <JavaScript:alert(2)> "
                 "<data:text/html,hello> <https://example.org/fine> } }")


def test_a_javascript_iri_in_a_result_is_shown_as_text_and_runs_nothing(page, release_server) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_query(page, release_server, HOSTILE_QUERY)
    links = page.locator(f"{ROWS} a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert links == ["https://example.org/fine"]  # http(s) IRIs are still links, nothing else is
    text = page.locator(".yasr table.dataTable tbody").inner_text()
    assert "javascript:alert(document.domain)" in text
    page.locator(".yasr table.dataTable tbody").get_by_text("javascript:alert(document.domain)").click()
    page.evaluate("() => new Promise(resolve => setTimeout(resolve, 0))")
    assert dialogs == []
    assert page.elsewhere == []


@pytest.fixture(scope="module")
def capped_server(kg_serve, built_release):
    """`kg serve --max-results 3` over the built release."""
    return kg_serve("--build-dir", built_release.path.parent.parent, "--workers", "1", "--max-results", "3")


def test_the_editor_says_cut_only_when_the_server_cut(page, capped_server) -> None:
    page.goto(f"{capped_server.base_url}/sparql?query={quote(PEOPLE)}")
    page.wait_for_selector(ROWS)
    assert page.locator(ROWS).count() == 3
    assert "cut at the server's limit" in page.locator("#status").inner_text()
    page.goto(f"{capped_server.base_url}/sparql?query={quote(PEOPLE + ' LIMIT 3')}")
    page.wait_for_selector(ROWS)
    assert page.locator("#status").inner_text() == ""
