"""Named-graph IRIs (`{base}graph/ontology`, `{base}graph/entities`, `{base}graph/article/<id>`)
dereference like every other IRI (direct 200 content negotiation, see kg.server.views.resources): HTML says
what the graph holds, its size, and where to get it (dumps, a SPARQL query); RDF is its VoID/SPARQL
service description from the release's `dumps/void.ttl`, plus its label and `void:inDataset`.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse

from kg.rdf.vocabulary import VOID
from kg.rdf.vocabulary import ENTITIES_GRAPH, ONTOLOGY_GRAPH, PREFIXES
from kg.server.conneg import HTML
from kg.server.views.pages import Reader
from kg.server.views.resources import SUFFIX_OF, alternates, negotiate, not_found, render_rdf, run
from kg.server.views.site import Site

RDFS_LABEL = NamedNode(PREFIXES["rdfs"] + "label")
ARTICLE_GRAPH = "article/"


def graph_summary(site: Site, iri: str) -> dict:
    """What the graph named `iri` is, in words, and the resource it is about (if one)."""
    name = iri[len(f"{site.base}graph/"):]
    if name == ONTOLOGY_GRAPH:
        return {"label": "Ontology graph", "about": "/ontology", "what": (
            "The ontology (classes and properties of the dipl: namespace) and the CAMEO event-type scheme "
            "the events are classified by.")}
    if name == ENTITIES_GRAPH:
        return {"label": "Entities graph", "about": None, "what": (
            "The shared registry of entities: people, states, organizations, news media, places and topics, "
            "with their names, descriptions and Wikidata links; every article refers to them.")}
    article = f"{site.base}{name}" if name.startswith(ARTICLE_GRAPH) else None
    return {"label": f"Article graph {name[len(ARTICLE_GRAPH):]}", "about": site.href(article) if article else None,
            "article": article, "what": (
                "Everything mapped from one news article: the article and its full text, its events, statements, "
                "claims, proposals and positions, each grounded in exact spans of the text.")}


def graph_description(site: Site, iri: str) -> list[Triple]:
    """The VoID/SD statements about the graph's partition, the dataset's link to it, its label."""
    partition, _ = site.graphs[iri]
    dataset = NamedNode(f"{site.base}dataset")
    triples = [t for t in parse(site.description, format=RdfFormat.TURTLE)
               if t.subject.value == partition or (t.subject == dataset and t.object.value == partition)]
    triples.append(Triple(NamedNode(iri), RDFS_LABEL, Literal(graph_summary(site, iri)["label"], language="en")))
    triples.append(Triple(NamedNode(iri), NamedNode(VOID + "inDataset"), NamedNode(partition)))
    return sorted(triples, key=str)


def graphs_router(site: Site) -> APIRouter:
    router = APIRouter()

    async def named_graph(request: Request) -> Response:
        path, representation, negotiated = negotiate(request, request.url.path)
        iri = site.iri_for_path(path)
        if iri not in site.graphs:
            return not_found(site, request, iri)
        headers = {"Vary": "Accept", "Link": alternates(path)}
        if negotiated:
            headers["Content-Location"] = f"{path}.{SUFFIX_OF[representation.content_type]}"
        if representation is not HTML:
            return Response(render_rdf(graph_description(site, iri), representation, site),
                            media_type=representation.content_type, headers=headers)
        summary = graph_summary(site, iri)
        if summary.get("article"):
            summary["article_label"] = await run(request, lambda store: Reader(store, site).label(
                NamedNode(summary["article"])))
        page = {**summary, "iri": iri, "triples": site.graphs[iri][1],
                "construct": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}",
                "count": f"SELECT (COUNT(*) AS ?triples) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"}
        body = site.render("graph.html", page=page, title=page["label"], path=path, iri=iri)
        return Response(body, media_type=HTML.content_type, headers=headers)

    router.add_api_route("/graph/{rest:path}", named_graph, methods=["GET", "HEAD"], include_in_schema=False)
    return router
