"""Real SPARQL clients against `kg serve`: SPARQLWrapper in every return format, rdflib's SPARQLStore, curl."""
from __future__ import annotations

import csv
import io
import json
import subprocess

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

EX = "http://example.org/kg/"
TRIG = f"""
@prefix ex: <{EX}> .
ex:article1 {{ ex:hanoi ex:label "Hanoi summit"@en ; ex:participant ex:trump, ex:kim . }}
ex:entities {{ ex:trump ex:name "Donald Trump" . ex:kim ex:name "Kim Jong-un" . }}
"""
PREFIX = f"PREFIX ex: <{EX}> "
SELECT = PREFIX + "SELECT ?who ?name WHERE { ex:hanoi ex:participant ?who . ?who ex:name ?name } ORDER BY ?name"
CONSTRUCT = PREFIX + "CONSTRUCT { ?who ex:name ?name } WHERE { ?who ex:name ?name }"
NAMES = {"Donald Trump", "Kim Jong-un"}


@pytest.fixture(scope="module")
def server(kg_serve, tmp_path_factory):
    data = tmp_path_factory.mktemp("clients") / "summit.trig"
    data.write_text(TRIG, encoding="utf-8")
    return kg_serve("--data", data)


def wrapper(server, query: str, return_format: str, method: str = "GET") -> SPARQLWrapper:
    client = SPARQLWrapper(server.sparql, returnFormat=return_format)
    client.setQuery(query)
    client.setMethod(method)
    return client


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_select_json_and_xml(server, method) -> None:
    as_json = wrapper(server, SELECT, JSON, method).queryAndConvert()
    as_xml = wrapper(server, SELECT, XML, method).queryAndConvert()
    assert {row["name"]["value"] for row in as_json["results"]["bindings"]} == NAMES
    assert {node.firstChild.nodeValue for node in as_xml.getElementsByTagName("literal")} == NAMES


@pytest.mark.parametrize(("return_format", "delimiter"), [(CSV, ","), (TSV, "\t")])
def test_sparqlwrapper_select_csv_and_tsv(server, return_format, delimiter) -> None:
    text = wrapper(server, SELECT, return_format).queryAndConvert().decode()
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    names = {row[1].strip('"') for row in rows[1:]}
    assert names == NAMES


@pytest.mark.parametrize("return_format", [JSON, XML])
def test_sparqlwrapper_ask(server, return_format) -> None:
    result = wrapper(server, PREFIX + "ASK { ex:hanoi ex:participant ex:kim }", return_format).queryAndConvert()
    value = result["boolean"] if return_format == JSON else result.getElementsByTagName("boolean")[0].firstChild.nodeValue
    assert value in (True, "true")


@pytest.mark.parametrize("return_format", [TURTLE, N3, RDFXML, XML, JSONLD])
def test_sparqlwrapper_construct_in_every_rdf_format(server, return_format) -> None:
    result = wrapper(server, CONSTRUCT, return_format).queryAndConvert()
    graph = result if isinstance(result, Graph) else Graph().parse(data=result, format="turtle")
    assert {str(name) for name in graph.objects(predicate=URIRef(EX + "name"))} == NAMES


def test_sparqlwrapper_describe(server) -> None:
    graph = wrapper(server, PREFIX + "DESCRIBE ex:trump", TURTLE).queryAndConvert()
    graph = Graph().parse(data=graph, format="turtle") if isinstance(graph, bytes) else graph
    assert (URIRef(EX + "trump"), URIRef(EX + "name"), Literal("Donald Trump")) in graph


def test_rdflib_sparqlstore_queries_and_reads_triples(server) -> None:
    graph = Graph(store=SPARQLStore(server.sparql))
    names = {str(row.name) for row in graph.query(SELECT)}
    participants = set(graph.objects(URIRef(EX + "hanoi"), URIRef(EX + "participant")))
    assert names == NAMES
    assert participants == {URIRef(EX + "trump"), URIRef(EX + "kim")}
    assert graph.query(PREFIX + "ASK { ex:kim ex:name ?n }").askAnswer is True


def test_curl_get_and_post(server) -> None:
    got = subprocess.run(["curl", "-sS", "--fail", "-G", server.sparql, "--data-urlencode", f"query={SELECT}"],
                         capture_output=True, check=True, timeout=30)
    posted = subprocess.run(["curl", "-sS", "--fail", "-H", "Content-Type: application/sparql-query",
                             "-H", "Accept: text/turtle", "--data-binary", CONSTRUCT, server.sparql],
                            capture_output=True, check=True, timeout=30)
    assert {row["name"]["value"] for row in json.loads(got.stdout)["results"]["bindings"]} == NAMES
    assert len(Graph().parse(data=posted.stdout, format="turtle")) == 2
