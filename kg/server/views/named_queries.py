"""Named queries: each `queries/*.rq` file served as its own endpoint with named parameters.

Like Datasette's canned queries or grlc: `GET /queries` lists them (JSON, or HTML for browsers) and
`GET /queries/{name}?param=value` runs one, in any SPARQL result format (content negotiation or the
`format` parameter, as on /sparql; `format=html` for a page with a form and a table). They run the
way /sparql runs queries: same policy, union default graph, result cap and time limit.

A query file starts with comment lines that describe it:

    # title: Who said what
    # description: Every statement: the speaker, the date, ...
    # param: ?speaker iri optional "Only the statements of this speaker (an entity IRI)"

`# param: ?NAME TYPE [optional] "DESCRIPTION"` declares a request parameter NAME bound to the query
variable ?NAME: its value is added as `VALUES ?NAME { value }` at the start of the WHERE group, so
every pattern and FILTER of the query sees it (subqueries do not: they have their own scope); an
optional parameter that is not given leaves the variable free. TYPE is one of the keys of
`PARAMETER_TYPES`; a value that is not of its type, an unknown parameter, a repeated one or a
missing required one is answered with 400 and a message saying which.
"""
from __future__ import annotations

import datetime
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pyoxigraph import Literal, NamedNode

from kg.server.conneg import GRAPH_FORMATS, HTML, JSON, SOLUTION_FORMATS, NotAcceptable, Representation, choose
from kg.sparql.policy import query_form, with_values
from kg.server.security_headers import web_link
from kg.server.sparql import GRAPH_FORMS, ProtocolError, SparqlEndpoint

XSD = "http://www.w3.org/2001/XMLSchema#"
RESERVED = frozenset({"format"})  # request parameters that are not query parameters
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_HEADER = re.compile(r"^#\s*(title|description|param):\s*(.*?)\s*$")
_PARAM = re.compile(r'\?([A-Za-z_][A-Za-z0-9_]*)\s+([a-z]+)(\s+optional)?\s+"([^"]+)"')


class NamedQueryError(Exception):
    """A query file whose header cannot be read; the message names the file and line."""


def _literal(datatype: str, pattern: str, check: Callable[[str], object] = str) -> Callable[[str], Literal]:
    """A parser for literals of one XSD type: the lexical form must match `pattern` and pass `check`."""
    regex = re.compile(pattern)

    def parse(value: str) -> Literal:
        if not regex.fullmatch(value):
            raise ValueError
        check(value)
        return Literal(value, datatype=NamedNode(XSD + datatype))
    return parse


def _iri(value: str) -> NamedNode:
    if not re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:\S", value):
        raise ValueError
    return NamedNode(value)


# type name → (parser of a request value, what the error message says is expected, OpenAPI schema)
PARAMETER_TYPES: dict[str, tuple[Callable[[str], Any], str, dict]] = {
    "iri": (_iri, "an absolute IRI", {"type": "string", "format": "iri"}),
    "string": (Literal, "a string", {"type": "string"}),
    "date": (_literal("date", r"\d{4}-\d{2}-\d{2}", datetime.date.fromisoformat), "a date YYYY-MM-DD",
             {"type": "string", "format": "date"}),
    "year": (_literal("gYear", r"-?\d{4}"), "a year YYYY", {"type": "string", "pattern": r"^-?\d{4}$"}),
    "integer": (_literal("integer", r"[+-]?\d{1,18}"), "an integer", {"type": "integer"}),
    "boolean": (_literal("boolean", r"true|false"), "true or false", {"type": "boolean"}),
}


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class NamedQuery:
    """One `queries/NAME.rq` file: its header and text."""

    name: str
    title: str
    description: str
    parameters: tuple[Parameter, ...]
    text: str

    @property
    def form(self) -> str | None:
        return query_form(self.text)

    def bind(self, values: dict[str, list[str]]) -> str:
        """The query with request parameters `values` bound; ProtocolError 400 saying what is wrong."""
        declared = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(declared) - RESERVED)
        if unknown:
            takes = ", ".join(declared) or "no parameters"
            raise ProtocolError(400, f"unknown parameter {', '.join(map(repr, unknown))} for query {self.name!r}; it takes: {takes}")
        bound: dict[str, str] = {}
        for parameter in self.parameters:
            given = [v for v in values.get(parameter.name, []) if v != ""]
            if len(given) > 1:
                raise ProtocolError(400, f"parameter {parameter.name!r} given {len(given)} times; give it once")
            if not given:
                if parameter.required:
                    raise ProtocolError(400, f"parameter {parameter.name!r} is required: {parameter.description}")
                continue
            parse, expected, _ = PARAMETER_TYPES[parameter.type]
            try:
                bound[parameter.name] = str(parse(given[0]))  # SPARQL (N-Triples) syntax
            except ValueError:
                raise ProtocolError(
                    400, f"parameter {parameter.name!r} must be {expected}, not {given[0]!r}") from None
        return with_values(self.text, bound)

    def summary(self, base_url: str) -> dict:
        """The query as the JSON listing shows it."""
        return {
            "name": self.name, "title": self.title, "description": self.description,
            "url": f"{base_url}/queries/{self.name}",
            "parameters": [{"name": p.name, "type": p.type, "required": p.required, "description": p.description}
                           for p in self.parameters],
            "sparql": self.text,
        }


def load_named_queries(folder: Path | None) -> dict[str, NamedQuery]:
    """The `*.rq` files of `folder` by name (file stem); none when there is no folder."""
    if folder is None or not folder.is_dir():
        return {}
    return {path.stem: read_named_query(path) for path in sorted(folder.glob("*.rq"))}


def read_named_query(path: Path) -> NamedQuery:
    """Read one query file and its header; NamedQueryError for a malformed header."""
    text = path.read_text(encoding="utf-8")
    if not _NAME.fullmatch(path.stem):
        raise NamedQueryError(f"{path}: a query name is lower-case letters, digits and hyphens")
    fields: dict[str, str] = {}
    parameters: list[Parameter] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if match is None:
            continue
        key, value = match.groups()
        if key != "param":
            fields[key] = value
            continue
        param = _PARAM.fullmatch(value)
        if param is None or param.group(2) not in PARAMETER_TYPES:
            raise NamedQueryError(
                f'{path}:{number}: expected # param: ?name TYPE [optional] "description" '
                f"with TYPE one of {', '.join(PARAMETER_TYPES)}")
        name, kind, optional, description = param.groups()
        if name in RESERVED or not re.search(rf"[?$]{name}\b", text[text.index(line) + len(line):]):
            raise NamedQueryError(f"{path}:{number}: parameter ?{name} is reserved or not used by the query")
        parameters.append(Parameter(name, kind, optional is None, description))
    return NamedQuery(path.stem, fields.get("title", path.stem), fields.get("description", ""), tuple(parameters), text)


def named_queries_router(queries: dict[str, NamedQuery]) -> APIRouter:
    """GET /queries and one documented GET route per named query."""
    router = APIRouter(tags=["named queries"])

    @router.get("/queries", summary="The named queries: title, description, parameters, SPARQL text",
                responses={200: {"content": {"application/json": {}, "text/html": {}}}})
    async def listing(request: Request) -> Response:
        base_url = str(request.base_url).rstrip("/")
        try:
            wanted = choose((JSON, HTML), request.headers.get("accept"), _format_names(request))
        except NotAcceptable as error:
            return _problem(ProtocolError(406, str(error)))
        if wanted is HTML:
            return Response(listing_page(queries.values()), media_type=HTML.content_type, headers={"Vary": "Accept"})
        return JSONResponse([q.summary(base_url) for q in queries.values()], headers={"Vary": "Accept"})

    for query in queries.values():
        router.add_api_route(
            f"/queries/{query.name}", _query_route(query), methods=["GET"],
            summary=query.title, description=query.description, name=f"query-{query.name}",
            openapi_extra=_openapi(query),
        )
    return router


def _query_route(query: NamedQuery) -> Callable:
    async def run(request: Request) -> Response:
        endpoint: SparqlEndpoint = request.app.state.sparql
        values: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            values.setdefault(key, []).append(value)
        offers = _offers(query)
        try:
            representation = _negotiate(offers, request)
            text = query.bind(values)
            if representation is HTML:
                body, capped = await endpoint.run_query(text, SOLUTION_FORMATS[0] if offers[0] in SOLUTION_FORMATS
                                                        else GRAPH_FORMATS[0], _base_iri(request))
                page = query_page(query, values, body, offers[0] in SOLUTION_FORMATS, capped, endpoint.settings.max_results)
                return Response(page, media_type=HTML.content_type, headers={"Vary": "Accept"})
            body, capped = await endpoint.run_query(text, representation, _base_iri(request))
        except ProtocolError as error:
            return _problem(error)
        headers = {"Vary": "Accept", "Access-Control-Allow-Origin": "*"}
        if capped:
            headers["X-Result-Limit"] = str(endpoint.settings.max_results)
        return Response(body, media_type=representation.content_type, headers=headers)
    return run


def _offers(query: NamedQuery) -> tuple[Representation, ...]:
    return (*(GRAPH_FORMATS if query.form in GRAPH_FORMS else SOLUTION_FORMATS), HTML)


def _negotiate(offers: tuple[Representation, ...], request: Request) -> Representation:
    try:
        return choose(offers, request.headers.get("accept"), _format_names(request))
    except NotAcceptable as error:
        raise ProtocolError(406, str(error)) from None


def _format_names(request: Request) -> tuple[str, ...]:
    return tuple(v for v in request.query_params.getlist("format") if v)


def _base_iri(request: Request) -> str:
    return str(request.url.replace(query=""))


def _problem(error: ProtocolError) -> JSONResponse:
    return JSONResponse({"status": error.status, "message": error.message}, status_code=error.status,
                        headers={"Vary": "Accept", "Access-Control-Allow-Origin": "*"})


def _openapi(query: NamedQuery) -> dict:
    parameters = [
        {"name": p.name, "in": "query", "required": p.required, "description": p.description,
         "schema": PARAMETER_TYPES[p.type][2]}
        for p in query.parameters
    ]
    offers = _offers(query)
    parameters.append({
        "name": "format", "in": "query", "required": False,
        "description": "result format, overriding the Accept header",
        "schema": {"type": "string", "enum": [offer.names[0] for offer in offers]},
    })
    return {
        "parameters": parameters,
        "responses": {
            "200": {"description": "the query's result", "content": {o.content_type.split(";")[0]: {} for o in offers}},
            "400": {"description": "unknown parameter or bad value; the message says which"},
            "503": {"description": "the query ran past its time limit"},
        },
    }


# -- pages for people ------------------------------------------------------------------------------

def page(title: str, body: str, head: str = "") -> bytes:
    """A standalone HTML page in the style of the query editor."""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{html.escape(title)} · Diplomacy KG</title><link rel="stylesheet" href="/static/editor.css">{head}'
            f'</head><body><header><a class="brand" href="/">Diplomacy KG</a> <nav><a href="/sparql">SPARQL editor</a> '
            f'<a href="/queries">Named queries</a></nav></header><main>{body}</main></body></html>').encode()


def listing_page(queries) -> bytes:
    items = "".join(
        f'<li><a href="/queries/{q.name}?format=html">{html.escape(q.title)}</a>'
        f'{" <small>(" + ", ".join(p.name for p in q.parameters) + ")</small>" if q.parameters else ""}'
        f"<p>{html.escape(q.description)}</p></li>"
        for q in queries
    )
    return page("Named queries", f"<h1>Named queries</h1><p>Each runs at <code>/queries/NAME</code> in any SPARQL "
                f'result format (<a href="/openapi.json">OpenAPI description</a>).</p><ul class="queries">{items}</ul>')


def query_page(query: NamedQuery, values: dict[str, list[str]], body: bytes, solutions: bool, capped: bool,
               cap: int) -> bytes:
    """A named query's page: description, parameter form, link to the editor, and the result."""
    fields = "".join(
        f'<label>{html.escape(p.name)}{"" if p.required else " (optional)"} '
        f'<input name="{p.name}" value="{html.escape((values.get(p.name) or [""])[0])}" '
        f'placeholder="{html.escape(PARAMETER_TYPES[p.type][1])}" title="{html.escape(p.description)}"></label>'
        for p in query.parameters
    )
    form = (f'<form method="get"><input type="hidden" name="format" value="html">{fields}'
            f'<button type="submit">Run</button></form>') if query.parameters else ""
    editor = "/sparql?" + urlencode({"format": "html"}) + "#query=" + urlencode({"": query.text})[1:]
    result = results_table(json.loads(body)) if solutions else f"<pre>{html.escape(body.decode())}</pre>"
    note = f'<p class="note">Only the first {cap} results are shown.</p>' if capped else ""
    downloads = " ".join(
        f'<a href="/queries/{query.name}?{html.escape(urlencode({**{k: v[0] for k, v in values.items() if k != "format"}, "format": o.names[0]}))}">'
        f"{o.names[0]}</a>" for o in _offers(query)[:-1])
    return page(query.title, f"<h1>{html.escape(query.title)}</h1><p>{html.escape(query.description)}</p>{form}"
                f'<p><a href="{html.escape(editor)}">Open in the editor</a> · download: {downloads}</p>{note}{result}')


def results_table(results: dict) -> str:
    """SPARQL JSON results as an HTML table (ASK: the answer)."""
    if "boolean" in results:
        return f"<p class=\"answer\">{'yes' if results['boolean'] else 'no'}</p>"
    names = results["head"]["vars"]
    rows = results["results"]["bindings"]
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(row.get(n))}</td>" for n in names) + "</tr>" for row in rows)
    return f'<p class="count">{len(rows)} rows</p><table class="results"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(term: dict | None) -> str:
    if term is None:
        return ""
    value = html.escape(term["value"])
    if term["type"] == "uri" and web_link(term["value"]):
        return f'<a href="{value}">{value}</a>'
    return value
