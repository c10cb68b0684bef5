"""`kg serve --store` over a real Virtuoso holding the release, its own system graphs and a stranger's graph:
only the release's graphs are served, with the embedded store's answers (W3C protocol suite, named queries,
/reconcile, VoID counts), under kg serve's time limit."""
from __future__ import annotations

import csv as csv_module
import io
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, parse, serialize

from conftest import REPO, reconcile_when_ready, run_kg
from kg.integrations.graph_store import publish_to_store

pytestmark = [pytest.mark.virtuoso, pytest.mark.slow]

LIMIT = 2  # seconds: kg serve's time limit
BASE = "https://w3id.org/diplomacy-kg/"
ADMIN = {"KG_STORE_USER": "dba", "KG_STORE_PASSWORD": "dba"}
STRANGER = "urn:kg-test:someone-elses-graph"
DIPL = f"{BASE}ontology#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def loaded(own_virtuoso, built_release, protocol_dataset, tmp_path_factory) -> str:
    """A Virtuoso of this module's own (none of test_virtuoso_publish's changes in it) holding the release
    (kg publish), the W3C protocol suite's dataset, and a stranger's graph with a Person in it; returns the
    store's /sparql."""
    virtuoso = own_virtuoso
    published = run_kg("publish", "--to", virtuoso.graph_store, "--build-dir", built_release.path.parent.parent,
                       env=ADMIN)
    assert published.returncode == 0, published.stderr
    stranger = tmp_path_factory.mktemp("stranger") / "stranger.nq"
    intruder = NamedNode("urn:kg-test:intruder")
    stranger.write_bytes(serialize([
        Quad(intruder, NamedNode(RDF_TYPE), NamedNode(f"{DIPL}Person"), NamedNode(STRANGER)),
        Quad(intruder, NamedNode(RDFS_LABEL), Literal("Mike Pompeo"), NamedNode(STRANGER)),
    ], format=RdfFormat.N_QUADS))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ADMIN.items():
            patch.setenv(name, value)
        publish_to_store(stranger, virtuoso.graph_store)
        publish_to_store(protocol_dataset, virtuoso.graph_store)
    return virtuoso.sparql


@pytest.fixture(scope="module")
def remote(kg_serve, loaded):
    return kg_serve("--store", loaded, "--workers", "1", "--timeout", str(LIMIT))


def csv(server, query: str, **params) -> str:
    response = httpx.get(server.sparql, params={"query": query, **params}, headers={"Accept": "text/csv"}, timeout=60)
    assert response.status_code == 200, response.text
    return response.text


def test_the_store_holds_more_than_the_release(loaded, built_release):
    """The premise: Virtuoso's union default graph holds its system graphs and the stranger's graph too."""
    response = httpx.post(loaded, data={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
                          headers={"Accept": "application/sparql-results+json"})
    in_store = int(response.json()["results"]["bindings"][0]["n"]["value"])
    assert in_store > built_release.manifest["quads"] + 1000


def test_only_the_releases_graphs_are_served(remote, release_server, built_release):
    graphs = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    assert csv(remote, graphs) == csv(release_server, graphs)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert csv(remote, count) == csv(release_server, count)
    for outside in (STRANGER, "http://www.openlinksw.com/schemas/virtrdf#", "http://www.w3.org/2002/07/owl#"):
        assert csv(remote, f"SELECT (COUNT(*) AS ?n) FROM <{outside}> WHERE {{ ?s ?p ?o }}") == "n\r\n0\r\n"
        assert csv(remote, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{outside}> {{ ?s ?p ?o }} }}") == "n\r\n0\r\n"
        assert csv(remote, count, **{"default-graph-uri": outside}) == "n\r\n0\r\n"
    assert "intruder" not in csv(remote, f"SELECT ?p WHERE {{ ?p a <{DIPL}Person> }}")
    description = httpx.get(remote.sparql, headers={"Accept": "text/turtle"})
    graph_names = {quad.object.value for quad in parse(description.content, format=RdfFormat.TURTLE)
                   if quad.predicate.value == "http://www.w3.org/ns/sparql-service-description#name"}
    assert graph_names == {graph.value for graph in Store.read_only(str(built_release.store_path)).named_graphs()}


def test_queries_leave_the_few_other_graphs_out_rather_than_list_the_releases(loaded, built_release):
    """At 10,000 articles a dataset listing every graph makes Virtuoso refuse or time out (docs/stores.md): each
    query is sent with Virtuoso's exclusions of the store's other graphs instead, and GRAPH <iri> with that graph
    named; only a query with a path modifier (or GRAPH <iri> beside GRAPH ?g) is sent the list."""
    from kg.sparql import remote as remote_module

    with httpx.Client() as client:
        scope = remote_module.GraphScope(f"{BASE}graph/", remote_module.RemoteStore(loaded, client, 60), refresh_seconds=0)
        release_graphs = sorted(graph.value for graph in Store.read_only(str(built_release.store_path)).named_graphs())
        assert scope.graphs == release_graphs
        assert STRANGER in scope.excluded and "http://www.openlinksw.com/schemas/virtrdf#" in scope.excluded
        assert not set(scope.excluded) & set(release_graphs)

        def sent(query: str) -> tuple[str, list[str], list[str]]:
            pragmas, _, default, named = scope.confine(query, [], [], False)
            return pragmas, default, named

        pragmas, default, named = sent("SELECT * WHERE { ?s ?p ?o }")
        assert pragmas.count("default-graph-exclude") == len(scope.excluded) and "named-graph" not in pragmas
        assert (default, named) == ([], [])
        pragmas, default, named = sent(f"SELECT * WHERE {{ GRAPH <{BASE}graph/ontology> {{ ?s ?p ?o }} }}")
        assert "named-graph" not in pragmas and (default, named) == ([], [f"{BASE}graph/ontology", remote_module.EMPTY_GRAPH])
        pragmas, default, named = sent("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert pragmas.count("named-graph-exclude") == len(scope.excluded) and (default, named) == ([], [])
        for listed in ("SELECT * WHERE { ?s <urn:p>* ?o }", f"SELECT * WHERE {{ GRAPH ?g {{ ?s ?p ?o }} GRAPH <{STRANGER}> {{ ?s ?p ?o }} }}"):
            pragmas, default, named = sent(listed)
            assert pragmas == "" and default == release_graphs


def test_the_graph_list_is_read_page_by_page(loaded, monkeypatch):
    """Virtuoso cuts an answer at its ResultSetMaxRows without saying so: the graphs are read a page at a time."""
    from kg.sparql import remote as remote_module

    with httpx.Client() as client:
        store = remote_module.RemoteStore(loaded, client, 60)
        whole = remote_module.GraphScope(f"{BASE}graph/", store, refresh_seconds=0)
        monkeypatch.setattr(remote_module, "SCOPE_PAGE", 2)
        paged = remote_module.GraphScope(f"{BASE}graph/", store, refresh_seconds=0)
    assert len(whole.graphs) > 2 and paged.graphs == whole.graphs and paged.excluded == whole.excluded


def test_the_void_counts_are_the_releases(remote, built_release):
    """void:triples, classes, properties, distinct subjects and objects counted through kg serve --store are the
    release's, counted in its dump term by term; all but distinct objects are also what its description
    (dumps/void.ttl) says. Distinct objects differ there: the embedded store keeps integer literals of derived
    types (xsd:positiveInteger, xsd:nonNegativeInteger) as xsd:integer, so equal values of two such types count
    once in the description, twice in the dump and in Virtuoso."""
    described = {quad.predicate.value.rsplit("#", 1)[1]: int(quad.object.value)
                 for quad in parse(path=str(built_release.dumps / "void.ttl"), format=RdfFormat.TURTLE)
                 if quad.subject.value == f"{BASE}dataset" and quad.predicate.value.startswith("http://rdfs.org/ns/void#")
                 and isinstance(quad.object, Literal) and quad.object.datatype.value.endswith("#integer")}
    counts = {
        "triples": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
        "distinctSubjects": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }",
        "distinctObjects": "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }",
        "properties": "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }",
        "classes": f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?s <{RDF_TYPE}> ?c }}",
    }
    assert set(counts) <= set(described)
    quads = list(parse(path=str(built_release.dumps / "graph.nq"), format=RdfFormat.N_QUADS))
    in_dump = {"triples": len(quads), "distinctSubjects": len({q.subject for q in quads}),
               "distinctObjects": len({q.object for q in quads}), "properties": len({q.predicate for q in quads}),
               "classes": len({q.object for q in quads if q.predicate.value == RDF_TYPE})}
    served = {name: int(csv(remote, query).split()[1]) for name, query in counts.items()}
    assert served == in_dump
    assert {name: described[name] for name in counts if name != "distinctObjects"} == \
        {name: in_dump[name] for name in counts if name != "distinctObjects"}


@pytest.mark.parametrize("query", [
    f"PREFIX dipl: <{DIPL}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    "SELECT ?person ?label WHERE { ?person a dipl:Person ; rdfs:label ?label } ORDER BY ?person ?label",
    f"SELECT (COUNT(*) AS ?n) FROM <{BASE}graph/ontology> WHERE {{ ?s ?p ?o }}",
    f"PREFIX g: <{BASE}graph/> SELECT ?g (COUNT(*) AS ?n) FROM g:entities FROM NAMED g:ontology "
    "WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } } GROUP BY ?g ORDER BY ?g",
    f"ASK {{ <{BASE}entity/mike-pompeo> ?p ?o }}",
    "ASK { ?s <urn:nothing> ?o }",
    # GRAPH <iri>, GRAPH ?g, both, and a path modifier: each goes to Virtuoso its own way (GraphScope.confine)
    f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{BASE}graph/ontology> {{ ?s ?p ?o }} }}",
    f"PREFIX g: <{BASE}graph/> SELECT * WHERE {{ GRAPH g:entities {{ ?s a <{DIPL}Person> }} }} ORDER BY ?s",
    f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{STRANGER}> {{ ?s ?p ?o }} }}",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s a ?c } } GROUP BY ?g ORDER BY ?g",
    f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s a ?c }} GRAPH <{BASE}graph/entities> {{ ?s ?p ?o }} }}",
    f"SELECT ?c WHERE {{ ?c <http://www.w3.org/2004/02/skos/core#broader>* <{BASE}cameo/02> }} ORDER BY ?c",
])
def test_select_and_ask_answer_as_the_embedded_store(remote, release_server, query):
    for media_type in ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                       "text/tab-separated-values"):
        if query.startswith("ASK") and media_type.startswith("text/"):
            continue
        answers = [httpx.get(server.sparql, params={"query": query}, headers={"Accept": media_type}, timeout=60)
                   for server in (remote, release_server)]
        assert [a.status_code for a in answers] == [200, 200], answers[0].text
        assert answers[0].content == answers[1].content, media_type


@pytest.mark.parametrize("query", [
    f"CONSTRUCT WHERE {{ <{BASE}entity/mike-pompeo> ?p ?o }}",
    f"PREFIX dipl: <{DIPL}> CONSTRUCT {{ ?s a dipl:Statement ; dipl:speaker ?who }} "
    "WHERE { ?s a dipl:Statement ; dipl:speaker ?who }",
])  # not DESCRIBE: SPARQL leaves its answer to the store (Virtuoso's also has the triples naming the resource)
def test_graphs_are_the_embedded_stores(remote, release_server, query):
    graphs = []
    for server in (remote, release_server):
        response = httpx.post(server.sparql, data={"query": query}, headers={"Accept": "application/n-triples"})
        assert response.status_code == 200, response.text
        graphs.append({quad.triple for quad in parse(response.content, format=RdfFormat.N_TRIPLES)})
    assert graphs[0] and graphs[0] == graphs[1]


def comparable(text: str, sampled: set[str]) -> list[list[list[str]]]:
    """CSV rows as SPARQL defines them, store aside: each cell's words sorted (the order GROUP_CONCAT joins values
    in is the store's), decimals to 12 digits (Virtuoso computes AVG's to 15, the embedded store to 18), and the
    columns of SAMPLE(...) left out (which value it picks is the store's). Rows, their order and every other word
    must still be the same."""
    def word(token: str) -> str:
        return f"{float(token):.12g}" if re.fullmatch(r"-?[0-9]+\.[0-9]+", token) else token

    rows = list(csv_module.reader(io.StringIO(text)))
    kept = [i for i, column in enumerate(rows[0] if rows else []) if column not in sampled]
    return [[sorted(word(token) for token in re.split(r"[,;\s]+", row[i])) for i in kept] for row in rows]


# Named queries Virtuoso 7.2.5 answers differently on a fresh database (docs/stores.md): `statements` gives a
# dated statement no date (4 OPTIONALs, ORDER BY ?date). Not narrowed down yet: a long-lived database loaded
# several times answered it right.
VIRTUOSO_WRONG_ANSWERS = {"statements"}


def as_virtuoso_booleans(text: str) -> str:
    """The embedded store's CSV with true/false cells as 1/0: Virtuoso 7.2 has no boolean type and answers a
    boolean value (BOUND(?x), true) as the integer 1 or 0 (a documented difference, docs/stores.md)."""
    return re.sub(r"(?<=,)true(?=\r\n|,)", "1", re.sub(r"(?<=,)false(?=\r\n|,)", "0", text))


def test_every_named_query_and_reconciliation_answer_as_the_embedded_store(remote, release_server):
    names = [query["name"] for query in httpx.get(f"{remote.base_url}/queries").json()]
    assert names
    for name in names:
        if "wikidata" in name and "federation" in name:
            continue  # a SERVICE call to Wikidata: no internet here
        answers = [httpx.get(f"{s.base_url}/queries/{name}", headers={"Accept": "text/csv"}, timeout=60)
                   for s in (remote, release_server)]
        assert [a.status_code for a in answers] == [200, 200], (name, answers[0].text)
        if name in VIRTUOSO_WRONG_ANSWERS:  # the same rows (first column), whatever else Virtuoso gets wrong in them
            assert sorted(answers[0].text.splitlines()[1:]) != sorted(answers[1].text.splitlines()[1:]), \
                f"{name}: Virtuoso answers it right now; take it out of VIRTUOSO_WRONG_ANSWERS"
            assert sorted(r.split(",")[0] for r in answers[0].text.splitlines()) == \
                sorted(r.split(",")[0] for r in answers[1].text.splitlines()), name
            continue
        sampled = set(re.findall(r"SAMPLE\s*\([^)]*\)\s+AS\s+\?(\w+)", (REPO / "queries" / f"{name}.rq").read_text(), re.I))
        assert comparable(answers[0].text, sampled) == comparable(as_virtuoso_booleans(answers[1].text), sampled), name
    batch = '{"q0": {"query": "Pompeo"}, "q1": {"query": "Kim Jong Un", "type": "Person"}, "q2": {"query": "Hanoi"}}'
    answers = [reconcile_when_ready(s, batch) for s in (remote, release_server)]
    assert [a.status_code for a in answers] == [200, 200], answers[0].text
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["q0"]["result"][0]["id"] == "mike-pompeo"


def test_our_time_limit_holds_whatever_the_store_does(remote):
    """kg serve's limit (LIMIT) is below the store's own (conftest's VIRTUOSO_TIME_LIMIT): ours ends the wait."""
    started = time.monotonic()
    response = httpx.get(remote.sparql, params={"query": SLOW}, timeout=30)
    assert response.status_code == 503, response.text
    assert f"time limit of {LIMIT} s" in response.json()["message"]
    assert time.monotonic() - started < LIMIT + 1
    light = httpx.get(remote.sparql, params={"query": f"ASK {{ <{BASE}entity/mike-pompeo> ?p ?o }}"},
                      headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert light.status_code == 200 and light.json()["boolean"] is True


def test_w3c_protocol_suite_passes_all_27_through_kg_serve_store(kg_serve, loaded, protocol_suite_dir: Path):
    """The suite's dataset is in the store beside the release; --store-graphs serves only its graphs."""
    server = kg_serve("--store", loaded, "--store-graphs", "http://kasei.us/2009/09/sparql/data/", "--workers", "1")
    run = subprocess.run(
        [sys.executable, str(protocol_suite_dir / "run.py"), "--manifest", str(protocol_suite_dir / "manifest.ttl"),
         "--endpoint", server.sparql, "--skip-updates"],
        capture_output=True, text=True, timeout=300,
    )
    assert "SUMMARY {'pass': 27, 'fail': 0, 'skipped': 7}" in run.stdout, run.stdout + run.stderr
    assert run.returncode == 0


def test_the_stores_own_time_limit_is_answered_as_ours(kg_serve, loaded):
    """With kg serve's limit above Virtuoso's MaxQueryExecutionTime, the store ends the query: a 503 saying so,
    not a 502 'store unavailable' nor a partial answer."""
    from conftest import VIRTUOSO_TIME_LIMIT

    server = kg_serve("--store", loaded, "--workers", "1", "--timeout", str(VIRTUOSO_TIME_LIMIT + 20))
    response = httpx.get(server.sparql, params={"query": SLOW}, timeout=VIRTUOSO_TIME_LIMIT + 30)
    assert response.status_code == 503, response.text
    assert "the store's own time limit ended the query" in response.json()["message"]
