"""The Content-Security-Policy in a real headless browser (Debian's chromium driven by playwright):
every page renders with scripts enabled and reports no violation (the editor still runs a query and
shows its rows), and the policy really stops what an injected script or `javascript:` link would do."""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.browser

ARTICLE = "/article/cgtn-2019-03-01-hanoi-summit"
# Records every violation the page reports, before any of its own scripts run.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.cspViolations.push(`${event.effectiveDirective} ${event.blockedURI}`));
"""
PAGES = ["/", ARTICLE, "/entity/kim-jong-un", ARTICLE.replace("/article/", "/graph/article/"), "/ontology",
         "/shapes", "/dumps/", "/queries", "/queries/disputed-claims?format=html", "/entity/nobody-at-all",
         "/reconcile/preview?id=kim-jong-un", "/sparql", "/timeline", f"/network?about={ARTICLE}",
         "/network?about=/entity/mike-pompeo"]


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh page with scripts on; `page.csp_console` collects the console's CSP messages."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.csp_console = []
    page.on("console", lambda message: page.csp_console.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()


def violations(page) -> list[str]:
    return page.evaluate("window.cspViolations") + page.csp_console


@pytest.mark.parametrize("path", PAGES)
def test_the_page_loads_with_no_policy_violation(release_server, page, path: str) -> None:
    response = page.goto(release_server.base_url + path)
    assert "content-security-policy" in response.headers, path
    page.wait_for_load_state("load")
    assert page.locator("h1").first.inner_text().strip(), path
    assert violations(page) == []


def test_the_editor_runs_a_query_under_the_policy(release_server, page) -> None:
    """YASGUI (from npm) under the policy: its highlighting, its result table (whose column resizer would add
    inline <style>, moved into constructed stylesheets by editor.js) and the chart, with no violation."""
    query = "SELECT ?name WHERE { ?p <http://www.w3.org/2000/01/rdf-schema#label> ?name } LIMIT 3"
    page.goto(f"{release_server.base_url}/sparql?query={quote(query)}")
    page.wait_for_selector(".yasqe .CodeMirror .cm-keyword")  # CodeMirror ran, with its styles
    page.wait_for_selector(".yasr table.dataTable tbody tr")
    assert page.locator(".yasr table.dataTable tbody tr").count() == 3
    page.select_option("#examples", label="Disputed claims")
    page.evaluate("() => { yasgui.getTab().query(); }")
    page.wait_for_selector(".yasr table.dataTable td a")
    counts = "SELECT ?type (COUNT(?x) AS ?n) WHERE { ?x a ?type } GROUP BY ?type LIMIT 5"
    page.goto(f"{release_server.base_url}/sparql?query={quote(counts)}")
    page.wait_for_selector(".yasr table.dataTable tbody tr")
    page.locator(".yasr .select_chart").click()
    page.wait_for_selector("figure.numbers-chart canvas")
    assert violations(page) == []


def test_the_policy_stops_injected_script_and_javascript_links(release_server, page) -> None:
    """Were a value ever to reach the page as markup, its inline script and javascript: link run nothing."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{release_server.base_url}/entity/kim-jong-un")
    page.evaluate("""() => {
      const holder = document.createElement("div");
      holder.innerHTML = '<a id="evil" href="javascript:alert(document.domain)">evil</a>' +
                         '<img src="x" onerror="alert(1)">';
      document.body.append(holder);
      const script = document.createElement("script");
      script.textContent = "alert(2)";
      document.body.append(script);
    }""")
    page.click("#evil")
    page.evaluate("() => new Promise(resolve => setTimeout(resolve, 0))")
    assert dialogs == []
    blocked = page.evaluate("window.cspViolations")
    assert any(v.startswith("script-src-elem inline") for v in blocked), blocked
    assert any(v.startswith("script-src-attr inline") for v in blocked), blocked
