"""No SERVICE call reaches the network unless the operator allowed its host (issue 19, item 1).

Two lines of defence, each tested on its own: the query policy reads the query as pyoxigraph's
parser does and refuses every SERVICE it would make, however it is spelled (escapes, comments,
case, keywords glued to their neighbours, prefixed names, BASE-relative IRIs); and an embedded-mode
worker process cannot open a network socket at all (kg.server.sandbox), so a query the policy
missed still could not make a request. A canary TCP listener on 127.0.0.1 counts what reaches it.
"""
from __future__ import annotations

import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from conftest import REPO
from kg.sparql.policy import QueryMalformed, QueryRefused, inspect_query

ENDPOINT_BASE = "http://127.0.0.1:8000/sparql"  # the base IRI the server gives pyoxigraph: its own URL
ALLOWED = frozenset({"allowed.invalid"})


class Canary:
    """A TCP listener on 127.0.0.1 that accepts, records and closes every connection."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()


@pytest.fixture()
def canary() -> Iterator[Canary]:
    listener = Canary()
    yield listener
    listener.close()


def attacks(port: int) -> list[str]:
    """Queries that make pyoxigraph call the canary (see test_every_attack_is_a_real_service_call)."""
    url = f"http://127.0.0.1:{port}/x"
    base = f"http://127.0.0.1:{port}/"
    return [
        # The report of issue 19: a \u escape and a # in an IRI made the old tokenizer read a comment.
        f"ASK {{ BIND(<http://x/\\u0041#> AS ?z) SERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"SELECT * {{ BIND(<http://x/\\u0041#> AS ?z) SERVICE <{url}> {{ ?a ?b ?c }} }}",
        # Case, SILENT, whitespace and comments between the tokens.
        f"ASK {{ service <{url}> {{ ?a ?b ?c }} }}",
        f"ASK {{ SeRvIcE SiLeNt <{url}> {{ ?a ?b ?c }} }}",
        f"ASK {{ SERVICE\t#c <not-it>\n<{url}>#c\n{{ ?a ?b ?c }} }}",
        f"ASK {{ SERVICE<{url}>{{ ?a ?b ?c }} }}",
        # Escapes inside the target IRI.
        f"ASK {{ SERVICE <http://127.0.0.1\\u003A{port}/x> {{ ?a ?b ?c }} }}",
        f"ASK {{ SERVICE <\\U00000068ttp://127.0.0.1:{port}/x> {{ ?a ?b ?c }} }}",
        # Prefixed names, BASE-relative and network-path IRIs.
        f"PREFIX c: <{base}> ASK {{ SERVICE c:x {{ ?a ?b ?c }} }}",
        f"PREFIX c: <http:> ASK {{ SERVICE c:\\/\\/127\\.0\\.0\\.1:{port}\\/x {{ ?a ?b ?c }} }}",
        f"BASE <{base}> ASK {{ SERVICE <x> {{ ?a ?b ?c }} }}",
        f"BASE <http://elsewhere.invalid/> BASE <{base}> ASK {{ SERVICE <x> {{ ?a ?b ?c }} }}",
        f"ASK {{ SERVICE <//127.0.0.1:{port}/x> {{ ?a ?b ?c }} }}",  # resolved against the endpoint's URL
        # Nested in other patterns.
        f"ASK {{ GRAPH ?g {{ OPTIONAL {{ {{ SELECT * {{ SERVICE <{url}> {{ ?a ?b ?c }} }} }} }} }} }}",
        f"ASK {{ FILTER EXISTS {{ SERVICE <{url}> {{ ?a ?b ?c }} }} }}",
        # Keywords need no word boundary in pyoxigraph's parser.
        f"PREFIX c: <{base}> ASK {{ SERVICEc:x {{ ?a ?b ?c }} }}",
        f"ASK {{ SERVICESILENT<{url}>{{ ?a ?b ?c }} }}",
        f"PREFIX : <{base}> ASK {{ service:x {{ ?a ?b ?c }} }}",
        f"ASK {{ ?s ?p trueSERVICE <{url}> {{ ?a ?b ?c }} }}",
        # A local name holds one run of dots at most: ex:a.b.SERVICE is ex:a.b . SERVICE.
        f"PREFIX ex: <http://a/> ASK {{ ?s ?p ex:a.b.SERVICE <{url}> {{ ?a ?b ?c }} }}",
        # A prefixed name that is no IRI is read again as the prefix alone, then keywords.
        f"PREFIX ex: <http://a:> ASK {{ ?s ?p ex:SERVICE<{url}>{{ ?a ?b ?c }} }}",
        # Inside an expression, < after an operand is less-than: the "IRI" holds a SERVICE and a comment.
        f"PREFIX c: <{base}> ASK {{ FILTER(1 <?b)SERVICEc:x#>\n{{ ?a ?b ?c }} }}",
        # ... and FILTER glued to a declared prefix name is FILTER, then a function call: an expression again.
        f"PREFIX FILTERxs: <http://www.w3.org/2001/> PREFIX xs: <http://www.w3.org/2001/XMLSchema#> "
        f"PREFIX c: <{base}> ASK {{ FILTERxs:boolean(1 <?b)SERVICEc:z#>\n{{ ?a ?b ?c }} }}",
        # A long string with a bad escape is read as an empty string, a string ' ' and more query.
        f"ASK {{ VALUES ?x {{ ''' ' }} SERVICE <{url}> {{ ?a ?b ?c }} # \\q'''\n}}",
        # The last PREFIX declaration of a name wins; PREFIX needs no space after it either.
        f"PREFIX c: <http://allowed.invalid/> PREFIXc: <{base}> ASK {{ SERVICE c:x {{ ?a ?b ?c }} }}",
        f"PREFIX SILENTc: <http://allowed.invalid/> PREFIX c: <{base}> ASK {{ SERVICE SILENTc:x {{ ?a ?b ?c }} }}",
    ]


def unreadable(port: int) -> list[str]:
    """Queries the engine refuses today but that an engine decoding \\u escapes everywhere (as SPARQL
    1.1 section 19.2 says) would run as SERVICE calls: refused before they reach it (400)."""
    url = f"http://127.0.0.1:{port}/x"
    return [
        f"ASK {{ \\u0053ERVICE <{url}> {{ ?a ?b ?c }} }}",
        f"ASK {{ SERVICE \\u003C{url}> {{ ?a ?b ?c }} }}",
        f"ASK {{ ?s ?p ?o \\U00000053ERVICE <{url}> {{}} }}",
    ]


def variable_targets(port: int) -> list[str]:
    url = f"http://127.0.0.1:{port}/x"
    return [
        f"ASK {{ BIND(<{url}> AS ?t) SERVICE ?t {{ ?a ?b ?c }} }}",
        f"ASK {{ VALUES ?t {{ <{url}> }} SERVICE SILENT ?t {{ ?a ?b ?c }} }}",
        f"ASK {{ SERVICE $t {{ ?a ?b ?c }} }} VALUES ?t {{ <{url}> }}",
    ]


def run_in_engine(queries: list[str]) -> None:
    """Run queries through pyoxigraph directly (no policy), ignoring their errors, on a store with the
    triples the attacks' first patterns need (else pyoxigraph skips the SERVICE: nothing to join)."""
    store = Store()
    for term in (Literal(True), NamedNode("http://a/a.b"), NamedNode("http://a:")):
        store.add(Quad(NamedNode("http://a/s"), NamedNode("http://a/p"), term))
    for query in queries:
        try:
            result = store.query(query, base_iri=ENDPOINT_BASE)
            bool(result) if not hasattr(result, "__iter__") else list(result)
        except (SyntaxError, OSError, RuntimeError, ValueError):
            pass


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_every_attack_is_a_real_service_call(canary: Canary) -> None:
    """The corpus is not hypothetical: pyoxigraph alone sends each of these to the canary."""
    for query in attacks(canary.port):
        before = canary.connections
        run_in_engine([query])
        assert wait_for(lambda: canary.connections > before), f"pyoxigraph did not call the canary for {query!r}"


def test_pyoxigraph_decodes_escapes_only_inside_iris_and_strings() -> None:
    """The policy relies on this (spargebra's standard-unicode-escaping feature is off): an upgrade that
    turns it on must fail here, because then `\\u0022` inside a string would end the string."""
    store = Store()
    for query in unreadable(9):
        with pytest.raises(SyntaxError):
            store.query(query)
    assert bool(store.query('ASK { FILTER("\\u0022" = "\\"") }'))


@pytest.mark.parametrize("allowed", [frozenset(), ALLOWED], ids=["no hosts allowed", "another host allowed"])
def test_the_policy_refuses_every_spelling(allowed: frozenset[str]) -> None:
    for query in attacks(9) + variable_targets(9):
        with pytest.raises((QueryRefused, QueryMalformed)):  # 403, or 400 when it cannot be read safely
            inspect_query(query, allowed, 100)
    for query in unreadable(9):
        with pytest.raises(QueryMalformed):
            inspect_query(query, allowed, 100)


def test_allowed_hosts_are_checked_after_escapes_base_and_prefixes() -> None:
    accepted = [
        "ASK { SERVICE <http://allowed.invalid/sparql> { ?a ?b ?c } }",
        "ASK { SERVICE SILENT <http://ALLOWED.invalid:8080/sparql> { ?a ?b ?c } }",
        "ASK { SERVICE <http://allowed\\u002Einvalid/sparql#\\u0041> { ?a ?b ?c } }",
        "BASE <http://allowed.invalid/a/> ASK { SERVICE <../sparql> { ?a ?b ?c } }",
        "PREFIX w: <http://allowed.invalid/> ASK { SERVICE w:sparql { ?a ?b ?c } }",
    ]
    for query in accepted:
        assert inspect_query(query, ALLOWED, 100).repeatable is False
    refused = [
        "ASK { SERVICE <http://allowed.invalid\\u0040127.0.0.1/x> { ?a ?b ?c } }",  # user info
        "ASK { SERVICE <http://allowed.invalid.127.0.0.1.nip.io/> { ?a ?b ?c } }",
        "ASK { SERVICE <ftp://allowed.invalid/> { ?a ?b ?c } }",
        "ASK { SERVICE <sparql> { ?a ?b ?c } }",  # relative without BASE: the endpoint's own URL
        "PREFIX w: <sparql/> ASK { SERVICE w:x { ?a ?b ?c } }",
        "ASK { SERVICE undeclared:x { ?a ?b ?c } }",
    ]
    for query in refused:
        with pytest.raises((QueryRefused, QueryMalformed)):
            inspect_query(query, ALLOWED, 100)


def test_service_in_strings_iris_comments_and_names_is_harmless() -> None:
    harmless = [
        'SELECT * { ?s ?p "SERVICE <http://127.0.0.1:9/> {}" } # SERVICE <http://127.0.0.1:9/>',
        "SELECT * { ?s <http://example.org/service#p> ?service . ?service ?p '''SERVICE''' }",
        "PREFIX schema: <http://schema.org/> SELECT * { ?s schema:serviceType ?o ; schema:Service ?x }",
        "SELECT * FROM <http://127.0.0.1:9/x> FROM NAMED <http://127.0.0.1:9/y> { ?s ?p ?o }",
        'SELECT * { ?s ?p ?o FILTER(?o < 3 || ?o <= <http://x/a> || CONTAINS(STR(?o), "service")) }',
    ]
    for query in harmless:
        assert inspect_query(query, frozenset(), 100).form == "SELECT"


def test_mutants_of_the_attacks_that_the_policy_accepts_call_nothing(canary: Canary) -> None:
    """A seeded mutation fuzz: glue, cut, re-case and splice tricky fragments into the attacks; every
    mutant the policy lets through (another host being allowed) runs in pyoxigraph without a request."""
    rng = random.Random(19)
    url, base = f"http://127.0.0.1:{canary.port}/x", f"http://127.0.0.1:{canary.port}/"
    fragments = ["SERVICE", "service", "SILENT", "FILTER", "true", " a ", "GROUP BY", "<", "<?b)", "#", "\n", "'",
                 "'''", '"', "\\q", "\\u0041", "\\u0022", f"<{url}>", "c:", "c:x", ":x", "ex:a.b", ".", "(", ")", "{",
                 "}", "?a", ",", "<<", ">>", "VALUES ?x {", "x:", "_:b", " ", "FILTER(", "ex:SERVICE", "\\", "^^",
                 f"<{base}", "x>", f"BASE <{base}>", f"PREFIX c: <{base}>", f"PREFIXc: <{base}>"]
    templates = attacks(canary.port) + [
        "ASK { SERVICE <http://allowed.invalid/x> { ?a ?b ?c } }",
        "ASK { ?s ?p ?o FILTER(?o < 3) }",
        "SELECT * { ?s ?p 'x' . ?s ?p \"y\" }",
        "ASK { VALUES ?x { 'a' 'b' } ?s ?p ?x }",
        "ASK { ?s ?p (1 2) BIND(<http://x/#> AS ?z) }",
        f"SELECT ?x {{ {{ SELECT ?x {{ ?x ?p ?o }} GROUP BY ?x HAVING (COUNT(*) > 1) }} SERVICE <{url}> {{}} }}",
        f"ASK {{ ?s ?p ?o FILTER NOT EXISTS {{ SERVICE <{url}> {{}} }} }}",
    ]
    accepted = 0
    for _ in range(3000):
        query = rng.choice(templates)
        for _ in range(rng.randint(1, 6)):
            at = rng.randint(0, len(query))
            choice = rng.random()
            if choice < 0.5:
                query = query[:at] + rng.choice(fragments) + query[at:]
            elif choice < 0.7:
                query = query[:at] + query[at + rng.randint(1, 6):]
            elif choice < 0.85:
                query = query[:at] + query[at:].replace(" ", "", 1)
            else:
                end = at + rng.randint(1, 12)
                query = query[:at] + query[at:end].swapcase() + query[end:]
        try:
            inspect_query(query, ALLOWED, 100)
        except (QueryRefused, QueryMalformed):
            continue
        accepted += 1
        run_in_engine([query])
    assert accepted > 100  # the fuzz reaches the engine often enough to mean something
    time.sleep(0.2)
    assert canary.connections == 0


def test_a_sandboxed_process_reaches_nothing_even_through_pyoxigraph_directly(canary: Canary) -> None:
    """Defence in depth, shown without the policy: after kg.server.sandbox's filter, every attack run
    straight through pyoxigraph fails, in every thread, while the process still accepts connections
    on a socket it already listened on, and Unix sockets work."""
    script = f"""
import socket, sys, threading
sys.path[:0] = [{str(REPO)!r}, {str(REPO / "tests")!r}]
from test_ssrf import attacks, run_in_engine
from kg.server.sandbox import forbid_network_sockets

listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
started, go, outcome = threading.Event(), threading.Event(), {{}}

def older_thread():
    started.set()
    go.wait()
    try:
        socket.create_connection(("127.0.0.1", {canary.port}), timeout=5)
        outcome["thread"] = "connected"
    except PermissionError:
        outcome["thread"] = "refused"

thread = threading.Thread(target=older_thread)
thread.start()
started.wait()
assert forbid_network_sockets()
go.set()
thread.join()
try:
    socket.create_connection(("127.0.0.1", {canary.port}), timeout=5)
    outcome["main"] = "connected"
except PermissionError:
    outcome["main"] = "refused"
run_in_engine(attacks({canary.port}))
a, b = socket.socketpair()
a.sendall(b"unix")
outcome["unix"] = b.recv(4).decode()
connection, _ = listener.accept()
outcome["accepted"] = connection.recv(8).decode()
print(sorted(outcome.items()), flush=True)
"""
    process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline())
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            client.sendall(b"hello")
            output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert output.strip() == str(sorted({"thread": "refused", "main": "refused", "unix": "unix",
                                         "accepted": "hello"}.items()))
    assert canary.connections == 0


@pytest.fixture(scope="module")
def policy_only_server(kg_serve, protocol_dataset: Path):
    """A server whose workers may make outbound requests (another host is allowed): only the policy stands."""
    return kg_serve("--data", protocol_dataset, "--workers", "1", "--allow-service-host", "allowed.invalid")


@pytest.mark.parametrize("which", ["embedded (sandboxed)", "policy only"])
def test_no_spelling_reaches_the_canary_through_the_server(which: str, protocol_server, policy_only_server,
                                                          canary: Canary) -> None:
    server = protocol_server if which.startswith("embedded") else policy_only_server
    queries = attacks(canary.port) + variable_targets(canary.port) + unreadable(canary.port)
    for query in queries:
        for response in (httpx.get(server.sparql, params={"query": query}, timeout=60),
                         httpx.post(server.sparql, data={"query": query}, timeout=60)):
            assert response.status_code in (400, 403), (query, response.status_code, response.text)
            assert response.json()["message"]
    assert canary.connections == 0
    assert "Traceback" not in server.log()


def _workers_of(supervisor_pid: int) -> list[int]:
    workers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == supervisor_pid:
                workers.append(int(entry.name))
    return workers


def _seccomp_mode(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("Seccomp:", 1)[1].split()[0])


def test_embedded_workers_are_sandboxed_and_workers_allowed_outbound_are_not(protocol_server,
                                                                              policy_only_server) -> None:
    sandboxed, open_ = _workers_of(protocol_server.process.pid), _workers_of(policy_only_server.process.pid)
    assert sandboxed and open_
    assert [_seccomp_mode(pid) for pid in sandboxed] == [2] * len(sandboxed)  # 2: a filter is installed
    assert [_seccomp_mode(pid) for pid in open_] == [0] * len(open_)
