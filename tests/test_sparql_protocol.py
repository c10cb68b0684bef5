"""The SPARQL 1.1 Protocol at /sparql: the W3C suite against a real `kg serve`, then the behaviours it does not
cover, in process."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph
import pytest
from rdflib import Graph

from conftest import InProcessClient

DATA = "http://kasei.us/2009/09/sparql/data/"


def test_w3c_protocol_suite_passes_all_27_read_only_tests(protocol_server, protocol_suite_dir: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(protocol_suite_dir / "run.py"), "--manifest", str(protocol_suite_dir / "manifest.ttl"),
         "--endpoint", protocol_server.sparql, "--skip-updates"],
        capture_output=True, text=True, timeout=120,
    )
    assert "SUMMARY {'pass': 27, 'fail': 0, 'skipped': 7}" in run.stdout, run.stdout + run.stderr
    assert run.returncode == 0


def get(client: InProcessClient, query: str, headers: dict | None = None, **params) -> httpx.Response:
    return client.get("/sparql", params={"query": query, **params}, headers=headers or {}, timeout=30)


def test_get_form_post_and_direct_post_give_the_same_answer(protocol_app) -> None:
    query = f"ASK {{ GRAPH <{DATA}data1.rdf> {{ ?s ?p ?o }} }}"
    answers = [
        get(protocol_app, query),
        protocol_app.post("/sparql", data={"query": query}),
        protocol_app.post("/sparql", content=query.encode(), headers={"content-type": "application/sparql-query"}),
    ]
    assert [(r.status_code, r.json()["boolean"]) for r in answers] == [(200, True)] * 3


def test_default_graph_is_the_union_unless_the_request_names_graphs(protocol_app) -> None:
    count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    union = get(protocol_app, count).json()
    only_data1 = protocol_app.get("/sparql", params={"query": count, "default-graph-uri": f"{DATA}data1.rdf"}).json()
    from_clause = get(protocol_app, f"SELECT (COUNT(*) AS ?n) FROM <{DATA}data2.rdf> {{ ?s ?p ?o }}").json()
    assert [r["results"]["bindings"][0]["n"]["value"] for r in (union, only_data1, from_clause)] == ["3", "1", "1"]


@pytest.mark.parametrize(("request_args", "status", "says"), [
    ({"method": "GET", "params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400, "2 'query' parameters"),
    ({"method": "POST", "content": b"ASK {}"}, 415, "missing Content-Type"),
    ({"method": "POST", "content": b"ASK {}", "headers": {"content-type": "text/plain"}}, 415, "text/plain"),
    ({"method": "PUT", "params": {"query": "ASK {}"}}, 405, "PUT"),
    ({"method": "GET", "params": {"query": "SELECT * WHERE { ?s ?p }"}}, 400, "error at 1:"),
    ({"method": "GET", "params": {"query": "ASK {}", "timeout": "soon"}}, 400, "timeout"),
    ({"method": "GET", "params": {"query": "ASK {}", "default-graph-uri": "not an iri"}}, 400, "graph IRI"),
    ({"method": "POST", "content": "ASK {}".encode("utf-16"),
      "headers": {"content-type": "application/sparql-query"}}, 400, "UTF-8"),
])
def test_bad_requests_get_a_4xx_with_a_message(protocol_app, request_args, status, says) -> None:
    response = protocol_app.request(url="/sparql", **request_args)
    assert response.status_code == status
    assert says in response.json()["message"]
    assert "Traceback" not in response.text


def test_parse_errors_say_where_in_the_clients_own_text(protocol_app) -> None:
    query = "SELECT ?s\nWHERE { ?s ?p }"  # the server adds a LIMIT to it: the location must not move
    with pytest.raises(SyntaxError) as parsed_alone:
        pyoxigraph.Store().query(query)
    assert str(parsed_alone.value).startswith("error at 2:")
    assert get(protocol_app, query).json()["message"] == f"malformed query: {parsed_alone.value}"


@pytest.mark.parametrize(("accept", "content_type"), [
    (None, "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv;q=0.4, text/tab-separated-values;q=0.9", "text/tab-separated-values"),
    ("text/*;q=0.2, text/csv", "text/csv"),
    ("application/sparql-results+json;q=0, */*;q=0.1", "application/sparql-results+xml"),
])
def test_select_results_follow_accept_q_values(protocol_app, accept, content_type) -> None:
    response = get(protocol_app, "SELECT * { ?s ?p ?o }", headers={"accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type
    assert response.headers["vary"].startswith("Accept")


@pytest.mark.parametrize(("accept", "rdflib_format"), [
    (None, "turtle"),
    ("text/turtle", "turtle"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "xml"),
    ("application/ld+json", "json-ld"),
    ("application/n-quads", "nquads"),
    ("application/trig", "trig"),
])
def test_graph_results_in_every_rdf_syntax(protocol_app, accept, rdflib_format) -> None:
    query = f"PREFIX d: <{DATA}> CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH d:data1.rdf {{ ?s ?p ?o }} }}"
    response = get(protocol_app, query, headers={"accept": accept} if accept else {})
    assert response.status_code == 200
    graph = Graph().parse(data=response.content, format=rdflib_format)
    assert len(graph) == 1


def test_format_parameter_overrides_accept_and_406_when_nothing_fits(protocol_app) -> None:
    csv = get(protocol_app, "SELECT (1 AS ?x) {}", headers={"accept": "application/json"}, format="csv")
    assert (csv.headers["content-type"], csv.text.split()) == ("text/csv; charset=utf-8", ["x", "1"])
    refused = get(protocol_app, "ASK {}", headers={"accept": "text/turtle"})
    assert refused.status_code == 406
    assert "application/sparql-results+json" in refused.json()["message"]


@pytest.mark.parametrize(("accept", "rdflib_format"), [(None, "turtle"), ("application/rdf+xml", "xml"),
                                                       ("application/ld+json", "json-ld")])
def test_get_without_query_describes_the_service(protocol_app, accept, rdflib_format) -> None:
    response = protocol_app.get("/sparql", headers={"accept": accept} if accept else {})
    graph = Graph().parse(data=response.content, format=rdflib_format)
    names = {str(o) for o in graph.objects(predicate=_sd("name"))}
    endpoint = {str(o) for o in graph.objects(predicate=_sd("endpoint"))}
    assert names == {f"{DATA}data{n}.rdf" for n in (1, 2, 3)}
    assert endpoint == {protocol_app.sparql}


def _sd(name: str):
    from rdflib import URIRef
    return URIRef(f"http://www.w3.org/ns/sparql-service-description#{name}")


@pytest.fixture(scope="module")
def capped_app(protocol_app: InProcessClient) -> Iterator[InProcessClient]:
    """The protocol dataset served in process as by `kg serve --max-results 2`."""
    client = InProcessClient(protocol_app.store_path, max_results=2)
    yield client
    client.close()


def test_results_are_capped_by_the_operator_setting(capped_app: InProcessClient) -> None:
    server = capped_app
    rows = get(server, "SELECT * { ?s ?p ?o }")
    triples = get(server, "CONSTRUCT WHERE { ?s ?p ?o }", headers={"accept": "application/n-triples"})
    small = get(server, "SELECT * { ?s ?p ?o } LIMIT 1")
    # Single-pattern queries run on the event loop (no thread hop); the cap holds there too.
    documents = get(server, "SELECT ?d { ?d a <http://xmlns.com/foaf/0.1/Document> }")
    described = get(server, "CONSTRUCT WHERE { ?d a <http://xmlns.com/foaf/0.1/Document> }",
                    headers={"accept": "application/n-triples"})
    assert len(rows.json()["results"]["bindings"]) == 2 and rows.headers["x-result-limit"] == "2"
    assert len(triples.text.strip().splitlines()) == 2 and triples.headers["x-result-limit"] == "2"
    assert len(small.json()["results"]["bindings"]) == 1 and "x-result-limit" not in small.headers
    assert len(documents.json()["results"]["bindings"]) == 2 and documents.headers["x-result-limit"] == "2"
    assert len(described.text.strip().splitlines()) == 2 and described.headers["x-result-limit"] == "2"


def test_browsers_get_the_query_editor_and_other_clients_the_service_description(protocol_app) -> None:
    browser = protocol_app.get("/sparql", headers={
        "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    anything = protocol_app.get("/sparql", headers={"accept": "*/*"})
    assert browser.headers["content-type"] == "text/html; charset=utf-8"
    assert 'id="yasgui"' in browser.text and "/static/vendor/yasgui/yasgui.min.js" in browser.text
    assert anything.headers["content-type"] == "text/turtle; charset=utf-8"


def test_repeated_requests_are_answered_alike(protocol_app) -> None:
    """The second identical GET is served from the cached request plan: same status, type and body."""
    query = "SELECT ?g { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    first, second = (get(protocol_app, query, headers={"accept": "text/csv"}) for _ in range(2))
    other_type = get(protocol_app, query, headers={"accept": "application/sparql-results+xml"})
    assert (first.status_code, first.headers["content-type"], first.text) == \
        (second.status_code, second.headers["content-type"], second.text)
    assert first.text.split() == ["g", *(f"{DATA}data{n}.rdf" for n in (1, 2, 3))]
    assert other_type.headers["content-type"].startswith("application/sparql-results+xml")
