"""/reconcile against hostile input, in process: every bound answers a 4xx in the project's error shape,
the work runs off the event loop under the time limit, and absolute URLs come from configuration.

The limits are kg.server.views.reconcile's constants; inputs right at each limit are still answered.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from kg.integrations.entity_index import EntityIndex
from kg.server.views import reconcile
from kg.server.app import create_app
from kg.server.views.reconcile import (BATCH_SIZE, MAX_BODY_BYTES, MAX_FORM_FIELDS, MAX_PROPERTIES, MAX_TEXT_CHARS,
                                 MAX_VALUES)
from kg.server.settings import ServerSettings

SERVICE = "/reconcile"


@pytest.fixture(scope="module")
def app(built_release):
    return create_app(built_release.store_path, ServerSettings(release=str(built_release.path)))


def call(app, method: str, path: str, **request) -> httpx.Response:
    """One request to `app` in process; a crash is a 500 response here, as a real server would send."""
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
            return await client.request(method, path, **request)

    return asyncio.run(send())


def queries(app, batch, method: str = "POST") -> httpx.Response:
    text = batch if isinstance(batch, str) else json.dumps(batch)
    if method == "POST":
        return call(app, "POST", SERVICE, data={"queries": text})
    return call(app, "GET", SERVICE, params={"queries": text})


def extend(app, request) -> httpx.Response:
    return call(app, "POST", SERVICE, data={"extend": request if isinstance(request, str) else json.dumps(request)})


def refused(response: httpx.Response, status: int, *words: str) -> None:
    """The project's error body: {"status", "error", "message"}, with CORS, and the words in the message."""
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert set(body) == {"status", "error", "message"} and body["status"] == status, body
    for word in words:
        assert word in body["message"], body["message"]
    assert response.headers["access-control-allow-origin"] == "*"


def no_error_logged(caplog) -> None:
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


# -- malformed JSON ----------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["queries", "extend"])
@pytest.mark.parametrize("text, words", [
    ("[" * 100_000 + "]" * 100_000, "nests"),
    ('{"q": ' * 50_000 + "1" + "}" * 50_000, "nests"),
    ('{"q": {"query": "Kim", "limit": ' + "9" * 5000 + "}}", "not JSON"),  # past Python's int digit limit
    ("{not json", "not JSON"),
])
def test_malformed_json_answers_400(app, caplog, field, text, words):
    response = call(app, "POST", SERVICE, data={field: text})
    refused(response, 400, f"`{field}`", words)
    no_error_logged(caplog)


# -- the request's size -------------------------------------------------------------------------

def test_a_body_over_the_limit_is_refused_before_it_is_read(app, caplog):
    sent = 0

    async def many_fields() -> AsyncIterator[bytes]:
        nonlocal sent
        for i in range(999):  # the attack: 999 form fields of 1 MB each
            sent += 1
            yield f"f{i}=".encode() + b"a" * (1 << 20) + b"&"

    response = call(app, "POST", SERVICE, content=many_fields(),
                    headers={"content-type": "application/x-www-form-urlencoded"})
    refused(response, 413, f"{MAX_BODY_BYTES} bytes")
    assert response.headers["connection"] == "close"
    assert sent <= 3  # stopped as soon as the total passed the limit
    no_error_logged(caplog)


def test_a_declared_length_over_the_limit_is_refused_at_once(app):
    async def nothing_yet() -> AsyncIterator[bytes]:
        raise AssertionError("the body was read")
        yield b""

    response = call(app, "POST", SERVICE, content=nothing_yet(),
                    headers={"content-type": "application/x-www-form-urlencoded",
                             "content-length": str(MAX_BODY_BYTES + 1)})
    refused(response, 413, f"{MAX_BODY_BYTES} bytes")


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_too_many_form_fields_are_refused(app, encoding):
    fields = {f"f{i}": "x" for i in range(MAX_FORM_FIELDS + 1)}
    if encoding == "urlencoded":
        response = call(app, "POST", SERVICE, data=fields)
    else:
        response = call(app, "POST", SERVICE, data=fields, files={"upload": ("a.txt", b"x")})
    refused(response, 413, "form")


def test_a_file_upload_is_refused(app):
    response = call(app, "POST", SERVICE, files={"queries": ("q.json", b'{"q": {"query": "Kim"}}')})
    refused(response, 400, "file")


def test_a_multipart_form_within_the_limits_is_answered(app):
    multipart = call(app, "POST", SERVICE, content=_multipart({"queries": json.dumps({"q": {"query": "Kim Jong Un"}})}),
                     headers={"content-type": "multipart/form-data; boundary=XyZ"})
    assert multipart.status_code == 200, multipart.text
    assert multipart.json()["q"]["result"][0]["id"] == "kim-jong-un"


def _multipart(fields: dict[str, str]) -> bytes:
    parts = [f'--XyZ\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in fields.items()]
    return ("".join(parts) + "--XyZ--\r\n").encode()


def test_a_query_string_over_the_limit_is_refused(app):
    # httpx refuses to send a URL this long: the request goes to the ASGI app as a server would hand it over.
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": SERVICE, "raw_path": SERVICE.encode(), "root_path": "", "headers": [(b"host", b"127.0.0.1")],
             "query_string": b"queries=" + b"a" * MAX_BODY_BYTES, "server": ("127.0.0.1", 8000),
             "client": ("127.0.0.1", 1234)}
    asyncio.run(app(scope, receive, send))
    body = json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
    assert sent[0]["status"] == 414 and body["status"] == 414 and f"{MAX_BODY_BYTES} bytes" in body["message"]


def test_a_post_without_a_form_says_what_it_needs(app):
    response = call(app, "POST", SERVICE, content=b'{"q": {"query": "Kim"}}', headers={"content-type": "application/json"})
    refused(response, 415, "queries", "extend", "form")
    refused(call(app, "POST", SERVICE, data={"query": "Kim"}), 400, "queries", "extend")
    refused(call(app, "POST", SERVICE, data={}, headers={"content-type": "application/x-www-form-urlencoded"}), 400,
            "queries", "extend")


# -- the size of each input ----------------------------------------------------------------------

def test_a_query_text_over_the_limit_is_refused_and_one_at_the_limit_is_answered(app):
    refused(queries(app, {"q": {"query": "Kim " * (MAX_TEXT_CHARS // 4) + "x"}}), 413, str(MAX_TEXT_CHARS), "q")
    refused(queries(app, {"q": {"query": "a" * (MAX_BODY_BYTES // 2)}}), 413, str(MAX_TEXT_CHARS))
    at_limit = queries(app, {"q": {"query": ("Kim Jong Un " * MAX_TEXT_CHARS)[:MAX_TEXT_CHARS]}})
    assert at_limit.status_code == 200 and "q" in at_limit.json()


@pytest.mark.parametrize("query, words", [
    ({"query": "Kim", "type": ["Person"] * (MAX_PROPERTIES + 1)}, "type"),
    ({"query": "Kim", "properties": [{"pid": "label", "v": "Kim"}] * (MAX_PROPERTIES + 1)}, "properties"),
    ({"query": "Kim", "properties": [{"pid": "participantIn", "v": ["Hanoi"] * (MAX_VALUES + 1)}]}, "values"),
    ({"query": "Kim", "properties": [{"pid": "participantIn", "v": "a" * (MAX_TEXT_CHARS + 1)}]}, "value"),
    ({"query": "Kim", "properties": [{"pid": "participantIn", "v": {"id": "a" * (MAX_TEXT_CHARS + 1)}}]}, "value"),
    ({"query": "Kim", "type": "P" * (MAX_TEXT_CHARS + 1)}, "type"),
])
def test_each_part_of_a_query_is_bounded(app, query, words):
    refused(queries(app, {"q": query}), 413, words)


def test_queries_at_the_limits_are_answered(app):
    batch = {f"q{i}": {"query": "Trump", "type": ["Person"] * MAX_PROPERTIES,
                       "properties": [{"pid": "participantIn", "v": ["hanoi summit"] * (MAX_VALUES // 2)},
                                      {"pid": "label", "v": ["Trump"] * (MAX_VALUES // 2)}]}
             for i in range(BATCH_SIZE)}
    response = queries(app, batch)
    assert response.status_code == 200, response.text[:300]
    assert all(answer["result"][0]["id"] == "donald-trump" for answer in response.json().values())


def test_a_limit_above_the_most_candidates_is_cut(app, monkeypatch):
    monkeypatch.setattr(reconcile, "MAX_CANDIDATES", 3)
    every_type = {"pid": "type", "v": ["Person", "State", "Organization", "Place", "Event", "Topic"]}
    response = queries(app, {"q": {"properties": [every_type], "limit": 10 ** 100},
                             "r": {"query": "Kim", "limit": 10 ** 100}})
    assert response.status_code == 200
    assert len(response.json()["q"]["result"]) == 3 and len(response.json()["r"]["result"]) <= 3


def test_data_extension_bounds(app):
    ids = ["kim-jong-un"]
    refused(extend(app, {"ids": ids, "properties": [{"id": "label"}] * (MAX_PROPERTIES + 1)}), 413,
            str(MAX_PROPERTIES), "properties")
    refused(extend(app, {"ids": ["kim-jong-un"] * (BATCH_SIZE + 1), "properties": [{"id": "label"}]}), 413,
            str(BATCH_SIZE), "ids")
    refused(extend(app, {"ids": ["k" * (MAX_TEXT_CHARS + 1)], "properties": [{"id": "label"}]}), 413,
            str(MAX_TEXT_CHARS))
    at_limit = extend(app, {"ids": [f"kim-jong-un-{i}" for i in range(BATCH_SIZE - 1)] + ["kim-jong-un"],
                            "properties": [{"id": "label"}] * MAX_PROPERTIES})
    assert at_limit.status_code == 200
    assert at_limit.json()["rows"]["kim-jong-un"]["label"] == [{"str": "Kim Jong Un"}]


@pytest.mark.parametrize("path", ["/suggest/entity", "/suggest/type", "/suggest/property"])
def test_suggest_prefixes_are_bounded(app, path):
    refused(call(app, "GET", f"{SERVICE}{path}", params={"prefix": "k" * (MAX_TEXT_CHARS + 1)}), 413,
            "prefix", str(MAX_TEXT_CHARS))
    assert call(app, "GET", f"{SERVICE}{path}", params={"prefix": "k" * MAX_TEXT_CHARS}).status_code == 200


def test_preview_and_proposal_inputs_are_bounded(app):
    refused(call(app, "GET", f"{SERVICE}/preview", params={"id": "k" * (MAX_TEXT_CHARS + 1)}), 413, "id")
    refused(call(app, "GET", f"{SERVICE}/extend/propose", params={"type": "T" * (MAX_TEXT_CHARS + 1)}), 413, "type")
    refused(call(app, "GET", f"{SERVICE}/suggest/entity", params={"prefix": "k", "type": "T" * (MAX_TEXT_CHARS + 1)}),
            413, "type")


# -- FastAPI's parameter validation speaks the project's error shape ------------------------------

def test_an_ill_typed_parameter_names_itself_in_the_project_error_shape(app, caplog):
    response = call(app, "GET", f"{SERVICE}/extend/propose", params={"type": "Person", "limit": "abc"})
    refused(response, 400, "limit", "integer")
    assert "detail" not in response.json()
    no_error_logged(caplog)


def test_every_validated_parameter_answers_in_the_project_error_shape(app):
    """Every parameter FastAPI validates by type (the OpenAPI description's non-string ones) gets a 400 with
    a message naming it, never FastAPI's {"detail": ...}. (/sparql is not a FastAPI route: it checks its own.)"""
    document = call(app, "GET", "/openapi.json").json()
    checked = []
    for path, operations in document["paths"].items():
        if path == "/sparql":
            continue
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query" or parameter.get("schema", {}).get("type") in (None, "string"):
                    continue
                response = call(app, method.upper(), path, params={parameter["name"]: "not-a-number"})
                refused(response, 400, parameter["name"])
                checked.append((path, parameter["name"]))
    assert ("/reconcile/extend/propose", "limit") in checked


# -- off the event loop, under the time limit ------------------------------------------------------

def test_matching_and_extension_run_off_the_event_loop(app, monkeypatch):
    loop_threads: set[int] = set()
    work_threads: list[int] = []
    search, suggest = EntityIndex.search, reconcile.suggest_entities

    def recording(function):
        def record(*args, **kwargs):
            work_threads.append(threading.get_ident())
            return function(*args, **kwargs)
        return record

    monkeypatch.setattr(EntityIndex, "search", recording(search))
    monkeypatch.setattr(reconcile, "suggest_entities", recording(suggest))
    monkeypatch.setattr(reconcile, "extend", recording(reconcile.extend))
    monkeypatch.setattr(reconcile, "answer_queries", recording(reconcile.answer_queries))

    async def requests() -> None:
        loop_threads.add(threading.get_ident())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
            assert (await client.post(SERVICE, data={"queries": json.dumps({"q": {"query": "Trump"}})})).status_code == 200
            assert (await client.get(SERVICE, params={"queries": json.dumps({"q": {"query": "Trump"}})})).status_code == 200
            extension = {"ids": ["kim-jong-un"], "properties": [{"id": "label"}]}
            assert (await client.post(SERVICE, data={"extend": json.dumps(extension)})).status_code == 200
            assert (await client.get(f"{SERVICE}/suggest/entity", params={"prefix": "k"})).status_code == 200

    asyncio.run(requests())
    assert len(work_threads) >= 6 and not set(work_threads) & loop_threads


def test_a_batch_past_the_time_limit_answers_503_and_stops(built_release, monkeypatch, caplog):
    app = create_app(built_release.store_path, ServerSettings(release=str(built_release.path), timeout=0.5))
    searched = []
    search = EntityIndex.search

    def slow_search(*args, **kwargs):
        searched.append(1)
        time.sleep(0.05)
        return search(*args, **kwargs)

    monkeypatch.setattr(EntityIndex, "search", slow_search)
    batch = {f"q{i}": {"query": "Trump"} for i in range(BATCH_SIZE)}
    response = call(app, "POST", SERVICE, data={"queries": json.dumps(batch)})
    refused(response, 503, "time limit")
    stopped_at = len(searched)
    time.sleep(0.3)
    assert len(searched) == stopped_at < BATCH_SIZE  # the thread stopped by itself, not after all 100
    no_error_logged(caplog)


# -- absolute URLs from configuration, not the Host header ------------------------------------------

def test_the_manifest_urls_come_from_the_public_url_not_the_host_header(built_release):
    app = create_app(built_release.store_path,
                     ServerSettings(release=str(built_release.path), public_url="http://kg.test"))
    response = call(app, "GET", SERVICE, headers={"host": "evil.example", "x-forwarded-host": "evil.example"})
    assert response.status_code == 200
    manifest = response.json()
    assert manifest["preview"]["url"].startswith("http://kg.test/reconcile/preview?id=")
    assert manifest["suggest"]["entity"]["service_url"] == "http://kg.test"
    assert manifest["extend"]["propose_properties"]["service_url"] == "http://kg.test"
    assert "evil" not in response.text
