"""`kg publish --to` against a real Virtuoso's authenticated Graph Store endpoint, and the authentication
schemes a store's challenge chooses (Digest, Basic, Bearer)."""
from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse, serialize

from conftest import run_kg
from kg.integrations.graph_store import RemoteStoreError, publish_to_store

ADMIN = {"KG_STORE_USER": "dba", "KG_STORE_PASSWORD": "dba"}
NO_CREDENTIALS = ("KG_STORE_TOKEN", "KG_STORE_USER", "KG_STORE_PASSWORD")


def graph_sizes(sparql: str, prefix: str) -> dict[str, int]:
    """Triples per named graph whose IRI starts with `prefix`, read from the store's own /sparql."""
    query = f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), \"{prefix}\")) }} GROUP BY ?g"
    response = httpx.post(sparql, data={"query": query}, headers={"Accept": "application/sparql-results+json"},
                          timeout=60)
    response.raise_for_status()
    return {b["g"]["value"]: int(b["n"]["value"]) for b in response.json()["results"]["bindings"]}


def release_sizes(nquads: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for quad in parse(path=str(nquads), format=RdfFormat.N_QUADS):
        sizes[quad.graph_name.value] = sizes.get(quad.graph_name.value, 0) + 1
    return sizes


def write_quads(path: Path, quads: list[Quad]) -> Path:
    path.write_bytes(serialize(sorted(quads, key=lambda q: (q.graph_name.value, str(q))), format=RdfFormat.N_QUADS))
    return path


@pytest.fixture
def admin(monkeypatch):
    """The Virtuoso administrator's credentials in the environment, as an operator would set them."""
    for name in NO_CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    for name, value in ADMIN.items():
        monkeypatch.setenv(name, value)


@pytest.mark.virtuoso
@pytest.mark.slow
def test_kg_publish_answers_virtuosos_digest_challenge_and_replaces_every_graph(virtuoso, built_release, tmp_path):
    base = built_release.manifest["base"]
    refused = run_kg("publish", "--to", virtuoso.graph_store, "--build-dir", built_release.path.parent.parent,
                     env={name: "" for name in NO_CREDENTIALS})
    assert refused.returncode == 1
    assert "answered 401" in refused.stderr and "Digest" in refused.stderr and "KG_STORE_USER" in refused.stderr

    published = run_kg("publish", "--to", virtuoso.graph_store, "--build-dir", built_release.path.parent.parent,
                       env=ADMIN)
    assert published.returncode == 0, published.stderr
    expected = release_sizes(built_release.dumps / "graph.nq")
    assert graph_sizes(virtuoso.sparql, base + "graph/") == expected

    # Publishing again replaces each graph, never adds to it: same sizes after a second run.
    again = run_kg("publish", "--to", virtuoso.graph_store, "--build-dir", built_release.path.parent.parent, env=ADMIN)
    assert again.returncode == 0, again.stderr
    assert graph_sizes(virtuoso.sparql, base + "graph/") == expected


@pytest.mark.virtuoso
@pytest.mark.slow
def test_a_changed_graph_is_replaced_as_a_whole(virtuoso, admin, tmp_path):
    graph = NamedNode("urn:kg-test:replaced")
    old = [Quad(NamedNode(f"urn:kg-test:s{i}"), NamedNode("urn:kg-test:p"), Literal(f"old {i}"), graph) for i in range(50)]
    new = [Quad(NamedNode(f"urn:kg-test:s{i}"), NamedNode("urn:kg-test:p"), Literal(f"new {i}"), graph) for i in range(3)]
    publish_to_store(write_quads(tmp_path / "old.nq", old), virtuoso.graph_store)
    uploads = publish_to_store(write_quads(tmp_path / "new.nq", new), virtuoso.graph_store)
    assert [(u.graph, u.triples) for u in uploads] == [(graph.value, 3)]
    response = httpx.post(virtuoso.sparql, data={"query": f"SELECT ?o WHERE {{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }}"},
                          headers={"Accept": "application/sparql-results+json"})
    assert sorted(b["o"]["value"] for b in response.json()["results"]["bindings"]) == ["new 0", "new 1", "new 2"]


class CuttingProxy:
    """Forwards one request to Virtuoso but only the first half of its body, then closes both connections: a
    PUT cut off in transit, as a network failure or a killed client leaves it."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with client, socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += client.recv(65536)
                head, _, body = request.partition(b"\r\n\r\n")
                length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length:")))
                while len(body) < length // 2:
                    body += client.recv(65536)
                upstream.sendall(head + b"\r\n\r\n" + body[:length // 2])
                upstream.shutdown(socket.SHUT_WR)
                try:
                    upstream.recv(65536)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


@pytest.mark.virtuoso
@pytest.mark.slow
def test_a_failed_put_leaves_the_previous_graph_and_says_which_and_why(virtuoso, admin, tmp_path, monkeypatch):
    first, second = NamedNode("urn:kg-test:a-first"), NamedNode("urn:kg-test:b-second")
    before = [Quad(NamedNode(f"urn:kg-test:s{i}"), NamedNode("urn:kg-test:p"), Literal(f"before {i}"), graph)
              for graph in (first, second) for i in range(20)]
    publish_to_store(write_quads(tmp_path / "before.nq", before), virtuoso.graph_store)
    after = [Quad(NamedNode(f"urn:kg-test:s{i}"), NamedNode("urn:kg-test:p"), Literal(f"after {i} " + "x" * 200), graph)
             for graph in (first, second) for i in range(200)]
    changed = write_quads(tmp_path / "after.nq", after)

    # Refused by the store: wrong credentials.
    monkeypatch.setenv("KG_STORE_PASSWORD", "wrong")
    with pytest.raises(RemoteStoreError) as refused:
        publish_to_store(changed, virtuoso.graph_store)
    message = str(refused.value)
    assert f"graph <{first.value}> was not replaced" in message and "answered 401" in message
    assert "credentials from the environment were refused" in message and "0 graph(s) before it" in message
    sizes = graph_sizes(virtuoso.sparql, "urn:kg-test:")
    assert (sizes[first.value], sizes[second.value]) == (20, 20)

    # Cut off in transit: Virtuoso gets half the body of the first graph's PUT.
    monkeypatch.setenv("KG_STORE_PASSWORD", "dba")
    proxy = CuttingProxy(virtuoso.http_port)
    try:
        with pytest.raises(RemoteStoreError) as cut:
            publish_to_store(changed, f"http://127.0.0.1:{proxy.port}/sparql-graph-crud-auth", timeout=30)
    finally:
        proxy.close()
    assert f"graph <{first.value}> was not replaced" in str(cut.value)
    sizes = graph_sizes(virtuoso.sparql, "urn:kg-test:")
    assert (sizes[first.value], sizes[second.value]) == (20, 20)
    response = httpx.post(virtuoso.sparql, data={"query": f"ASK {{ GRAPH <{first.value}> {{ ?s ?p \"before 7\" }} }}"},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.json()["boolean"] is True


class Challenging(BaseHTTPRequestHandler):
    """A Graph Store endpoint that answers 401 with `challenge` until it gets `expected`; records what it got."""

    challenge = ""
    expected = ""
    seen: list[str | None] = []

    def do_PUT(self) -> None:  # noqa: N802 (http.server naming)
        self.rfile.read(int(self.headers["Content-Length"]))
        authorization = self.headers.get("Authorization")
        Challenging.seen.append(authorization)
        if authorization == self.expected:
            self.send_response(201)
        else:
            self.send_response(401)
            self.send_header("WWW-Authenticate", self.challenge)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize(("challenge", "environment", "expected"), [
    ('Basic realm="store"', {"KG_STORE_USER": "curator", "KG_STORE_PASSWORD": "s3cret", "KG_STORE_TOKEN": "t0ken"},
     "Basic Y3VyYXRvcjpzM2NyZXQ="),
    ('Bearer realm="store"', {"KG_STORE_USER": "curator", "KG_STORE_PASSWORD": "s3cret", "KG_STORE_TOKEN": "t0ken"},
     "Bearer t0ken"),
])
def test_the_stores_challenge_chooses_the_scheme(challenge, environment, expected, built_release, monkeypatch):
    """With a token and a password both set, a store asking for Basic gets Basic and one asking for Bearer the
    token; the first request carries no credentials at all (nothing is sent before the store asks)."""
    for name in NO_CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    Challenging.challenge, Challenging.expected, Challenging.seen = challenge, expected, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Challenging)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        uploads = publish_to_store(built_release.dumps / "graph.nq", f"http://127.0.0.1:{server.server_port}/store")
    finally:
        server.shutdown()
    assert len(uploads) == len(release_sizes(built_release.dumps / "graph.nq"))
    assert Challenging.seen[0] is None
    assert Challenging.seen[1:] == [expected] * len(uploads)


def test_a_challenge_without_matching_credentials_says_what_to_set(built_release, monkeypatch):
    for name in NO_CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KG_STORE_USER", "curator")
    monkeypatch.setenv("KG_STORE_PASSWORD", "s3cret")
    Challenging.challenge, Challenging.expected, Challenging.seen = 'Bearer realm="store"', "Bearer t0ken", []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Challenging)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(RemoteStoreError) as refused:
            publish_to_store(built_release.dumps / "graph.nq", f"http://127.0.0.1:{server.server_port}/store")
    finally:
        server.shutdown()
    assert "asks for Bearer authentication; set KG_STORE_TOKEN" in str(refused.value)
    assert Challenging.seen == [None]  # the password was never sent to a store that asked for a token


@pytest.mark.virtuoso
@pytest.mark.slow
def test_kg_publish_bulk_loads_through_virtuosos_bulk_loader(virtuoso, built_release, tmp_path):
    """--bulk: the dump copied into a folder Virtuoso may read, ld_dir + rdf_loader_run through isql-vt; loading
    twice leaves each graph as the release has it (the release's graphs are emptied first)."""
    base = built_release.manifest["base"]
    command = ("publish", "--to", virtuoso.graph_store, "--build-dir", built_release.path.parent.parent,
               "--bulk", virtuoso.folder / "bulk", "--isql-port", str(virtuoso.isql_port))
    for _ in range(2):
        loaded = run_kg(*command, env=ADMIN)
        assert loaded.returncode == 0, loaded.stderr
        assert graph_sizes(virtuoso.sparql, base + "graph/") == release_sizes(built_release.dumps / "graph.nq")
    assert not any((virtuoso.folder / "bulk").iterdir())  # the staged copy is removed

    # A folder outside the server's DirsAllowed (Virtuoso allows /tmp whatever its ini says: use /var/tmp).
    outside_folder = Path(tempfile.mkdtemp(dir="/var/tmp"))
    try:
        outside = run_kg(*command[:-4], "--bulk", outside_folder, "--isql-port", str(virtuoso.isql_port), env=ADMIN)
    finally:
        shutil.rmtree(outside_folder)
    assert outside.returncode == 1
    assert "cannot read" in outside.stderr and "DirsAllowed" in outside.stderr, outside.stderr
    assert "nothing was changed" in outside.stderr
    assert graph_sizes(virtuoso.sparql, base + "graph/") == release_sizes(built_release.dumps / "graph.nq")
    assert "Traceback" not in outside.stderr
