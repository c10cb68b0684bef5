"""`/reconcile`: the W3C Entity Reconciliation Service API, version 0.2 (the version OpenRefine speaks).

- GET `/reconcile` without parameters: the service manifest;
- GET `?queries=` or POST form field `queries`: a batch of reconciliation queries, each answered
  with candidates (id, name, type, score, match), filtered by type (with subclasses) and rescored by
  property values (e.g. `participantIn` a given event: agreeing raises the score, disagreeing lowers it);
  a query that cannot be answered (a blank cell, an unknown type or property) gets an empty result
  with an `error`, and the rest of the batch its answers;
- GET `?extend=` or POST form field `extend`: data extension (label, type, Wikidata QID, positions
  held, events taken part in; of an event its dates, place and participants);
- `/reconcile/preview?id=`: a small HTML card; `/reconcile/suggest/{entity,type,property}?prefix=`:
  auto-complete; `/reconcile/extend/propose?type=`: the properties worth fetching for a type.

Ids are the registry entity ids (`kim-jong-un`), under identifierSpace `{base}entity/`; types are
ontology class local names (`Person`) under schemaSpace, the ontology namespace. Matching is
kg.integrations.entity_index's; the index is built once per server process, in a query thread of
`app.state.executor`. The manifest's absolute URLs, the view and preview links included, start with
this instance's configured public URL (`settings.public_url`), never with a Host header a client sent. CORS comes from the app's
middleware, on every route. Errors are the project's JSON `{"status", "error", "message"}`.

Hostile input: every input is bounded, and what is over a bound is refused with a 4xx naming the
bound, before any work is done:

- a POST body is read with a running total: past `MAX_BODY_BYTES` the answer is 413 (with
  `Connection: close`) and the rest is never read; a query string has the same bound (414); a form
  has at most `MAX_FORM_FIELDS` fields and no file uploads; JSON nested too deep, or holding a
  number Python will not convert, is a 400;
- a query text, property value, id, type or prefix has at most `MAX_TEXT_CHARS` characters (a
  spreadsheet cell); a batch has at most `BATCH_SIZE` queries and a data extension at most
  `BATCH_SIZE` ids and `MAX_PROPERTIES` properties; a query at most `MAX_PROPERTIES` types and
  property constraints with `MAX_VALUES` values in all; a larger `limit` is cut to `MAX_CANDIDATES`.

What remains (form and JSON parsing, matching, extension, entity suggest) runs in a query thread
of `app.state.executor` under the server's time limit (`settings.timeout`), never on the event loop;
the work checks the clock between queries and stops itself a little before the limit, so a batch
that takes too long answers 503 and leaves no runaway thread behind.
"""
from __future__ import annotations

import asyncio
import html
import json
import time
from dataclasses import dataclass
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable, TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.formparsers import parse_options_header

from kg.integrations.entity_index import (
    DIPL,
    MATCH_THRESHOLD,
    Candidate,
    EntityIndex,
    IndexedEntity,
    normalize,
    qid_in,
)
from kg.server.errors import error_response
from kg.sparql.executor import QueryTimeout

router = APIRouter(prefix="/reconcile", tags=["reconciliation"])

MAX_BODY_BYTES = 1 << 20  # a POST body (and a query string): past it 413, and the rest is never read
MAX_FORM_FIELDS = 10  # fields of a form or query string (OpenRefine sends one: `queries` or `extend`)
MAX_TEXT_CHARS = 1_000  # a query text, property value, id, type or prefix: a spreadsheet cell's worth
BATCH_SIZE = 100  # queries per batch, ids per data extension (the manifest's batchSize)
MAX_PROPERTIES = 50  # properties per data extension; types and property constraints per query
MAX_VALUES = 50  # property constraint values per query, all constraints together
MAX_CANDIDATES = 100  # candidates per query: a larger `limit` is cut to this
WORK_SHARE_OF_TIME_LIMIT = 0.9  # the work stops itself here, so its thread is free when the limit strikes
DEFAULT_LIMIT = 5
SUGGEST_PAGE = 10
PREVIEW_WIDTH, PREVIEW_HEIGHT = 400, 200
DEFAULT_TYPES = ("Person", "State", "Organization", "Place", "Event", "Topic")
EVENT_TYPE = "Event"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
T = TypeVar("T")


class RequestProblem(Exception):
    """A request the service answers with an error status and a message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers


@dataclass(frozen=True)
class Property:
    """A property clients can constrain on, fetch with data extension, and find with suggest."""

    id: str
    name: str
    description: str
    values: Callable[[IndexedEntity, EntityIndex], list[dict]]
    for_types: tuple[str, ...] = ()  # empty: every type
    value_type: str | None = None  # the type of entity-valued properties


def _dates(prop: str) -> Callable[[IndexedEntity, EntityIndex], list[dict]]:
    def values(entity: IndexedEntity, index: EntityIndex) -> list[dict]:
        # xsd:date is a day: OpenRefine's date cell; a bare year (xsd:gYear) stays text, not 1 January.
        return [{"date": f"{value}T00:00:00Z"} if len(value) == 10 else {"str": value}
                for value in entity.dates.get(prop, [])]
    return values


def _linked(attribute: str) -> Callable[[IndexedEntity, EntityIndex], list[dict]]:
    """The values of an entity-valued attribute (events, participants, places): registry entities by id, others by name."""
    def values(entity: IndexedEntity, index: EntityIndex) -> list[dict]:
        return [{"id": registry_id, "name": label} if registry_id else {"str": label}
                for _, registry_id, label in getattr(entity, attribute)]
    return values


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
             _linked("events"), ("Actor",), EVENT_TYPE),
    Property("participants", "participants", "who took part in the event (dipl:participant)",
             _linked("participants"), (EVENT_TYPE,), "Actor"),
    Property("place", "place", "where the event happened (dipl:place)", _linked("places"), (EVENT_TYPE,), "Place"),
    Property("date", "date", "the day (or year) the event happened (dipl:date)", _dates("date"), (EVENT_TYPE,)),
    Property("startDate", "start date", "the first day of the event (dipl:startDate)", _dates("startDate"),
             (EVENT_TYPE,)),
    Property("endDate", "end date", "the last day of the event (dipl:endDate)", _dates("endDate"), (EVENT_TYPE,)),
)}


# -- the index, once per process ---------------------------------------------------------------

INDEX_BUILD_SECONDS = 300.0  # the index is read once per process: a large corpus may take more than a query's limit
INDEX_RETRY_AFTER = 10  # seconds a client is told to wait while the index is being built


def start_entity_index(request: Request) -> asyncio.Future:
    """The process's index build, started now in a query thread if it is not under way or done.

    Pages call it without waiting (the home page), so the index is ready by the time someone searches."""
    state = request.app.state
    task = getattr(state, "entity_index_task", None)
    if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
        # Not started, failed, or cancelled with the event loop that started it (one loop per request in tests).
        task = state.entity_index_task = asyncio.ensure_future(
            state.executor.run(EntityIndex.from_store, max(state.settings.timeout, INDEX_BUILD_SECONDS)))
        task.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved: no warning
    return task


async def entity_index(request: Request) -> EntityIndex:
    """The process's index, built on first use in a query thread; a failed build is retried next time.
    While it is being built longer than a request may wait, the answer is 503 with Retry-After."""
    state = request.app.state
    task = start_entity_index(request)
    try:
        # A finished build is read as it is (it may come from another event loop, as in tests).
        index = task.result() if task.done() else await asyncio.wait_for(asyncio.shield(task), state.settings.timeout)
    except TimeoutError:
        raise RequestProblem(503, "this server is still reading the names of its entities (once, after it "
                                  f"starts); try again in {INDEX_RETRY_AFTER} seconds",
                             {"Retry-After": str(INDEX_RETRY_AFTER)}) from None
    except Exception:
        if state.entity_index_task is task:
            state.entity_index_task = None
        raise
    if not index.entities:
        raise RequestProblem(503, "the served data has no entity registry (a graph ending in graph/entities): "
                                  "reconciliation serves a release built by `kg build`")
    return index


def _error(problem: RequestProblem) -> JSONResponse:
    return error_response(problem.status, str(problem), problem.headers)


def _root(request: Request) -> str:
    """Where this service is reached: the configured public URL, else the address the request came to."""
    public = request.app.state.settings.public_url
    return public.rstrip("/") if public else str(request.base_url).rstrip("/")


def _shown(text: str, most: int = 60) -> str:
    """A client's text quoted in a message, cut short."""
    return repr(text if len(text) <= most else text[:most] + "...")


def _bounded(text: str, what: str) -> str:
    """`text` when it has at most MAX_TEXT_CHARS characters; otherwise a 413 naming `what`."""
    if len(text) > MAX_TEXT_CHARS:
        raise RequestProblem(413, f"{what} has {len(text)} characters; at most {MAX_TEXT_CHARS} are accepted")
    return text


def _in_time(deadline: float) -> None:
    """Stop work that has used its share of the time limit (checked between units of work)."""
    if time.monotonic() > deadline:
        raise RequestProblem(503, "the request did not finish within the server's time limit; "
                                  "send fewer or shorter queries at a time")


async def _off_the_loop(request: Request, work: Callable[[float], T]) -> T:
    """`work(deadline)` in a query thread under the server's time limit; 503 when it runs out.

    `work` gets the moment it should stop itself (a share of the limit), so its thread is free
    again when the limit strikes instead of running on as a runaway.
    """
    timeout = request.app.state.settings.timeout
    deadline = time.monotonic() + timeout * WORK_SHARE_OF_TIME_LIMIT
    try:
        return await request.app.state.executor.run(lambda store: work(deadline), timeout)
    except QueryTimeout:
        raise RequestProblem(503, f"the request did not finish within the server's time limit of {timeout:g} s; "
                                  "send fewer or shorter queries at a time") from None


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


# -- reading the request --------------------------------------------------------------------------

@dataclass(frozen=True)
class Fields:
    """A request's fields before parsing: the query string, a urlencoded body, a multipart form's fields."""

    query_string: bytes
    urlencoded: bytes = b""
    multipart: tuple[tuple[str, str], ...] = ()

    def parsed(self) -> dict[str, str]:
        """Every field by name (a body field over a query-string one); in a thread: decoding is work."""
        fields = {}
        for source, what in ((self.query_string, "the query string"), (self.urlencoded, "the form")):
            try:
                fields.update(parse_qsl(source.decode("utf-8", "replace"), keep_blank_values=True,
                                        max_num_fields=MAX_FORM_FIELDS))
            except ValueError:
                raise RequestProblem(413, f"{what} has more than {MAX_FORM_FIELDS} fields; send `queries` "
                                          "or `extend`") from None
        fields.update(self.multipart)
        return fields


async def read_fields(request: Request) -> Fields:
    """The request's fields, the body read with a running total and refused (413) past MAX_BODY_BYTES."""
    query_string = request.scope.get("query_string", b"")
    if len(query_string) > MAX_BODY_BYTES:
        raise RequestProblem(414, f"the query string has {len(query_string)} bytes; at most {MAX_BODY_BYTES} bytes "
                                  "are accepted: send fewer queries at a time")
    if request.method != "POST":
        return Fields(query_string)
    close = {"Connection": "close"}  # the unread rest of the body must not be taken for the next request
    media_type, _ = parse_options_header(request.headers.get("content-type", ""))
    media_type = media_type.decode("latin-1").lower()
    if media_type not in FORM_TYPES:
        raise RequestProblem(415, f"POST /reconcile takes a form ({' or '.join(FORM_TYPES)}) with a field `queries` "
                                  f"or `extend`, not {media_type or 'a body without Content-Type'}", close)
    too_large = RequestProblem(413, f"the request body is larger than {MAX_BODY_BYTES} bytes, the most accepted: "
                                    "send fewer queries at a time", close)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 20 or int(declared) > MAX_BODY_BYTES):
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_large
    if media_type == FORM_TYPES[0]:
        return Fields(query_string, bytes(body))
    return Fields(query_string, multipart=await _multipart_fields(request, bytes(body)))


async def _multipart_fields(request: Request, body: bytes) -> tuple[tuple[str, str], ...]:
    """The text fields of a multipart form already read (Starlette's parser, bounded; files refused)."""
    async def replay() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=0, max_fields=MAX_FORM_FIELDS,
                                                         max_part_size=MAX_BODY_BYTES)
    except HTTPException as error:  # python-multipart's complaint, raised by Starlette as a 400
        if "files" in str(error.detail):
            raise RequestProblem(400, "a file upload is not accepted: send `queries` or `extend` as a form field, "
                                      "not as a file") from None
        if "fields" in str(error.detail):
            raise RequestProblem(413, f"the form has more than {MAX_FORM_FIELDS} fields; send `queries` "
                                      "or `extend`") from None
        raise RequestProblem(400, f"the multipart form cannot be read: {error.detail}") from None
    return tuple((name, value) for name, value in form.multi_items() if isinstance(value, str))


# -- manifest, queries, extension ---------------------------------------------------------------

# one route per method: a route with two methods gives both one operationId in the OpenAPI document
@router.post("", operation_id="reconcile_post", summary="Reconciliation API 0.2: queries, data extension (form)")
@router.get("", operation_id="reconcile_get", summary="Reconciliation API 0.2: manifest, queries, data extension")
async def reconcile(request: Request) -> Response:
    try:
        fields = await read_fields(request)
        index = await entity_index(request)
        if request.method == "POST" or fields.query_string:
            answer = await _off_the_loop(request, partial(answer_fields, index, fields, request.method))
            if answer is not None:
                return Response(answer, media_type="application/json")
        return JSONResponse(manifest(index, _root(request)))
    except RequestProblem as problem:
        return _error(problem)


def answer_fields(index: EntityIndex, fields: Fields, method: str, deadline: float = float("inf")) -> bytes | None:
    """The JSON answer to the `queries` or `extend` field; None for a GET with neither (the manifest)."""
    parsed = fields.parsed()
    if "queries" in parsed:
        return _json_bytes(answer_queries(index, _json_object(parsed["queries"], "queries"), deadline))
    if "extend" in parsed:
        return _json_bytes(extend(index, _json_object(parsed["extend"], "extend"), deadline))
    if method == "POST":
        raise RequestProblem(400, "a POST needs a form field `queries` or `extend`")
    return None


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
        "view": {"url": f"{root}/entity/{{{{id}}}}"},  # this instance's pages, not the public base's
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
    except RecursionError:
        raise RequestProblem(400, f"`{field}` nests arrays or objects too deeply to be read") from None
    except ValueError as error:  # not JSON, or a number of more digits than Python converts
        raise RequestProblem(400, f"`{field}` is not JSON that can be read: {_shown(str(error), 200)}") from None
    if not isinstance(value, dict):
        raise RequestProblem(400, f"`{field}` must be a JSON object")
    return value


def answer_queries(index: EntityIndex, batch: dict, deadline: float = float("inf")) -> dict:
    """Answer every query of a batch, under the same keys; each query is scored on its own, and a query
    that cannot be answered (400) gets an empty result with an `error`, not the whole batch."""
    if len(batch) > BATCH_SIZE:
        raise RequestProblem(413, f"a batch holds at most {BATCH_SIZE} queries, not {len(batch)}")
    answers = {}
    for key, query in batch.items():
        _in_time(deadline)
        try:
            answers[key] = {"result": [_candidate_json(index, c) for c in _answer(index, key, query, deadline)]}
        except RequestProblem as problem:
            if problem.status != 400:  # a bound exceeded (413) refuses the whole batch, before any work
                raise
            # As OpenRefine expects: one bad row (a blank cell, an unknown type) gets no candidates,
            # the others their answers; the message says why.
            answers[key] = {"result": [], "error": str(problem)}
    return answers


def _answer(index: EntityIndex, key: str, query: Any, deadline: float = float("inf")) -> list[Candidate]:
    name = f"query {_shown(key)}"
    if not isinstance(query, dict):
        raise RequestProblem(400, f"{name} must be a JSON object")
    unknown = set(query) - {"query", "type", "type_strict", "limit", "properties"}
    if unknown:
        raise RequestProblem(400, f"{name} has unknown field(s) {', '.join(_shown(u) for u in sorted(unknown))}")
    text = query.get("query")
    types = query.get("type")
    types = [types] if isinstance(types, str) else types
    limit = query.get("limit", DEFAULT_LIMIT)
    constraints = query.get("properties", [])
    if text is not None and not isinstance(text, str):
        raise RequestProblem(400, f"{name}: `query` must be a string")
    _bounded(text or "", f"{name}: `query`")
    if types is not None and not (isinstance(types, list) and all(isinstance(t, str) for t in types)):
        raise RequestProblem(400, f"{name}: `type` must be a string or an array of strings")
    if len(types or ()) > MAX_PROPERTIES:
        raise RequestProblem(413, f"{name}: `type` lists {len(types)} types; at most {MAX_PROPERTIES} are accepted")
    for t in types or []:
        _bounded(t, f"{name}: a `type`")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise RequestProblem(400, f"{name}: `limit` must be a positive integer")
    limit = min(limit, MAX_CANDIDATES)
    if not isinstance(constraints, list):
        raise RequestProblem(400, f"{name}: `properties` must be an array")
    if len(constraints) > MAX_PROPERTIES:
        raise RequestProblem(413, f"{name}: `properties` has {len(constraints)} constraints; at most "
                                  f"{MAX_PROPERTIES} are accepted")
    if not (text or "").strip() and not constraints:
        raise RequestProblem(400, f"{name} needs a non-empty `query` or `properties`")
    for t in types or []:
        if index.class_id(t) not in index.classes:
            raise RequestProblem(400, f"{name}: unknown type {_shown(t)}; see /reconcile/suggest/type")
    checks = _constraints(index, name, constraints, deadline)
    if (text or "").strip():
        # Properties can lift a candidate past better-named ones: rescore a few times as many as are asked for.
        found = index.search(text, types, limit=min(MAX_CANDIDATES, limit * RESCORED_SHARE) if checks else limit)
        return with_properties(found, checks)[:limit]
    found = index.with_facts(lambda entity: all(check(entity) for _, check in checks), types, limit + 1)
    # Facts alone identify an entity with certainty only through its QID.
    certain = len(found) == 1 and any(c.get("pid") == "qid" for c in constraints)
    return [Candidate(e, 100 if certain else 50, certain) for e in found[:limit]]


RESCORED_SHARE = 4  # candidates found by name and rescored by properties, per candidate asked for
AGREEMENT_GAIN = 0.75  # share of the distance to 100 a candidate gains when every property agrees
DISAGREEMENT_LOSS = 0.25  # share of its score a candidate loses when no property agrees


def with_properties(candidates: list[Candidate],
                    checks: list[tuple[str, Callable[[IndexedEntity], bool]]]) -> list[Candidate]:
    """Candidates found by name, rescored by the query's properties, as OpenRefine expects of them: each
    agreeing property raises the score toward 100 ("Kim" at 80 whose event agrees: 95), each disagreeing
    one lowers it, and none is dropped. A candidate is a `match` when it scores at least MATCH_THRESHOLD,
    every property agrees, and no other candidate reaches the threshold."""
    if not checks:
        return candidates
    rescored = []
    for candidate in candidates:
        agreed = [check(candidate.entity) for _, check in checks]
        share = sum(agreed) / len(agreed)
        score = candidate.score + (100 - candidate.score) * AGREEMENT_GAIN * share \
            - candidate.score * DISAGREEMENT_LOSS * (1 - share)
        rescored.append((round(score, 1), all(agreed), candidate.entity))
    rescored.sort(key=lambda item: (-item[0], item[2].label))
    certain = [entity for score, agrees, entity in rescored if score >= MATCH_THRESHOLD]
    return [Candidate(entity, score, match=agrees and len(certain) == 1 and certain[0] is entity)
            for score, agrees, entity in rescored]


def _constraints(index: EntityIndex, name: str, constraints: list,
                 deadline: float = float("inf")) -> list[tuple[str, Callable[[IndexedEntity], bool]]]:
    """The property constraints of a query, each (property id, whether an entity has a wanted value)."""
    checks, values = [], 0
    for constraint in constraints:
        if not isinstance(constraint, dict) or not isinstance(constraint.get("pid"), str) or "v" not in constraint:
            raise RequestProblem(400, f"{name}: each property constraint is {{\"pid\": ..., \"v\": ...}}")
        pid = constraint["pid"]
        if pid not in PROPERTIES:
            raise RequestProblem(400, f"{name}: unknown property {_shown(pid)}; known: {', '.join(PROPERTIES)}")
        wanted = constraint["v"] if isinstance(constraint["v"], list) else [constraint["v"]]
        values += len(wanted)
        if values > MAX_VALUES:
            raise RequestProblem(413, f"{name}: its property constraints have more than {MAX_VALUES} values; "
                                      f"at most {MAX_VALUES} are accepted")
        for value in wanted:
            for text in _value_texts(value):
                _bounded(text, f"{name}: a value of property {pid}")
        checks.append((pid, _property_check(index, pid, wanted, deadline)))
    return checks


def _value_texts(value: Any) -> list[str]:
    """The texts of one constraint value that matching reads (a string, a number, an id or a name)."""
    if isinstance(value, dict):
        return [v for v in (value.get("id"), value.get("name")) if isinstance(v, str)]
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    return []


def _property_check(index: EntityIndex, pid: str, wanted: list,
                    deadline: float = float("inf")) -> Callable[[IndexedEntity], bool]:
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
        for text in dict.fromkeys(texts):  # a value repeated is looked up once
            _in_time(deadline)
            ids |= {c.entity.id for c in index.search(text, [EVENT_TYPE]) if c.score >= 95}
        # Or an event of the articles whose label has all the words ("Pompeo news conference").
        words = list({frozenset(normalize(t).split()) for t in texts})
        return lambda e: any(registry_id in ids or iri in ids or any(w and w <= set(normalize(label).split())
                                                                     for w in words)
                             for iri, registry_id, label in e.events)
    if pid in ("date", "startDate", "endDate"):
        return lambda e: any(d.startswith(t.strip()) for d in e.dates.get(pid, []) for t in texts)
    # Text-valued properties: the wanted words appear in a value (case, accents, punctuation folded).
    names = [normalize(t) for t in texts] + [normalize(i) for i in ids]
    return lambda e: any(value.get("id") in ids or any(n and n in normalize(value.get("str") or value.get("name", ""))
                                                       for n in names)
                         for value in PROPERTIES[pid].values(e, index))


def _candidate_json(index: EntityIndex, candidate: Candidate) -> dict:
    entity = candidate.entity
    return {"id": entity.id, "name": entity.label, "description": _description(index, entity),
            "type": [_type_json(index, t) for t in entity.types], "score": candidate.score,
            "match": candidate.match}


def _description(index: EntityIndex, entity: IndexedEntity) -> str:
    parts = [entity.description or ", ".join(_type_json(index, t)["name"] for t in entity.types)]
    if entity.qid:
        parts.append(f"Wikidata {entity.qid}")
    return " · ".join(p for p in parts if p)


def _type_json(index: EntityIndex, class_id: str) -> dict:
    known = index.classes.get(class_id)
    return {"id": class_id, "name": known.name if known else class_id}


def extend(index: EntityIndex, request: dict, deadline: float = float("inf")) -> dict:
    """Data extension: the values of the requested properties for each requested entity id."""
    ids, properties = request.get("ids"), request.get("properties")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise RequestProblem(400, "`extend.ids` must be an array of entity ids")
    if not isinstance(properties, list) or not all(isinstance(p, dict) and isinstance(p.get("id"), str)
                                                   for p in properties):
        raise RequestProblem(400, "`extend.properties` must be an array of {\"id\": ...}")
    if len(ids) > BATCH_SIZE:
        raise RequestProblem(413, f"extend at most {BATCH_SIZE} ids at once, not {len(ids)}")
    if len(properties) > MAX_PROPERTIES:
        raise RequestProblem(413, f"extend at most {MAX_PROPERTIES} properties at once, not {len(properties)}")
    for entity_id in ids:
        _bounded(entity_id, "an id of `extend.ids`")
    pids = [p["id"] for p in properties]
    unknown = sorted({pid for pid in pids if pid not in PROPERTIES})
    if unknown:
        raise RequestProblem(400, f"unknown propert{'y' if len(unknown) == 1 else 'ies'} "
                                  f"{', '.join(_shown(pid) for pid in unknown)}; see /reconcile/extend/propose")
    meta = []
    for pid in pids:
        column = {"id": pid, "name": PROPERTIES[pid].name}
        if PROPERTIES[pid].value_type:
            column["type"] = _type_json(index, PROPERTIES[pid].value_type)
        meta.append(column)
    rows = {}
    for entity_id in ids:
        _in_time(deadline)
        entity = index.identify(entity_id)
        rows[entity_id] = {pid: PROPERTIES[pid].values(entity, index) if entity else [] for pid in pids}
    return {"meta": meta, "rows": rows}


# -- preview, suggest, property proposals -------------------------------------------------------

@router.get("/preview", summary="An HTML card describing one entity")
async def preview(request: Request, id: str = "") -> Response:
    try:
        _bounded(id, "`id`")
        index = await entity_index(request)
    except RequestProblem as problem:
        return _error(problem)
    entity = index.identify(id)
    if entity is None:
        return HTMLResponse(f"<p>No entity with id {html.escape(id)!s}.</p>", status_code=404)
    return HTMLResponse(preview_html(index, entity, _root(request)))


def preview_html(index: EntityIndex, entity: IndexedEntity, root: str) -> str:
    """A self-contained card (no scripts, no external resources) that fits the manifest's iframe; the
    name links to the entity's page on this instance (`root`)."""
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
    if entity.places:
        rows.append(("Place", "; ".join(label for _, _, label in entity.places)))
    if entity.participants:
        rows.append(("Participants", "; ".join(label for _, _, label in entity.participants)))
    for prop in ("date", "startDate", "endDate"):
        if entity.dates.get(prop):
            rows.append((PROPERTIES[prop].name.capitalize(), ", ".join(entity.dates[prop])))
    body = "".join(f"<tr><th>{e(k)}</th><td>{v if k == 'Wikidata' else e(v)}</td></tr>" for k, v in rows)
    description = f"<p>{e(entity.description)}</p>" if entity.description else ""
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
            f"{e(entity.label)}</title><style>body{{font:13px/1.35 sans-serif;margin:6px}}"
            "h1{font-size:15px;margin:0 0 4px}p{margin:0 0 4px}th{text-align:left;vertical-align:top;"
            "padding-right:6px;color:#555}</style></head><body>"
            f"<h1><a href=\"{e(root)}/entity/{e(entity.id)}\" target=\"_blank\" rel=\"noopener\">{e(entity.label)}</a></h1>"
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
        _bounded(prefix, "`prefix`")
        _bounded(type or "", "`type`")
        index = await entity_index(request)

        def answer(deadline: float) -> bytes:
            found = _page(suggest_entities(index, prefix, type), cursor)
            return _json_bytes({"result": [{"id": e.id, "name": e.label, "description": _description(index, e),
                                            "notable": [_type_json(index, t) for t in e.types]} for e in found]})

        return Response(await _off_the_loop(request, answer), media_type="application/json")
    except RequestProblem as problem:
        return _error(problem)


def suggest_entities(index: EntityIndex, prefix: str, type_id: str | None = None) -> list[IndexedEntity]:
    """Entities by prefix: the id itself first, then label prefixes, alias prefixes, word prefixes
    (kg.integrations.entity_index's sorted prefix keys: a bisect, not a pass over every name)."""
    allowed = (lambda e: index.class_id(type_id) in index.type_closure(e)) if type_id else (lambda e: True)
    exact = index.identify(prefix) if prefix.strip() else None
    ranked = [(0 if entity is exact else rank, entity.label.casefold(), entity)
              for rank, entity in index.by_prefix(prefix) if allowed(entity)]
    if exact is not None and allowed(exact) and all(entity is not exact for _, _, entity in ranked):
        ranked.append((0, exact.label.casefold(), exact))
    return [entity for _, _, entity in sorted(ranked, key=lambda r: r[:2])]


@router.get("/suggest/type", summary="Ontology classes whose name starts with a prefix")
async def suggest_type(request: Request, prefix: str = "", cursor: str = "0") -> Response:
    try:
        wanted = normalize(_bounded(prefix, "`prefix`"))
        index = await entity_index(request)

        def answer(deadline: float) -> bytes:  # every entity's classes are read: work for a thread
            found = [c for c in index.used_classes()
                     if normalize(c.name).startswith(wanted) or normalize(c.id).startswith(wanted)
                     or any(w.startswith(wanted) for w in normalize(c.name).split())]
            return _json_bytes({"result": [{**_type_json(index, c.id),
                                            "broader": [_type_json(index, b) for b in c.broader]}
                                           for c in _page(found, cursor)]})

        return Response(await _off_the_loop(request, answer), media_type="application/json")
    except RequestProblem as problem:
        return _error(problem)


@router.get("/suggest/property", summary="Properties whose name starts with a prefix")
async def suggest_property(request: Request, prefix: str = "", cursor: str = "0") -> Response:
    try:
        wanted = normalize(_bounded(prefix, "`prefix`"))
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
        _bounded(type, "`type`")
        index = await entity_index(request)
    except RequestProblem as problem:
        return _error(problem)
    class_id = index.class_id(type)
    if type and class_id not in index.classes:
        return _error(RequestProblem(400, f"unknown type {type!r}; see /reconcile/suggest/type"))
    closure = index.type_closure(IndexedEntity("", "", "", types=[class_id])) if type else set()
    found = [p for p in PROPERTIES.values() if not type or not p.for_types or set(p.for_types) & closure]
    if limit > 0:
        found = found[:limit]
    body = {"type": type, "properties": [{"id": p.id, "name": p.name, "description": p.description}
                                         for p in found]}
    if limit > 0:
        body["limit"] = limit
    return JSONResponse(body)
