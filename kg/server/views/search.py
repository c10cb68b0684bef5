"""`/search?q=`: find people, states, organizations, places, events and topics by name, as a page for
people or as JSON (`?format=json` or `Accept: application/json`), from the same name index as the
reconciliation service (kg.integrations.entity_index): case, accents, punctuation, spacing and word
order are folded, aliases and transliterations count ("Kim Jong-un", "KIM JONG UN", "Antonio
Guterres" without the accent, "DPRK"), and misspellings find near names. What a name alone does not
find, its beginning does ("Pomp" finds Pompeo), as the reconciliation service's suggest does.
"""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from kg.integrations.entity_index import EntityIndex, IndexedEntity
from kg.server.conneg import HTML, JSON, choose_for
from kg.server.errors import error_response
from kg.server.views.reconcile import RequestProblem, entity_index, suggest_entities
from kg.server.views.site import Site, sentence_case

MAX_QUERY_CHARS = 200
MAX_RESULTS = 50
PREFIX_SCORE = 50  # a name found by its beginning only: shown after the names found whole


def search(index: EntityIndex, text: str, type_id: str | None = None, most: int = MAX_RESULTS) -> list[dict]:
    """The entities a text names, best first, each with its score and what it is."""
    types = [type_id] if type_id else None
    found: dict[str, tuple[float, bool, IndexedEntity]] = {}
    for candidate in index.search(text, types, limit=most):
        found[candidate.entity.id] = (candidate.score, candidate.match, candidate.entity)
    for entity in suggest_entities(index, text, type_id)[:most]:
        found.setdefault(entity.id, (PREFIX_SCORE, False, entity))
    ranked = sorted(found.values(), key=lambda item: (-item[0], item[2].label.casefold()))[:most]
    return [{"id": entity.id, "iri": entity.iri, "name": entity.label, "score": score, "match": match,
             "types": [index.classes[t].name if t in index.classes else t for t in entity.types],
             "aliases": entity.aliases, "description": entity.description, "qid": entity.qid,
             "positions": entity.positions} for score, match, entity in ranked]


def search_router(site: Site) -> APIRouter:
    router = APIRouter()

    async def search_page(request: Request, q: str = "", type: str = "") -> Response:
        """Entities by name: the page, or its JSON twin."""
        representation = choose_for(request, (HTML, JSON))
        text, type_id = q.strip(), type.strip() or None
        if len(text) > MAX_QUERY_CHARS or len(type) > MAX_QUERY_CHARS:
            return error_response(413, f"a search has at most {MAX_QUERY_CHARS} characters", request=request)
        results: list[dict] = []
        if text:
            try:
                index = await entity_index(request)
            except RequestProblem as problem:
                return error_response(problem.status, str(problem), problem.headers, request=request)
            if type_id and index.class_id(type_id) not in index.classes:
                return error_response(400, f"unknown type {type_id!r}: use a class of the ontology, such as Person",
                                      request=request)
            results = await request.app.state.executor.run(lambda store: search(index, text, type_id),
                                                           request.app.state.settings.timeout)
        for result in results:
            result["url"] = site.href(result["iri"])
        if representation is JSON:
            return JSONResponse({"query": text, "type": type_id, "results": results}, headers={"Vary": "Accept"})
        for result in results:
            result["types"] = [sentence_case(t) for t in result["types"]]
        title = f"Search: {text}" if text else "Search"
        body = site.render("search.html", title=title, query=text, results=results, search_text=text,
                           json_url="/search?" + _params(text, type_id))
        return Response(body, media_type=HTML.content_type, headers={"Vary": "Accept"})

    router.add_api_route("/search", search_page, methods=["GET", "HEAD"], include_in_schema=False)
    return router


def _params(text: str, type_id: str | None) -> str:
    return urlencode({"q": text, **({"type": type_id} if type_id else {}), "format": "json"})
