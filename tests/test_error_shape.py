"""Every error of every route has one shape, in process (`front_door(create_app(...))`).

After Datasette's test_error_shape: every route of the app is asked for things it cannot answer (a
bogus value in each path parameter, a wrong method, an Accept it cannot produce, an unknown format,
an ill-typed or unknown parameter), plus an unknown path and an unexpected exception. Every 4xx/5xx
answer is JSON with exactly `status`, `error` and `message` (status = the HTTP status), and the same
request from a browser (Accept: text/html) gets an HTML page carrying that status and message.
"""
from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from markupsafe import escape
from starlette.routing import Mount

from kg.server.app import create_app, front_door
from kg.server.settings import ServerSettings

from conftest import REPO

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
BOGUS = "no-such-thing"
# APIs that answer JSON whatever the Accept: /sparql (its lean endpoint) and /reconcile (OpenRefine's API).
JSON_ONLY = re.compile(r"^/(sparql|reconcile)\b")
# The reconciliation preview is an HTML card for OpenRefine's iframe, its "no such entity" one too.
HTML_CARD = "/reconcile/preview"


@pytest.fixture(scope="module")
def app(built_release):
    settings = ServerSettings(release=str(built_release.path), queries=str(REPO / "queries"), workers=1)
    fastapi_app = create_app(built_release.store_path, settings)

    async def boom() -> None:
        raise RuntimeError("an unexpected failure")

    fastapi_app.add_api_route("/test-boom", boom, include_in_schema=False)
    return fastapi_app


def send(app, method: str, path: str, accept: str) -> httpx.Response:
    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=front_door(app), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
            return await client.request(method, path, headers={"Accept": accept})
    return asyncio.run(fetch())


def route_paths(app) -> list[str]:
    """Each route's path with every path parameter filled with a bogus value."""
    return sorted({re.sub(r"\{[^}]*\}", BOGUS, path) or "/" for path in _paths(app.routes, "")})


def _paths(routes, prefix: str):
    """The paths of `routes`, into included routers (FastAPI keeps them as routers) and mounts."""
    for route in routes:
        if hasattr(route, "original_router"):  # an included APIRouter
            yield from _paths(route.original_router.routes, prefix + route.include_context.prefix)
        elif isinstance(route, Mount):
            yield prefix + route.path + "/" + BOGUS
        else:
            yield prefix + route.path


def bad_requests(app) -> list[tuple[str, str, str]]:
    """(method, path, accept) of requests each route should refuse, plus an unknown path and a failure."""
    requests = [("GET", "/no/such/path", "*/*"), ("GET", "/test-boom", "*/*")]
    for path in route_paths(app):
        requests += [("GET", path, "*/*"), ("DELETE", path, "*/*"), ("GET", path, "image/png"),
                     ("GET", f"{path}?format=pdf", "*/*"), ("GET", f"{path}?limit=abc&{BOGUS}=1", "*/*")]
    return requests


def test_every_route_is_walked(app) -> None:
    """The walk reaches pages, APIs, resources, dumps and named queries, and finds errors in each."""
    paths = route_paths(app)
    assert {"/queries", "/queries/statements", "/dumps/" + BOGUS, "/entity/" + BOGUS, "/shapes", "/sparql",
            "/static/" + BOGUS} <= set(paths)


def shape_problems(app, method: str, path: str, accept: str) -> tuple[bool, list[str]]:
    """(whether the request was an error, what is wrong with its answers' shape)."""
    response = send(app, method, path, accept)
    if response.status_code < 400 or path.startswith(HTML_CARD):
        return False, []
    where = f"{method} {path} (Accept: {accept}) -> {response.status_code}"
    if not response.headers["content-type"].startswith("application/json"):
        return True, [f"{where}: {response.headers['content-type']} {response.text[:80]!r}"]
    body = response.json()
    if set(body) != {"status", "error", "message"} or body["status"] != response.status_code or not body["message"]:
        return True, [f"{where}: {body}"]
    if accept == "image/png" or JSON_ONLY.match(path):
        return True, []  # a browser asking for HTML is not refused by its Accept; the APIs answer JSON
    page = send(app, method, path, BROWSER)
    problems = []
    if page.status_code != response.status_code or not page.headers["content-type"].startswith("text/html"):
        problems.append(f"{where}: a browser got {page.status_code} {page.headers['content-type']}")
    elif (f"{response.status_code} {body['error']}" not in page.text or str(escape(body["message"])) not in page.text
          or 'class="site"' not in page.text):  # the status, the message, the site's chrome
        problems.append(f"{where}: the page lacks the status, message or chrome")
    return True, problems


def test_every_error_has_one_shape_for_programs_and_browsers(app) -> None:
    errors, problems = 0, []
    for request in bad_requests(app):
        was_error, found = shape_problems(app, *request)
        errors += was_error
        problems += found
    assert not problems, "\n".join(problems)
    assert errors > 50


def test_an_unexpected_exception_is_a_500_without_a_traceback(app) -> None:
    response = send(app, "GET", "/test-boom", "*/*")
    assert response.status_code == 500
    assert response.json() == {"status": 500, "error": "Internal Server Error",
                               "message": "internal error; see the server log"}
    page = send(app, "GET", "/test-boom", BROWSER)
    assert page.status_code == 500 and "internal error; see the server log" in page.text
    assert "RuntimeError" not in page.text and "Traceback" not in page.text


@pytest.mark.parametrize("path", ["/entity/" + BOGUS, "/dumps/" + BOGUS, "/queries?format=pdf",
                                  "/queries/statements?speaker=nobody"])
def test_formerly_plain_or_private_errors_now_share_the_shape(app, path: str) -> None:
    """404s of resources and dumps were text/plain, named-query errors had no `error` field."""
    response = send(app, "GET", path, "*/*")
    assert response.status_code in (400, 404, 406)
    assert set(response.json()) == {"status", "error", "message"}
    assert "Accept" in response.headers["vary"]
