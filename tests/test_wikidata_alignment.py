"""Wikidata alignment: the ontology's mappings, their documentation, the entity links and the named queries."""
from __future__ import annotations

import re

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, SKOS
from rdflib.plugins.sparql import prepareQuery

from conftest import REPO
from kg.integrations import quickstatements as wikidata

DIPL = rdflib.Namespace("https://w3id.org/diplomacy-kg/ontology#")
WDT = "http://www.wikidata.org/prop/direct/"
WD = "http://www.wikidata.org/entity/"
SCHEMA_SAME_AS = rdflib.URIRef("http://schema.org/sameAs")
MAPPINGS = {SKOS.exactMatch: "skos:exactMatch", SKOS.closeMatch: "skos:closeMatch", SKOS.relatedMatch: "skos:relatedMatch"}


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(REPO / "ontology" / "diplomacy.ttl")


@pytest.fixture(scope="module")
def documented() -> dict[str, tuple[str, str]]:
    """The alignment table of docs/wikidata.md: property -> (relation, Wikidata property or —)."""
    rows = re.findall(r"^\| (dipl:\w+) \| ([\w:]+) \| ([\w:—]+) \| \S", (REPO / "docs" / "wikidata.md").read_text(),
                      re.MULTILINE)
    assert rows, "docs/wikidata.md has no alignment table"
    table = {prop: (relation, target) for prop, relation, target in rows}
    assert len(table) == len(rows), "a property is listed twice"
    return table


def wikidata_mappings(ontology: rdflib.Graph, prop) -> set[tuple[str, str]]:
    return {(MAPPINGS[relation], "wdt:" + str(target)[len(WDT):])
            for relation in MAPPINGS for target in ontology.objects(prop, relation) if str(target).startswith(WDT)}


def ontology_properties(ontology: rdflib.Graph) -> list:
    return sorted({p for kind in (OWL.ObjectProperty, OWL.DatatypeProperty)
                   for p in ontology.subjects(RDF.type, kind) if str(p).startswith(str(DIPL))})


def test_every_property_is_documented_with_its_wikidata_relation(ontology, documented):
    properties = ontology_properties(ontology)
    assert len(properties) > 30
    for prop in properties:
        name = "dipl:" + str(prop)[len(str(DIPL)):]
        assert name in documented, f"{name} is missing from the alignment table of docs/wikidata.md"
        mapped = wikidata_mappings(ontology, prop)
        relation, target = documented[name]
        if relation == "none":
            assert not mapped, f"{name} maps to {mapped} but the docs say it has no counterpart"
        else:
            assert (relation, target) in mapped, f"{name}: the docs say {relation} {target}, the ontology {mapped}"
    assert set(documented) == {"dipl:" + str(p)[len(str(DIPL)):] for p in properties}, "documented but not defined"


def test_wikidata_property_iris_are_well_formed(ontology):
    for _, relation, target in ontology.triples((None, None, None)):
        if relation in MAPPINGS and str(target).startswith("http://www.wikidata.org/"):
            assert re.fullmatch(rf"({re.escape(WDT)}P|{re.escape(WD)}Q)[1-9][0-9]*", str(target)), target


def test_the_exporter_uses_exact_matches_only(ontology):
    """The properties kg export quickstatements translates as they are are the exactMatch ones."""
    for term, pid in {**wikidata.EVENT_ITEM_PROPERTIES, **wikidata.EVENT_TIME_PROPERTIES}.items():
        assert ("skos:exactMatch", f"wdt:{pid}") in wikidata_mappings(ontology, DIPL[term]), term
    assert ("skos:exactMatch", "wdt:P710") in wikidata_mappings(ontology, DIPL.participant)
    assert ("skos:closeMatch", "wdt:P39") in wikidata_mappings(ontology, DIPL.holdsPosition)


def test_entities_link_to_wikidata_with_same_as_and_exact_match_never_owl_same_as(release_store):
    rows = list(release_store.query("""SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o }
        FILTER(STRSTARTS(STR(?o), "http://www.wikidata.org/entity/")) }"""))
    links = {(r["s"].value, r["p"].value, r["o"].value) for r in rows}
    assert not [link for link in links if link[1] == str(OWL.sameAs)]
    same_as = {(s, o) for s, p, o in links if p == str(SCHEMA_SAME_AS)}
    exact = {(s, o) for s, p, o in links if p == str(SKOS.exactMatch) and "/entity/" in s}
    assert same_as and same_as == {pair for pair in exact if "/ontology" not in pair[0]}
    assert all(re.fullmatch(rf"{re.escape(WD)}Q[1-9][0-9]*", o) for _, o in same_as)


def named_query(name: str) -> tuple[dict[str, str], str]:
    text = (REPO / "queries" / name).read_text(encoding="utf-8")
    header = dict(re.findall(r"^# (title|description): (.+)$", text, re.MULTILINE))
    assert set(header) == {"title", "description"}, f"{name} needs # title: and # description: lines"
    return header, text


def test_the_links_query_lists_linked_and_unlinked_entities(release_store):
    _, query = named_query("wikidata-links.rq")
    rows = {r["entity"].value.rsplit("/", 1)[1]: r for r in release_store.query(query, use_default_graph_as_union=True)}
    assert rows["kim-jong-un"]["wikidata"].value == f"{WD}Q56226"
    assert rows["kim-jong-un"]["linked"].value == "true" and rows["kim-jong-un"]["type"].value == "Person"
    assert rows["ri-yong-ho"]["wikidata"] is None and rows["ri-yong-ho"]["linked"].value == "false"
    assert rows["hanoi-summit"]["linked"].value == "false"  # on the curators' worklist
    linked = {e for e, r in rows.items() if r["linked"].value == "true"}
    registry = {r["s"].value.rsplit("/", 1)[1] for r in release_store.query(
        "SELECT ?s WHERE { GRAPH ?g { ?s <http://schema.org/sameAs> ?o } }")}
    assert linked == registry
    order = [r["linked"].value for r in release_store.query(query, use_default_graph_as_union=True)]
    assert order == sorted(order, reverse=True), "linked entities come first"


def test_the_federation_query_joins_through_qids_with_wikidata():
    header, query = named_query("wikidata-federation.rq")
    assert "allow-service-host query.wikidata.org" in header["description"]
    prepareQuery(query)  # parses: it is documented, not run (it needs the network)
    assert "SERVICE <https://query.wikidata.org/sparql>" in query
    assert re.search(r"schema:sameAs \?wikidata", query) and "?wikidata p:P39" in query
