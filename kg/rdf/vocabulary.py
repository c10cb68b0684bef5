"""The vocabulary every stage shares: prefixes, namespaces, where resources live under the base IRI,
the names of the graphs. It imports nothing of the project, so the server can use it without the build.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pyoxigraph import Literal, NamedNode, RdfFormat

DEFAULT_BASE = "https://w3id.org/diplomacy-kg/"

PREFIXES = {
    "dipl": "https://w3id.org/diplomacy-kg/ontology#",
    "cameo": "https://w3id.org/diplomacy-kg/cameo/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "http://schema.org/",
    "prov": "http://www.w3.org/ns/prov#",
    "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
    "nif": "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#",
    "oa": "http://www.w3.org/ns/oa#",
    "gaf": "http://groundedannotationframework.org/gaf#",
    "wd": "http://www.wikidata.org/entity/",
    "wdt": "http://www.wikidata.org/prop/direct/",
}
# The SHACL shapes the graph is validated against (shapes/, published with each release).
SHAPES_PREFIXES = {"sh": "http://www.w3.org/ns/shacl#", "dshapes": "https://w3id.org/diplomacy-kg/shapes#"}
# The RDF files the tools read (`kg validate`, `kg serve --data`), by extension.
RDF_FILE_FORMATS = {".ttl": RdfFormat.TURTLE, ".nt": RdfFormat.N_TRIPLES, ".nq": RdfFormat.N_QUADS,
                    ".trig": RdfFormat.TRIG, ".jsonld": RdfFormat.JSON_LD, ".json": RdfFormat.JSON_LD,
                    ".rdf": RdfFormat.RDF_XML, ".owl": RdfFormat.RDF_XML, ".xml": RdfFormat.RDF_XML}


class Namespace:
    """Attribute access to IRIs of one namespace: `DIPL.Claim`."""

    def __init__(self, iri: str):
        self.iri = iri

    def __getattr__(self, name: str) -> NamedNode:
        return NamedNode(self.iri + name)

    def __getitem__(self, name: str) -> NamedNode:
        return NamedNode(self.iri + name)


DIPL, CAMEO, RDF, RDFS, XSD, SKOS, SCHEMA, PROV, NIF, GAF, WD = (
    Namespace(PREFIXES[p]) for p in ("dipl", "cameo", "rdf", "rdfs", "xsd", "skos", "schema", "prov", "nif", "gaf", "wd"))
A = RDF.type


def english(text: str) -> Literal:
    return Literal(text, language="en")


def typed(value: str | int, datatype: str) -> Literal:
    return Literal(str(value), datatype=XSD[datatype])


@dataclass(frozen=True)
class Iris:
    """Where every kind of resource lives under the base IRI."""

    base: str = DEFAULT_BASE

    def entity(self, entity_id: str) -> NamedNode:
        return NamedNode(f"{self.base}entity/{entity_id}")

    def article(self, article_id: str) -> NamedNode:
        return NamedNode(f"{self.base}article/{article_id}")

    def local(self, article_id: str, kind: str, local_id: str) -> NamedNode:
        return NamedNode(f"{self.base}article/{article_id}/{kind}/{local_id}")

    def span(self, article_id: str, span: Offsets) -> NamedNode:
        # RFC 5147 fragment, as NIF does: one node per span of the text.
        return NamedNode(f"{self.base}article/{article_id}#char={span.begin},{span.end}")

    def graph(self, name: str) -> NamedNode:
        return NamedNode(f"{self.base}graph/{name}")

    def article_graph(self, article_id: str) -> NamedNode:
        return self.graph(f"article/{article_id}")


ONTOLOGY_GRAPH = "ontology"
ENTITIES_GRAPH = "entities"


class Offsets(Protocol):
    """A span of the article text, as Unicode code point offsets."""

    begin: int
    end: int


# The dataset description (VoID, DCAT) and the service description.
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = PREFIXES["dcterms"]
SPDX = "http://spdx.org/rdf/terms#"
FOAF = "http://xmlns.com/foaf/0.1/"
SD = "http://www.w3.org/ns/sparql-service-description#"
IANA = "https://www.iana.org/assignments/media-types/"
DESCRIPTION_PREFIXES = {"void": VOID, "dcat": DCAT, "dcterms": DCT, "spdx": SPDX, "foaf": FOAF, "sd": SD,
                        **{k: PREFIXES[k] for k in ("rdf", "rdfs", "xsd", "schema", "dipl", "owl")}}
