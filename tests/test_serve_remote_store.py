"""`kg serve --store URL` over a real `oxigraph serve` loaded by `kg publish`, compared with the embedded store."""
from __future__ import annotations

import base64
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from pyoxigraph import RdfFormat, parse

from conftest import OXIGRAPH, free_port, reconcile_when_ready, run_kg

LIMIT = 2  # seconds: kg serve's time limit for the remote store's server
BASE = "https://w3id.org/diplomacy-kg/"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def start_oxigraph(location, union: bool = True) -> tuple[subprocess.Popen, str]:
    """`oxigraph serve` on a free port (its own query time limit just above kg serve's), once it answers."""
    port = free_port()
    process = subprocess.Popen([OXIGRAPH, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
                                "--timeout-s", str(LIMIT + 1), *(["--union-default-graph"] if union else [])],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/query", params={"query": "ASK {}"}, timeout=2)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("oxigraph serve did not start")


@pytest.fixture(scope="module")
def store(built_release, tmp_path_factory) -> Iterator[str]:
    """The seed release published into an `oxigraph serve --union-default-graph`; yields its URL."""
    process, url = start_oxigraph(tmp_path_factory.mktemp("oxigraph") / "store")
    try:
        result = run_kg("publish", "--to", f"{url}/store", "--build-dir", built_release.path.parent.parent)
        assert result.returncode == 0, result.stderr
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def remote(kg_serve, store):
    return kg_serve("--store", f"{store}/query", "--workers", "1", "--timeout", str(LIMIT))


def store_size(url: str) -> int:
    response = httpx.get(f"{url}/query", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
                         headers={"Accept": "text/csv"})
    return int(response.text.split()[1])


PERSONS = f"""PREFIX dipl: <{BASE}ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?person ?label WHERE {{ ?person a dipl:Person ; rdfs:label ?label }} ORDER BY ?person ?label"""
SAME_ANSWERS = [
    (PERSONS, {}, ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                   "text/tab-separated-values")),
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {"default-graph-uri": f"{BASE}graph/entities"}, ("text/csv",)),
    (f"SELECT (COUNT(*) AS ?n) FROM <{BASE}graph/ontology> WHERE {{ ?s ?p ?o }}", {}, ("text/csv",)),
    (f"PREFIX g: <{BASE}graph/> SELECT ?g (COUNT(*) AS ?n) FROM g:entities FROM NAMED g:ontology "
     "WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } } GROUP BY ?g ORDER BY ?g", {}, ("text/csv",)),
    ("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g", {}, ("text/csv",)),
    (f"ASK {{ <{BASE}entity/mike-pompeo> ?p ?o }}", {}, ("application/sparql-results+json",
                                                         "application/sparql-results+xml")),
    ("ASK { ?s <urn:nothing> ?o }", {}, ("application/sparql-results+json",)),
    (f"PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?o WHERE {{ <{BASE}entity/mike-pompeo> rdfs:label ?o }}",
     {}, ("application/sparql-results+json",)),  # a bounded query: the embedded store runs it on the event loop
]


@pytest.mark.parametrize("query,params,formats", SAME_ANSWERS)
def test_select_and_ask_answer_as_the_embedded_store(remote, release_server, query, params, formats):
    for media_type in formats:
        answers = [httpx.get(server.sparql, params={"query": query, **params}, headers={"Accept": media_type})
                   for server in (remote, release_server)]
        assert [a.status_code for a in answers] == [200, 200], answers[0].text
        assert answers[0].headers["content-type"] == answers[1].headers["content-type"]
        assert answers[0].content == answers[1].content, media_type


@pytest.mark.parametrize("query", [
    f"CONSTRUCT WHERE {{ <{BASE}entity/mike-pompeo> ?p ?o }}",
    f"DESCRIBE <{BASE}entity/kim-jong-un>",
    f"PREFIX dipl: <{BASE}ontology#> CONSTRUCT {{ ?s a dipl:Statement ; dipl:speaker ?who }} "
    "WHERE { ?s a dipl:Statement ; dipl:speaker ?who }",
])
@pytest.mark.parametrize("rdf_format", [RdfFormat.TURTLE, RdfFormat.N_TRIPLES, RdfFormat.RDF_XML])
def test_graphs_are_the_embedded_stores(remote, release_server, query, rdf_format):
    graphs = []
    for server in (remote, release_server):
        response = httpx.post(server.sparql, data={"query": query}, headers={"Accept": rdf_format.media_type})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(rdf_format.media_type)
        graphs.append({quad.triple for quad in parse(response.content, format=rdf_format)})
    assert graphs[0] and graphs[0] == graphs[1]


def test_syntax_errors_read_as_the_embedded_stores(remote, release_server):
    for query in ("SELECT * WHERE { ?s ?p }", "ASK { ?s ?p ?o ", "DEFINE input:grab-all \"yes\" SELECT * {?s ?p ?o}"):
        answers = [httpx.get(s.sparql, params={"query": query}) for s in (remote, release_server)]
        assert [a.status_code for a in answers] == [400, 400]
        assert answers[0].json() == answers[1].json()


def test_updates_are_refused_and_change_nothing(remote, store):
    before = store_size(store)
    update = f"INSERT DATA {{ GRAPH <{BASE}graph/entities> {{ <urn:x> <urn:y> <urn:z> }} }}"
    answers = [
        httpx.post(remote.sparql, content=update, headers={"Content-Type": "application/sparql-update"}),
        httpx.post(remote.sparql, data={"update": update}),
        httpx.post(remote.sparql, data={"query": update}),
        httpx.post(remote.sparql, data={"query": f"DROP GRAPH <{BASE}graph/entities>"}),
    ]
    assert [a.status_code for a in answers] == [403] * 4
    assert store_size(store) == before


class Canary(BaseHTTPRequestHandler):
    """Records every request it gets: none must arrive."""

    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        Canary.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args) -> None:
        pass


def test_no_outbound_request_on_a_clients_behalf(remote):
    canary = ThreadingHTTPServer(("127.0.0.1", 0), Canary)
    threading.Thread(target=canary.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{canary.server_address[1]}/sparql"
    try:
        for query in (f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
                      f"SELECT * WHERE {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
                      f"ASK {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"):
            response = httpx.get(remote.sparql, params={"query": query})
            assert response.status_code == 403, response.text
        for query in (f"SELECT * FROM <{target}> WHERE {{ ?s ?p ?o }}",
                      f"SELECT * WHERE {{ GRAPH <{target}> {{ ?s ?p ?o }} }}"):
            response = httpx.get(remote.sparql, params={"query": query}, headers={"Accept": "text/csv"})
            assert response.status_code == 200, response.text
            assert len(response.text.split()) == 1, response.text  # the header, no rows
        assert Canary.hits == []
    finally:
        canary.shutdown()


def test_a_slow_query_times_out_while_others_answer(remote):
    outcome = {}

    def slow() -> None:
        started = time.monotonic()
        response = httpx.get(remote.sparql, params={"query": SLOW}, timeout=30)
        outcome["slow"] = (response.status_code, response.json()["message"], time.monotonic() - started)

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)
    light = httpx.get(remote.sparql, params={"query": f"ASK {{ <{BASE}entity/mike-pompeo> ?p ?o }}"},
                      headers={"Accept": "application/sparql-results+json"}, timeout=30)
    thread.join()
    assert light.status_code == 200 and light.json()["boolean"] is True
    status, message, elapsed = outcome["slow"]
    assert status == 503
    assert f"did not finish within its time limit of {LIMIT} s" in message
    assert elapsed < LIMIT + 1
    # A client's shorter limit is the request's timeout too.
    started = time.monotonic()
    response = httpx.get(remote.sparql, params={"query": SLOW, "timeout": "0.5"}, timeout=30)
    assert response.status_code == 503 and "time limit of 0.5 s" in response.json()["message"]
    assert time.monotonic() - started < 1.5


def test_named_queries_and_reconciliation_answer_as_the_embedded_store(remote, release_server):
    names = [query["name"] for query in httpx.get(f"{remote.base_url}/queries").json()]
    assert names
    for name in names[:3]:
        answers = [httpx.get(f"{s.base_url}/queries/{name}", headers={"Accept": "text/csv"}, timeout=30)
                   for s in (remote, release_server)]
        assert [a.status_code for a in answers] == [200, 200], answers[0].text
        assert answers[0].text == answers[1].text, name
    batch = '{"q0": {"query": "Pompeo"}, "q1": {"query": "Kim Jong Un", "type": "Person"}}'
    answers = [reconcile_when_ready(s, batch) for s in (remote, release_server)]
    assert [a.status_code for a in answers] == [200, 200], answers[0].text
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["q0"]["result"][0]["id"] == "mike-pompeo"


class BasicAuthProxy(BaseHTTPRequestHandler):
    """Forwards queries to `upstream` only with the right basic credentials, as a protected store would."""

    upstream = ""
    expected = "Basic " + base64.b64encode(b"reader:s3cret").decode()
    refused = 0

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Authorization") != self.expected:
            BasicAuthProxy.refused += 1
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="store"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        answer = httpx.post(self.upstream + self.path, content=body, headers={
            "Content-Type": self.headers["Content-Type"], "Accept": self.headers["Accept"]})
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers["content-type"])
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *args) -> None:
        pass


def test_credentials_come_from_the_environment(kg_serve, store, monkeypatch):
    BasicAuthProxy.upstream = store
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), BasicAuthProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{proxy.server_address[1]}/query"
    try:
        for name in ("KG_STORE_TOKEN", "KG_STORE_USER", "KG_STORE_PASSWORD"):
            monkeypatch.delenv(name, raising=False)
        refused = run_kg("serve", "--store", url, "--port", "0")
        assert refused.returncode == 1 and "401" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
        in_url = run_kg("serve", "--store", url.replace("http://", "http://reader:s3cret@"), "--port", "0")
        assert in_url.returncode == 1 and "KG_STORE_USER" in in_url.stderr

        monkeypatch.setenv("KG_STORE_USER", "reader")
        monkeypatch.setenv("KG_STORE_PASSWORD", "s3cret")
        server = kg_serve("--store", url, "--workers", "1")
        response = httpx.get(server.sparql, params={"query": PERSONS}, headers={"Accept": "text/csv"})
        assert response.status_code == 200 and f"{BASE}entity/mike-pompeo" in response.text
        assert "s3cret" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    finally:
        proxy.shutdown()


def test_a_store_that_is_down_or_not_a_union_is_refused_at_startup(built_release, tmp_path):
    down = run_kg("serve", "--store", f"http://127.0.0.1:{free_port()}/query", "--port", "0")
    assert down.returncode == 1 and "cannot reach the store" in down.stderr, down.stderr
    process, url = start_oxigraph(tmp_path / "store", union=False)
    try:
        assert run_kg("publish", "--to", f"{url}/store", "--build-dir", built_release.path.parent.parent).returncode == 0
        result = run_kg("serve", "--store", f"{url}/query", "--port", "0")
        assert result.returncode == 1 and "--union-default-graph" in result.stderr, result.stderr
    finally:
        process.terminate()
        process.wait(10)


def test_a_store_that_goes_down_while_served_is_a_502_and_one_log_line(kg_serve, built_release, tmp_path):
    """The store stops under a running kg serve --store: clients get 502 in the one error shape, and the log says
    what failed in one line, with no traceback."""
    process, url = start_oxigraph(tmp_path / "store")
    try:
        assert run_kg("publish", "--to", f"{url}/store", "--build-dir", built_release.path.parent.parent).returncode == 0
        server = kg_serve("--store", f"{url}/query", "--workers", "1")
        assert httpx.get(server.sparql, params={"query": PERSONS}).status_code == 200
    finally:
        process.terminate()
        process.wait(10)
    response = httpx.get(server.sparql, params={"query": PERSONS}, headers={"Accept": "application/json"})
    assert response.status_code == 502
    assert response.json()["message"] == "the SPARQL store behind this endpoint is unavailable; try again later"
    log = server.log_path.read_text()
    assert "the SPARQL store failed: cannot reach the store" in log
    assert "Traceback" not in log
