"""The site's pages in a real headless browser (Debian's chromium, driven by Playwright) checked by axe-core
(from npm, node_modules/axe-core): no serious or critical accessibility violation, and the pictures draw."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
ARTICLE = "/article/cgtn-2019-03-01-hanoi-summit"
QUERY = "SELECT ?person ?name WHERE { ?person a <https://w3id.org/diplomacy-kg/ontology#Person> ; " \
        "<http://www.w3.org/2000/01/rdf-schema#label> ?name } ORDER BY ?name"
# path -> what shows that the page is drawn (scripts included)
PAGES = {
    "/": "h1",
    "/search?q=kim": "h1",
    "/browse": "h1",
    f"/sparql?query={quote(QUERY)}": ".yasr table.dataTable tbody tr",
    "/timeline": ".vis-item",
    f"/network?about={ARTICLE}": "#network canvas",
    "/network?about=/entity/mike-pompeo": "#network canvas",
    "/entity/kim-jong-un": "h1",
    ARTICLE: "h1",
}


@pytest.fixture
def page(browser) -> Iterator:
    """A page whose CSP is bypassed only so that axe's script can be added to it."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make test` (npm ci) first")
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, bypass_csp=True)
    yield context.new_page()
    context.close()




@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violation(release_server, page, path: str) -> None:
    response = page.goto(release_server.base_url + path)
    assert response.status == 200, path
    page.wait_for_selector(PAGES[path])
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
               for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], path


def test_the_timeline_draws_each_item_as_a_link(release_server, page) -> None:
    page.goto(f"{release_server.base_url}/timeline")
    page.wait_for_selector(".vis-item a")
    listed = page.locator(".timeline-list li").count()
    assert page.evaluate("timeline.itemsData.length") == listed > 0
    hrefs = page.locator(".vis-item a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs and all(href.startswith("/") for href in hrefs)


def test_the_graph_draws_every_node_and_opens_a_nodes_page(release_server, page) -> None:
    page.goto(f"{release_server.base_url}/network?about=/entity/mike-pompeo")
    page.wait_for_selector("#network canvas")
    assert page.evaluate("network.nodes().length") == page.evaluate(
        "JSON.parse(document.getElementById('picture-data').textContent).nodes.length")
    # tapped from a timer: an evaluate whose own code navigates away waits on Playwright for seconds (13 s here)
    page.evaluate("setTimeout(() => network.getElementById('https://w3id.org/diplomacy-kg/entity/mike-pompeo')"
                  ".emit('tap'), 0)")
    page.wait_for_url("**/entity/mike-pompeo")
