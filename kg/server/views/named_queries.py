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
variable ?NAME: the store substitutes its value for the variable everywhere in the query (pyoxigraph's
`substitutions`, RDF-dev SEP-0007; a remote store, which has none, gets the value as
`VALUES ?NAME { value }` at the start of the WHERE group); an optional parameter that is not given
leaves the variable free. Two limits of pyoxigraph's substitutions, both checked when the file is
read: a SELECT query must project its parameters, and `BOUND(?NAME)` is false even when the value
is given (write an optional filter as `FILTER(COALESCE(?n >= ?NAME, true))`). TYPE is one of the keys of
`PARAMETER_TYPES`; a value that is not of its type, an unknown parameter, a repeated one or a
missing required one is answered with 400 and a message saying which.

Errors are answered by kg.server.errors (JSON, or the error page for browsers); pages are the
templates queries.html and query.html.
"""
from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pyoxigraph import Literal, NamedNode, Store, Variable

from kg.server.conneg import GRAPH_FORMATS, HTML, JSON, SOLUTION_FORMATS, Representation, choose_for
from kg.sparql.policy import query_form
from kg.server.security_headers import web_link
from kg.server.sparql import GRAPH_FORMS, ProtocolError, SparqlEndpoint
from kg.server.views.site import Site, render

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

    def bind(self, values: dict[str, list[str]]) -> dict[Variable, Literal | NamedNode]:
        """The substitutions of request parameters `values` (query variable → term); ProtocolError 400
        saying what is wrong."""
        declared = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(declared) - RESERVED)
        if unknown:
            takes = ", ".join(declared) or "no parameters"
            raise ProtocolError(400, f"unknown parameter {', '.join(map(repr, unknown))} for query {self.name!r}; it takes: {takes}")
        bound: dict[Variable, Literal | NamedNode] = {}
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
                bound[Variable(parameter.name)] = parse(given[0])
            except ValueError:
                raise ProtocolError(
                    400, f"parameter {parameter.name!r} must be {expected}, not {given[0]!r}") from None
        return bound

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
        if not _substitutable(text, name):
            raise NamedQueryError(f"{path}:{number}: parameter ?{name} must be in the query's SELECT projection "
                                  "(its value is substituted for the variable, which needs it there)")
        if re.search(rf"BOUND\s*\(\s*[?$]{name}\s*\)", text, re.IGNORECASE):
            raise NamedQueryError(f"{path}:{number}: BOUND(?{name}) is false even when the parameter is given "
                                  f"(pyoxigraph's substitutions); test the value instead, e.g. "
                                  f"FILTER(COALESCE(?x = ?{name}, true))")
        parameters.append(Parameter(name, kind, optional is None, description))
    return NamedQuery(path.stem, fields.get("title", path.stem), fields.get("description", ""), tuple(parameters), text)


def _substitutable(text: str, name: str) -> bool:
    """Whether pyoxigraph can substitute a value for ?name in the query (a SELECT must project it).

    Asked of an empty store; nothing is evaluated (results are lazy). A query that does not parse is
    let through: it fails when run, with the parser's message, as before.
    """
    try:
        Store().query(text, substitutions={Variable(name): NamedNode("urn:x")})
    except RuntimeError as error:
        return "projection" not in str(error)
    except (SyntaxError, ValueError, OSError):
        pass
    return True


def named_queries_router(queries: dict[str, NamedQuery]) -> APIRouter:
    """GET /queries and one documented GET route per named query."""
    router = APIRouter(tags=["named queries"])

    @router.get("/queries", summary="The named queries: title, description, parameters, SPARQL text",
                responses={200: {"content": {"application/json": {}, "text/html": {}}}})
    async def listing(request: Request) -> Response:
        base_url = str(request.base_url).rstrip("/")
        headers = {"Vary": "Accept"}
        if choose_for(request, (JSON, HTML)) is HTML:  # NotAcceptable: 406 by kg.server.errors
            return HTMLResponse(listing_page(queries.values(), request.app.state.site), headers=headers)
        return JSONResponse([q.summary(base_url) for q in queries.values()], headers=headers)

    for query in queries.values():
        router.add_api_route(
            f"/queries/{query.name}", _query_route(query), methods=["GET"],
            summary=query.title, description=query.description, name=f"query-{query.name}",
            openapi_extra=_openapi(query),
        )
    return router


def _query_route(query: NamedQuery) -> Callable:
    async def run(request: Request) -> Response:
        """Run the query; its errors (ProtocolError, NotAcceptable) are answered by kg.server.errors."""
        endpoint: SparqlEndpoint = request.app.state.sparql
        values: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            values.setdefault(key, []).append(value)
        offers = _offers(query)
        representation = choose_for(request, offers)
        substitutions = query.bind(values)
        solutions = offers[0] in SOLUTION_FORMATS
        if representation is HTML:
            body, capped = await endpoint.run_query(query.text, offers[0], _base_iri(request), substitutions)
            page = query_page(query, values, body, solutions, capped, endpoint.settings.max_results,
                              request.app.state.site)
            return HTMLResponse(page, headers={"Vary": "Accept"})
        body, capped = await endpoint.run_query(query.text, representation, _base_iri(request), substitutions)
        headers = {"Vary": "Accept", "Access-Control-Allow-Origin": "*"}
        if capped:
            headers["X-Result-Limit"] = str(endpoint.settings.max_results)
        return Response(body, media_type=representation.content_type, headers=headers)
    return run


def _offers(query: NamedQuery) -> tuple[Representation, ...]:
    return (*(GRAPH_FORMATS if query.form in GRAPH_FORMS else SOLUTION_FORMATS), HTML)


def _base_iri(request: Request) -> str:
    return str(request.url.replace(query=""))


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


# -- pages for people (kg/templates) -----------------------------------------------------------------

def listing_page(queries: Iterable[NamedQuery], site: Site | None = None) -> str:
    """The named queries: title (a link to the query's page), parameters, description."""
    return render("queries.html", site=site, title="Named queries", queries=list(queries))


def query_page(query: NamedQuery, values: dict[str, list[str]], body: bytes, solutions: bool, capped: bool,
               cap: int, site: Site | None = None) -> str:
    """A named query's page: description, parameter form, link to the editor, downloads, and the result."""
    fields = [{"name": p.name, "required": p.required, "value": (values.get(p.name) or [""])[0],
               "expected": PARAMETER_TYPES[p.type][1], "description": p.description} for p in query.parameters]
    given = {k: v[0] for k, v in values.items() if k != "format"}
    downloads = [(o.names[0], f"/queries/{query.name}?" + urlencode({**given, "format": o.names[0]}))
                 for o in _offers(query)[:-1]]
    editor = "/sparql?" + urlencode({"format": "html"}) + "#query=" + urlencode({"": query.text})[1:]
    return render("query.html", site=site, title=query.title, query=query, fields=fields, editor=editor,
                  downloads=downloads, capped=capped, cap=cap, table=_table(json.loads(body), site) if solutions else None,
                  graph=None if solutions else body.decode())


def results_table(results: dict) -> str:
    """SPARQL JSON results as an HTML table (ASK: the answer); only http(s) IRIs become links."""
    return render("results_table.html", table=_table(results))


def _table(results: dict, site: Site | None = None) -> dict:
    """SPARQL JSON results as the template shows them: each cell (text, link or None)."""
    if "boolean" in results:
        return {"boolean": results["boolean"]}
    names = results["head"]["vars"]
    rows = [[_cell(row.get(name), site) for name in names] for row in results["results"]["bindings"]]
    return {"names": names, "rows": rows}


def _cell(term: dict | None, site: Site | None = None) -> tuple[str, str | None]:
    """A cell's text and link: this server's page for the release's own IRIs, else the IRI when it is http(s)."""
    if term is None:
        return "", None
    if term["type"] != "uri":
        return term["value"], None
    return term["value"], (site.href(term["value"]) if site else web_link(term["value"]))
