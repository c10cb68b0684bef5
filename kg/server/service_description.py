"""The SPARQL 1.1 Service Description returned by GET /sparql without a query."""
from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import BlankNode, Literal, NamedNode, Triple, serialize

from kg.server.conneg import GRAPH_FORMATS, SOLUTION_FORMATS, Representation
from kg.server.settings import ServerSettings

SD = "http://www.w3.org/ns/sparql-service-description#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
PREFIXES = {"sd": SD, "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}


def _sd(name: str) -> NamedNode:
    return NamedNode(SD + name)


def describe_service(endpoint: str, named_graphs: Iterable[NamedNode], settings: ServerSettings) -> list[Triple]:
    """Triples describing the endpoint: language, result formats, features and its dataset."""
    service, dataset, default_graph = BlankNode(), BlankNode(), BlankNode()
    triples = [
        Triple(service, RDF_TYPE, _sd("Service")),
        Triple(service, _sd("endpoint"), NamedNode(endpoint)),
        Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        Triple(service, _sd("defaultEntailmentRegime"), NamedNode("http://www.w3.org/ns/entailment/Simple")),
        Triple(service, _sd("defaultDataset"), dataset),
        Triple(dataset, RDF_TYPE, _sd("Dataset")),
        Triple(dataset, _sd("defaultGraph"), default_graph),
        Triple(default_graph, RDF_TYPE, _sd("Graph")),
        Triple(service, NamedNode("http://www.w3.org/2000/01/rdf-schema#comment"), Literal(
            "Read-only. The default graph is the union of all graphs unless the request or the query names "
            f"graphs. Queries are limited to {settings.timeout:g} s (parameter 'timeout' may lower it) and "
            f"{settings.max_results} results. SERVICE is refused unless its host is allow-listed."
        )),
    ]
    triples += [Triple(service, _sd("resultFormat"), NamedNode(rep.serializer.iri)) for rep in SOLUTION_FORMATS + GRAPH_FORMATS]
    for graph in named_graphs:
        node = BlankNode()
        triples += [
            Triple(dataset, _sd("namedGraph"), node),
            Triple(node, RDF_TYPE, _sd("NamedGraph")),
            Triple(node, _sd("name"), graph),
        ]
    return triples


def render(triples: list[Triple], representation: Representation) -> bytes:
    """The description in the negotiated RDF syntax."""
    return serialize(triples, format=representation.serializer, prefixes=PREFIXES)
