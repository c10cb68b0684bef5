"""`kg publish --to URL` against a real `oxigraph serve` (SPARQL 1.1 Graph Store Protocol)."""
from __future__ import annotations

import base64
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from pyoxigraph import RdfFormat, parse

from conftest import OXIGRAPH, REPO, free_port, run_kg

pytestmark = pytest.mark.slow  # real builds and processes, seconds each


@pytest.fixture
def oxigraph_server(tmp_path):
    """A read-write `oxigraph serve` on a free 127.0.0.1 port, stopped by PID after the test."""
    port = free_port()
    process = subprocess.Popen([OXIGRAPH, "serve", "--location", str(tmp_path / "oxigraph"),
                                "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/query", params={"query": "ASK {}"}, timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(10)


def graph_sizes(url: str) -> dict[str, int]:
    response = httpx.get(f"{url}/query", params={
        "query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"},
        headers={"Accept": "application/sparql-results+json"})
    return {b["g"]["value"]: int(b["n"]["value"]) for b in response.json()["results"]["bindings"]}


def release_sizes(nquads: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for quad in parse(path=str(nquads), format=RdfFormat.N_QUADS):
        sizes[quad.graph_name.value] = sizes.get(quad.graph_name.value, 0) + 1
    return sizes


def test_publish_loads_every_named_graph_and_replaces_it_on_republish(oxigraph_server, built_release, tmp_path):
    result = run_kg("publish", "--to", f"{oxigraph_server}/store", "--build-dir", built_release.path.parent.parent)
    assert result.returncode == 0, result.stderr
    expected = release_sizes(built_release.dumps / "graph.nq")
    assert graph_sizes(oxigraph_server) == expected
    assert "3 graph(s)" in result.stdout

    # A changed release replaces the graphs rather than adding to them.
    project = tmp_path / "project"
    for folder in ("ontology", "seeds", "shapes"):
        shutil.copytree(REPO / folder, project / folder)
    shutil.copytree(REPO / "tests" / "fixtures" / "second-article",
                    project / "seeds" / "articles" / "test-2019-03-05-pompeo-follow-up")
    build_dir = tmp_path / "build"
    env = {"KG_PROJECT": str(project)}
    assert run_kg("build", "--build-dir", build_dir, env=env).returncode == 0
    result = run_kg("publish", "--to", f"{oxigraph_server}/store", "--build-dir", build_dir, env=env)
    assert result.returncode == 0, result.stderr
    republished = release_sizes(build_dir / "current" / "dumps" / "graph.nq")
    assert graph_sizes(oxigraph_server) == republished
    assert len(republished) == len(expected) + 1


def test_an_unreachable_store_is_a_clear_error(built_release):
    result = run_kg("publish", "--to", f"http://127.0.0.1:{free_port()}/store",
                    "--build-dir", built_release.path.parent.parent)
    assert result.returncode == 1
    assert "cannot reach" in result.stderr and "Traceback" not in result.stderr


def test_credentials_come_from_the_environment(built_release):
    """A store that demands basic auth gets it from KG_STORE_USER/KG_STORE_PASSWORD; neither a flag nor the URL carries it."""
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self):  # noqa: N802 (http.server naming)
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.headers.get("Authorization"))
            self.send_response(204 if seen[-1] else 401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/store"
        denied = run_kg("publish", "--to", url, "--build-dir", built_release.path.parent.parent)
        assert denied.returncode == 1 and "answered 401" in denied.stderr
        in_url = run_kg("publish", "--to", url.replace("http://", "http://curator:s3cret@"),
                        "--build-dir", built_release.path.parent.parent)
        assert in_url.returncode == 1 and "KG_STORE_USER" in in_url.stderr, in_url.stderr
        assert len(seen) == 1  # refused before anything was sent
        allowed = run_kg("publish", "--to", url, "--build-dir", built_release.path.parent.parent,
                         env={"KG_STORE_USER": "curator", "KG_STORE_PASSWORD": "s3cret"})
        assert allowed.returncode == 0, allowed.stderr
    finally:
        server.shutdown()
    assert seen[-1] == "Basic " + base64.b64encode(b"curator:s3cret").decode()
