"""/sparql as browsers and people meet it, in process: a link to `/sparql?query=...` opens the editor
(which runs the query) instead of downloading a file, and the result cap is announced only when it
really cut a result."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import InProcessClient

CHROMIUM_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
PEOPLE = ("SELECT ?person WHERE { ?person a <https://w3id.org/diplomacy-kg/ontology#Person> } "
          "ORDER BY ?person")
CAP = 3


@pytest.fixture(scope="module")
def capped_release(release_app: InProcessClient) -> Iterator[InProcessClient]:
    """The seed release served in process as by `kg serve --max-results 3`."""
    client = InProcessClient(release_app.store_path, max_results=CAP)
    yield client
    client.close()


def rows(response) -> list[dict]:
    return response.json()["results"]["bindings"]


def people_count(app: InProcessClient) -> int:
    return len(rows(app.get("/sparql", params={"query": PEOPLE}, headers={"accept": "application/sparql-results+json"})))


def test_a_browser_following_a_query_link_gets_the_editor_not_a_download(release_app) -> None:
    answer = release_app.get("/sparql", params={"query": PEOPLE}, headers={"accept": CHROMIUM_ACCEPT})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in answer.headers
    assert "<title>SPARQL query editor" in answer.text
    assert "content-security-policy" in answer.headers


def test_the_editor_is_offered_even_for_a_query_it_will_report_as_malformed(release_app) -> None:
    answer = release_app.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"}, headers={"accept": CHROMIUM_ACCEPT})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(("accept", "params", "content_type"), [
    ("application/sparql-results+json", {}, "application/sparql-results+json"),
    ("*/*", {}, "application/sparql-results+json"),
    (None, {}, "application/sparql-results+json"),
    (CHROMIUM_ACCEPT, {"format": "json"}, "application/sparql-results+json"),
    (CHROMIUM_ACCEPT, {"format": "csv"}, "text/csv"),
])
def test_programs_and_explicit_formats_still_get_results(release_app, accept, params, content_type) -> None:
    headers = {"accept": accept} if accept else {}
    answer = release_app.get("/sparql", params={"query": PEOPLE, **params}, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(content_type)


def test_a_browser_posting_a_query_gets_results(release_app) -> None:
    """A form POST is a program's request (the editor itself fetches results this way), never the editor page."""
    answer = release_app.post("/sparql", data={"query": PEOPLE}, headers={"accept": "application/sparql-results+json"})
    assert answer.status_code == 200 and rows(answer)


def test_no_limit_header_when_the_result_is_under_the_cap(release_app) -> None:
    answer = release_app.get("/sparql", params={"query": PEOPLE}, headers={"accept": "application/sparql-results+json"})
    assert 0 < len(rows(answer)) < release_app.settings.max_results
    assert "x-result-limit" not in answer.headers


def test_no_limit_header_when_the_result_has_exactly_the_cap(release_app) -> None:
    exact = InProcessClient(release_app.store_path, max_results=people_count(release_app))
    try:
        answer = exact.get("/sparql", params={"query": PEOPLE}, headers={"accept": "application/sparql-results+json"})
        assert len(rows(answer)) == exact.settings.max_results
        assert "x-result-limit" not in answer.headers
    finally:
        exact.close()


@pytest.mark.parametrize("query", [PEOPLE, PEOPLE + f" LIMIT {CAP + 1}", PEOPLE + " LIMIT 100000"])
def test_a_cut_result_has_the_cap_rows_and_the_header(capped_release, query) -> None:
    assert people_count(capped_release) == CAP
    answer = capped_release.get("/sparql", params={"query": query}, headers={"accept": "application/sparql-results+json"})
    assert len(rows(answer)) == CAP
    assert answer.headers["x-result-limit"] == str(CAP)


@pytest.mark.parametrize(("accept", "lines"), [("text/csv", CAP + 1), ("text/tab-separated-values", CAP + 1)])
def test_a_cut_result_in_other_formats(capped_release, accept, lines) -> None:
    answer = capped_release.get("/sparql", params={"query": PEOPLE}, headers={"accept": accept})
    assert len(answer.text.strip().splitlines()) == lines
    assert answer.headers["x-result-limit"] == str(CAP)


def test_a_cut_result_keeps_every_term_exactly(release_app, capped_release) -> None:
    """Counting and cutting goes through TSV: literals with language tags, datatypes and line breaks survive."""
    query = "SELECT ?s ?o WHERE { ?s ?p ?o FILTER(isLiteral(?o)) } ORDER BY ?s ?o"
    accept = {"accept": "application/sparql-results+json"}
    full = rows(release_app.get("/sparql", params={"query": query + " LIMIT 3"}, headers=accept))
    cut = capped_release.get("/sparql", params={"query": query}, headers=accept)
    assert rows(cut) == full and cut.headers["x-result-limit"] == str(CAP)


def test_a_repeated_query_keeps_its_verdict_in_the_result_cache(release_app, capped_release) -> None:
    accept = {"accept": "application/sparql-results+json"}
    small = [release_app.get("/sparql", params={"query": PEOPLE + " "}, headers=accept) for _ in range(2)]
    cut = [capped_release.get("/sparql", params={"query": PEOPLE + " "}, headers=accept) for _ in range(2)]
    assert [a.headers.get("x-result-limit") for a in small] == [None, None]
    assert [a.headers.get("x-result-limit") for a in cut] == [str(CAP), str(CAP)]
    assert small[1].headers.get("x-cache") == cut[1].headers.get("x-cache") == "hit"


def test_a_named_query_page_says_cut_only_when_it_was(release_app, capped_release) -> None:
    html = {"accept": "text/html"}
    whole = release_app.get("/queries/timeline", headers=html)
    cut = capped_release.get("/queries/timeline", headers=html)
    assert whole.status_code == cut.status_code == 200
    assert "Only the first" not in whole.text
    assert f"Only the first {CAP} results" in cut.text


def test_the_editor_without_a_release_offers_completion_from_the_endpoint(protocol_app) -> None:
    """`kg serve --data`: no release, so no local pages to link to and no VoID terms; the editor still opens."""
    answer = protocol_app.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"}, headers={"accept": CHROMIUM_ACCEPT})
    assert answer.status_code == 200 and "<title>SPARQL query editor" in answer.text
    data = answer.text.split('id="editor-data">', 1)[1].split("</script>", 1)[0]
    assert '"local": []' in data and '"terms": null' in data
