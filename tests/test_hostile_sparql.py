"""Hostile requests to the app a worker serves, in process: spoofed Host headers, oversized and
malformed queries, and the memory the server keeps after requests."""
from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

import kg.server.sparql as sparql_module
from kg.server import conneg
from kg.server.app import create_app, front_door
from kg.server.settings import ServerSettings

from conftest import REPO

PUBLIC = "http://kg.test"
SPOOFED = "evil.example"
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def inner_app(built_release):
    settings = ServerSettings(release=str(built_release.path), queries=str(REPO / "queries"), workers=1,
                              public_url=PUBLIC, max_query_bytes=32 << 10)
    return create_app(built_release.store_path, settings)


@pytest.fixture(scope="module")
def app(inner_app):
    """What a worker serves."""
    return front_door(inner_app)


def request(app, method: str, path: str, **options) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{SPOOFED}") as client:
            return await client.request(method, path, **options)
    return asyncio.run(send())


def requests(app, method: str, path: str, many: list[dict]) -> list[httpx.Response]:
    async def send() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{SPOOFED}") as client:
            return [await client.request(method, path, **options) for options in many]
    return asyncio.run(send())


def assert_error(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert body["status"] == status and words in body["message"], body


@pytest.mark.parametrize("path, accept", [
    ("/sparql", "text/turtle"),  # the service description names the endpoint
    ("/queries", "application/json"),  # each named query's URL
    ("/reconcile", "application/json"),  # the manifest's preview and view URLs
])
def test_absolute_urls_come_from_the_public_url_never_the_host_header(app, path: str, accept: str) -> None:
    response = request(app, "GET", path, headers={"accept": accept, "host": SPOOFED,
                                                  "x-forwarded-host": SPOOFED})
    assert response.status_code == 200
    assert SPOOFED not in response.text
    assert PUBLIC in response.text


def test_a_redirect_points_at_the_public_url(app) -> None:
    response = request(app, "GET", "/queries/", headers={"host": SPOOFED})  # Starlette's slash redirect
    assert response.status_code == 307
    assert response.headers["location"] == f"{PUBLIC}/queries"


def test_a_form_post_without_a_query_field_is_refused_not_described(app) -> None:
    response = request(app, "POST", "/sparql", content=b"SELECT * WHERE { ?s ?p ?o }",
                       headers={"content-type": "application/x-www-form-urlencoded", "accept": JSON})
    assert_error(response, 400, "no query in this POST")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_query_past_the_size_limit_is_refused_with_a_message(app, method: str) -> None:
    query = "ASK {}" + " " * (32 << 10)
    if method == "GET":
        response = request(app, "GET", "/sparql", params={"query": query}, headers={"accept": JSON})
        assert_error(response, 414, "longer than this endpoint's limit of 32768 characters")
    else:
        response = request(app, "POST", "/sparql", content=query.encode(),
                           headers={"content-type": "application/sparql-query", "accept": JSON})
        assert_error(response, 413, "32768")


def test_a_long_query_is_judged_in_a_query_thread_and_a_short_one_on_the_loop(app, monkeypatch) -> None:
    judged_in: list[str] = []
    inspect = sparql_module.inspect_query

    def recording(*args):
        judged_in.append(threading.current_thread().name)
        return inspect(*args)

    monkeypatch.setattr(sparql_module, "inspect_query", recording)
    long_query = "SELECT * WHERE { VALUES ?x { " + " ".join(str(i) for i in range(4_000)) + " } } LIMIT 1"
    for query in ("ASK { ?s ?p ?o }", long_query):
        response = request(app, "GET", "/sparql", params={"query": query}, headers={"accept": JSON})
        assert response.status_code == 200, response.text[:300]
    assert judged_in[0] == threading.main_thread().name
    assert judged_in[1].startswith("query")


def test_distinct_queries_keep_a_bounded_number_of_bytes_in_plans(app, inner_app) -> None:
    endpoint = inner_app.state.sparql
    filler = "x" * (30 << 10)
    many = [{"params": {"query": f"ASK {{ FILTER(STRLEN('{filler}') > {i}) }}"}, "headers": {"accept": JSON}}
            for i in range(800)]  # 800 different 30 KB GETs: 24 MB of query strings
    answers = requests(app, "GET", "/sparql", many)
    assert {answer.status_code for answer in answers} == {200}
    assert endpoint._plan_bytes <= sparql_module.PLAN_CACHE_BYTES
    assert sum(len(key[0]) for key in endpoint._plans) <= sparql_module.PLAN_CACHE_BYTES


def test_distinct_accept_headers_keep_a_bounded_number_of_bytes(app) -> None:
    many = [{"params": {"query": "ASK {}"}, "headers": {"accept": f"application/x-{i}-{'y' * 30_000}, {JSON}"}}
            for i in range(100)]  # 3 MB of distinct Accept headers
    answers = requests(app, "GET", "/sparql", many)
    assert {answer.status_code for answer in answers} == {200}
    assert conneg._by_accept.cache.size <= conneg._by_accept.cache.max_bytes

