"""The SPARQL 1.1 Protocol endpoint (`/sparql`) as a lean ASGI application.

It is plain ASGI rather than a FastAPI view because it is the hot path: a lookup query costs
pyoxigraph well under a millisecond, so request parsing, negotiation and query inspection are kept
to a few dictionary look-ups (the last two are cached). Requests:

- GET `?query=`, POST `application/x-www-form-urlencoded`, POST `application/sparql-query` (UTF-8);
- `default-graph-uri` / `named-graph-uri` choose the dataset; without them (and without FROM in
  the query) the default graph is the union of all graphs of the store;
- `timeout` (seconds) lowers the operator's time limit, `format` overrides the Accept header;
- GET without a query returns the service description, or for browsers (HTML preferred) the query editor;
  a browser's GET with a query gets the editor too, which runs the query from its URL (a link to
  `/sparql?query=...` shows results in a browser instead of downloading a file).

A SELECT without a LIMIT of its own (or with one above the operator's cap) is evaluated with a LIMIT
of one row more than the cap, so `X-Result-Limit` is sent only when the cap really cut the result.

Errors are JSON `{"status", "error", "message"}`, never a traceback.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache, partial
from http import HTTPStatus
from itertools import islice
from typing import Any
from urllib.parse import parse_qsl

from pyoxigraph import (NamedNode, QueryBoolean, QueryResultsFormat, QuerySolutions, Store, Variable,
                        parse_query_results, serialize)

from kg.sparql.executor import QueryAbandoned, QueryExecutor, QueryTimeout
from kg.server import service_description
from kg.server.conneg import GRAPH_FORMATS, HTML, SOLUTION_FORMATS, NotAcceptable, Representation, choose
from kg.sparql.policy import InspectedQuery, QueryMalformed, QueryRefused, inspect_query
from kg.server.settings import ServerSettings

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
QUERY_MEDIA_TYPE = "application/sparql-query"
UPDATE_MEDIA_TYPE = "application/sparql-update"
ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"
GRAPH_FORMS = frozenset({"CONSTRUCT", "DESCRIBE"})
UNION_DATASET = {"use_default_graph_as_union": True}
_HOST = re.compile(r"[A-Za-z0-9.\-]+(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?")
READ_ONLY_MESSAGE = "this endpoint is read-only: SPARQL Update is not accepted"
PLAN_CACHE_BYTES = 16 << 20  # of query strings and texts kept in plans (answers have their own budget)
INSPECT_ON_LOOP_BYTES = 16 << 10  # longer queries are inspected in a query thread, off the event loop
QUICK_CPU_SECONDS = 0.02  # a cached query this cheap runs on the event loop (see SparqlEndpoint)
# Longer queries never run on the event loop: its thread has the default 8 MB stack, which a long chain of
# operators or patterns can overflow in pyoxigraph's parser (query threads have far more; kg.sparql.executor).
QUICK_MAX_CHARS = 4096
MIN_TIMEOUT = 0.1  # seconds: shorter client time limits are refused, they only make 503s
# Public read-only data: any origin may read, and no credentials are ever involved.
EXPOSED_HEADERS = ("X-Result-Limit", "X-Cache")  # what scripts of other origins may read (every route)
COMMON_HEADERS = (
    (b"vary", b"Accept"),
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", ", ".join(EXPOSED_HEADERS).encode()),
)
ERROR_HEADERS = ((b"content-type", b"application/json"), *COMMON_HEADERS)
CACHE_HIT_HEADERS = ((b"x-cache", b"hit"),)  # an answer sent again, not evaluated again
PREFLIGHT_HEADERS = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
    (b"access-control-allow-headers", b"*"),
    (b"access-control-max-age", b"86400"),
)
# A browser following a link to /sparql?query=... prefers a page to every result format: it gets the editor.
EDITOR_OFFERS = (*SOLUTION_FORMATS, *GRAPH_FORMATS, HTML)
INTERNAL_ERROR_BODY = b'{"status": 500, "error": "Internal Server Error", "message": "internal error; see the server log"}'


class ProtocolError(Exception):
    """A request the endpoint answers with a 4xx/5xx status and a message."""

    def __init__(self, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything decided about a request before its query runs; cached for repeated GET requests."""

    query: str  # the client's text (parse errors are reported against it)
    inspected: InspectedQuery
    dataset: dict[str, Any]  # pyoxigraph dataset arguments (and a named query's substitutions)
    representation: Representation
    base_iri: str
    timeout: float
    headers: tuple[tuple[bytes, bytes], ...]  # response headers but the length
    quick: bool = False  # an earlier run took less than QUICK_CPU_SECONDS: run on the event loop
    answer: tuple[bytes, tuple[tuple[bytes, bytes], ...]] | None = None  # body and headers of an earlier run, kept


class SparqlEndpoint:
    """ASGI app answering SPARQL 1.1 Protocol queries from one read-only store.

    The hot path of a repeated GET is one dictionary look-up of its plan (keyed by the raw query
    string, Accept and Host headers), the query, and one response. Bounded queries (one capped index
    scan, see kg.sparql.policy.is_bounded) run right on the event loop: a hop to a query thread
    would cost more than they do. All others run in a query thread under their time limit, the first
    time; a cached plan whose evaluation took less than QUICK_CPU_SECONDS of CPU then runs on the event
    loop too: the store is read-only, so the same query does the same work every time. Under load a hop
    costs far more than its own Python code: two thread wake-ups, and the query moving between CPUs.
    The price is that requests on one worker are answered in turn: a proven query holds the others up
    for at most QUICK_CPU_SECONDS of CPU, and an unproven or costlier one never does.

    Better still, a repeated GET is not evaluated again at all: the store does not change while it is
    served, so the answer of a repeatable query (see kg.sparql.policy) is kept in its plan and sent
    again, marked `X-Cache: hit`, as Wikidata's query service does behind its HTTP cache. Answers take at
    most `settings.result_cache` bytes per worker, one at most a sixteenth of that; when they would take
    more, every plan is forgotten and the cache fills again with what clients ask now.
    """

    def __init__(self, executor: QueryExecutor, settings: ServerSettings, editor_page: bytes | None = None) -> None:
        """`editor_page` is what browsers get for GET /sparql without a query (the query editor)."""
        self.executor, self.settings, self.editor_page = executor, settings, editor_page
        self._named_graphs = list(executor.store.named_graphs())
        self._descriptions: dict[tuple[str, Representation], bytes] = {}
        self._plans: dict[tuple[bytes, bytes | None, bytes | None], Plan] = {}
        self._answer_bytes = 0  # of the answers kept in plans
        self._plan_bytes = 0  # of the query strings and texts kept in plans
        self._largest_answer = settings.result_cache // 16 if executor.local else 0  # a remote store may change

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        method = scope["method"]
        key = None  # the plan's cache key: GET requests only
        try:
            if method == "GET" or method == "HEAD":
                key = (scope["query_string"], headers.get(b"accept"), headers.get(b"host"))
                plan = self._plans.get(key)
                if plan is None:
                    plan = await self._plan(scope, receive, headers)
                    if plan is None:  # no query: the service description
                        return await self._send_description(scope, send, headers)
                    weight = len(scope["query_string"]) + len(plan.query) + len(plan.inspected.text)
                    if self._plan_bytes + weight > PLAN_CACHE_BYTES:
                        self._forget_plans()
                    self._plan_bytes += weight
                    self._plans[key] = plan
                elif plan.answer is not None:
                    body, answer_headers = plan.answer
                    return await _send(send, 200, answer_headers, body, method)
            elif method == "OPTIONS" and b"access-control-request-method" in headers:
                return await _send(send, 200, PREFLIGHT_HEADERS, b"", method)
            else:
                plan = await self._plan(scope, receive, headers)
                if plan is None:
                    return await self._send_description(scope, send, headers)
            body, capped = await self._execute(plan, key)
        except ProtocolError as error:
            return await _send(send, error.status, ERROR_HEADERS + error.headers, _error_body(error), method)
        except Exception:  # noqa: BLE001 - the client gets a message, the log gets the traceback
            log.exception("internal error answering %s", scope.get("query_string", b"")[:200])
            return await _send(send, 500, ERROR_HEADERS, INTERNAL_ERROR_BODY, method)
        await _send(send, 200, self._result_headers(plan, capped), body, method)

    async def run_query(self, query: str, representation: Representation, base_iri: str,
                        substitutions: dict[Variable, Any] | None = None) -> tuple[bytes, bool]:
        """Run a query as /sparql runs it (policy, union default graph, result cap, time limit), its
        variables bound to `substitutions` (pyoxigraph's; a remote store writes them as VALUES);
        ProtocolError when it is refused or fails."""
        inspected = await self._inspect(query)
        dataset = {**UNION_DATASET, "substitutions": substitutions} if substitutions else UNION_DATASET
        plan = Plan(query, inspected, dataset, representation, base_iri, self.settings.timeout, ())
        return await self._execute(plan)

    async def _execute(self, plan: Plan, key: tuple | None = None) -> tuple[bytes, bool]:
        """The query's result; `key` is the plan's cache key, whose plan learns from the run (see `_learn`)."""
        if self.executor.local and (plan.quick or plan.inspected.bounded):  # cheaper than a hop to a thread
            body, capped = _evaluate(plan, self.settings.max_results, self.executor.store)
            cpu = 0.0
        else:
            try:
                body, capped, cpu = await self.executor.run(
                    partial(_timed_evaluate, plan, self.settings.max_results), plan.timeout)
            except QueryTimeout as error:
                raise ProtocolError(503, f"{error}; simplify the query or add a LIMIT",
                                    ((b"connection", b"close"),)) from None
            except QueryAbandoned as error:  # the process passed its memory budget and is being replaced
                raise ProtocolError(503, str(error), ((b"connection", b"close"),)) from None
            except ConnectionError as error:  # a remote store (kg serve --store) is down or failing
                log.error("the SPARQL store failed: %s", error)  # the message says how; no traceback in the log
                raise ProtocolError(502, "the SPARQL store behind this endpoint is unavailable; try again later") from None
        if key is not None and self.executor.local and self._plans.get(key) is plan:
            self._learn(key, plan, body, capped, cpu)
        return body, capped

    def _learn(self, key: tuple, plan: Plan, body: bytes, capped: bool, cpu: float) -> None:
        """Keep the answer of a repeatable query in its plan, if it fits; else mark the plan quick if it was."""
        if plan.inspected.repeatable and len(body) <= self._largest_answer:
            if self._answer_bytes + len(body) > self.settings.result_cache:
                self._forget_plans()
            self._answer_bytes += len(body)
            headers = self._result_headers(plan, capped) + CACHE_HIT_HEADERS
            self._plans[key] = replace(plan, answer=(body, headers))
        elif cpu < QUICK_CPU_SECONDS and not plan.quick and len(plan.inspected.text) <= QUICK_MAX_CHARS:
            self._plans[key] = replace(plan, quick=True)

    def _forget_plans(self) -> None:
        self._plans.clear()
        self._answer_bytes = self._plan_bytes = 0

    def _result_headers(self, plan: Plan, capped: bool) -> tuple[tuple[bytes, bytes], ...]:
        """A result's headers: the plan's, and the cap when the result was cut to it."""
        return plan.headers + self._limit_headers if capped else plan.headers

    @cached_property
    def _limit_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return ((b"x-result-limit", str(self.settings.max_results).encode()),)

    async def _plan(self, scope: Scope, receive: Receive, headers: dict[bytes, bytes]) -> Plan | None:
        """Read and check a request: its query, dataset, result format and time limit; None without a query."""
        params = await _read_parameters(scope, receive, headers, self.settings.max_query_bytes)
        if "update" in params:
            raise ProtocolError(403, READ_ONLY_MESSAGE)
        queries = params.get("query", [])
        if len(queries) > 1:
            raise ProtocolError(400, f"{len(queries)} 'query' parameters given; send exactly one")
        if not queries:
            if scope["method"] == "POST":
                raise ProtocolError(400, "no query in this POST: send the form field query=... as "
                                         f"{FORM_MEDIA_TYPE}, or the query itself as {QUERY_MEDIA_TYPE}")
            return None
        if scope["method"] != "POST" and self._wants_editor(headers, params):
            return None  # a browser following a link: the editor, which runs the query of the URL itself
        query = queries[0]
        if len(query) > self.settings.max_query_bytes:
            raise ProtocolError(414 if scope["method"] != "POST" else 413,
                                f"the query is longer than this endpoint's limit of {self.settings.max_query_bytes} "
                                "characters")
        inspected = await self._inspect(query)
        offers = GRAPH_FORMATS if inspected.form in GRAPH_FORMS else SOLUTION_FORMATS
        representation = _negotiate(offers, _accept(headers), _format_names(params))
        return Plan(
            query=query,
            inspected=inspected,
            dataset=_dataset(params, inspected),
            representation=representation,
            base_iri=_endpoint_url(scope, headers),
            timeout=self._timeout(_single(params, "timeout")),
            headers=_response_headers(representation.content_type),
        )

    def _wants_editor(self, headers: dict[bytes, bytes], params: dict[str, list[str]]) -> bool:
        """Whether the client prefers a page (HTML) to every result format, and this server has the editor."""
        if self.editor_page is None:
            return False
        try:
            return choose(EDITOR_OFFERS, _accept(headers), _format_names(params)) is HTML
        except NotAcceptable:
            return False

    async def _inspect(self, query: str) -> InspectedQuery:
        """The policy's verdict on `query`; a long one is judged in a query thread, never holding the event loop."""
        judge = partial(_inspect_with_probe_row, query, self.settings.allow_service_hosts, self.settings.max_results)
        try:
            if len(query) <= INSPECT_ON_LOOP_BYTES:
                return judge()
            return await self.executor.run(lambda store: judge(), self.settings.timeout)
        except QueryRefused as refusal:
            raise ProtocolError(403, str(refusal)) from None
        except QueryMalformed as error:  # unreadable, or too deep for the engine's stack
            raise ProtocolError(400, f"malformed query: {error}") from None
        except QueryAbandoned as error:
            raise ProtocolError(503, f"{error}; simplify the query", ((b"connection", b"close"),)) from None

    async def _send_description(self, scope: Scope, send: Send, headers: dict[bytes, bytes]) -> None:
        params = _parse_form(scope["query_string"], "URL query string")
        offers = GRAPH_FORMATS if self.editor_page is None else (*GRAPH_FORMATS, HTML)
        representation = _negotiate(offers, _accept(headers), _format_names(params))
        if representation is HTML:
            body = self.editor_page
        else:
            body = self._description(_endpoint_url(scope, headers), representation)
        await _send(send, 200, _response_headers(representation.content_type), body, scope["method"])

    def _timeout(self, requested: str | None) -> float:
        if requested is None:
            return self.settings.timeout
        try:
            seconds = float(requested)
        except ValueError:
            seconds = -1.0
        if not MIN_TIMEOUT <= seconds < float("inf"):
            raise ProtocolError(400, f"timeout must be a number of seconds from {MIN_TIMEOUT:g} on, not {requested!r}")
        return min(seconds, self.settings.timeout)

    def _description(self, endpoint: str, representation: Representation) -> bytes:
        key = (endpoint, representation)
        if key not in self._descriptions:
            if len(self._descriptions) > 64:  # one entry per Host header seen: keep it bounded
                self._descriptions.clear()
            triples = service_description.describe_service(endpoint, self._named_graphs, self.settings)
            self._descriptions[key] = service_description.render(triples, representation)
        return self._descriptions[key]


def _inspect_with_probe_row(query: str, allowed_service_hosts: frozenset[str], cap: int) -> InspectedQuery:
    """`inspect_query`, but a query whose rows the cap limits is to be evaluated with one row more than the cap
    (`row_limit_imposed` still says whether the cap applies): a result of more than `cap` rows was cut."""
    inspected = inspect_query(query, allowed_service_hosts, cap)
    if not inspected.row_limit_imposed:
        return inspected
    return replace(inspected, text=inspect_query(query, allowed_service_hosts, cap + 1).text)


def _cut_solutions(solutions: QuerySolutions, cap: int, serializer: QueryResultsFormat) -> tuple[bytes, bool]:
    """At most `cap` of the solutions (of a query limited to cap + 1 rows) in `serializer`'s format, and
    whether there were more. The rows are counted in TSV, which escapes line breaks, so a row is a line."""
    tsv = solutions.serialize(format=QueryResultsFormat.TSV)
    cut = tsv.count(b"\n") - 1 > cap  # the first line names the variables
    if cut:
        tsv = tsv[:tsv.rindex(b"\n", 0, len(tsv) - 1) + 1]
    if serializer == QueryResultsFormat.TSV:
        return tsv, cut
    return parse_query_results(tsv, format=QueryResultsFormat.TSV).serialize(format=serializer), cut


def _timed_evaluate(plan: Plan, cap: int, store: Store) -> tuple[bytes, bool, float]:
    """`_evaluate` in a query thread, with the CPU seconds it took."""
    began = time.thread_time()
    body, capped = _evaluate(plan, cap, store)
    return body, capped, time.thread_time() - began


def _evaluate(plan: Plan, cap: int, store: Store) -> tuple[bytes, bool]:
    """Run a planned query and serialize its result; the flag says whether the result cap cut it."""
    inspected = plan.inspected
    try:
        result = store.query(inspected.text, base_iri=plan.base_iri, **plan.dataset)
        if not isinstance(result, (QuerySolutions, QueryBoolean)):  # QueryTriples, or a remote store's triples
            triples = list(islice(result, cap + 1))
            body = serialize(triples[:cap], format=plan.representation.serializer, prefixes=inspected.prefixes)
            return body, len(triples) > cap
        if isinstance(result, QuerySolutions) and inspected.row_limit_imposed:
            return _cut_solutions(result, cap, plan.representation.serializer)
        return result.serialize(format=plan.representation.serializer), False
    except SyntaxError as error:
        raise ProtocolError(400, f"malformed query: {_syntax_error(store, plan.query, error)}") from None
    except (ValueError, TypeError, RuntimeError) as error:
        raise ProtocolError(400, f"the query could not be evaluated: {error}") from None


async def _send(send: Send, status: int, headers: tuple[tuple[bytes, bytes], ...], body: bytes, method: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


def _error_body(error: ProtocolError) -> bytes:
    return json.dumps(
        {"status": error.status, "error": HTTPStatus(error.status).phrase, "message": error.message}
    ).encode()


@lru_cache(maxsize=64)
def _response_headers(content_type: str) -> tuple[tuple[bytes, bytes], ...]:
    return ((b"content-type", content_type.encode()), *COMMON_HEADERS)


def _accept(headers: dict[bytes, bytes]) -> str | None:
    return headers.get(b"accept", b"").decode("latin-1") or None


def _format_names(params: dict[str, list[str]]) -> tuple[str, ...]:
    return tuple(value for value in params.get("format", ()) if value)


def _syntax_error(store: Store, original: str, error: SyntaxError) -> SyntaxError:
    """The parse error of the client's own text, not of the text with an imposed LIMIT.

    Only parsing happens here: pyoxigraph evaluates lazily, and the result is never iterated.
    """
    try:
        store.query(original)
    except SyntaxError as original_error:
        return original_error
    return error


async def _read_parameters(
    scope: Scope, receive: Receive, headers: dict[bytes, bytes], max_bytes: int
) -> dict[str, list[str]]:
    """The protocol parameters of a request, from its URL and, for POST, its body."""
    method = scope["method"]
    params = _parse_form(scope["query_string"], "URL query string")
    if method in ("GET", "HEAD"):
        return params
    if method != "POST":
        raise ProtocolError(405, f"method {method} not allowed: this endpoint is read-only (no Graph Store "
                                 "writes, no SPARQL Update); query with GET or POST", ((b"allow", ALLOWED_METHODS.encode()),))
    content_type = headers.get(b"content-type", b"").decode("latin-1")
    media_type, _, media_params = content_type.partition(";")
    media_type = media_type.strip().lower()
    body = await _read_body(receive, max_bytes)
    if media_type == FORM_MEDIA_TYPE:
        form = (_parse_form(body, "form body") if len(body) <= INSPECT_ON_LOOP_BYTES
                else await asyncio.to_thread(_parse_form, body, "form body"))  # never hold the event loop
        for name, values in form.items():
            params.setdefault(name, []).extend(values)
        return params
    if media_type == QUERY_MEDIA_TYPE:
        charset = _charset(media_params)
        if charset not in (None, "utf-8", "utf8"):
            raise ProtocolError(415, f"query text must be UTF-8, not {charset}")
        if "query" in params:
            raise ProtocolError(400, "query given both in the body and as a URL parameter")
        params["query"] = [_utf8(body, "query body")]
        return params
    if media_type == UPDATE_MEDIA_TYPE:
        raise ProtocolError(403, READ_ONLY_MESSAGE)
    raise ProtocolError(
        415,
        (f"unsupported Content-Type {content_type!r}" if media_type else "missing Content-Type")
        + f"; POST a query as {QUERY_MEDIA_TYPE} or {FORM_MEDIA_TYPE}",
    )


async def _read_body(receive: Receive, max_bytes: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise ProtocolError(413, f"request body larger than {max_bytes} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _parse_form(raw: bytes, where: str) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    if raw:
        try:
            pairs = parse_qsl(_utf8(raw, where), keep_blank_values=True, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            raise ProtocolError(400, f"the {where} is not percent-encoded UTF-8") from None
        for name, value in pairs:
            params.setdefault(name, []).append(value)
    return params


def _utf8(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProtocolError(400, f"the {where} is not valid UTF-8 (byte {error.start})") from None


def _charset(media_params: str) -> str | None:
    for param in media_params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise ProtocolError(400, f"{len(values)} {name!r} parameters given; send at most one")
    return values[0]


def _negotiate(offers: tuple[Representation, ...], accept: str | None, format_names: tuple[str, ...]) -> Representation:
    try:
        return choose(offers, accept, format_names)
    except NotAcceptable as error:
        raise ProtocolError(406, str(error)) from None


def _dataset(params: dict[str, list[str]], inspected: InspectedQuery) -> dict[str, Any]:
    """pyoxigraph dataset arguments: the protocol's graphs win over FROM, FROM over the union."""
    default_graphs, named_graphs = params.get("default-graph-uri", []), params.get("named-graph-uri", [])
    if default_graphs or named_graphs:
        try:
            return {
                "default_graph": [NamedNode(iri) for iri in default_graphs],
                "named_graphs": [NamedNode(iri) for iri in named_graphs],
            }
        except ValueError as error:
            raise ProtocolError(400, f"invalid graph IRI: {error}") from None
    return {} if inspected.has_dataset_clause else UNION_DATASET


def _endpoint_url(scope: Scope, headers: dict[bytes, bytes]) -> str:
    """The URL the client called, used as the base IRI of its query and in the service description."""
    host = headers.get(b"host", b"").decode("latin-1")
    if not _HOST.fullmatch(host):
        host = "localhost"
    return f"{scope.get('scheme', 'http')}://{host}{scope['path']}"
