"""Slow clients (slowloris, endless chunked bodies, silent connections) are cut off at the request deadline."""
from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import RunningServer

DEADLINE = 2.0


@pytest.fixture(scope="module")
def deadline_server(kg_serve, protocol_dataset) -> RunningServer:
    return kg_serve("--data", protocol_dataset, "--request-deadline", str(DEADLINE))


def connect(server: RunningServer) -> socket.socket:
    address = urlsplit(server.base_url)
    connection = socket.create_connection((address.hostname, address.port), timeout=10)
    return connection


def read_until_closed(connection: socket.socket, within: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and after how many seconds."""
    began, received = time.monotonic(), b""
    connection.settimeout(within)
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            return received, time.monotonic() - began
        received += chunk


def test_headers_sent_a_line_at_a_time_get_408_at_the_deadline(deadline_server) -> None:
    connection = connect(deadline_server)
    connection.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n")
    closed_at = None
    for line in range(20):  # slowloris: one more header line every half second, never the blank line
        time.sleep(0.5)
        try:
            connection.sendall(b"X-Slow-%d: 1\r\n" % line)
        except OSError:
            closed_at = line
            break
    answer, _ = read_until_closed(connection, 10)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b'"status": 408' in answer
    assert closed_at is not None and closed_at * 0.5 < DEADLINE + 3


def test_an_unfinished_chunked_body_is_cut_off(deadline_server) -> None:
    connection = connect(deadline_server)
    connection.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n5\r\nASK {\r\n")
    answer, seconds = read_until_closed(connection, DEADLINE + 10)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert seconds < DEADLINE + 5


def test_a_silent_connection_is_closed(deadline_server) -> None:
    connection = connect(deadline_server)
    answer, seconds = read_until_closed(connection, DEADLINE + 10)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert seconds < DEADLINE + 5


def test_a_request_sent_in_time_on_a_kept_alive_connection_is_answered(deadline_server) -> None:
    with httpx.Client(timeout=10) as client:  # one connection, requests well apart: each has its own deadline
        for _ in range(3):
            answer = client.get(deadline_server.sparql, params={"query": "ASK {}"},
                                headers={"accept": "application/sparql-results+json"})
            assert answer.json()["boolean"] is True
            time.sleep(DEADLINE / 2)


def test_light_queries_are_answered_while_hundreds_of_slow_connections_are_held(deadline_server) -> None:
    slow = []
    try:
        for _ in range(300):
            connection = connect(deadline_server)
            connection.sendall(b"GET /sparql HTTP/1.1\r\nHost: x\r\n")
            slow.append(connection)
        with httpx.Client(timeout=10) as client:
            answers = [client.get(deadline_server.sparql, params={"query": "ASK { ?s ?p ?o }"},
                                  headers={"accept": "application/sparql-results+json"}).status_code
                       for _ in range(50)]
        assert answers == [200] * 50
        time.sleep(DEADLINE + 1)
        closed = 0
        for connection in slow:
            connection.settimeout(5)
            try:
                closed += connection.recv(65536).startswith(b"HTTP/1.1 408 ")
            except OSError:
                pass
        assert closed == len(slow)
    finally:
        for connection in slow:
            connection.close()
    assert "Traceback" not in deadline_server.log()


def test_a_request_the_http_parser_refuses_gets_the_projects_json_error(deadline_server) -> None:
    connection = connect(deadline_server)
    connection.sendall(b"GET /sparql?query=ASK HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
    answer, _ = read_until_closed(connection, 10)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"content-type: application/json" in head.lower()
    assert json.loads(body)["message"].startswith("the HTTP request cannot be read")
