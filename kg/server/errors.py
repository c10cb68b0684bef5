"""Error answers of the FastAPI routes: the same JSON `{"status", "error", "message"}` as `/sparql`.

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
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from kg.sparql.executor import QueryAbandoned
from kg.server.conneg import NotAcceptable

log = logging.getLogger(__name__)
READ_ONLY = "this server is read-only: nothing can be written, deleted or uploaded"


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON error body every route answers with."""
    return JSONResponse({"status": status, "error": HTTPStatus(status).phrase, "message": message},
                        status_code=status, headers={"Access-Control-Allow-Origin": "*", **(headers or {})})


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
        return error_response(error.status_code, message, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_parameter(request: Request, error: RequestValidationError):
        return error_response(400, "; ".join(validation_message(problem) for problem in error.errors()))

    @app.exception_handler(QueryAbandoned)
    async def query_abandoned(request: Request, error: QueryAbandoned):
        # A page's query ran past the time limit, or its process past its memory budget.
        return error_response(503, str(error), {"Connection": "close"})

    @app.exception_handler(NotAcceptable)
    async def not_acceptable(request: Request, error: NotAcceptable):
        # Raised by content negotiation in any page or resource route; the message lists what can be produced.
        return Response(str(error), status_code=406, media_type="text/plain", headers={"Vary": "Accept"})

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception):
        log.exception("internal error answering %s %s", request.method, request.url.path)
        return error_response(500, "internal error; see the server log")


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
