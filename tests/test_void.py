"""The VoID/DCAT description: published in the release, served at /.well-known/void with conneg,
and its numbers equal the endpoint's answers to the same COUNT queries."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from collections import Counter

import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, VOID

from kg.release.description import ARTICLES_QUERY, COUNT_QUERIES, PARTITION_QUERIES

SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")


@pytest.fixture(scope="module")
def description(built_release) -> rdflib.Graph:
    return rdflib.Graph().parse(built_release.dumps / "void.ttl", format="turtle")


@pytest.fixture(scope="module")
def dataset(description, built_release) -> rdflib.URIRef:
    node = rdflib.URIRef(built_release.manifest["base"] + "dataset")
    assert (node, RDF.type, VOID.Dataset) in description
    assert (node, RDF.type, rdflib.namespace.DCAT.Dataset) in description
    return node


def ask_count(client, query: str) -> list[dict]:
    response = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


def test_dataset_counts_equal_the_endpoint_answers(release_app, description, dataset):
    for name, query in COUNT_QUERIES.items():
        answer = int(ask_count(release_app, query)[0]["n"]["value"])
        assert description.value(dataset, VOID[name]).toPython() == answer, name
    # and the plainest query a user would type gives the same number of triples
    plain = int(ask_count(release_app, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"]["value"])
    assert description.value(dataset, VOID.triples).toPython() == plain


def test_sources_and_example_resources_are_the_endpoints_articles(release_app, description, dataset):
    rows = ask_count(release_app, ARTICLES_QUERY)
    assert rows
    assert set(description.objects(dataset, VOID.exampleResource)) == {rdflib.URIRef(r["article"]["value"]) for r in rows}
    assert {str(o) for o in description.objects(dataset, rdflib.URIRef("http://purl.org/dc/terms/source"))} == \
        {r["url"]["value"] for r in rows}


@pytest.mark.parametrize("kind, link, key, number", [
    ("class", VOID.classPartition, VOID["class"], VOID.entities),
    ("property", VOID.propertyPartition, VOID.property, VOID.triples),
    ("graph", VOID.subset, rdflib.URIRef("http://www.w3.org/ns/sparql-service-description#name"), VOID.triples),
])
def test_partitions_equal_the_endpoint_answers(release_app, description, dataset, kind, link, key, number):
    answers = {row["key"]["value"]: int(row["n"]["value"]) for row in ask_count(release_app, PARTITION_QUERIES[kind])}
    described = {str(description.value(part, key)): description.value(part, number).toPython()
                 for part in description.objects(dataset, link)}
    assert described == answers
    assert len(described) > 2


def test_every_dump_is_a_distribution_with_size_media_type_and_checksum(description, dataset, built_release):
    base = built_release.manifest["base"]
    dumps = {str(d) for d in description.objects(dataset, VOID.dataDump)}
    assert {f"{base}dumps/graph.{ext}{gz}" for ext in ("ttl", "nt", "nq", "trig", "jsonld") for gz in ("", ".gz")} == dumps
    for distribution in description.objects(dataset, rdflib.namespace.DCAT.distribution):
        url = description.value(distribution, rdflib.namespace.DCAT.downloadURL)
        if url is None:
            continue  # the SPARQL endpoint (a DataService)
        name = str(url).rsplit("/", 1)[-1]
        data = (built_release.dumps / name).read_bytes()
        assert description.value(distribution, rdflib.namespace.DCAT.byteSize).toPython() == len(data)
        checksum = description.value(distribution, SPDX.checksum)
        assert str(description.value(checksum, SPDX.checksumValue)) == hashlib.sha256(data).hexdigest()
        assert description.value(distribution, rdflib.namespace.DCAT.mediaType) is not None
    assert (dataset, VOID.sparqlEndpoint, rdflib.URIRef(base + "sparql")) in description
    assert (dataset, VOID.uriSpace, rdflib.Literal(base)) in description
    assert description.value(dataset, rdflib.URIRef("http://purl.org/dc/terms/license")) is not None


@pytest.mark.parametrize("accept, content_type, rdflib_format", [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
])
def test_well_known_void_negotiates_rdf(release_app, description, accept, content_type, rdflib_format):
    response = release_app.get("/.well-known/void", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type
    assert "Accept" in response.headers["vary"]
    served = rdflib.Graph().parse(data=response.content, format=rdflib_format)
    assert isomorphic(served, description)


def test_well_known_void_is_a_page_for_browsers(release_app):
    response = release_app.get("/.well-known/void", headers={"Accept": "text/html"})
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="/dumps/"' in response.text


def in_order(rows) -> list[tuple]:
    return sorted(rows, key=lambda row: tuple(map(str, row)))


@pytest.mark.parametrize("bucket_bytes", [1 << 30, 32 << 10])
def test_statistics_from_the_dump_equal_the_store_answers_in_one_bucket_or_many(built_release, tmp_path, bucket_bytes):
    """The description's numbers come from the N-Quads dump, bucket by bucket in bounded memory: split in
    one bucket or in dozens, they equal what the store answers to the defining queries."""
    from pyoxigraph import NamedNode, Store

    from kg.release.description import statistics
    store = Store.read_only(str(built_release.store_path))
    with statistics(built_release.dumps / "graph.nq", tmp_path / "scratch", bucket_bytes) as stats:
        assert stats.counts == {name: int(next(iter(store.query(query)))["n"].value)
                                for name, query in COUNT_QUERIES.items()}
        assert in_order(stats.articles()) == in_order((row["article"], row["url"], row["published"].value)
                                                      for row in store.query(ARTICLES_QUERY))
        for kind, query in PARTITION_QUERIES.items():
            assert sorted(stats.partition(kind)) == sorted((row["key"].value, int(row["n"].value))
                                                           for row in store.query(query)
                                                           if isinstance(row["key"], NamedNode)), kind
    assert not (tmp_path / "scratch").exists()


@pytest.mark.parametrize("count", [2, 5, 40])
def test_the_dump_is_sliced_for_counting_at_graph_boundaries(built_release, count):
    """Each slice holds whole graphs, so a graph's quads and its articles are counted by one worker, once."""
    from kg.release.description import _graph_of, _graph_slices
    dump = built_release.dumps / "graph.nq"
    data = dump.read_bytes()
    slices = _graph_slices(dump, count)
    assert len(slices) > 1
    assert slices[0][0] == 0 and slices[-1][1] == len(data)
    assert all(end == start for (_, end), (start, _) in zip(slices, slices[1:]))
    for start, _ in slices[1:]:
        last_line_before = data[:start - 1].rsplit(b"\n", 1)[-1]
        assert _graph_of(last_line_before) != _graph_of(data[start:data.index(b"\n", start)])


def test_the_description_lists_every_graph_and_article_without_memory_growing_with_them(tmp_path):
    """The description has a row per graph and per article of the corpus. They are kept on disk and read back
    as the description is written out: for 20,000 graphs, holding them took 98 MB (the limit here is 8). Small
    buckets keep the counting in worker processes, whose memory the bucket size bounds."""
    code = f"""
import re
from pathlib import Path
from kg.release.description import DatasetInfo, describe_release, statistics
folder = Path({str(tmp_path)!r})
with (folder / "graph.nq").open("w") as dump:
    for i in range(20000):
        graph, article = f"<https://example.org/graph/{{i}}>", f"<https://example.org/article/{{i}}>"
        dump.write(f"{{article}} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://schema.org/NewsArticle> {{graph}} .\\n"
                   f"{{article}} <http://schema.org/url> <https://news.example/{{i}}> {{graph}} .\\n"
                   f'{{article}} <http://schema.org/datePublished> "2019-03-01"^^<http://www.w3.org/2001/XMLSchema#date> {{graph}} .\\n')
peak = lambda: int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) // 1024
before = peak()
with statistics(folder / "graph.nq", folder / "scratch", 1 << 18) as stats:
    describe_release(stats, DatasetInfo("r", {{"base": "https://example.org/", "version": "1"}}), {{}}, folder / "void.ttl")
print(peak() - before)
"""
    grown = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    from pyoxigraph import RdfFormat, parse
    described = Counter(triple.predicate.value for triple in parse(path=tmp_path / "void.ttl", format=RdfFormat.TURTLE))
    assert described[str(VOID.subset)] == 20000
    assert described[str(VOID.exampleResource)] == 20000
    assert grown < 8, f"{grown} MB"
