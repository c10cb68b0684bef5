"""`/sparql` in the OpenAPI description: it is a raw ASGI route (see kg.server.sparql), which FastAPI
does not document by itself, but it is the main API, so clients and API fuzzers should see it."""
from __future__ import annotations

from fastapi import FastAPI

from kg.server.conneg import GRAPH_FORMATS, SOLUTION_FORMATS
from kg.server.sparql import MIN_TIMEOUT

_GRAPHS = {"type": "array", "items": {"type": "string", "format": "iri"}}
_PARAMETERS = [
    {"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "a SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE); without it, the service description"},
    {"name": "default-graph-uri", "in": "query", "required": False, "schema": _GRAPHS, "explode": True,
     "description": "graphs whose union is the default graph (default: the union of all graphs)"},
    {"name": "named-graph-uri", "in": "query", "required": False, "schema": _GRAPHS, "explode": True,
     "description": "the named graphs of the dataset"},
    {"name": "timeout", "in": "query", "required": False, "schema": {"type": "number", "minimum": MIN_TIMEOUT},
     "description": "seconds; lowers the server's time limit, never raises it"},
    {"name": "format", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "result format by name or media type, overriding Accept"},
]
_RESULTS = {rep.content_type.split(";")[0]: {} for rep in (*SOLUTION_FORMATS, *GRAPH_FORMATS)}
_CAPPED = {"X-Result-Limit": {"description": "present when the result was cut to the server's cap: the cap",
                              "schema": {"type": "integer"}}}
_CACHED = {"X-Cache": {"description": "`hit` when the answer is one kept from an identical earlier request "
                                      "(the store does not change while it is served)",
                       "schema": {"type": "string", "enum": ["hit"]}}}
_ERRORS = {
    "400": {"description": "malformed query (with line:column) or parameter; the JSON message says which"},
    "403": {"description": "SPARQL Update, or SERVICE to a host the operator did not allow"},
    "406": {"description": "no acceptable result format"},
    "503": {"description": "the query ran past its time limit"},
}
SPARQL_PATH = {
    "get": {
        "tags": ["SPARQL"], "summary": "SPARQL 1.1 Protocol query", "operationId": "sparql_get",
        "parameters": _PARAMETERS,
        "responses": {"200": {"description": "the query's result", "content": _RESULTS,
                              "headers": {**_CAPPED, **_CACHED}}, **_ERRORS},
    },
    "post": {
        "tags": ["SPARQL"], "summary": "SPARQL 1.1 Protocol query (POST)", "operationId": "sparql_post",
        "parameters": _PARAMETERS[1:],
        "requestBody": {"required": True, "content": {
            "application/sparql-query": {"schema": {"type": "string"}},
            "application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["query"],
                "properties": {"query": {"type": "string"}, "timeout": {"type": "number", "minimum": MIN_TIMEOUT},
                               "default-graph-uri": _GRAPHS, "named-graph-uri": _GRAPHS},
            }},
        }},
        "responses": {"200": {"description": "the query's result", "content": _RESULTS, "headers": _CAPPED}, **_ERRORS,
                      "413": {"description": "request body too large"},
                      "415": {"description": "unsupported Content-Type"}},
    },
}


def document_sparql(app: FastAPI) -> None:
    """Add `/sparql` to the OpenAPI description FastAPI generates for `app`."""
    generate = app.openapi

    def openapi() -> dict:
        schema = generate()  # FastAPI caches it, so this runs once
        schema["paths"].setdefault("/sparql", SPARQL_PATH)
        return schema

    app.openapi = openapi
