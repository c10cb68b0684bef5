"""The query editor in a real headless browser (Debian's chromium, driven by Playwright)."""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def browser_page(browser, release_server) -> Iterator:
    """A page of a headless chromium that may only talk to the test server (anything else is recorded)."""
    page = browser.new_page()
    page.elsewhere = []  # requests that would leave the test server: there must be none

    def guard(route) -> None:
        if urlsplit(route.request.url).netloc == urlsplit(release_server.base_url).netloc:
            route.continue_()
        else:
            page.elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    yield page
    page.close()


def test_type_a_query_run_it_and_see_the_rows(browser_page, release_server) -> None:
    page = browser_page
    page.goto(f"{release_server.base_url}/sparql")
    page.wait_for_selector(".CodeMirror")
    assert page.locator(".CodeMirror .cm-keyword").count() > 0  # highlighted: PREFIX, SELECT...
    page.locator(".CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type('SELECT ?name WHERE { ?p a <https://w3id.org/diplomacy-kg/ontology#Person> ; '
                      '<http://www.w3.org/2000/01/rdf-schema#label> ?name } ORDER BY ?name')
    page.click("#run")
    page.wait_for_selector("table.results tbody tr")
    names = page.locator("table.results tbody td").all_inner_texts()
    assert "Donald Trump@en" in names and "Kim Jong Un@en" in names  # with their language tags
    assert page.locator("table.results th").all_inner_texts() == ["name"]
    assert page.locator("#status").inner_text().startswith(f"{len(names)} rows")
    assert page.elsewhere == []


def test_named_query_examples_and_prefix_buttons(browser_page, release_server) -> None:
    page = browser_page
    page.goto(f"{release_server.base_url}/sparql")
    page.wait_for_selector(".CodeMirror")
    page.select_option("#examples", label="Disputed claims")
    assert "dipl:Claim" in page.evaluate("window.sparqlEditor.getValue()")
    page.click("#run")
    page.wait_for_selector("table.results tbody tr")
    assert "Ri Yong Ho" in page.locator("table.results").inner_text()
    page.evaluate("window.sparqlEditor.setValue('ASK { ?s owl:sameAs ?o }')")
    page.click("button.prefix[data-prefix=owl]")
    assert page.evaluate("window.sparqlEditor.getValue()").startswith("PREFIX owl: <http://www.w3.org/2002/07/owl#>\n")
    page.click("#run")
    page.wait_for_selector("p.answer")


def test_errors_are_shown_with_the_servers_message(browser_page, release_server) -> None:
    page = browser_page
    page.goto(f"{release_server.base_url}/sparql")
    page.wait_for_selector(".CodeMirror")
    page.evaluate("window.sparqlEditor.setValue('SELECT * WHERE { ?s ?p }')")
    page.click("#run")
    page.wait_for_selector("#status.error")
    assert page.locator("#status").inner_text().startswith("Error 400: malformed query")
    assert page.elsewhere == []


HOSTILE_QUERY = ("SELECT ?x WHERE { VALUES ?x { <javascript:alert(document.domain)> <JavaScript:alert(2)> "
                 "<data:text/html,hello> <https://example.org/fine> } }")


def test_a_javascript_iri_in_a_result_is_shown_as_text_and_runs_nothing(browser_page, release_server) -> None:
    page = browser_page
    dialogs: list[str] = []

    def record(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    try:
        page.goto(f"{release_server.base_url}/sparql")
        page.wait_for_selector(".CodeMirror")
        page.evaluate("query => window.sparqlEditor.setValue(query)", HOSTILE_QUERY)
        page.click("#run")
        page.wait_for_selector("table.results tbody tr")
        title, url = page.title(), page.url
        cells = page.locator("table.results tbody td").all_inner_texts()
        assert cells == ["javascript:alert(document.domain)", "JavaScript:alert(2)", "data:text/html,hello",
                         "https://example.org/fine"]
        links = page.locator("table.results a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert links == ["https://example.org/fine"]  # http(s) IRIs are still links, nothing else is
        for text in cells[:3]:
            page.get_by_text(text, exact=True).click()
        page.evaluate("() => new Promise(resolve => setTimeout(resolve, 0))")  # let any queued navigation run
        assert dialogs == []
        assert page.title() == title and page.url == url
        assert page.elsewhere == []
    finally:
        page.remove_listener("dialog", record)
