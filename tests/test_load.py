"""A small version of benchmarks/load/run.py for CI: load and a runaway-query storm on the seed release.

The full run (20,000 requests, 64 clients, a synthetic corpus, latencies and RSS) is the benchmark;
here the same mix and storm check what must hold on any machine: every answer right, no 5xx, no
transport error, every pathological query ended by the time limit with a clear message while
light queries keep being answered, and the server keeps its workers without a restart.
"""
from __future__ import annotations

import asyncio
import os
import socket
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from conftest import load_benchmark_module

load_benchmark = load_benchmark_module("load/run.py")
SLOW = {name: query for name, query in load_benchmark.STORM.items() if "capped" not in name}


def test_mixed_load_gets_only_right_answers(release_server) -> None:
    mix = load_benchmark.Mix(release_server.base_url)
    rss_before = load_benchmark.server_rss(release_server.process.pid)
    outcome = asyncio.run(load_benchmark.run_load(release_server.base_url, mix.calls(1000), clients=16))
    rss_after = load_benchmark.server_rss(release_server.process.pid)
    assert outcome.requests == 1000
    assert not outcome.errors and outcome.server_errors == 0, outcome.errors
    assert set(outcome.latencies) >= {"named query", "sparql GET", "sparql POST", "page HTML", "dump range"}
    assert rss_after - rss_before < 150 << 20, (rss_before, rss_after)  # no leak of that order in 1,000 requests


@pytest.fixture(scope="module")
def strict_server(kg_serve, built_release):
    """The seed release with a 1 s time limit: every STORM query but the capped one runs far longer."""
    return kg_serve("--build-dir", built_release.path.parent.parent, "--workers", "2", "--timeout", "1")


def test_storm_of_runaway_queries_ends_each_with_a_clear_error(strict_server) -> None:
    result = asyncio.run(load_benchmark.run_storm(strict_server.base_url, seconds=1, light_clients=2,
                                                  storm_clients=3, storm=SLOW))
    assert sorted(name for name, *_ in result.storm_answers) == sorted(SLOW)
    for name, status, _seconds, message in result.storm_answers:
        assert status == 503, (name, status, message)
        assert "did not finish within its time limit of 1 s" in message, name
    assert result.stormy and set(result.light_statuses) == {200}, result.light_statuses
    assert "Traceback" not in strict_server.log()


def test_the_server_recovers_its_workers_after_the_storm(strict_server) -> None:
    deadline = time.monotonic() + 60
    while len(load_benchmark.child_pids(strict_server.process.pid)) != 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # draining workers exit once their runaway's replacement is ready
    assert len(load_benchmark.child_pids(strict_server.process.pid)) == 2
    answer = httpx.get(strict_server.sparql, params={"query": "ASK { ?s ?p ?o }"})
    assert answer.status_code == 200 and answer.json()["boolean"] is True


def test_a_worker_with_a_runaway_query_asks_its_clients_to_reconnect(kg_serve, built_release) -> None:
    """A worker that abandoned a runaway query stops once its replacement is ready, closing its keep-alive
    connections: a client sending its next request on one just then got no answer ("Server disconnected").
    From the runaway on, the worker's answers say `Connection: close`, so clients move to the other workers."""
    server = kg_serve("--build-dir", built_release.path.parent.parent, "--workers", "1", "--timeout", "1")
    with httpx.Client(timeout=60) as kept, httpx.Client(timeout=60) as other:
        before = kept.get(server.sparql, params={"query": "ASK {}"})
        assert before.status_code == 200 and before.headers.get("connection") != "close"
        runaway = other.get(server.sparql, params={"query": next(iter(SLOW.values()))})
        assert runaway.status_code == 503
        after = kept.get(server.sparql, params={"query": "ASK {}"})  # on the same connection, to the same worker
    assert after.status_code == 200
    assert after.headers.get("connection") == "close"


def test_once_the_server_says_it_listens_every_worker_takes_connections(kg_serve, built_release) -> None:
    """Clients that connect together as soon as kg serve prints its URL are shared out over all its workers.

    A keep-alive client stays with the worker that accepted it. When the URL was printed before the
    workers had started, the queued clients all went to the first worker up (eight on one of four);
    with every worker up but uvloop's accept, which takes all queued connections at once, the first
    worker to wake still took most of them (7/1, 6/1/1). Either way CPUs stayed idle under load.
    """
    server = kg_serve("--build-dir", built_release.path.parent.parent, "--workers", "4")
    port = int(server.base_url.rsplit(":", 1)[1])
    clients = [socket.socket() for _ in range(8)]
    try:
        for client in clients:  # all connecting at once, as a load generator's clients do
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", port))
        for client in clients:
            client.setblocking(True)
            client.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for client in clients:  # answered, so accepted: each is now held by the worker that answered it
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
        held = connections_held(load_benchmark.child_pids(server.process.pid), port)
    finally:
        for client in clients:
            client.close()
    assert sum(held.values()) == 8, held
    assert len(held) == 4, held


def connections_held(pids: list[int], port: int) -> Counter:
    """How many established TCP connections on local `port` each process holds (Linux /proc)."""
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, _remote, state, *_, inode = line.split()[1:10]
        if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
            established.add(f"socket:[{inode}]")
    held = Counter()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            if os.readlink(fd) in established:
                held[pid] += 1
    return held
