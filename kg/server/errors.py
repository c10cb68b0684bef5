"""Error answers of the FastAPI routes: the same JSON `{"status", "error", "message"}` as `/sparql`,
or, for a browser (an `Accept` preferring text/html), an HTML page with the site's chrome carrying
the same status and message. `error_response` is the one function that writes them; every handler
here and every route that answers an error itself goes through it.

Without this, Starlette answers unknown paths and methods with `{"detail": ...}`, FastAPI answers a
parameter of the wrong type (`limit=abc`) with a 422 `{"detail": [...]}`, and unexpected exceptions
get a bare "Internal Server Error"; here every error says what went wrong and what to do instead
(a parameter of the wrong type: 400 naming it and what it must be, like every other bad input),
and a 500 never carries a traceback (that goes to the server log).
"""
from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from kg.sparql.executor import QueryAbandoned
from kg.server.conneg import HTML, JSON, NotAcceptable, prefers
from kg.server.sparql import ProtocolError
from kg.server.views.site import Site, render

log = logging.getLogger(__name__)
READ_ONLY = "this server is read-only: nothing can be written, deleted or uploaded"
ERROR_FORMATS = (JSON, HTML)  # JSON unless the client prefers HTML (`*/*` and image/png get JSON)


def error_response(status: int, message: str, headers: dict[str, str] | None = None, *,
                   request: Request | None = None, site: Site | None = None, iri: str | None = None) -> Response:
    """The error answer of every route: JSON `{"status", "error", "message"}`, or the error page
    (kg/templates/error.html, with `site`'s footer and the `iri` asked for when given) when
    `request`'s Accept prefers HTML. Without a request (APIs such as /reconcile): JSON."""
    error = HTTPStatus(status).phrase
    headers = {"Access-Control-Allow-Origin": "*", "Vary": "Accept", **(headers or {})}
    if request is not None and prefers(request, ERROR_FORMATS) is HTML:
        site = site or getattr(request.app.state, "site", None)  # the release's chrome, when one is served
        page = render("error.html", site=site, title=f"{status} {error}", status=status, error=error,
                      message=message, iri=iri)
        return HTMLResponse(page, status_code=status, headers=headers)
    return JSONResponse({"status": status, "error": error, "message": message}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Answer HTTP errors and unexpected exceptions of `app`'s routes with messages."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        headers = dict(error.headers or {})
        if error.status_code == 404 and error.detail == HTTPStatus.NOT_FOUND.phrase:
            message = f"nothing at {request.url.path}; see / for what this server publishes"
        elif error.status_code == 405:
            allowed = headers.get("allow") or headers.get("Allow") or "GET, HEAD"
            message = f"method {request.method} not allowed on {request.url.path} ({READ_ONLY}); use {allowed}"
        else:
            message = str(error.detail)
        return error_response(error.status_code, message, headers, request=request)

    @app.exception_handler(RequestValidationError)
    async def invalid_parameter(request: Request, error: RequestValidationError):
        message = "; ".join(validation_message(problem) for problem in error.errors())
        return error_response(400, message, request=request)

    @app.exception_handler(QueryAbandoned)
    async def query_abandoned(request: Request, error: QueryAbandoned):
        # A page's query ran past the time limit, or its process past its memory budget.
        return error_response(503, str(error), {"Connection": "close"}, request=request)

    @app.exception_handler(NotAcceptable)
    async def not_acceptable(request: Request, error: NotAcceptable):
        # Raised by content negotiation in any page or resource route; the message lists what can be produced.
        return error_response(406, str(error), request=request)

    @app.exception_handler(ProtocolError)
    async def refused_query(request: Request, error: ProtocolError):
        # A named query refused by the policy, failing, too slow, or given bad parameters.
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in error.headers}
        return error_response(error.status, error.message, headers, request=request)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception):
        log.exception("internal error answering %s %s", request.method, request.url.path)
        return error_response(500, "internal error; see the server log", request=request)


def validation_message(problem: dict) -> str:
    """One FastAPI validation problem as a sentence naming the parameter and what it must be:
    "query parameter `limit` must be a valid integer, unable to parse string as an integer (given 'abc')"."""
    where, *names = [str(part) for part in problem.get("loc", ())] or ["request"]
    subject = f"{where} parameter `{'.'.join(names)}`" if names else where
    if problem.get("type") == "missing":
        return f"{subject} is required"
    message = str(problem.get("msg", "is not valid"))
    given = problem.get("input")
    shown = ""
    if isinstance(given, str):
        shown = f" (given {given[:40] + '...' if len(given) > 40 else given!r})"
    if message.startswith("Input should be "):
        return f"{subject} must be {message.removeprefix('Input should be ')}{shown}"
    return f"{subject}: {message}{shown}"
