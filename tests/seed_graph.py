"""Asking the seed release's store in SPARQL with the project's prefixes (for the modelling tests)."""
from __future__ import annotations

from pyoxigraph import Store

ARTICLE_ID = "cgtn-2019-03-01-hanoi-summit"
BASE = "https://w3id.org/diplomacy-kg/"
A = f"{BASE}article/{ARTICLE_ID}"
PREFIXES = f"""
PREFIX dipl: <https://w3id.org/diplomacy-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
PREFIX gaf: <http://groundedannotationframework.org/gaf#>
PREFIX schema: <http://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX cameo: <https://w3id.org/diplomacy-kg/cameo/>
PREFIX wd: <http://www.wikidata.org/entity/>
PREFIX e: <{BASE}entity/>
PREFIX a: <{A}>
PREFIX ev: <{A}/event/>
PREFIX st: <{A}/statement/>
PREFIX cl: <{A}/claim/>
PREFIX pr: <{A}/proposal/>
PREFIX pos: <{A}/position/>
"""


def ask(store: Store, pattern: str) -> bool:
    """Whether the pattern matches anywhere in the store (all graphs as one)."""
    return bool(store.query(f"{PREFIXES} ASK {{ {pattern} }}", use_default_graph_as_union=True))


def select(store: Store, query: str) -> list[dict[str, str]]:
    """The solutions of a SELECT over all graphs, as dicts of lexical values (unbound variables left out)."""
    solutions = store.query(PREFIXES + query, use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    return [{name: row[name].value for name in names if row[name] is not None} for row in solutions]


def local(iri: str) -> str:
    """The last path segment of an IRI: the id of an entity or an article item."""
    return iri.rsplit("/", 1)[-1]
