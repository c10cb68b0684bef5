"""`/browse`: the release's resources kind by kind, narrowed by facets (type, article, speaker, date,
stance), a page at a time; HTML for people and the same context as JSON (`?format=json`).

Listings are read straight from the store's indexes, never sorted or counted whole, so a page costs
about the same at any corpus size: candidates come from the most selective facet (a speaker's
statements and attributed claims, an article's graph, else the type's instances), each is checked
against the other facets, and a page stops one item after its size (to know whether there is a next
one). Totals come from the release's VoID class partitions when only a type is chosen; with other
facets the total is shown only once the last page is reached. Within one article the page is sorted
by date and label; across the corpus items come in the store's (stable) order.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pyoxigraph import Literal, NamedNode, Store, Variable

from kg.rdf.vocabulary import PREFIXES
from kg.server.conneg import HTML, JSON, choose_for
from kg.server.errors import error_response
from kg.server.views.pages import DIPL, RDF_TYPE, Reader, local_name
from kg.server.views.site import Site, sentence_case

PAGE_SIZE = 50
MAX_PAGE = 1_000  # deeper pages walk too far; narrow the listing with a facet instead
SUBCLASS_OF = NamedNode(PREFIXES["rdfs"] + "subClassOf")
RDFS_DOMAIN = NamedNode(PREFIXES["rdfs"] + "domain")
NEWS_ARTICLE = PREFIXES["schema"] + "NewsArticle"
SPEAKER = NamedNode(DIPL + "speaker")
ATTRIBUTION = NamedNode(DIPL + "attribution")
STANCE = NamedNode(DIPL + "stance")
AGENT = NamedNode(PREFIXES["prov"] + "agent")
HAD_ACTIVITY = NamedNode(PREFIXES["prov"] + "hadActivity")
DATES = [NamedNode(DIPL + name) for name in ("date", "startDate", "endDate")] + \
    [NamedNode(PREFIXES["schema"] + "datePublished")]
STANCES = {"asserts": DIPL + "Asserts", "denies": DIPL + "Denies"}
# Classes of the text's structure and of qualified relations: shown on the pages of what they qualify.
STRUCTURAL_ROOTS = {DIPL + name for name in ("Segment", "TextSpan")}
INTERNAL_CLASSES = {DIPL + name for name in ("Attribution", "Participation", "ParticipantRole", "Stance",
                                             "TimeExpression", "Segment", "TextSpan", "Mention", "Dating")}
ONE_OF = NamedNode(PREFIXES["owl"] + "oneOf")
FACETS = ("type", "article", "speaker", "date", "stance")


class BadFacet(ValueError):
    """A facet value that cannot select anything (400, with what is expected)."""


@dataclass
class Facets:
    """The narrowing a request asks for, as IRIs."""

    type: str | None = None  # class IRI
    article: str | None = None  # article IRI
    speaker: str | None = None  # entity IRI
    date: str = ""  # a prefix of an ISO date: 2019, 2019-02, 2019-02-28
    stance: str | None = None  # stance IRI
    given: dict[str, str] = field(default_factory=dict)  # as written in the URL

    def url(self, page: int = 1, **changes: str | None) -> str:
        """/browse with these facets, some changed (None drops one), at `page`."""
        params = {**self.given, **changes}
        params = {k: v for k, v in params.items() if v and k in FACETS}
        if page > 1:
            params["page"] = str(page)
        return "/browse" + (f"?{urlencode(params)}" if params else "")


@dataclass
class Hierarchy:
    """The browsable classes of the release and their subclasses (from the ontology graph)."""

    children: dict[str, set[str]]
    enumerations: set[str] = field(default_factory=set)  # classes defined by owl:oneOf: values, not things

    @classmethod
    def from_store(cls, store: Store) -> Hierarchy:
        children: dict[str, set[str]] = {}
        for quad in store.quads_for_pattern(None, SUBCLASS_OF, None, None):
            if isinstance(quad.subject, NamedNode) and isinstance(quad.object, NamedNode):
                children.setdefault(quad.object.value, set()).add(quad.subject.value)
        enumerations = {q.subject.value for q in store.quads_for_pattern(None, ONE_OF, None, None)
                        if isinstance(q.subject, NamedNode)}
        return cls(children, enumerations)

    def closure(self, iri: str) -> list[str]:
        """The class and its subclasses, the class first."""
        seen, todo = [iri], [iri]
        while todo:
            for child in sorted(self.children.get(todo.pop(), ())):
                if child not in seen:
                    seen.append(child)
                    todo.append(child)
        return seen

    def internal(self, iri: str) -> bool:
        """Whether a class is shown on the pages of what its instances qualify rather than listed."""
        return iri in INTERNAL_CLASSES or iri in self.enumerations or any(iri in self.closure(root) for root in STRUCTURAL_ROOTS)


def parse_facets(site: Site, params: dict[str, str], hierarchy: Hierarchy) -> Facets:
    """The facets of a query string; BadFacet for a value that names nothing browsable."""
    facets = Facets(given={k: params[k].strip() for k in FACETS if params.get(k, "").strip()})
    given = facets.given
    if "type" in given:
        facets.type = class_iri(given["type"])
        if facets.type not in site.class_counts and facets.type not in hierarchy.children:
            raise BadFacet(f"unknown type {given['type']!r}: use a class of the ontology, such as Person or Statement")
    if "article" in given:
        name = given["article"].removeprefix(site.base).removeprefix("article/")
        facets.article = f"{site.base}article/{name}"
    if "speaker" in given:
        name = given["speaker"].removeprefix(site.base).removeprefix("entity/")
        facets.speaker = f"{site.base}entity/{name}"
    if "date" in given:
        facets.date = given["date"]
        if not all(c.isdigit() or c == "-" for c in facets.date) or len(facets.date) > 10:
            raise BadFacet(f"date {facets.date!r} is not a year, month or day such as 2019, 2019-02 or 2019-02-28")
    if "stance" in given:
        facets.stance = STANCES.get(given["stance"].lower())
        if facets.stance is None:
            raise BadFacet(f"stance {given['stance']!r} is not one of: {', '.join(STANCES)}")
    return facets


def class_iri(text: str) -> str:
    """A type as a URL may give it ("Person", "dipl:Person", "NewsArticle", an IRI) -> its IRI."""
    if text.startswith(("http://", "https://")):
        return text
    prefix, colon, name = text.partition(":")
    if colon and prefix in PREFIXES:
        return PREFIXES[prefix] + name
    if text == "NewsArticle":
        return NEWS_ARTICLE
    return DIPL + text if text[:1].isalpha() and text.replace("_", "").isalnum() else text


def type_name(iri: str) -> str:
    """How a class is written in a browse URL: its local name ("Person", "NewsArticle")."""
    return local_name(iri)


@dataclass
class Listing:
    """One page of a listing and what the page needs to link on."""

    rows: list[dict]
    page: int
    has_next: bool
    total: int | None  # None: not known without walking the whole listing


def listing(store: Store, site: Site, hierarchy: Hierarchy, facets: Facets, page: int,
            size: int = PAGE_SIZE) -> Listing:
    """The page-th page of what the facets select (see the module docstring for the cost)."""
    reader = Reader(store, site)
    classes = hierarchy.closure(facets.type) if facets.type else browsable_classes(site, hierarchy)
    graph = NamedNode(f"{site.base}graph/article/{facets.article[len(site.base + 'article/'):]}") \
        if facets.article else None
    matching = (item for item, known in candidates(store, site, facets, classes, graph, hierarchy)
                if selected(store, item, facets, classes, known))
    skip = (page - 1) * size
    if graph is not None:  # one article: few enough to sort by date and label
        every = list(matching)
        every.sort(key=lambda item: (item_date(store, item) or "9999", reader.label(item).casefold()))
        chosen, total = every[skip:skip + size + 1], len(every)
    else:
        chosen = list(islice(matching, skip, skip + size + 1))
        total = None
        if len(chosen) <= size and (chosen or page == 1):
            total = skip + len(chosen)  # the walk reached the end
        elif not any((facets.article, facets.speaker, facets.date, facets.stance)):
            total = sum(site.class_counts.get(c, 0) for c in classes)
    rows = [row(reader, site, item) for item in chosen[:size]]
    return Listing(rows, page, len(chosen) > size, total)


def speaker_domain(store: Store, hierarchy: Hierarchy) -> set[str]:
    """The classes whose instances have a speaker: the domain of dipl:speaker and its subclasses."""
    domains = [q.object.value for q in store.quads_for_pattern(SPEAKER, RDFS_DOMAIN, None, None)]
    return {c for domain in domains for c in hierarchy.closure(domain)}


def candidates(store: Store, site: Site, facets: Facets, classes: list[str], graph: NamedNode | None,
               hierarchy: Hierarchy) -> Iterator[tuple[NamedNode, set[str]]]:
    """Items that may be selected, each once, from the most selective facet the request has, each with
    the facets its source already guarantees ("type", "social": speaker and stance), not checked again."""
    seen: set[NamedNode] = set()

    def once(items, known: set[str]) -> Iterator[tuple[NamedNode, set[str]]]:
        for item in items:
            if isinstance(item, NamedNode) and item not in seen and item.value.startswith(site.base):
                seen.add(item)
                yield item, known

    if facets.speaker:
        # What the speaker said and the claims attributed to it (with the stance), of the classes: joined by
        # the store, in Rust, since a busy speaker has thousands and a page needs only the first few that fit.
        kinds = f"VALUES ?kind {{ {' '.join(f'<{c}>' for c in classes)} }} ?item a ?kind ."
        stance = f"?attribution <{STANCE.value}> <{facets.stance}> ." if facets.stance else ""
        said = f"?item <{SPEAKER.value}> ?speaker . {kinds}"
        claimed = f"?attribution <{AGENT.value}> ?speaker . {stance} ?item <{ATTRIBUTION.value}> ?attribution . {kinds}"
        # Only the classes that can have a speaker (the domain of dipl:speaker) are looked for among what it said.
        speaking = speaker_domain(store, hierarchy)
        parts = [(said, {"type"} if facets.stance else {"type", "social"})] if speaking & set(classes) else []
        for where, known in (*parts, (claimed, {"type", "social"})):
            query = f"SELECT DISTINCT ?speaker ?item WHERE {{ {f'GRAPH <{graph.value}> {{ {where} }}' if graph else where} }}"
            rows = store.query(query, substitutions={Variable("speaker"): NamedNode(facets.speaker)},
                               use_default_graph_as_union=True)
            yield from once((row["item"] for row in rows), known)
        return
    for cls in classes:
        yield from once((q.subject for q in store.quads_for_pattern(None, RDF_TYPE, NamedNode(cls), graph)),
                        {"type"} if facets.stance else {"type", "social"})


def browsable_classes(site: Site, hierarchy: Hierarchy) -> list[str]:
    """The classes people browse, from the release's class partitions: ours and news articles."""
    return [iri for iri in site.class_counts if (iri.startswith(DIPL) or iri == NEWS_ARTICLE)
            and not hierarchy.internal(iri)]


def selected(store: Store, item: NamedNode, facets: Facets, classes: list[str], known: set[str]) -> bool:
    """Whether a candidate passes the facets its source does not guarantee (the article's graph always is)."""
    if "type" not in known and not any(q.object.value in classes
                                       for q in store.quads_for_pattern(item, RDF_TYPE, None, None)):
        return False
    if facets.date and not any(isinstance(q.object, Literal) and q.object.value.startswith(facets.date)
                               for p in DATES for q in store.quads_for_pattern(item, p, None, None)):
        return False
    if "social" not in known:
        return any(attribution_fits(store, attribution, facets) for attribution in attributions_of(store, item))
    return True


def attributions_of(store: Store, item: NamedNode) -> Iterator:
    """The attributions of a claim, or those made in a statement."""
    yield from (q.object for q in store.quads_for_pattern(item, ATTRIBUTION, None, None))
    yield from (q.subject for q in store.quads_for_pattern(None, HAD_ACTIVITY, item, None))


def attribution_fits(store: Store, attribution, facets: Facets) -> bool:
    if facets.stance and not any(True for _ in store.quads_for_pattern(attribution, STANCE, NamedNode(facets.stance), None)):
        return False
    if facets.speaker and not any(True for _ in store.quads_for_pattern(attribution, AGENT, NamedNode(facets.speaker), None)):
        return False
    return True


def item_date(store: Store, item: NamedNode) -> str | None:
    for predicate in DATES:
        for quad in store.quads_for_pattern(item, predicate, None, None):
            if isinstance(quad.object, Literal):
                return quad.object.value
    return None


def row(reader: Reader, site: Site, item: NamedNode) -> dict:
    """What a listing shows of one item: name, kinds, article, date, speaker, each a link."""
    store = reader.store
    types = [q.object for q in store.quads_for_pattern(item, RDF_TYPE, None, None) if isinstance(q.object, NamedNode)]
    graph = next((q.graph_name.value for q in store.quads_for_pattern(item, RDF_TYPE, None, None)
                  if isinstance(q.graph_name, NamedNode)), "")
    article = graph.replace(f"{site.base}graph/article/", f"{site.base}article/") if "/graph/article/" in graph else None
    speaker = reader.first(item, SPEAKER)
    return {"iri": item.value, "href": site.href(item.value), "label": reader.label(item),
            "types": sorted({sentence_case(reader.label(t)) for t in types}),
            "type_names": sorted({type_name(t.value) for t in types}),
            "article": {"iri": article, "href": site.href(article), "label": reader.label(NamedNode(article)),
                        "id": article[len(site.base + "article/"):]} if article and article != item.value else None,
            "date": item_date(store, item),
            "speaker": {"iri": speaker.value, "href": site.href(speaker.value), "label": reader.label(speaker),
                        "id": speaker.value[len(site.base + "entity/"):]} if isinstance(speaker, NamedNode) else None}


def type_counts(site: Site, hierarchy: Hierarchy, reader: Reader) -> list[dict]:
    """Each browsable class with how many resources it has (its subclasses' included), by name."""
    out = []
    for iri in browsable_classes(site, hierarchy):
        count = sum(site.class_counts.get(c, 0) for c in hierarchy.closure(iri))
        out.append({"iri": iri, "name": type_name(iri), "label": sentence_case(reader.label(NamedNode(iri))),
                    "count": count})
    return sorted(out, key=lambda t: t["label"].casefold())


def browse_router(site: Site) -> APIRouter:
    router = APIRouter()
    hierarchies: list[Hierarchy] = []  # read once per process, in a query thread

    async def browse(request: Request) -> Response:
        """Listings by type with facets (see the module docstring)."""
        representation = choose_for(request, (HTML, JSON))
        params = dict(request.query_params)
        try:
            page = int(params.get("page", "1"))
        except ValueError:
            page = 0
        if not 1 <= page <= MAX_PAGE:
            return error_response(400, f"page must be a whole number from 1 to {MAX_PAGE}; narrow the listing "
                                       "with a facet to reach further", request=request)

        def work(store: Store) -> dict:
            if not hierarchies:
                hierarchies.append(Hierarchy.from_store(store))
            hierarchy = hierarchies[0]
            facets = parse_facets(site, params, hierarchy)
            reader = Reader(store, site)
            found = listing(store, site, hierarchy, facets, page)
            chosen = {name: value for name, value in facets.given.items()}
            named = {"type": sentence_case(reader.label(NamedNode(facets.type))) if facets.type else None,
                     "article": reader.label(NamedNode(facets.article)) if facets.article else None,
                     "speaker": reader.label(NamedNode(facets.speaker)) if facets.speaker else None,
                     "date": facets.date or None, "stance": chosen.get("stance")}
            return {"facets": chosen, "facet_labels": named, "rows": found.rows, "page": found.page,
                    "has_next": found.has_next, "total": found.total, "page_size": PAGE_SIZE,
                    "types": type_counts(site, hierarchy, reader),
                    "next": facets.url(page + 1) if found.has_next else None,
                    "previous": facets.url(page - 1) if page > 1 else None,
                    "without": {name: facets.url(**{name: None}) for name in chosen}}

        try:
            context = await request.app.state.executor.run(work, request.app.state.settings.timeout)
        except BadFacet as problem:
            return error_response(400, str(problem), request=request)
        if representation is JSON:
            keep = ("facets", "rows", "page", "has_next", "total", "page_size", "next", "previous")
            return JSONResponse({k: context[k] for k in keep}, headers={"Vary": "Accept"})
        title = "Browse" + (f": {context['facet_labels']['type']}" if context["facet_labels"]["type"] else "")
        body = site.render("browse.html", title=title, page=context, json_url=_json_url(request))
        return Response(body, media_type=HTML.content_type, headers={"Vary": "Accept"})

    router.add_api_route("/browse", browse, methods=["GET", "HEAD"], include_in_schema=False)
    return router


def _json_url(request: Request) -> str:
    params = {k: v for k, v in request.query_params.items() if k != "format"}
    return "/browse?" + urlencode({**params, "format": "json"})
