"""A Virtuoso whose own graphs are private to its SPARQL user (docs/stores.md): `kg serve --store` finds no
other graph, so every query goes to the store as it is, property paths included, at any size."""
from __future__ import annotations

import httpx
import pytest

from conftest import load_benchmark_module, run_kg

pytestmark = [pytest.mark.virtuoso, pytest.mark.slow]

BASE = "https://w3id.org/diplomacy-kg/"
ADMIN = {"KG_STORE_USER": "dba", "KG_STORE_PASSWORD": "dba"}
GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


def csv(url: str, query: str) -> str:
    response = httpx.post(url, data={"query": query}, headers={"Accept": "text/csv"}, timeout=60)
    assert response.status_code == 200, response.text
    return response.text


@pytest.fixture(scope="module")
def private(own_virtuoso, built_release) -> str:
    """The release published into a Virtuoso of this module's own, whose other graphs are then made private by
    the script of benchmarks/virtuoso/server.py; returns the store's /sparql."""
    published = run_kg("publish", "--to", own_virtuoso.graph_store, "--build-dir", built_release.path.parent.parent,
                       env=ADMIN)
    assert published.returncode == 0, published.stderr
    system = [line.split(",")[0].strip('"') for line in csv(own_virtuoso.sparql, GRAPHS).splitlines()[1:]
              if not line.startswith(f'"{BASE}graph/')]
    assert "http://www.openlinksw.com/schemas/virtrdf#" in system
    own_virtuoso.isql(load_benchmark_module("virtuoso/server.py").private_graphs_script(system))
    return own_virtuoso.sparql


def test_the_store_shows_only_the_release_and_kg_serve_sends_queries_as_they_are(private, built_release):
    from kg.sparql.remote import GraphScope, RemoteStore

    shown = [line.split(",")[0].strip('"') for line in csv(private, GRAPHS).splitlines()[1:]]
    assert shown == sorted(f"{BASE}graph/{name}" for name in ("article/cgtn-2019-03-01-hanoi-summit", "entities", "ontology"))
    with httpx.Client() as client:
        scope = GraphScope(f"{BASE}graph/", RemoteStore(private, client, 60), refresh_seconds=0)
    assert scope.graphs == shown and not scope.confines  # so RemoteStore.query sends every query unchanged


def test_property_paths_answer_as_the_embedded_store(private, kg_serve, release_server):
    """The named queries with `skos:broader*`, which a Virtuoso holding other graphs cannot answer confined at
    10,000 articles (they need the list of every graph), answered as the embedded store does."""
    remote = kg_serve("--store", private, "--workers", "1")
    for name in ("appeals", "competing-accounts"):
        answers = [httpx.get(f"{server.base_url}/queries/{name}", headers={"Accept": "text/csv"}, timeout=60)
                   for server in (remote, release_server)]
        assert [a.status_code for a in answers] == [200, 200], answers[0].text
        # the same rows, by their first column (GROUP_CONCAT's order and SAMPLE's pick are the store's)
        rows = [sorted(line.split(",")[0] for line in answer.text.splitlines()[1:]) for answer in answers]
        assert rows[0] and rows[0] == rows[1], name
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert csv(remote.sparql, count) == csv(release_server.sparql, count)
