"""Safe by default: read-only, no outbound requests, time limits that hold, open CORS without credentials."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from conftest import run_kg

# Ten VALUES blocks of ten values: 10^10 rows to count, whatever the data. Never finishes in a test.
RUNAWAY = "SELECT (COUNT(*) AS ?n) { " + " ".join(
    f"VALUES ?v{i} {{ 1 2 3 4 5 6 7 8 9 10 }}" for i in range(10)) + " }"


class Canary:
    """A listening local HTTP server that records every request reaching it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                canary.requests.append(self.path)
                body = b'{"head": {"vars": []}, "results": {"bindings": [{}]}}'
                self.send_response(200)
                self.send_header("content-type", "application/sparql-results+json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"


@pytest.fixture()
def canary() -> Iterator[Canary]:
    canary = Canary()
    thread = threading.Thread(target=canary.server.serve_forever, daemon=True)
    thread.start()
    yield canary
    canary.server.shutdown()
    canary.server.server_close()


def ask(server, query: str, **params) -> httpx.Response:
    return httpx.get(server.sparql, params={"query": query, **params}, timeout=60)


@pytest.mark.parametrize("request_args", [
    {"method": "GET", "params": {"update": "CLEAR ALL"}},
    {"method": "POST", "data": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
    {"method": "POST", "content": b"DROP ALL", "headers": {"content-type": "application/sparql-update"}},
    {"method": "POST", "data": {"query": "DELETE WHERE { ?s ?p ?o }"}},
    {"method": "GET", "params": {"query": "PREFIX ex: <urn:x:> LOAD <http://127.0.0.1:9/x.ttl>"}},
])
def test_sparql_update_is_refused_with_403(protocol_app, request_args) -> None:
    response = protocol_app.request(url="/sparql", **request_args)
    assert response.status_code == 403
    assert "read-only" in response.json()["message"]
    assert protocol_app.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


def test_no_request_reaches_a_listening_canary(protocol_server, canary: Canary) -> None:
    refused = [
        f"SELECT * {{ SERVICE <{canary.url}> {{ ?s ?p ?o }} }}",
        f"select * {{ service silent <{canary.url}> {{ ?s ?p ?o }} }}",
        f"PREFIX c: <{canary.url.rsplit('/', 1)[0]}/> SELECT * {{ SERVICE c:sparql {{ ?s ?p ?o }} }}",
        f"SELECT * {{ BIND(<{canary.url}> AS ?c) SERVICE ?c {{ ?s ?p ?o }} }}",
        f"SELECT * {{ {{ SELECT * {{ SERVICE <{canary.url}> {{ ?s ?p ?o }} }} }} }}",
    ]
    for query in refused:
        response = ask(protocol_server, query)
        assert response.status_code == 403, query
        assert "SERVICE" in response.json()["message"]
    harmless = [
        ask(protocol_server, f"SELECT * FROM <{canary.url}> {{ ?s ?p ?o }}"),
        ask(protocol_server, f"SELECT * FROM NAMED <{canary.url}> {{ GRAPH ?g {{ ?s ?p ?o }} }}"),
        ask(protocol_server, "SELECT * { ?s ?p ?o }", **{"default-graph-uri": canary.url}),
        ask(protocol_server, f'SELECT * {{ ?s ?p "SERVICE <{canary.url}> {{}}" }} # SERVICE <{canary.url}>'),
    ]
    assert [(r.status_code, r.json()["results"]["bindings"]) for r in harmless] == [(200, [])] * 4
    assert canary.requests == []


def test_allow_listed_service_host_is_reached(kg_serve, protocol_dataset: Path, canary: Canary) -> None:
    """The counterpart of the test above: the canary does see requests the operator allowed."""
    server = kg_serve("--data", protocol_dataset, "--workers", "1", "--allow-service-host", "127.0.0.1")
    response = ask(server, f"SELECT * {{ SERVICE <{canary.url}> {{ ?s ?p ?o }} }}")
    assert response.status_code == 200, response.text
    assert len(canary.requests) == 1


@pytest.fixture(scope="module")
def limited_server(kg_serve, protocol_dataset: Path):
    return kg_serve("--data", protocol_dataset, "--timeout", "3", "--workers", "2")


def test_runaway_query_is_cancelled_while_others_are_served(limited_server) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        runaways = [pool.submit(ask, limited_server, RUNAWAY) for _ in range(2)]
        served = []
        while not all(r.done() for r in runaways):  # keep asking until both runaways were answered
            served.append(ask(limited_server, "ASK { ?s ?p ?o }").status_code)
            time.sleep(0.05)
        answers = [r.result() for r in runaways]
    assert [a.status_code for a in answers] == [503, 503]
    assert all("time limit of 3 s" in a.json()["message"] for a in answers)
    assert served and set(served) == {200}
    assert ask(limited_server, "ASK { ?s ?p ?o }").json()["boolean"] is True


def test_clients_may_lower_the_time_limit_but_not_raise_it(limited_server) -> None:
    lowered = ask(limited_server, RUNAWAY, timeout="0.5")
    raised = ask(limited_server, RUNAWAY, timeout="3600")
    assert (lowered.status_code, raised.status_code) == (503, 503)
    assert "time limit of 0.5 s" in lowered.json()["message"]
    assert "time limit of 3 s" in raised.json()["message"]


def test_the_process_running_a_runaway_query_is_replaced(limited_server) -> None:
    """pyoxigraph cannot stop a query: the worker that ran it must exit, and a fresh one take its place."""
    before = settled_workers(limited_server.process.pid, count=2)
    assert ask(limited_server, RUNAWAY, timeout="1").status_code == 503
    after = settled_workers(limited_server.process.pid, count=2, other_than=before)
    assert len(before - after) == 1  # exactly one worker (the one with the runaway) was replaced


def settled_workers(supervisor_pid: int, count: int, other_than: set[int] = frozenset()) -> set[int]:
    """The supervisor's worker PIDs once there are `count` of them and they differ from `other_than`."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = worker_pids(supervisor_pid)
        if len(workers) == count and workers != other_than:
            return workers
        time.sleep(0.1)
    raise AssertionError(f"workers never settled at {count}: {workers}")


def worker_pids(supervisor_pid: int) -> set[int]:
    children = Path(f"/proc/{supervisor_pid}/task/{supervisor_pid}/children").read_text().split()
    return {int(pid) for pid in children}


def test_cors_is_open_for_reads_and_never_with_credentials(protocol_app) -> None:
    origin = {"origin": "https://notebook.example"}
    simple = protocol_app.get("/sparql", params={"query": "ASK {}"}, headers=origin)
    preflight = protocol_app.options("/sparql", headers={
        **origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type"})
    assert simple.headers["access-control-allow-origin"] == "*"
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert all("access-control-allow-credentials" not in r.headers for r in (simple, preflight))


def test_bad_data_files_fail_with_a_located_message_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:a ex:b .\n")
    run = run_kg("serve", "--data", bad, "--port", "0", "--cache-dir", tmp_path / "cache")
    assert run.returncode == 1
    assert f"{bad}:3:11: . is not a valid RDF object" in run.stderr
    assert "Traceback" not in run.stderr
    unknown = tmp_path / "notes.txt"
    unknown.write_text("<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n")
    run = run_kg("serve", "--data", unknown, "--port", "0", "--cache-dir", tmp_path / "cache")
    assert run.returncode == 1 and f"{unknown}: unknown RDF file extension '.txt'" in run.stderr, run.stderr
    assert ".nq" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize(("query", "bounded"), [
    ("CONSTRUCT { <http://e/x> ?p ?o } WHERE { <http://e/x> ?p ?o }", True),
    ("PREFIX e: <http://e/> SELECT ?p ?o WHERE { e:x ?p ?o . } LIMIT 5", True),
    ("ASK { ?s a <http://e/C> }", True),
    ("SELECT * { ?s ?p ?o }", False),  # no constant: a whole-store scan
    ("SELECT DISTINCT ?o { <http://e/x> ?p ?o }", False),
    ("SELECT * { <http://e/x> ?p ?o } ORDER BY ?o", False),
    ("SELECT * { <http://e/x> ?p ?o } OFFSET 1000000", False),
    ("SELECT * { <http://e/x> <http://e/p>* ?o }", False),
    ("SELECT * { <http://e/x> ?p ?o . ?o ?q ?r }", False),
    ("SELECT * { <http://e/x> ?p ?o FILTER(?o) }", False),
    ("DESCRIBE <http://e/x>", False),
])
def test_only_single_capped_index_scans_run_without_a_time_limit(query: str, bounded: bool) -> None:
    from kg.sparql.policy import inspect_query

    assert inspect_query(query, frozenset(), 100).bounded is bounded


def test_a_repeated_cheap_query_moves_to_the_event_loop_and_an_expensive_one_keeps_its_time_limit(built_release) -> None:
    """Without the result cache, a GET whose evaluation took under QUICK_CPU_SECONDS of CPU runs on the event
    loop the next times (the store is read-only: the same query does the same work); the others keep running in
    a query thread under their time limit. Answers are the same either way."""
    import asyncio

    from kg.sparql.executor import QueryExecutor
    from kg.server.settings import ServerSettings
    from kg.server.sparql import SparqlEndpoint

    endpoint = SparqlEndpoint(QueryExecutor(built_release.store_path, 2), ServerSettings(result_cache=0))
    cheap = "SELECT DISTINCT ?p WHERE { <https://w3id.org/diplomacy-kg/entity/donald-trump> ?p ?o }"
    expensive = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?b ?q ?c . ?c ?r ?d }"

    async def ask_each_twice() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=endpoint)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return [await client.get("/sparql", params={"query": query},
                                     headers={"accept": "application/sparql-results+json"})
                    for query in (cheap, cheap, expensive, expensive)]

    answers = asyncio.run(ask_each_twice())
    assert [a.status_code for a in answers] == [200] * 4
    assert answers[0].content == answers[1].content and answers[2].content == answers[3].content
    plans = {plan.query: plan for plan in endpoint._plans.values()}
    assert not plans[cheap].inspected.bounded and plans[cheap].quick
    assert not plans[expensive].quick
