"""`/reconcile`: the W3C Entity Reconciliation Service API, version 0.2 (the version OpenRefine speaks).

- GET `/reconcile` without parameters: the service manifest;
- GET `?queries=` or POST form field `queries`: a batch of reconciliation queries, each answered
  with candidates (id, name, type, score, match), filtered by type (with subclasses) and by
  property constraints (e.g. `participantIn` a given event);
- GET `?extend=` or POST form field `extend`: data extension (label, type, Wikidata QID, positions
  held, events taken part in, dates);
- `/reconcile/preview?id=`: a small HTML card; `/reconcile/suggest/{entity,type,property}?prefix=`:
  auto-complete; `/reconcile/extend/propose?type=`: the properties worth fetching for a type.

Ids are the registry entity ids (`kim-jong-un`), under identifierSpace `{base}entity/`; types are
ontology class local names (`Person`) under schemaSpace, the ontology namespace. Matching is
kg.entity_index's; the index is built once per server process, in a query thread of
`app.state.executor`. CORS comes from the app's middleware, on every route. Errors are JSON
`{"error": message}` with a 4xx status.
"""
from __future__ import annotations

import asyncio
import html
import json
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from kg.entity_index import DIPL, Candidate, Entity, EntityIndex, normalize, qid_in

router = APIRouter(prefix="/reconcile", tags=["reconciliation"])

BATCH_SIZE = 100
DEFAULT_LIMIT = 5
SUGGEST_PAGE = 10
PREVIEW_WIDTH, PREVIEW_HEIGHT = 400, 200
DEFAULT_TYPES = ("Person", "State", "Organization", "Place", "Event", "Topic")
EVENT_TYPE = "Event"


class RequestProblem(Exception):
    """A request the service answers with a 4xx status and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Property:
    """A property clients can constrain on, fetch with data extension, and find with suggest."""

    id: str
    name: str
    description: str
    values: Callable[[Entity, EntityIndex], list[dict]]
    for_types: tuple[str, ...] = ()  # empty: every type
    value_type: str | None = None  # the type of entity-valued properties


def _dates(prop: str) -> Callable[[Entity, EntityIndex], list[dict]]:
    def values(entity: Entity, index: EntityIndex) -> list[dict]:
        # xsd:date is a day: OpenRefine's date cell; a bare year (xsd:gYear) stays text, not 1 January.
        return [{"date": f"{value}T00:00:00Z"} if len(value) == 10 else {"str": value}
                for value in entity.dates.get(prop, [])]
    return values


def _events(entity: Entity, index: EntityIndex) -> list[dict]:
    return [{"id": registry_id, "name": label} if registry_id else {"str": label}
            for _, registry_id, label in entity.events]


PROPERTIES = {p.id: p for p in (
    Property("label", "label", "the entity's name (rdfs:label)", lambda e, i: [{"str": e.label}]),
    Property("aliases", "aliases", "other names and spellings (skos:altLabel)",
             lambda e, i: [{"str": a} for a in e.aliases]),
    Property("description", "description", "a short description (schema:description)",
             lambda e, i: [{"str": e.description}] if e.description else []),
    Property("type", "type", "the entity's class in the diplomacy ontology",
             lambda e, i: [{"id": t, "name": i.classes[t].name if t in i.classes else t} for t in e.types]),
    Property("qid", "Wikidata QID", "the Wikidata item the entity is linked to (schema:sameAs), certain links only",
             lambda e, i: [{"str": e.qid}] if e.qid else []),
    Property("positionsHeld", "positions held", "offices held, as the articles state them (dipl:holdsPosition)",
             lambda e, i: [{"str": p} for p in e.positions], ("Person",)),
    Property("participantIn", "events taken part in", "events the entity took part in (dipl:participant)",
             _events, ("Actor",), EVENT_TYPE),
    Property("date", "date", "the day (or year) the event happened (dipl:date)", _dates("date"), (EVENT_TYPE,)),
    Property("startDate", "start date", "the first day of the event (dipl:startDate)", _dates("startDate"),
             (EVENT_TYPE,)),
    Property("endDate", "end date", "the last day of the event (dipl:endDate)", _dates("endDate"), (EVENT_TYPE,)),
)}


# -- the index, once per process ---------------------------------------------------------------

async def entity_index(request: Request) -> EntityIndex:
    """The process's index, built on first use in a query thread; a failed build is retried next time."""
    state = request.app.state
    task = getattr(state, "entity_index_task", None)
    if task is None:
        task = state.entity_index_task = asyncio.ensure_future(
            state.executor.run(EntityIndex.from_store, state.settings.timeout))
    try:
        index = await asyncio.shield(task)
    except Exception:
        if state.entity_index_task is task:
            state.entity_index_task = None
        raise
    if not index.entities:
        raise RequestProblem(503, "the served data has no entity registry (a graph ending in graph/entities): "
                                  "reconciliation serves a release built by `kg build`")
    return index


def _error(problem: RequestProblem) -> JSONResponse:
    return JSONResponse({"error": str(problem)}, status_code=problem.status)


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# -- manifest, queries, extension ---------------------------------------------------------------

@router.api_route("", methods=["GET", "POST"], summary="Reconciliation API 0.2: manifest, queries, data extension")
async def reconcile(request: Request) -> Response:
    try:
        index = await entity_index(request)
        fields = dict(request.query_params)
        if request.method == "POST":
            fields.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
        if "queries" in fields:
            return JSONResponse(answer_queries(index, _json_object(fields["queries"], "queries")))
        if "extend" in fields:
            return JSONResponse(extend(index, _json_object(fields["extend"], "extend")))
        if request.method == "POST":
            raise RequestProblem(400, "a POST needs a form field `queries` or `extend`")
        return JSONResponse(manifest(index, _root(request)))
    except RequestProblem as problem:
        return _error(problem)


def manifest(index: EntityIndex, root: str) -> dict:
    """The 0.2 service manifest: where ids and types live, and where each sub-service is."""
    service = {"service_url": root}
    try:
        service_version = version("diplomacy-kg")
    except PackageNotFoundError:
        service_version = "unknown"
    return {
        "versions": ["0.2"],
        "name": "diplomacy-kg entities",
        "identifierSpace": f"{index.base}entity/",
        "schemaSpace": DIPL,
        "serviceVersion": service_version,
        "view": {"url": f"{index.base}entity/{{{{id}}}}"},
        "defaultTypes": [_type_json(index, t) for t in DEFAULT_TYPES if t in index.classes],
        "preview": {"url": f"{root}/reconcile/preview?id={{{{id}}}}", "width": PREVIEW_WIDTH,
                    "height": PREVIEW_HEIGHT},
        "suggest": {kind: {**service, "service_path": f"/reconcile/suggest/{kind}"}
                    for kind in ("entity", "type", "property")},
        "extend": {"propose_properties": {**service, "service_path": "/reconcile/extend/propose"},
                   "property_settings": []},
        "batchSize": BATCH_SIZE,
    }


def _json_object(text: str, field: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestProblem(400, f"`{field}` is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise RequestProblem(400, f"`{field}` must be a JSON object")
    return value


def answer_queries(index: EntityIndex, batch: dict) -> dict:
    """Answer every query of a batch, under the same keys; each query is scored on its own."""
    if len(batch) > BATCH_SIZE:
        raise RequestProblem(413, f"a batch holds at most {BATCH_SIZE} queries, not {len(batch)}")
    return {key: {"result": [_candidate_json(index, c) for c in _answer(index, key, query)]}
            for key, query in batch.items()}


def _answer(index: EntityIndex, key: str, query: Any) -> list[Candidate]:
    if not isinstance(query, dict):
        raise RequestProblem(400, f"query {key!r} must be a JSON object")
    unknown = set(query) - {"query", "type", "type_strict", "limit", "properties"}
    if unknown:
        raise RequestProblem(400, f"query {key!r} has unknown field(s) {', '.join(sorted(unknown))}")
    text = query.get("query")
    types = query.get("type")
    types = [types] if isinstance(types, str) else types
    limit = query.get("limit", DEFAULT_LIMIT)
    constraints = query.get("properties", [])
    if text is not None and not isinstance(text, str):
        raise RequestProblem(400, f"query {key!r}: `query` must be a string")
    if types is not None and not (isinstance(types, list) and all(isinstance(t, str) for t in types)):
        raise RequestProblem(400, f"query {key!r}: `type` must be a string or an array of strings")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise RequestProblem(400, f"query {key!r}: `limit` must be a positive integer")
    if not isinstance(constraints, list):
        raise RequestProblem(400, f"query {key!r}: `properties` must be an array")
    if not (text or "").strip() and not constraints:
        raise RequestProblem(400, f"query {key!r} needs a non-empty `query` or `properties`")
    for t in types or []:
        if index.class_id(t) not in index.classes:
            raise RequestProblem(400, f"query {key!r}: unknown type {t!r}; see /reconcile/suggest/type")
    keep = _constraints(index, key, constraints)
    if (text or "").strip():
        return index.search(text, types, keep, limit)
    found = index.with_facts(keep, types, limit + 1)
    # Facts alone identify an entity with certainty only through its QID.
    certain = len(found) == 1 and any(c.get("pid") == "qid" for c in constraints)
    return [Candidate(e, 100 if certain else 50, certain) for e in found[:limit]]


def _constraints(index: EntityIndex, key: str, constraints: list) -> Callable[[Entity], bool]:
    """The property constraints of a query as one predicate: every constraint must hold."""
    checks = []
    for constraint in constraints:
        if not isinstance(constraint, dict) or not isinstance(constraint.get("pid"), str) or "v" not in constraint:
            raise RequestProblem(400, f"query {key!r}: each property constraint is {{\"pid\": ..., \"v\": ...}}")
        pid = constraint["pid"]
        if pid not in PROPERTIES:
            raise RequestProblem(400, f"query {key!r}: unknown property {pid!r}; known: {', '.join(PROPERTIES)}")
        wanted = constraint["v"] if isinstance(constraint["v"], list) else [constraint["v"]]
        checks.append(_property_check(index, pid, wanted))
    return lambda entity: all(check(entity) for check in checks)


def _property_check(index: EntityIndex, pid: str, wanted: list) -> Callable[[Entity], bool]:
    """Does an entity have a value of `pid` that one of the `wanted` values names?"""
    ids = {v["id"] for v in wanted if isinstance(v, dict) and isinstance(v.get("id"), str)}
    texts = [str(v) for v in wanted if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
    texts += [v["name"] for v in wanted if isinstance(v, dict) and "id" not in v and isinstance(v.get("name"), str)]
    if pid == "qid":
        qids = {qid_in(t) for t in texts + list(ids)} - {None}
        return lambda e: e.qid in qids
    if pid == "type":
        classes = {index.class_id(t) for t in texts + list(ids)}
        return lambda e: bool(classes & index.type_closure(e))
    if pid == "participantIn":
        # An event named by id, by IRI, or by a name that reconciles to it with certainty.
        for text in texts:
            ids |= {c.entity.id for c in index.search(text, [EVENT_TYPE]) if c.score >= 95}
        # Or an event of the articles whose label has all the words ("Pompeo news conference").
        words = [set(normalize(t).split()) for t in texts]
        return lambda e: any(registry_id in ids or iri in ids or any(w and w <= set(normalize(label).split())
                                                                     for w in words)
                             for iri, registry_id, label in e.events)
    if pid in ("date", "startDate", "endDate"):
        return lambda e: any(d.startswith(t.strip()) for d in e.dates.get(pid, []) for t in texts)
    # Text-valued properties: the wanted words appear in a value (case, accents, punctuation folded).
    names = [normalize(t) for t in texts] + [normalize(i) for i in ids]
    return lambda e: any(n and n in normalize(value.get("str") or value.get("name", ""))
                         for value in PROPERTIES[pid].values(e, index) for n in names)


def _candidate_json(index: EntityIndex, candidate: Candidate) -> dict:
    entity = candidate.entity
    return {"id": entity.id, "name": entity.label, "description": _description(index, entity),
            "type": [_type_json(index, t) for t in entity.types], "score": candidate.score,
            "match": candidate.match}


def _description(index: EntityIndex, entity: Entity) -> str:
    parts = [entity.description or ", ".join(_type_json(index, t)["name"] for t in entity.types)]
    if entity.qid:
        parts.append(f"Wikidata {entity.qid}")
    return " · ".join(p for p in parts if p)


def _type_json(index: EntityIndex, class_id: str) -> dict:
    known = index.classes.get(class_id)
    return {"id": class_id, "name": known.name if known else class_id}


def extend(index: EntityIndex, request: dict) -> dict:
    """Data extension: the values of the requested properties for each requested entity id."""
    ids, properties = request.get("ids"), request.get("properties")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise RequestProblem(400, "`extend.ids` must be an array of entity ids")
    if not isinstance(properties, list) or not all(isinstance(p, dict) and isinstance(p.get("id"), str)
                                                   for p in properties):
        raise RequestProblem(400, "`extend.properties` must be an array of {\"id\": ...}")
    if len(ids) > BATCH_SIZE:
        raise RequestProblem(413, f"extend at most {BATCH_SIZE} ids at once, not {len(ids)}")
    pids = [p["id"] for p in properties]
    unknown = [pid for pid in pids if pid not in PROPERTIES]
    if unknown:
        raise RequestProblem(400, f"unknown propert{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; "
                                  "see /reconcile/extend/propose")
    meta = []
    for pid in pids:
        column = {"id": pid, "name": PROPERTIES[pid].name}
        if PROPERTIES[pid].value_type:
            column["type"] = _type_json(index, PROPERTIES[pid].value_type)
        meta.append(column)
    rows = {}
    for entity_id in ids:
        entity = index.identify(entity_id)
        rows[entity_id] = {pid: PROPERTIES[pid].values(entity, index) if entity else [] for pid in pids}
    return {"meta": meta, "rows": rows}


# -- preview, suggest, property proposals -------------------------------------------------------

@router.get("/preview", summary="An HTML card describing one entity")
async def preview(request: Request, id: str = "") -> Response:
    try:
        index = await entity_index(request)
    except RequestProblem as problem:
        return _error(problem)
    entity = index.identify(id)
    if entity is None:
        return HTMLResponse(f"<p>No entity with id {html.escape(id)!s}.</p>", status_code=404)
    return HTMLResponse(preview_html(index, entity))


def preview_html(index: EntityIndex, entity: Entity) -> str:
    """A self-contained card (no scripts, no external resources) that fits the manifest's iframe."""
    e = html.escape
    rows = [("Type", ", ".join(_type_json(index, t)["name"] for t in entity.types))]
    if entity.aliases:
        rows.append(("Also", ", ".join(entity.aliases)))
    if entity.qid:
        rows.append(("Wikidata", f'<a href="https://www.wikidata.org/wiki/{e(entity.qid)}" target="_blank" '
                                 f'rel="noopener">{e(entity.qid)}</a>'))
    if entity.positions:
        rows.append(("Positions", "; ".join(entity.positions)))
    if entity.events:
        rows.append(("Events", "; ".join(label for _, _, label in entity.events)))
    for prop in ("date", "startDate", "endDate"):
        if entity.dates.get(prop):
            rows.append((PROPERTIES[prop].name.capitalize(), ", ".join(entity.dates[prop])))
    body = "".join(f"<tr><th>{e(k)}</th><td>{v if k == 'Wikidata' else e(v)}</td></tr>" for k, v in rows)
    description = f"<p>{e(entity.description)}</p>" if entity.description else ""
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
            f"{e(entity.label)}</title><style>body{{font:13px/1.35 sans-serif;margin:6px}}"
            "h1{font-size:15px;margin:0 0 4px}p{margin:0 0 4px}th{text-align:left;vertical-align:top;"
            "padding-right:6px;color:#555}</style></head><body>"
            f"<h1><a href=\"{e(entity.iri)}\" target=\"_blank\" rel=\"noopener\">{e(entity.label)}</a></h1>"
            f"{description}<table>{body}</table></body></html>")


def _page(items: list, cursor: str | int) -> list:
    try:
        start = max(0, int(cursor))
    except ValueError:
        raise RequestProblem(400, "`cursor` must be a non-negative integer") from None
    return items[start:start + SUGGEST_PAGE]


@router.get("/suggest/entity", summary="Entities whose name starts with a prefix")
async def suggest_entity(request: Request, prefix: str = "", cursor: str = "0", type: str | None = None) -> Response:
    try:
        index = await entity_index(request)
        found = suggest_entities(index, prefix, type)
        return JSONResponse({"result": [{"id": e.id, "name": e.label, "description": _description(index, e),
                                         "notable": [_type_json(index, t) for t in e.types]}
                                        for e in _page(found, cursor)]})
    except RequestProblem as problem:
        return _error(problem)


def suggest_entities(index: EntityIndex, prefix: str, type_id: str | None = None) -> list[Entity]:
    """Entities by prefix: the id itself first, then label prefixes, alias prefixes, word prefixes.

    A linear pass over the names: ~30k entities take a few tens of milliseconds, fine for typing.
    """
    wanted = normalize(prefix)
    allowed = (lambda e: index.class_id(type_id) in index.type_closure(e)) if type_id else (lambda e: True)
    exact = index.identify(prefix) if prefix.strip() else None
    ranked = []
    for entity in index.entities:
        if not allowed(entity):
            continue
        names = [normalize(entity.label), *(normalize(a) for a in entity.aliases)]
        if entity is exact:
            rank = 0
        elif names[0].startswith(wanted):
            rank = 1
        elif any(n.startswith(wanted) for n in names[1:]):
            rank = 2
        elif any(word.startswith(wanted) for n in names for word in n.split()) or any(
                n.startswith(wanted) for n in (n.replace(" ", "") for n in names)):
            rank = 3
        else:
            continue
        ranked.append((rank, entity.label.casefold(), entity))
    return [entity for _, _, entity in sorted(ranked, key=lambda r: r[:2])]


@router.get("/suggest/type", summary="Ontology classes whose name starts with a prefix")
async def suggest_type(request: Request, prefix: str = "", cursor: str = "0") -> Response:
    try:
        index = await entity_index(request)
        wanted = normalize(prefix)
        found = [c for c in index.used_classes()
                 if normalize(c.name).startswith(wanted) or normalize(c.id).startswith(wanted)
                 or any(w.startswith(wanted) for w in normalize(c.name).split())]
        return JSONResponse({"result": [{**_type_json(index, c.id),
                                         "broader": [_type_json(index, b) for b in c.broader]}
                                        for c in _page(found, cursor)]})
    except RequestProblem as problem:
        return _error(problem)


@router.get("/suggest/property", summary="Properties whose name starts with a prefix")
async def suggest_property(request: Request, prefix: str = "", cursor: str = "0") -> Response:
    try:
        wanted = normalize(prefix)
        found = [p for p in PROPERTIES.values()
                 if any(w.startswith(wanted) for w in [normalize(p.id), *normalize(p.name).split(),
                                                        normalize(p.name)])]
        return JSONResponse({"result": [{"id": p.id, "name": p.name, "description": p.description}
                                        for p in _page(found, cursor)]})
    except RequestProblem as problem:
        return _error(problem)


@router.get("/extend/propose", summary="Properties worth fetching for entities of a type")
async def propose_properties(request: Request, type: str = "", limit: int = 0) -> Response:
    try:
        index = await entity_index(request)
    except RequestProblem as problem:
        return _error(problem)
    class_id = index.class_id(type)
    if type and class_id not in index.classes:
        return _error(RequestProblem(400, f"unknown type {type!r}; see /reconcile/suggest/type"))
    closure = index.type_closure(Entity("", "", "", types=[class_id])) if type else set()
    found = [p for p in PROPERTIES.values() if not type or not p.for_types or set(p.for_types) & closure]
    if limit > 0:
        found = found[:limit]
    body = {"type": type, "properties": [{"id": p.id, "name": p.name, "description": p.description}
                                         for p in found]}
    if limit > 0:
        body["limit"] = limit
    return JSONResponse(body)
