"""The shapes page: the SHACL shapes a release was validated against, for curators, at the shapes'
namespace IRI `https://w3id.org/diplomacy-kg/shapes` (served at `/shapes`, each shape `dshapes:X` at
`/shapes#X`), as HTML or, by content negotiation, as RDF.

The shapes come from the release (`dumps/shapes.ttl`, written by `kg build`), never from the
repository's shapes/ folder, so the page always shows the contract the served data passed.
"""
from __future__ import annotations

from functools import lru_cache

import rdflib
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pyoxigraph import RdfFormat, parse
from rdflib.collection import Collection

from kg.rdf.jsonld import compact_iri
from kg.rdf.vocabulary import PREFIXES, SHAPES_PREFIXES
from kg.server.conneg import HTML
from kg.server.views.pages import Value
from kg.server.views.resources import SUFFIX_OF, alternates, negotiate, not_found, render_rdf
from kg.server.views.site import SHAPES_IRI, Site

SH = rdflib.Namespace(SHAPES_PREFIXES["sh"])
DSHAPES = SHAPES_PREFIXES["dshapes"]
PREFIX_MAP = {**PREFIXES, **SHAPES_PREFIXES}
TARGETS = {SH.targetClass: "instances of", SH.targetNode: "the node", SH.targetSubjectsOf: "subjects of",
           SH.targetObjectsOf: "objects of"}
# Shown in their own place on the page rather than as constraints.
DESCRIBED_APART = {rdflib.RDF.type, SH.path, SH.name, SH.description, SH.message, SH.property, SH.sparql,
                   SH.order, SH.group, rdflib.RDFS.label, rdflib.RDFS.comment, *TARGETS}


@lru_cache(maxsize=4)
def shapes_page(site: Site) -> dict | None:
    """Every node shape: name, description, targets, severity, its property shapes (path, constraints,
    message) and its SPARQL rules; None when the release has no shapes. Computed once per release."""
    if site.shapes is None:
        return None
    graph = rdflib.Graph().parse(data=site.shapes, format="turtle")
    shapes = []
    for node in sorted(set(graph.subjects(rdflib.RDF.type, SH.NodeShape)), key=str):
        shape = describe_shape(graph, site, node)
        shape["targets"] = [(label, [term(graph, site, o) for o in sorted(graph.objects(node, predicate))])
                            for predicate, label in TARGETS.items() if (node, predicate, None) in graph]
        shape["properties"] = sorted((describe_shape(graph, site, p) for p in graph.objects(node, SH.property)),
                                     key=lambda p: (p["path"].text, p["id"]))
        shape["rules"] = sorted(({"message": text(graph, rule, SH.message), "select": text(graph, rule, SH.select)}
                                 for rule in graph.objects(node, SH.sparql)), key=lambda r: r["message"])
        shapes.append(shape)
    about = rdflib.URIRef(SHAPES_IRI)
    return {"iri": SHAPES_IRI, "label": text(graph, about, rdflib.RDFS.label) or "Shapes",
            "descriptions": [str(d) for d in graph.objects(about, rdflib.RDFS.comment)], "types": [],
            "wikidata": [], "shapes": sorted(shapes, key=lambda s: s["name"].lower()), "template": "shapes.html"}


def describe_shape(graph: rdflib.Graph, site: Site, node: rdflib.term.Node) -> dict:
    """What any shape (node or property) says: its name, description, path, constraints and message."""
    ident = str(node)[len(DSHAPES):] if str(node).startswith(DSHAPES) else ""
    path = graph.value(node, SH.path)
    constraints = [(term(graph, site, p), term(graph, site, o)) for p, o in sorted(graph.predicate_objects(node))
                   if p not in DESCRIBED_APART]
    return {"id": ident, "iri": str(node), "name": text(graph, node, SH.name) or ident or "(unnamed shape)",
            "description": text(graph, node, SH.description), "message": text(graph, node, SH.message),
            "path": path_term(graph, site, path) if path is not None else None, "constraints": constraints}


def path_term(graph: rdflib.Graph, site: Site, path: rdflib.term.Node) -> Value:
    """A property path: a sequence path as `p1 / p2` (SPARQL's notation), any other path as a term."""
    if (path, rdflib.RDF.first, None) in graph:
        return Value(" / ".join(term(graph, site, step).text for step in Collection(graph, path)))
    return term(graph, site, path)


def text(graph: rdflib.Graph, node: rdflib.term.Node, predicate: rdflib.URIRef) -> str:
    value = graph.value(node, predicate)
    return str(value) if value is not None else ""


def term(graph: rdflib.Graph, site: Site, node: rdflib.term.Node) -> Value:
    """A term as SHACL/Turtle shows it: a compact IRI (linked where served), a literal, a list `( … )`,
    an inverse or alternative path, or a nested shape `[ … ]`."""
    if isinstance(node, rdflib.URIRef):
        return Value(compact_iri(str(node), PREFIX_MAP), site.href(str(node)))
    if isinstance(node, rdflib.Literal):
        return Value(f'"{node}"' if node.datatype is None or node.datatype == rdflib.XSD.string else str(node))
    if (node, rdflib.RDF.first, None) in graph:
        return Value("( " + " ".join(term(graph, site, item).text for item in Collection(graph, node)) + " )")
    inverse = graph.value(node, SH.inversePath)
    if inverse is not None:
        return Value("^" + term(graph, site, inverse).text, site.href(str(inverse)))
    alternatives = graph.value(node, SH.alternativePath)
    if alternatives is not None:
        return Value(" | ".join(term(graph, site, item).text for item in Collection(graph, alternatives)))
    inner = "; ".join(f"{term(graph, site, p).text} {term(graph, site, o).text}"
                      for p, o in sorted(graph.predicate_objects(node)))
    return Value(f"[ {inner} ]")


def shapes_router(site: Site) -> APIRouter:
    router = APIRouter()

    async def shapes(request: Request) -> Response:
        """The shapes page for browsers; the shapes as Turtle, JSON-LD, N-Triples or RDF/XML by `Accept`."""
        path, representation, negotiated = negotiate(request, request.url.path)
        page = shapes_page(site)
        if page is None:
            return not_found(site, request, SHAPES_IRI)
        headers = {"Vary": "Accept", "Link": alternates(path)}
        if negotiated:
            headers["Content-Location"] = f"{path}.{SUFFIX_OF[representation.content_type]}"
        if representation is HTML:
            body = site.render(page["template"], page=page, title=page["label"], path=path, iri=SHAPES_IRI)
            return Response(body, media_type=HTML.content_type, headers=headers)
        triples = list(parse(site.shapes, format=RdfFormat.TURTLE))
        return Response(render_rdf(triples, representation, site), media_type=representation.content_type,
                        headers=headers)

    for route in ("/shapes", "/shapes.{suffix}"):
        router.add_api_route(route, shapes, methods=["GET", "HEAD"], include_in_schema=False)
    return router
