"""Hostile and malformed requests against a real `kg serve`: each gets a clear 4xx with a message.

One table, sent byte for byte over a raw socket (HTTP clients would normalize `..`, refuse bad
bytes or fix headers before sending). Every answer must have the expected status, a message that
says what is wrong, and no traceback; afterwards the server still answers normally.
"""
from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httpx
import pytest

ASK = quote("ASK { ?s ?p ?o }")
SELECT_ALL = quote("SELECT * { ?s ?p ?o }")
FORM = (b"content-type", b"application/x-www-form-urlencoded")
QUERY = (b"content-type", b"application/sparql-query")
MAX_BODY = 1 << 20  # kg serve's default max_query_bytes
POSITION = r"\d+:\d+"  # line:column of a parse error


@dataclass(frozen=True)
class Case:
    name: str
    method: bytes
    target: bytes
    status: int
    message: str  # a regular expression the body must contain
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""


CASES = [
    # Malformed SPARQL, located.
    Case("malformed query (GET)", b"GET", f"/sparql?query={quote('SELECT * WHERE { ?s ?p }')}".encode(), 400,
         f"malformed query: error at {POSITION}"),
    Case("malformed query (POST)", b"POST", b"/sparql", 400, f"malformed query: error at {POSITION}", (QUERY,),
         b"SELECT * {\n  ?s ?p ?o\n  FILTER(\n}"),
    Case("negative LIMIT", b"GET", f"/sparql?query={quote('SELECT * { ?s ?p ?o } LIMIT -5')}".encode(), 400,
         "malformed query"),
    Case("OFFSET beyond 64 bits", b"GET", f"/sparql?query={SELECT_ALL}%20OFFSET%2099999999999999999999999".encode(),
         400, "offset"),
    # Content negotiation, media types, sizes.
    Case("Accept nothing we make (/sparql)", b"GET", f"/sparql?query={ASK}".encode(), 406, "available:",
         ((b"accept", b"image/png"),)),
    Case("Accept nothing we make (named query)", b"GET", b"/queries/timeline", 406, "available:",
         ((b"accept", b"image/png"),)),
    Case("Accept nothing we make (entity)", b"GET", b"/entity/donald-trump", 406, "available:",
         ((b"accept", b"image/png"),)),
    Case("Accept nothing we make (dumps)", b"GET", b"/dumps/", 406, "available:", ((b"accept", b"image/png"),)),
    Case("unknown format parameter", b"GET", f"/sparql?query={ASK}&format=pdf".encode(), 406, "unknown format"),
    Case("Accept header of 20,000 ranges", b"GET", f"/sparql?query={ASK}".encode(), 406, "cannot produce",
         ((b"accept", b",".join([b"a/b;q=0.5"] * 20_000)),)),
    Case("body over the limit", b"POST", b"/sparql", 413, f"larger than {MAX_BODY} bytes", (QUERY,),
         b"#" * (MAX_BODY + 1)),
    Case("wrong Content-Type", b"POST", b"/sparql", 415, "unsupported Content-Type 'text/plain'",
         ((b"content-type", b"text/plain"),), b"ASK {}"),
    Case("no Content-Type", b"POST", b"/sparql", 415, "missing Content-Type", (), b"ASK {}"),
    Case("query text in another charset", b"POST", b"/sparql", 415, "must be UTF-8",
         ((b"content-type", b"application/sparql-query; charset=latin-1"),), b"ASK {}"),
    # Writes of any kind.
    Case("SPARQL Update as a query", b"GET", f"/sparql?query={quote('INSERT DATA { <a:b> <a:c> <a:d> }')}".encode(),
         403, "read-only"),
    Case("SPARQL Update body", b"POST", b"/sparql", 403, "read-only",
         ((b"content-type", b"application/sparql-update"),), b"DROP ALL"),
    Case("update form parameter", b"POST", b"/sparql", 403, "read-only", (FORM,), b"update=CLEAR%20ALL"),
    Case("Graph Store PUT on /sparql", b"PUT", b"/sparql?default", 405, "read-only",
         ((b"content-type", b"text/turtle"),), b"<a:b> <a:c> <a:d> ."),
    Case("Graph Store DELETE on /sparql", b"DELETE", b"/sparql?graph=urn:x", 405, "read-only"),
    Case("PUT on an entity", b"PUT", b"/entity/donald-trump", 405, "read-only", (), b"x"),
    Case("POST on an entity", b"POST", b"/entity/donald-trump", 405, "read-only", (FORM,), b"x=1"),
    Case("DELETE on an article", b"DELETE", b"/article/cgtn-2019-03-01-hanoi-summit", 405, "read-only"),
    Case("DELETE on a dump", b"DELETE", b"/dumps/graph.nq", 405, "read-only"),
    Case("PUT on a dump", b"PUT", b"/dumps/graph.nq", 405, "read-only", (), b"x"),
    Case("POST on the dumps listing", b"POST", b"/dumps/", 405, "read-only", (FORM,), b"x=1"),
    Case("POST on a named query", b"POST", b"/queries/timeline", 405, "read-only", (FORM,), b"x=1"),
    Case("PUT on a static file", b"PUT", b"/static/editor.js", 405, "read-only", (), b"x"),
    # Outbound requests.
    Case("SERVICE to a host not allow-listed", b"GET",
         f"/sparql?query={quote('SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }')}".encode(), 403,
         "SERVICE <http://127.0.0.1:9/sparql> is not allowed"),
    Case("SERVICE to a variable", b"GET",
         f"/sparql?query={quote('SELECT * { BIND(<http://127.0.0.1:9/> AS ?e) SERVICE ?e { ?s ?p ?o } }')}".encode(),
         403, "SERVICE needs a constant"),
    # Absurd parameters.
    Case("negative timeout", b"GET", f"/sparql?query={ASK}&timeout=-1".encode(), 400, "timeout must be a number"),
    Case("tiny timeout", b"GET", f"/sparql?query={ASK}&timeout=1e-9".encode(), 400, r"from 0\.1 on"),
    Case("infinite timeout", b"GET", f"/sparql?query={ASK}&timeout=inf".encode(), 400, "timeout must be a number"),
    Case("NaN timeout", b"GET", f"/sparql?query={ASK}&timeout=nan".encode(), 400, "timeout must be a number"),
    Case("two queries", b"GET", f"/sparql?query={ASK}&query={ASK}".encode(), 400, "2 'query' parameters"),
    Case("graph IRI with a space", b"GET", f"/sparql?query={ASK}&default-graph-uri=not%20an%20iri".encode(), 400,
         "invalid graph IRI"),
    Case("unknown named-query parameter", b"GET", b"/queries/statements?speakr=x", 400,
         "unknown parameter 'speakr' for query 'statements'; it takes: speaker"),
    Case("named-query IRI parameter that is no IRI", b"GET", b"/queries/statements?speaker=not%20an%20iri", 400,
         "must be an absolute IRI"),
    Case("named-query IRI parameter with a quote", b"GET",
         b"/queries/statements?speaker=http://e.org/a%3E%20%3Fs%20%3Fp%20%3Fo", 400, "must be an absolute IRI"),
    Case("named-query parameter given twice", b"GET",
         b"/queries/statements?speaker=http://e.org/a&speaker=http://e.org/b", 400, "given 2 times"),
    # One bad query of a batch gets an empty result with its error, the batch is answered (as OpenRefine expects).
    Case("reconciliation limit below one", b"GET",
         b"/reconcile?queries=" + quote('{"q0": {"query": "Trump", "limit": -1}}').encode(), 200,
         "`limit` must be a positive integer"),
    Case("reconciliation queries that are not JSON", b"GET", b"/reconcile?queries=%7Bnot", 400, "not JSON"),
    Case("byte range past the end", b"GET", b"/dumps/SHA256SUMS", 416, "",
         ((b"range", b"bytes=99999999999999999999-"),)),
    # Bytes that are not UTF-8, IRIs that are not IRIs.
    Case("query string not UTF-8", b"GET", b"/sparql?query=%ff%fe", 400, "not percent-encoded UTF-8"),
    Case("raw non-ASCII byte in the request line", b"GET", b"/sparql?query=\xff", 400, "Invalid HTTP request"),
    Case("query body not UTF-8", b"POST", b"/sparql", 400, r"not valid UTF-8 \(byte 18\)", (QUERY,),
         b'SELECT * { ?s ?p "\xff" }'),
    Case("form body not UTF-8", b"POST", b"/sparql", 400, "not valid UTF-8", (FORM,), b"query=\xff"),
    Case("named-query parameter not UTF-8", b"GET", b"/queries/statements?speaker=%ff", 400, "absolute IRI"),
    Case("entity path not UTF-8", b"GET", b"/entity/%ff", 404, "no resource"),
    Case("entity path with a NUL", b"GET", b"/entity/a%00b", 404, "no resource"),
    Case("entity path with a space", b"GET", b"/entity/a%20b", 404, "no resource"),
    # Very long URLs.
    Case("200 kB query string", b"GET", b"/sparql?query=" + b"a" * 200_000, 400, "Invalid HTTP request"),
    Case("200 kB path", b"GET", b"/entity/" + b"a" * 200_000, 400, "Invalid HTTP request"),
    # Path traversal: never a file outside the release's dumps/ or kg/static/.
    Case("dumps ..", b"GET", b"/dumps/../release.json", 404, "nothing at"),
    Case("dumps %2e%2e", b"GET", b"/dumps/%2e%2e/release.json", 404, "nothing at"),
    Case("dumps ..%2f", b"GET", b"/dumps/..%2frelease.json", 404, "nothing at|no file"),
    Case("dumps encoded absolute path", b"GET", b"/dumps/%2fetc%2fpasswd", 404, "nothing at|no file"),
    Case("dumps deep encoded", b"GET", b"/dumps/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", 404, "nothing at|no file"),
    Case("static ..", b"GET", b"/static/../../../../etc/passwd", 404, "nothing at"),
    Case("static %2e%2e", b"GET", b"/static/%2e%2e/%2e%2e/server/app.py", 404, "nothing at"),
    Case("static ..%2f", b"GET", b"/static/..%2f..%2fserver%2fapp.py", 404, "nothing at"),
    Case("static absolute path", b"GET", b"/static//etc/passwd", 404, "nothing at"),
    Case("static encoded absolute path", b"GET", b"/static/%2fetc%2fpasswd", 404, "nothing at"),
    Case("absolute-form request target", b"GET", b"http://evil.example/etc/passwd", 404, "nothing at"),
    Case("unknown route", b"GET", b"/admin", 404, "nothing at /admin"),
    # Header abuse.
    Case("unknown method", b"FROB", b"/sparql", 400, "Invalid HTTP request"),
    Case("Host header with control bytes", b"GET", f"/sparql?query={ASK}".encode(), 400, "Invalid HTTP request",
         ((b"host", b"\xff\x00evil"),)),
    Case("negative Content-Length", b"POST", b"/sparql", 400, "Invalid HTTP request",
         (QUERY, (b"content-length", b"-5")), b"ASK{}"),
    Case("two Content-Lengths", b"POST", b"/sparql", 400, "Invalid HTTP request",
         (QUERY, (b"content-length", b"5"), (b"content-length", b"6")), b"ASK{}"),
    Case("Content-Length with Transfer-Encoding (smuggling)", b"POST", b"/sparql", 400, "Invalid HTTP request",
         (QUERY, (b"content-length", b"5"), (b"transfer-encoding", b"chunked")), b"0\r\n\r\n"),
]


def raw_request(base_url: str, case: Case) -> tuple[int, bytes]:
    """Send the case's bytes as they are; (status, body) of the answer."""
    url = urlsplit(base_url)
    headers = dict(case.headers)
    lines = [case.method + b" " + case.target + b" HTTP/1.1", b"connection: close"]
    if b"host" not in headers:
        lines.append(b"host: " + url.netloc.encode())
    if case.body and b"content-length" not in headers:
        lines.append(b"content-length: %d" % len(case.body))
    lines += [name + b": " + value for name, value in case.headers]
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + case.body)
        answer = b""
        try:
            while chunk := sock.recv(1 << 16):
                answer += chunk
        except ConnectionResetError:  # the server may close before reading an oversized body
            pass
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_request_gets_a_clear_4xx(release_server, case: Case) -> None:
    status, body = raw_request(release_server.base_url, case)
    text = body.decode("utf-8", "replace")
    assert status == case.status, text[:500]
    assert re.search(case.message, text), text[:500]
    assert "Traceback" not in text and 'File "' not in text
    if case.status != 416:
        assert len(text.strip()) > 10, "an error needs a message"


def test_nothing_outside_the_served_folders_is_ever_returned(release_server, built_release) -> None:
    """Whatever the traversal answered, it was not the bytes of a file it must not serve."""
    secrets = [(built_release.path / "release.json").read_bytes()[:200], b"root:x:0:0", b"def create_app"]
    for case in CASES:
        if b"/dumps/" in case.target or b"/static/" in case.target or b"passwd" in case.target:
            _, body = raw_request(release_server.base_url, case)
            assert not any(secret in body for secret in secrets), case.name


def test_the_server_still_answers_after_all_of_that(release_server) -> None:
    response = httpx.get(release_server.sparql, params={"query": "ASK { ?s ?p ?o }"})
    assert response.status_code == 200 and response.json()["boolean"] is True
    assert "Traceback" not in release_server.log()
