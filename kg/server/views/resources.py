"""Dereferenceable IRIs: every entity, article, article-local resource (event, statement, claim, …),
CAMEO concept and the ontology answers at its own IRI, as HTML or RDF.

URI strategy: direct 200 content negotiation at the IRI, not 303 redirects. One request gets the
representation (no extra round trip), the IRI of the thing and the address of its description stay
the same (as LodView and Trifid do; the hash-free, slash IRIs stay as minted), and each format also
has its own URL for links and caches: `<path>.ttl|.jsonld|.nt|.rdf|.html` or `?format=`. Every
negotiated response sends `Vary: Accept`, `Content-Location` (the format's own URL) and `Link`
headers naming the other formats; unknown IRIs get 404. With no preference (`*/*`) the answer is
Turtle; browsers name text/html and get the page.

The RDF of a resource is its concise bounded description (outgoing statements, following blank
nodes; for an article also the spans of its text `#char=…`), plus the labels of everything it
points to, so one request gives something readable.
"""
from __future__ import annotations

import io
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pyoxigraph import BlankNode, NamedNode, RdfFormat, Store, Triple, parse, serialize

from kg.rdf.jsonld import write_jsonld
from kg.rdf.vocabulary import DESCRIPTION_PREFIXES, ONTOLOGY_GRAPH, PREFIXES
from kg.server.conneg import GRAPH_FORMATS, HTML, Representation, choose_for
from kg.server.errors import error_response
from kg.server.views.browse import Hierarchy, type_counts
from kg.server.views.pages import (
    LABEL_PROPERTIES,
    Reader,
    home_page,
    ontology_page,
    resource_page,
)
from kg.server.views.reconcile import start_entity_index
from kg.server.views.site import ONTOLOGY_IRI, Site

_BY_FORMAT = {rep.serializer: rep for rep in GRAPH_FORMATS}
# Server preference when the client has none: Turtle first; HTML whenever a browser asks for it.
RESOURCE_FORMATS: tuple[Representation, ...] = (
    _BY_FORMAT[RdfFormat.TURTLE], HTML, _BY_FORMAT[RdfFormat.JSON_LD], _BY_FORMAT[RdfFormat.N_TRIPLES],
    _BY_FORMAT[RdfFormat.RDF_XML],
)
SUFFIXES = {"ttl": _BY_FORMAT[RdfFormat.TURTLE], "html": HTML, "jsonld": _BY_FORMAT[RdfFormat.JSON_LD],
            "nt": _BY_FORMAT[RdfFormat.N_TRIPLES], "rdf": _BY_FORMAT[RdfFormat.RDF_XML]}
SUFFIX_OF = {rep.content_type: suffix for suffix, rep in SUFFIXES.items()}
IN_ARTICLE = NamedNode(PREFIXES["dipl"] + "inArticle")
RESOURCE_PATHS = ("/entity/{rest:path}", "/article/{rest:path}", "/cameo", "/cameo.{suffix}", "/cameo/{rest:path}",
                  "/ontology", "/ontology.{suffix}")


def describe(store: Store, iri: str, ontology_graph: NamedNode) -> list[Triple]:
    """The resource's concise bounded description plus labels of what it points to (sorted)."""
    node = NamedNode(iri)
    if iri == ONTOLOGY_IRI:
        return sorted({q.triple for q in store.quads_for_pattern(None, None, None, ontology_graph)}, key=str)
    triples: set[Triple] = set()
    subjects = [node, *{q.subject for q in store.quads_for_pattern(None, IN_ARTICLE, node, None)}]
    seen: set = set()
    while subjects:
        subject = subjects.pop()
        if subject in seen:
            continue
        seen.add(subject)
        for quad in store.quads_for_pattern(subject, None, None, None):
            triples.add(quad.triple)
            if isinstance(quad.object, BlankNode):
                subjects.append(quad.object)
    for obj in {t.object for t in triples if isinstance(t.object, NamedNode)} - seen:
        for predicate in LABEL_PROPERTIES:
            labels = {q.triple for q in store.quads_for_pattern(obj, predicate, None, None)}
            if labels:
                triples |= labels
                break
    return sorted(triples, key=str)


def render_rdf(triples: list[Triple], representation: Representation, site: Site) -> bytes:
    if representation.serializer == RdfFormat.JSON_LD:
        out = io.StringIO()
        write_jsonld(triples, site.context, out)
        return out.getvalue().encode()
    return serialize(triples, format=representation.serializer, prefixes={**site.context.prefixes, **DESCRIPTION_PREFIXES})


def split_suffix(path: str) -> tuple[str, Representation | None]:
    """`/entity/x.ttl` → (`/entity/x`, Turtle); paths without a known suffix are returned as they are."""
    stem, dot, suffix = path.rpartition(".")
    if dot and suffix in SUFFIXES and "/" not in suffix:
        return stem, SUFFIXES[suffix]
    return path, None


def negotiate(request: Request, path: str) -> tuple[str, Representation, bool]:
    """(path without suffix, chosen representation, whether it was negotiated by Accept)."""
    stem, by_suffix = split_suffix(path)
    if by_suffix is not None:
        return stem, by_suffix, False
    return path, choose_for(request, RESOURCE_FORMATS), not any(request.query_params.getlist("format"))


def alternates(path: str) -> str:
    return ", ".join(f'<{path}.{suffix}>; rel="alternate"; type="{rep.content_type.split(";")[0]}"'
                     for suffix, rep in SUFFIXES.items())


async def run(request: Request, evaluate: Callable[[Store], object]):
    return await request.app.state.executor.run(evaluate, request.app.state.settings.timeout)


def is_iri(text: str) -> bool:
    """Whether `text` is a valid IRI (the store would refuse to look anything else up)."""
    try:
        NamedNode(text)
    except ValueError:
        return False
    return True


def not_found(site: Site, request: Request, iri: str) -> Response:
    """404 for an IRI nothing in the release has: the error page or JSON, by the request's Accept."""
    return error_response(404, f"no resource <{iri}> in this dataset", request=request, site=site, iri=iri)


def resources_router(site: Site) -> APIRouter:
    router = APIRouter()
    ontology_graph = NamedNode(f"{site.base}graph/{ONTOLOGY_GRAPH}")

    async def dereference(request: Request) -> Response:
        """The resource named by the request path, as HTML or RDF (see the module docstring)."""
        path, representation, negotiated = negotiate(request, request.url.path)
        iri = site.iri_for_path(path)
        path = "/cameo" if path == "/cameo/" else path
        if not is_iri(iri):  # e.g. a percent-encoded space or control character in the path
            return not_found(site, request, iri)
        headers = {"Vary": "Accept", "Link": alternates(path)}
        if negotiated:
            headers["Content-Location"] = f"{path}.{SUFFIX_OF[representation.content_type]}"
        if representation is HTML:
            if iri == ONTOLOGY_IRI:
                page = await run(request, lambda store: ontology_page(store, site))
            else:
                page = await run(request, lambda store: resource_page(store, site, iri))
            if page is None:
                return not_found(site, request, iri)
            body = site.render(page["template"], page=page, title=page.get("headline") or page["label"], path=path,
                               iri=iri)
            return Response(body, media_type=HTML.content_type, headers=headers)
        triples = await run(request, lambda store: describe(store, iri, ontology_graph))
        if not triples:
            return not_found(site, request, iri)
        return Response(render_rdf(triples, representation, site), media_type=representation.content_type,
                        headers=headers)

    for route in RESOURCE_PATHS:
        router.add_api_route(route, dereference, methods=["GET", "HEAD"], include_in_schema=False)

    async def home(request: Request) -> Response:
        """What the dataset is, its size, dumps, endpoint, example queries, and the kinds of things in it."""
        def context(store: Store) -> dict:
            return {**home_page(store, site),
                    "types": type_counts(site, Hierarchy.from_store(store), Reader(store, site))}

        page = await run(request, context)
        start_entity_index(request)  # the name index behind search, ready by the time someone searches
        return Response(site.render("home.html", page=page, title="Diplomacy KG"), media_type=HTML.content_type,
                        headers={"Vary": "Accept"})

    async def dataset_description(request: Request) -> Response:
        """The VoID/DCAT description of the release, as RDF or as a page."""
        path, representation, negotiated = negotiate(request, request.url.path)
        if representation is HTML:
            page = resource_page(site.description_store, site, f"{site.base}dataset")
            # The partitions are long lists of fragment IRIs: the classes are shown as a table instead.
            page["facts"] = [(p, values) for p, values in page["facts"] if not (p.href or "").endswith("Partition")]
            classes = sorted(((Reader(site.description_store, site).label(NamedNode(iri)), iri, count)
                              for iri, count in site.class_counts.items()), key=lambda row: row[0].casefold())
            body = site.render("void.html", page=page, title="Dataset description", path=path,
                               turtle=site.description.decode("utf-8"), classes=classes)
            return Response(body, media_type=HTML.content_type, headers={"Vary": "Accept", "Link": alternates(path)})
        triples = list(parse(site.description, format=RdfFormat.TURTLE))
        headers = {"Vary": "Accept", "Link": alternates(path)}
        if negotiated:
            headers["Content-Location"] = f"{path}.{SUFFIX_OF[representation.content_type]}"
        return Response(render_rdf(triples, representation, site), media_type=representation.content_type,
                        headers=headers)

    router.add_api_route("/", home, methods=["GET", "HEAD"], include_in_schema=False)
    for route in ("/.well-known/void", "/.well-known/void.{suffix}", "/dataset", "/dataset.{suffix}"):
        router.add_api_route(route, dataset_description, methods=["GET", "HEAD"], include_in_schema=False)
    return router

