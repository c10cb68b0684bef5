#!/usr/bin/env python3
"""Bounded attack run against one real `kg serve`: every attack class of issue 19 in turn, with a light-query
probe and a memory sampler running beside it, each expectation checked and every failure shown.

One server (`kg serve --build-dir` over the seed release, two workers by default) on 127.0.0.1. For each
class, one after another, for `--seconds`:

- `--attackers` clients loop the class's attacks (round robin; slow clients are a held set of
  connections instead of a loop), each request bounded in size and the loop in time and count;
- one probe client, in its own process, sends light queries back to back (`ASK { ?s ?p ?o }` and a
  `SELECT ... LIMIT 10`, each with a distinct trailing comment so the result cache never answers it)
  and records their latencies;
- a sampler, in its own process, sums the proportional set size (PSS, /proc/PID/smaps_rollup) of the
  supervisor and all its descendants every `--sample-interval` seconds.

Per class: the attacks' statuses (0: no HTTP answer) and transport errors, the probe's count, p50/p99/max
and non-200 answers, the memory peak and the memory a few seconds after the class, the workers started
during it (replacements) and whether a traceback reached the server's log. A baseline row has no attack.
A canary listener on 127.0.0.1 counts the connections the server opens to it (SSRF: must stay 0).

    python benchmarks/attacks/run.py                  # about 3 minutes; writes benchmarks/attacks/RESULTS.md
    python benchmarks/attacks/run.py --only ssrf,nesting --seconds 5 --out /tmp/attacks.md

Linux only (/proc). Exit status 1 when any expectation failed.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib.metadata
import importlib.util
import itertools
import json
import multiprocessing
import os
import platform
import random
import resource
import select
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _load(name: str, path: Path):
    """A module from a file that is not in a package (the load benchmark, the tests' fixtures)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_load_benchmark = _load("load_benchmark", REPO / "benchmarks" / "load" / "run.py")
_fixtures = _load("kg_test_fixtures", REPO / "tests" / "conftest.py")
percentile = _load_benchmark.percentile
start_kg_serve, stop_kg_serve = _fixtures.start_kg_serve, _fixtures.stop_kg_serve

PROBES = ("ASK { ?s ?p ?o }", "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10")
SPOOFED_HOST = "attacker.invalid"
ERROR_KEYS = {"status", "error", "message"}
MB = 1 << 20


# -- answers and their tallies ------------------------------------------------------------------------------

@dataclass
class Answer:
    """How one attack request ended."""

    status: int  # 0: no HTTP answer (a transport error, or a held connection closed without one)
    seconds: float
    message: str = ""  # the error message of the answer, or what happened to the connection
    problem: str | None = None  # how the answer fails its expectation beyond its status


@dataclass
class Tally:
    """The answers to one attack over a class."""

    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)  # transport errors by kind
    problems: Counter = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    order: list[int] = field(default_factory=list)  # the statuses in the order the answers came
    messages: dict[int, str] = field(default_factory=dict)  # the first message seen for each status

    def add(self, answer: Answer) -> None:
        self.statuses[answer.status] += 1
        if answer.status == 0:
            self.errors[answer.message] += 1
        if answer.problem:
            self.problems[answer.problem] += 1
        self.seconds.append(answer.seconds)
        self.order.append(answer.status)
        self.messages.setdefault(answer.status, answer.message)

    @property
    def count(self) -> int:
        return sum(self.statuses.values())


@dataclass
class Attack:
    """One attack request (or held connection), what statuses it may get, and whether it must be answered fast."""

    name: str
    send: Callable[[Target, httpx.AsyncClient, int], Awaitable[Answer]]
    expected: frozenset[int]
    fast: bool = False  # a refusal that must come within --fast seconds


@dataclass
class Target:
    """The server under attack and what the attacks need to know about it."""

    base_url: str
    port: int
    pid: int  # the supervisor
    log_path: Path
    canary: Canary
    dump: str  # a dump file name, for Range attacks
    args: argparse.Namespace


def _message(response: httpx.Response) -> str:
    if response.status_code < 300:
        return ""
    try:
        return str(response.json().get("message", ""))[:160]
    except (ValueError, AttributeError):
        return response.text[:160].replace("\n", " ")


def _error_shape_problem(response: httpx.Response) -> str | None:
    """A 4xx/5xx whose body is not the project's JSON {"status", "error", "message"}."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return "error body is not JSON"
    if not isinstance(body, dict) or set(body) != ERROR_KEYS or body.get("status") != response.status_code:
        return "error body not in the project's shape"
    return None


def http_attack(name: str, expected: set[int], method: str, path: str | Callable[[Target, int], str], *,
                params: dict | Callable[[int], dict] | None = None,
                headers: dict | Callable[[int], dict] | None = None,
                content: bytes | Callable[[int], bytes] | None = None,
                check: Callable[[httpx.Response], str | None] | None = None, fast: bool = False) -> Attack:
    """An attack made of one HTTP request; `path` may depend on the target and the request number, `params`,
    `headers` and `content` on the request number."""
    def value(part, n):
        return part(n) if callable(part) else part

    async def send(target: Target, client: httpx.AsyncClient, n: int) -> Answer:
        url = path(target, n) if callable(path) else path
        started = time.perf_counter()
        try:
            response = await client.request(method, url, params=value(params, n), headers=value(headers, n),
                                            content=value(content, n))
        except httpx.HTTPError as error:
            return Answer(0, time.perf_counter() - started, f"transport: {type(error).__name__}")
        seconds = time.perf_counter() - started
        problem = _error_shape_problem(response) or (check(response) if check else None)
        return Answer(response.status_code, seconds, _message(response), problem)

    return Attack(name, send, frozenset(expected), fast)


def sparql_get(name: str, query: Callable[[int], str], expected: set[int], **options) -> Attack:
    return http_attack(name, expected, "GET", "/sparql", params=lambda n: {"query": query(n)},
                       headers={"accept": "application/sparql-results+json"}, **options)


def sparql_post(name: str, query: Callable[[int], str], expected: set[int], **options) -> Attack:
    return http_attack(name, expected, "POST", "/sparql", content=lambda n: query(n).encode(),
                       headers={"content-type": "application/sparql-query",
                                "accept": "application/sparql-results+json"}, **options)


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


FORM = {"content-type": "application/x-www-form-urlencoded"}


def distinct(text: str) -> Callable[[int], str]:
    """The query with a trailing comment naming the request: no cache (inspection, plan or answer) can help."""
    return lambda n: f"{text}\n# attack {n}"


# -- the attack classes -------------------------------------------------------------------------------------

@dataclass
class AttackClass:
    key: str
    title: str
    attacks: list[Attack]
    expectation: str  # what must hold, in words (the report shows it)
    held: bool = False  # a held set of connections (slow clients), not a loop of requests
    restarts_allowed: bool = False  # workers may be replaced (the memory budget's response)


def ssrf_attacks(target: Target) -> list[Attack]:
    """The SERVICE ban against the query policy's tokenizer: escapes, comments, case, whitespace, BASE, prefixes."""
    canary = f"http://127.0.0.1:{target.canary.port}"
    group = "{ ?a ?b ?c }"
    queries = {
        r"\u escape and # in an IRI, then SERVICE (issue 19)":
            f"ASK {{ BIND(<http://x/\\u0041#> AS ?z) SERVICE <{canary}/x> {group} }}",
        r"same, SELECT returning the service's answer":
            f"SELECT * {{ BIND(<http://x/\\u0041#> AS ?z) SERVICE <{canary}/x> {group} }}",
        r"\U escape and # in an IRI": f"ASK {{ BIND(<http://x/\\U00000041#> AS ?z) SERVICE <{canary}/x> {group} }}",
        "# inside a string, then SERVICE": f'ASK {{ BIND("#" AS ?z) SERVICE <{canary}/x> {group} }}',
        "escaped quote and # in a string": f'ASK {{ BIND("\\"#" AS ?z) SERVICE <{canary}/x> {group} }}',
        "# in a single-quoted string": f"ASK {{ BIND('#' AS ?z) SERVICE <{canary}/x> {group} }}",
        "# in a long string": f'ASK {{ BIND("""a"#\n""" AS ?z) SERVICE <{canary}/x> {group} }}',
        "lower case service": f"ASK {{ service <{canary}/x> {group} }}",
        "mixed case SeRvIcE SILENT": f"ASK {{ SeRvIcE SiLeNt <{canary}/x> {group} }}",
        "comment line between": f"ASK {{ # a comment\n\tSERVICE\n<{canary}/x>\n{group} }}",
        "comment glued to SERVICE": f"ASK {{ ?a ?b ?c #x\nSERVICE<{canary}/x>{group} }}",
        r"\u escapes in the SERVICE IRI": f"ASK {{ SERVICE <http://127.0.0.1:{target.canary.port}/\\u0078> {group} }}",
        "BASE-relative SERVICE IRI": f"BASE <{canary}/> ASK {{ SERVICE <x> {group} }}",
        "network-path //host IRI": f"BASE <http://example.org/> ASK {{ SERVICE <//127.0.0.1:{target.canary.port}/x> {group} }}",
        "prefixed-name SERVICE IRI": f"PREFIX c: <{canary}/> ASK {{ SERVICE c:x {group} }}",
        "FROM the canary (selects a graph of the store; never fetched)": f"SELECT * FROM <{canary}/x> {{ ?s ?p ?o }}",
    }
    attacks = [sparql_get(name, distinct(query), {200, 400, 403} if name.startswith("FROM") else {400, 403})
               for name, query in queries.items()]
    attacks.append(sparql_post("the issue's query by POST (sparql-query)", distinct(next(iter(queries.values()))),
                               {400, 403}))
    attacks.append(http_attack("the issue's query by POST (form)", {400, 403}, "POST", "/sparql", headers=FORM,
                               content=lambda n: form(query=distinct(next(iter(queries.values())))(n))))
    attacks.append(http_attack("LOAD <canary> (update)", {400, 403, 415}, "POST", "/sparql",
                               headers={"content-type": "application/sparql-update"},
                               content=f"LOAD <{canary}/x>".encode()))
    return attacks


def nesting_attacks(target: Target) -> list[Attack]:
    groups = "ASK " + "{" * 3000 + "}" * 3000
    parentheses = "SELECT (" + "(" * 5000 + "1" + ")" * 5000 + " AS ?x) {}"
    chain = "SELECT (" + "+".join(["1"] * 20_000) + " AS ?x) {}"
    return [
        sparql_get("3,000 nested groups (12 KB)", distinct(groups), {400}),
        sparql_get("5,000 nested parentheses", distinct(parentheses), {400}),
        sparql_post("1+1+...+1, 20,000 terms (POST)", distinct(chain), {200, 400}),
    ]


def memory_attacks(target: Target) -> list[Attack]:
    binds = ['BIND("0123456789abcdef" AS ?s0)'] + [f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(26)]
    bomb = "SELECT (STRLEN(?s26) AS ?n) { " + " ".join(binds) + " }"
    cross_join = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f"

    def says_why(response: httpx.Response) -> str | None:
        text = _message(response).lower()
        if response.status_code == 503 and not ("memory" in text or "time limit" in text):
            return "503 without 'memory budget' or 'time limit' in its message"
        return None

    return [
        sparql_get(f"CONCAT doubling bomb, 26 doublings ({len(quote(bomb, safe=''))}-byte GET)", distinct(bomb), {503},
                   check=says_why),
        sparql_get("cross join ORDER BY ?c ?f", distinct(cross_join), {503}, check=says_why),
    ]


def hog_attacks(target: Target) -> list[Attack]:
    over = "ASK { " + "?a " * 350_000 + "}"  # 1,050,006 bytes: over the 1 MiB limit
    under = "ASK { " + "?a " * 300_000 + "}"  # 900 KB of tokens: a syntax error, found off the loop
    values = "SELECT (COUNT(*) AS ?n) { VALUES ?a { " + "1 " * 450_000 + "} }"  # 900 KB, valid
    long_text = "a" * (1 << 20)
    properties = [{"id": f"p{i}"} for i in range(10_000)]
    escapes = "%20" * 349_000  # a 1,047,000-byte form body or query string: parsed, it is 349,000 spaces
    return [
        http_attack("/sparql, 1 MB form body of %-escapes (POST)", {400}, "POST", "/sparql", headers=FORM,
                    content=lambda n: f"query={escapes}%23{n}".encode(), fast=True),
        Attack("/sparql, 1 MB query string (GET)", raw_get(lambda n: f"/sparql?query={escapes}%23{n}"),
               frozenset({400, 414}), fast=True),
        sparql_post(f"token-dense query, {len(over):,} bytes (POST)", distinct(over), {413}, fast=True),
        sparql_post(f"token-dense query, {len(under):,} bytes (POST, just under)", distinct(under), {400}),
        sparql_post(f"VALUES with 450,000 numbers, {len(values):,} bytes (POST, valid)", distinct(values),
                    {200, 503}),
        Attack("/reconcile, 1 MB query string", raw_get(
            lambda n: "/reconcile?queries=" + quote(json.dumps({"q0": {"query": f"{n} {long_text}"}}), safe="")),
            frozenset({400, 413, 414}), fast=True),
        http_attack("/reconcile, 900 KB query text (POST form)", {413}, "POST", "/reconcile", headers=FORM,
                    content=lambda n: form(queries=json.dumps({"q0": {"query": f"{n} " + "a" * 900_000}})), fast=True),
        http_attack("data extension, 10,000 properties", {413}, "POST", "/reconcile", headers=FORM,
                    content=lambda n: form(extend=json.dumps({"ids": [f"e{n}"], "properties": properties})), fast=True),
        http_attack("data extension, 10,000 ids", {413}, "POST", "/reconcile", headers=FORM,
                    content=lambda n: form(extend=json.dumps({"ids": [f"e{n}-{i}" for i in range(10_000)],
                                                              "properties": [{"id": "P31"}]})), fast=True),
    ]


def cache_attacks(target: Target) -> list[Attack]:
    rng = random.Random(19)
    padding = "".join(rng.choices(string.ascii_letters, k=60_000))

    def big_query(n: int) -> str:
        return f'ASK {{ ?s ?p ?o FILTER(?o != "{n}-{padding[:60_000 - 40]}") }}'

    def big_accept(n: int) -> dict:
        offers = ", ".join(f"application/x-attack-{n}-{i};q=0.{1 + i % 8}" for i in range(250))
        return {"accept": f"{offers}, application/sparql-results+json"}

    return [
        sparql_get("distinct ~60 KB GET queries", big_query, {200}),
        http_attack("distinct ~8 KB Accept headers", {200}, "GET", "/sparql",
                    params={"query": "ASK { ?s ?p ?o }"}, headers=big_accept),
    ]


async def raw_upload(target: Target, head: bytes, body_part: bytes, most_bytes: int) -> Answer:
    """Send `head`, then `body_part` again and again until the server answers or `most_bytes` are sent."""
    started = time.perf_counter()
    sent = 0
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
    except OSError as error:
        return Answer(0, time.perf_counter() - started, f"transport: {type(error).__name__}")
    answer = asyncio.create_task(reader.read(65536))
    try:
        writer.write(head)
        while sent < most_bytes and not answer.done():
            writer.write(body_part)
            drained = asyncio.ensure_future(writer.drain())
            await asyncio.wait({drained, answer}, timeout=target.args.timeout, return_when=asyncio.FIRST_COMPLETED)
            if not drained.done():
                drained.cancel()
                break
            if drained.exception() is not None:
                break
            sent += len(body_part)
        try:
            received = await asyncio.wait_for(answer, target.args.timeout)
        except (asyncio.TimeoutError, OSError) as error:
            return Answer(0, time.perf_counter() - started, f"no answer after {sent / MB:.0f} MB sent "
                                                            f"({type(error).__name__})")
    finally:
        writer.close()
    seconds = time.perf_counter() - started
    status = int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/1.1 ") else 0
    message = f"answered after {sent / MB:.1f} MB of the body were sent"
    problem = None if sent < most_bytes else f"not answered before {most_bytes // MB} MB were sent"
    return Answer(status, seconds, message if status else f"closed without an answer; {message}", problem)


def raw_get(target_path: Callable[[int], str]) -> Callable[[Target, httpx.AsyncClient, int], Awaitable[Answer]]:
    """A GET sent on its own connection as written (httpx refuses URLs over 64 KB), read to the end."""
    async def send(target: Target, client: httpx.AsyncClient, n: int) -> Answer:
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
            try:
                writer.write(f"GET {target_path(n)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
                received = await asyncio.wait_for(reader.read(), target.args.timeout + 20)
            finally:
                writer.close()
        except (OSError, asyncio.TimeoutError) as error:
            return Answer(0, time.perf_counter() - started, f"transport: {type(error).__name__}")
        seconds = time.perf_counter() - started
        head, _, body = received.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
        response = httpx.Response(status, content=body) if status else None
        if response is None:
            return Answer(0, seconds, "closed without an answer")
        return Answer(status, seconds, _message(response), _error_shape_problem(response))
    return send


def small_attacks(target: Target) -> list[Attack]:
    digits = "9" * 4300
    field_value = "a" * MB
    fields = (b"&".join(b"f%d=%s" % (i, field_value.encode()) for i in range(2)) + b"&")
    upload_bound = 16 * MB

    def many_fields(chunked: bool) -> Callable[[Target, httpx.AsyncClient, int], Awaitable[Answer]]:
        async def send(target: Target, client: httpx.AsyncClient, n: int) -> Answer:
            framing = b"Transfer-Encoding: chunked\r\n" if chunked else b"Content-Length: %d\r\n" % (999 * (MB + 8))
            head = (b"POST /reconcile HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\n" + framing + b"\r\n")
            part = b"%x\r\n%s\r\n" % (len(fields), fields) if chunked else fields
            return await raw_upload(target, head, part, upload_bound)
        return send

    def not_reflected(response: httpx.Response) -> str | None:
        everywhere = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
        return f"the spoofed host appears in the answer to {response.request.url.path}" \
            if SPOOFED_HOST in everywhere else None

    spoof = {"host": SPOOFED_HOST}
    return [
        http_attack("Range: bytes=<4,300 digits>- on a dump", {416}, "GET", lambda target, n: f"/dumps/{target.dump}",
                    headers={"range": f"bytes={digits}-"}),
        http_attack("Range: bytes=0-<4,300 digits> on a dump", {206, 416}, "GET", lambda target, n: f"/dumps/{target.dump}",
                    headers={"range": f"bytes=0-{digits}"}),
        http_attack("/reconcile, JSON nested 100,000 deep", {400}, "POST", "/reconcile", headers=FORM,
                    content=lambda n: form(queries="[" * 100_000 + f"{n}" + "]" * 100_000)),
        Attack("/reconcile, 999 form fields of 1 MB (Content-Length)", many_fields(chunked=False), frozenset({413})),
        Attack("/reconcile, 1 MB form fields, chunked body", many_fields(chunked=True), frozenset({413})),
        http_attack("/sparql, form Content-Type with a raw query body", {400}, "POST", "/sparql", headers=FORM,
                    content=b"ASK { ?s ?p ?o }"),
        http_attack("/reconcile/extend/propose?limit=abc", {400}, "GET", "/reconcile/extend/propose",
                    params={"type": "Person", "limit": "abc"}),
        http_attack("spoofed Host: service description", {200}, "GET", "/sparql",
                    headers={**spoof, "accept": "text/turtle"}, check=not_reflected),
        http_attack("spoofed Host: /reconcile manifest", {200}, "GET", "/reconcile", headers=spoof,
                    check=not_reflected),
        http_attack("spoofed X-Forwarded-Host: /reconcile manifest", {200}, "GET", "/reconcile",
                    headers={"x-forwarded-host": SPOOFED_HOST, "x-forwarded-proto": "https",
                             "forwarded": f"host={SPOOFED_HOST}"}, check=not_reflected),
        http_attack("spoofed Host: /queries", {200}, "GET", "/queries", headers=spoof, check=not_reflected),
        http_attack("spoofed Host: /dumps redirect", {200, 301, 307, 308}, "GET", "/dumps", headers=spoof,
                    check=not_reflected),
    ]


def attack_classes(target: Target) -> list[AttackClass]:
    args = target.args
    budget = f"{args.workers} workers x {args.max_query_memory} MB"
    return [
        AttackClass("baseline", "baseline (no attack)", [], "probes all 200"),
        AttackClass("ssrf", "1. SSRF through SERVICE", ssrf_attacks(target),
                    "400/403 for every variant; the canary listener gets no connection"),
        AttackClass("nesting", "2. deep nesting and long chains", nesting_attacks(target),
                    "400 for nesting (200 or 400 for the chain); no worker crash or restart"),
        AttackClass("memory", "3. memory bombs", memory_attacks(target),
                    f"503 naming the memory budget or time limit; peak under {budget}; workers replaced",
                    restarts_allowed=True),
        AttackClass("slow", "4. slow clients (held connections)", [],
                    f"each held connection answered 408 and closed within the request deadline + "
                    f"{args.deadline_slack:g} s ({args.request_deadline + args.deadline_slack:g} s) of its connect; "
                    f"probe p99 <= {args.probe_p99_limit:g} ms and max <= {args.loop_stall_limit:g} s",
                    held=True),
        AttackClass("hogs", "5. event-loop hogs", hog_attacks(target),
                    f"over-limit inputs refused (4xx) within {args.fast:g} s; the rest answered within the time "
                    f"limit; probe max <= {args.loop_stall_limit:g} s"),
        AttackClass("cache", "6. cache filling", cache_attacks(target),
                    "200; memory after the class back near where it was before (as in every class but 3)"),
        AttackClass("small", "7. smaller holes", small_attacks(target),
                    "a Range past the end 416; JSON nested too deep 400; an over-long form 413 before the body "
                    "is read; a raw body with the form Content-Type 400; limit=abc 400; every error in the "
                    "project's shape; the spoofed host never in an answer"),
    ]


# -- slow clients -------------------------------------------------------------------------------------------

SLOW_HEADERS = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\n"
SLOW_CHUNKED = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n5\r\nASK {\r\n")


async def hold_slow_connection(target: Target, chunked: bool, opens_at: float, until: float) -> Answer:
    """Open a connection at `opens_at`, start a request and send a drop of it every --drip seconds, never
    finishing it; how long the server kept it open and what it answered."""
    await asyncio.sleep(max(0.0, opens_at - time.monotonic()))
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
    except OSError as error:
        return Answer(0, 0.0, f"could not connect: {type(error).__name__}", "could not connect")
    opened = time.monotonic()
    received, drops = b"", 0
    outcome = "still open at the end of the class"
    try:
        writer.write(SLOW_CHUNKED if chunked else SLOW_HEADERS)
        while time.monotonic() < until:
            try:
                data = await asyncio.wait_for(reader.read(4096),
                                              min(target.args.drip, max(0.01, until - time.monotonic())))
            except asyncio.TimeoutError:
                drops += 1
                writer.write(b"1\r\n \r\n" if chunked else b"X-Drip-%d: 1\r\n" % drops)
                continue
            if data:
                received += data
                continue
            outcome = "closed"
            break
    except OSError as error:
        outcome = f"reset ({type(error).__name__})"
    finally:
        writer.close()
    lived = time.monotonic() - opened
    status = int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/1.1 ") else 0
    limit = target.args.request_deadline + target.args.deadline_slack
    problem = None
    if outcome != "closed" and not outcome.startswith("reset"):
        problem = "still open at the end of the class"
    elif lived > limit:
        problem = "open past the deadline + slack, counted from the client's connect"
    message = f"{outcome} after {lived:.1f} s" + ("" if status else ", no answer")
    return Answer(status, lived, message, problem)


async def hold_slow_connections(target: Target, seconds: float) -> dict[str, Tally]:
    args = target.args
    began = time.monotonic()
    until = began + seconds
    plans = [(False, began + args.ramp * i / args.slow_connections) for i in range(args.slow_connections)]
    plans += [(True, began + args.ramp * i / max(args.chunked_connections, 1)) for i in range(args.chunked_connections)]
    answers = await asyncio.gather(*(hold_slow_connection(target, chunked, at, until) for chunked, at in plans))
    tallies = {"slowloris: a header line every drip": Tally(), "unfinished chunked body": Tally()}
    for (chunked, _), answer in zip(plans, answers):
        tallies["unfinished chunked body" if chunked else "slowloris: a header line every drip"].add(answer)
    return tallies


# -- the probe, the sampler and the canary -------------------------------------------------------------------

def probe_loop(base_url: str, stop, ready, results, timeout: float, most: int) -> None:
    """Light queries back to back until `stop` is set, into `results` as (started, seconds, status, fresh).

    They alternate between a kept-alive connection (opened before the class starts) and a new
    connection each (`Connection: close`, as curl or a script without a session sends them): a server
    slow to accept connections shows only in the second.
    """
    answers = []
    with httpx.Client(base_url=base_url, timeout=timeout) as kept, \
            httpx.Client(base_url=base_url, timeout=timeout, headers={"connection": "close"}) as fresh:
        kept.get("/sparql", params={"query": PROBES[0]})
        ready.set()
        for n in range(most):
            if stop.is_set():
                break
            query = f"{PROBES[(n // 2) % 2]}\n# probe {n}"
            new_connection = n % 2 == 1
            started = time.monotonic()
            try:
                status = (fresh if new_connection else kept).get(
                    "/sparql", params={"query": query}, headers={"accept": "application/sparql-results+json"}).status_code
            except httpx.HTTPError:
                status = 0
            answers.append((started, time.monotonic() - started, status, new_connection))
    results.put(answers)


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (children of any of its threads), from /proc."""
    found, pending = [], [pid]
    while pending:
        each = pending.pop()
        found.append(each)
        try:
            tasks = os.listdir(f"/proc/{each}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                pending.extend(int(c) for c in Path(f"/proc/{each}/task/{task}/children").read_text().split())
            except (FileNotFoundError, ProcessLookupError):
                pass
    return found


def children(pid: int) -> list[int]:
    return [p for p in descendants(pid) if p != pid and _parent(p) == pid]


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return -1


def tree_pss(pid: int) -> int:
    """Proportional set size (bytes) of `pid` and all its descendants."""
    total = 0
    for each in descendants(pid):
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def sample_memory(pid: int, path: str, interval: float, stop) -> None:
    """Every `interval` seconds: the time, the server's total PSS and its workers' PIDs, one line each."""
    with open(path, "w") as out:
        while not stop.is_set():
            now = time.monotonic()
            out.write(f"{now:.3f} {tree_pss(pid)} {','.join(map(str, children(pid)))}\n")
            out.flush()
            stop.wait(interval)


@dataclass
class Sample:
    at: float
    pss: int
    workers: tuple[int, ...]


def read_samples(path: Path, start: float, end: float) -> list[Sample]:
    samples = []
    for line in path.read_text().splitlines():
        parts = line.split(" ")
        if len(parts) == 3 and start <= float(parts[0]) <= end:
            samples.append(Sample(float(parts[0]), int(parts[1]),
                                  tuple(int(p) for p in parts[2].split(",") if p)))
    return samples


class Canary:
    """A listener on 127.0.0.1 that only counts the connections made to it (and keeps their first bytes)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.setblocking(False)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self.first_bytes: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.socket], [], [], 0.1)
            if ready:
                try:
                    connection, _ = self.socket.accept()
                except BlockingIOError:
                    continue
                self.connections += 1
                connection.settimeout(0.5)
                try:
                    self.first_bytes.append(connection.recv(300))
                except OSError:
                    pass
                connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.socket.close()


# -- one class ----------------------------------------------------------------------------------------------

@dataclass
class ClassResult:
    attack_class: AttackClass
    tallies: dict[str, Tally]
    probes: list[tuple[float, float, int, bool]]  # started, seconds, status, on a new connection
    seconds: float
    memory_before: int
    memory_peak: int
    memory_after: int
    new_workers: int
    ended_by_signal: int
    tracebacks: int
    canary_connections: int
    problems: list[str] = field(default_factory=list)

    def probe_seconds(self, new_connection: bool | None = None) -> list[float]:
        """Latencies of the probes (on kept-alive connections, new ones, or all)."""
        return [seconds for _, seconds, _, fresh in self.probes if new_connection in (None, fresh)]

    @property
    def probe_failures(self) -> Counter:
        return Counter(status for _, _, status, _ in self.probes if status != 200)


async def loop_attacks(target: Target, attacks: list[Attack], seconds: float, most: int) -> dict[str, Tally]:
    """`--attackers` clients send the attacks for `seconds`, at most `most` in all, each time the attack sent
    least so far; past `seconds` only attacks not sent yet are, until --overtime more seconds have passed."""
    tallies = {attack.name: Tally() for attack in attacks}
    began = time.monotonic()
    numbers = itertools.count()
    sent = Counter({attack.name: 0 for attack in attacks})
    timeout = httpx.Timeout(target.args.timeout + 20)

    async def attacker() -> None:
        async with httpx.AsyncClient(base_url=target.base_url, timeout=timeout) as client:
            while True:
                n, now = next(numbers), time.monotonic()
                attack = min(attacks, key=lambda a: sent[a.name])
                if n >= most or now >= began + seconds + target.args.overtime:
                    return
                if now >= began + seconds and sent[attack.name]:
                    return
                sent[attack.name] += 1
                try:
                    answer = await attack.send(target, client, n)
                except Exception as error:  # a harness bug: shown as a failed expectation, the run goes on
                    answer = Answer(0, 0.0, f"harness error: {error!r}"[:160], "harness error")
                tallies[attack.name].add(answer)

    await asyncio.gather(*(attacker() for _ in range(target.args.attackers)))
    return tallies


def wait_for_workers(target: Target, within: float = 60) -> None:
    """Until the supervisor has exactly its workers again (replacements started, drained ones gone)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if len(children(target.pid)) == target.args.workers:
            try:
                if httpx.get(f"{target.base_url}/sparql", params={"query": "ASK {}"}, timeout=10).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
        time.sleep(0.2)


def run_class(target: Target, attack_class: AttackClass, samples_path: Path) -> ClassResult:
    args = target.args
    log_offset = target.log_path.stat().st_size
    workers_before = set(children(target.pid))
    memory_before = tree_pss(target.pid)
    canary_before = target.canary.connections
    context = multiprocessing.get_context("spawn")
    stop, ready, results = context.Event(), context.Event(), context.Queue()
    probe = context.Process(target=probe_loop, args=(target.base_url, stop, ready, results,
                                                     args.timeout + 20, args.most_probes))
    probe.daemon = True
    probe.start()
    try:
        ready.wait(60)
        started = time.monotonic()
        if attack_class.held:
            tallies = asyncio.run(hold_slow_connections(target, max(args.seconds, args.slow_cap)))
        elif attack_class.attacks:
            most = args.cache_requests if attack_class.key == "cache" else args.most_requests
            tallies = asyncio.run(loop_attacks(target, attack_class.attacks, args.seconds, most))
        else:
            time.sleep(args.seconds)
            tallies = {}
        ended = time.monotonic()
        stop.set()
        probes = results.get(timeout=args.timeout + 60)
    finally:
        stop.set()
        probe.join(args.timeout + 30)
        if probe.is_alive():
            probe.terminate()  # the process this run started, by its handle
            probe.join(10)
    time.sleep(args.settle)
    wait_for_workers(target)
    memory_after = tree_pss(target.pid)
    samples = read_samples(samples_path, started, time.monotonic())
    seen_workers = {pid for sample in samples for pid in sample.workers}
    log = target.log_path.read_bytes()[log_offset:].decode(errors="replace")
    result = ClassResult(
        attack_class, tallies, probes, ended - started, memory_before,
        max([s.pss for s in samples] + [memory_before, memory_after]), memory_after,
        len(seen_workers - workers_before), log.count("was ended by"), log.count("Traceback"),
        target.canary.connections - canary_before)
    result.problems = problems_of(result, target)
    return result


def problems_of(result: ClassResult, target: Target) -> list[str]:
    """Every expectation of the class that did not hold, in words."""
    args, attack_class = target.args, result.attack_class
    problems = []
    expected = {attack.name: attack for attack in attack_class.attacks}
    for name, tally in result.tallies.items():
        attack = expected.get(name)
        allowed = attack.expected if attack else frozenset({408})
        wrong = {status: count for status, count in tally.statuses.items() if status not in allowed}
        if wrong:
            problems.append(f"{name}: got {_statuses(wrong)}, expected {'/'.join(map(str, sorted(allowed)))}")
        for problem, count in tally.problems.items():
            problems.append(f"{name}: {problem} ({count}x)")
        late = [s for status, s in zip(tally.order, tally.seconds) if status and s > args.timeout + 2]
        if attack and late:
            problems.append(f"{name}: {len(late)} answer(s) past the time limit + 2 s (max {max(late):.1f} s)")
        if attack and attack.fast:
            slow = [s for status, s in zip(tally.order, tally.seconds) if 400 <= status < 500 and s > args.fast]
            if slow:
                problems.append(f"{name}: {len(slow)} refusals took over {args.fast:g} s (max {max(slow):.2f} s)")
    if result.probe_failures:
        problems.append(f"probe answers not 200: {_statuses(result.probe_failures)}")
    if not result.probes:
        problems.append("no probe answered")
    if result.tracebacks:
        problems.append(f"{result.tracebacks} traceback(s) in the server's log")
    if result.canary_connections:
        problems.append(f"the canary listener got {result.canary_connections} connection(s)")
    if result.new_workers and not attack_class.restarts_allowed:
        problems.append(f"{result.new_workers} worker(s) started (restarts), "
                        f"{result.ended_by_signal} ended by a signal")
    ceiling = args.workers * args.max_query_memory * MB
    if result.memory_peak > ceiling:
        problems.append(f"memory peak {result.memory_peak / MB:.0f} MB over workers x budget ({ceiling // MB} MB)")
    for fresh, kind in ((False, "kept-alive"), (True, "new-connection")):
        seconds = result.probe_seconds(fresh)
        if attack_class.held and seconds and percentile(seconds, 99) * 1000 > args.probe_p99_limit:
            problems.append(f"{kind} probe p99 {percentile(seconds, 99) * 1000:.0f} ms over {args.probe_p99_limit:g} ms")
        if attack_class.key in ("hogs", "slow") and seconds and max(seconds) > args.loop_stall_limit:
            problems.append(f"{kind} probe max {max(seconds):.2f} s over {args.loop_stall_limit:g} s")
    if not attack_class.restarts_allowed and result.memory_after - result.memory_before > args.memory_after_limit * MB:
        problems.append(f"memory after the class {(result.memory_after - result.memory_before) / MB:+.0f} MB "
                        f"(limit +{args.memory_after_limit} MB)")
    return problems


def _statuses(counts: dict[int, int]) -> str:
    return ", ".join(f"{'no answer' if status == 0 else status}: {count}" for status, count in sorted(counts.items()))


# -- the report ---------------------------------------------------------------------------------------------

def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in ("pyoxigraph", "uvicorn", "httpx"))
    return (f"{os.cpu_count()} CPUs ({model}), {memory / (1 << 20):.1f} GB RAM, Linux {platform.release()}, "
            f"Python {platform.python_version()}, {versions}; client, probe, sampler and server share the machine")


def revision() -> str:
    head = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "kg"], cwd=REPO, capture_output=True,
                           text=True).stdout.split("\n")
    changed = [line[3:] for line in dirty if line.strip()]
    shown = head if len(head) <= 90 else head[:head.rfind(" ", 0, 88)] + " …"
    return f"`{shown}`" + (f", with uncommitted changes to {', '.join(changed)}" if changed else "")


def report(results: list[ClassResult], target: Target, command: str, began: datetime.datetime,
           load_before: str) -> str:
    args = target.args
    load_after = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    lines = [
        "# Attack run: results", "",
        f"{began:%Y-%m-%d %H:%M} UTC, {machine()}. Load average (1, 5, 15 min) before the run: {load_before}; "
        f"after it: {load_after}.", "",
        f"Code: {revision()}.", "",
        f"    {command}", "",
        "## Method", "",
        f"One `kg serve --build-dir` over the seed release ({args.workers} workers, time limit {args.timeout:g} s, "
        f"--max-query-memory {args.max_query_memory} MB, --request-deadline {args.request_deadline:g} s), on 127.0.0.1. "
        f"Each class runs for {args.seconds:g} s (slow clients: until the server has closed every held "
        f"connection, {args.slow_cap:g} s at most), one after another: {args.attackers} attacking clients loop the class's attacks round robin "
        "(every query carries a distinct trailing comment, so no cache answers it; every attack is sent at least "
        "once), while one probe client in its own process sends light queries back to back (`ASK { ?s ?p ?o }` "
        "and `SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10`, each with a distinct comment: never a cached answer), "
        "alternately on a kept-alive connection and on a new connection each (the probe waits for each "
        "answer, so a stall shows in its max more than in its p99), and a sampler process sums "
        "the PSS of the supervisor and all its descendants (/proc/PID/smaps_rollup) every "
        f"{args.sample_interval * 1000:.0f} ms. *Memory after* is read {args.settle:g} s after the class, once "
        "the supervisor has its workers again; in every class but the memory bombs (whose workers are replaced) "
        f"it must be within +{args.memory_after_limit} MB of *memory before* (the caches are bounded in bytes: "
        "58 MB a worker). *Workers started* counts worker PIDs that appeared during the "
        "class (replacements); *traceback* is whether `Traceback` appeared in the server's stderr during it. "
        f"Slow clients: {args.slow_connections} slowloris connections (a header line every {args.drip:g} s, opened "
        f"over the first {args.ramp:g} s) and {args.chunked_connections} unfinished chunked bodies, held, not "
        f"looped. A canary listener on 127.0.0.1 counts connections the server opens to it.", "",
        "## Classes", "",
        "| class | attack requests | attack statuses (0: no answer) | probes | probe ms p50 / p99 / max, "
        "kept-alive connection | probe ms p50 / p99 / max, new connection | probe non-200 | "
        "memory MB before / peak / after | workers started | traceback | as expected |",
        "|---|---:|---|---:|---|---|---:|---|---:|---|---|",
    ]
    for result in results:
        statuses = Counter()
        for tally in result.tallies.values():
            statuses.update(tally.statuses)
        verdict = "yes" if not result.problems else "**no**: " + "; ".join(result.problems)
        lines.append(
            f"| {result.attack_class.title} | {sum(statuses.values())} | {_statuses(statuses) or '-'} | "
            f"{len(result.probes)} | {_spread(result.probe_seconds(False))} | {_spread(result.probe_seconds(True))} | "
            f"{sum(result.probe_failures.values())} | "
            f"{result.memory_before / MB:.0f} / {result.memory_peak / MB:.0f} / {result.memory_after / MB:.0f} | "
            f"{result.new_workers} | {'yes' if result.tracebacks else 'no'} | {_cell(verdict)} |")
    lines += ["", "Expectations per class:", ""]
    lines += [f"- {result.attack_class.title}: {result.attack_class.expectation}." for result in results]
    lines += ["", "## Attacks", "",
              "| class | attack | sent | statuses | expected | p50 s | max s | first message |",
              "|---|---|---:|---|---|---:|---:|---|"]
    for result in results:
        expected = {attack.name: attack.expected for attack in result.attack_class.attacks}
        for name, tally in result.tallies.items():
            allowed = expected.get(name, frozenset({408}))
            first = next((tally.messages[s] for s in sorted(tally.messages) if tally.messages[s]), "")
            lines.append(f"| {result.attack_class.key} | {_cell(name)} | {tally.count} | {_statuses(tally.statuses)} | "
                         f"{'/'.join(map(str, sorted(allowed)))} | {percentile(tally.seconds, 50):.3f} | "
                         f"{max(tally.seconds, default=float('nan')):.3f} | {_cell(first[:140])} |")
    lines += ["", f"Canary listener: {target.canary.connections} connection(s) over the whole run.", ""]
    return "\n".join(lines)


def _spread(seconds: list[float]) -> str:
    if not seconds:
        return "-"
    return f"{percentile(seconds, 50) * 1000:.1f} / {percentile(seconds, 99) * 1000:.1f} / {max(seconds) * 1000:.0f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- the run ------------------------------------------------------------------------------------------------

def raise_open_files(needed: int) -> None:
    """Raise this process's (and so the server's) soft limit of open files to `needed`, within the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed if hard == resource.RLIM_INFINITY else min(needed, hard), hard))


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="how long each class runs (default: 15)")
    parser.add_argument("--only", default="", help="comma-separated classes to run (baseline, ssrf, nesting, "
                                                   "memory, slow, hogs, cache, small); default: all")
    parser.add_argument("--attackers", type=int, default=2, help="attacking clients per class (default: 2)")
    parser.add_argument("--most-requests", type=int, default=5000, help="attack requests per class at most")
    parser.add_argument("--cache-requests", type=int, default=4000,
                        help="cache-filling requests at most (half big queries, half big Accept headers)")
    parser.add_argument("--overtime", type=float, default=30.0,
                        help="seconds past --seconds a class may take to send each of its attacks once")
    parser.add_argument("--most-probes", type=int, default=100_000, help="probe queries per class at most")
    parser.add_argument("--slow-connections", type=int, default=1000)
    parser.add_argument("--chunked-connections", type=int, default=10)
    parser.add_argument("--slow-cap", type=float, default=40.0,
                        help="seconds slow connections are held at most (the class ends when all are closed)")
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds over which slow connections are opened")
    parser.add_argument("--drip", type=float, default=5.0, help="seconds between two drops of a slow request")
    parser.add_argument("--deadline-slack", type=float, default=2.0,
                        help="seconds past the request deadline a slow connection may stay open")
    parser.add_argument("--sample-interval", type=float, default=0.05)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after a class before 'memory after'")
    parser.add_argument("--fast", type=float, default=1.0, help="seconds within which a hog must be refused")
    parser.add_argument("--probe-p99-limit", type=float, default=100.0, help="ms, probe p99 during slow clients")
    parser.add_argument("--loop-stall-limit", type=float, default=1.0,
                        help="seconds, probe max during hogs and slow clients")
    parser.add_argument("--memory-after-limit", type=int, default=256,
                        help="MB the server may have grown by after a class (its caches: 58 MB a worker)")
    parser.add_argument("--workers", type=int, default=2, help="kg serve --workers (default: 2)")
    parser.add_argument("--timeout", type=float, default=10.0, help="kg serve --timeout (default: 10)")
    parser.add_argument("--max-query-memory", type=int, default=1024, help="kg serve --max-query-memory MB")
    parser.add_argument("--request-deadline", type=float, default=10.0, help="kg serve --request-deadline")
    parser.add_argument("--build-dir", type=Path, help="reuse this build folder (built there when empty); "
                                                       "default: the seed release built in a temporary folder")
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "attacks",
                        help="server log and memory samples")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    return parser.parse_args()


def main() -> int:
    args = parse_arguments()
    began = datetime.datetime.now(datetime.timezone.utc)
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    command = "python benchmarks/attacks/run.py" + "".join(f" {a}" for a in sys.argv[1:])
    raise_open_files(args.slow_connections + args.chunked_connections + 512)
    args.work.mkdir(parents=True, exist_ok=True)
    scratch = None
    if args.build_dir is None:
        scratch = Path(tempfile.mkdtemp(prefix="kg-attacks-"))
        args.build_dir = scratch / "build"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # SIGTERM stops the server too, as Ctrl-C does
    canary = Canary()
    canary.start()
    server = sampler = None
    stop_sampling = multiprocessing.get_context("spawn").Event()
    try:
        if not (args.build_dir / "current").exists():
            subprocess.run([sys.executable, "-m", "kg.cli.main", "build", "--build-dir", str(args.build_dir)],
                           cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        server = start_kg_serve(["--build-dir", str(args.build_dir), "--workers", str(args.workers),
                                 "--timeout", f"{args.timeout:g}", "--max-query-memory", str(args.max_query_memory),
                                 "--request-deadline", f"{args.request_deadline:g}"], args.work)
        port = int(server.base_url.rsplit(":", 1)[1])
        samples_path = args.work / "memory-samples.txt"
        sampler = multiprocessing.get_context("spawn").Process(
            target=sample_memory, args=(server.process.pid, str(samples_path), args.sample_interval, stop_sampling))
        sampler.start()
        listing = httpx.get(f"{server.base_url}/dumps/?format=json", timeout=30).json()
        dump = max((f for f in listing["files"] if not f["name"].endswith(".gz")), key=lambda f: f["bytes"])["name"]
        target = Target(server.base_url, port, server.process.pid, server.log_path, canary, dump, args)
        chosen = {key.strip() for key in args.only.split(",") if key.strip()}
        results = []
        for attack_class in attack_classes(target):
            if chosen and attack_class.key not in chosen:
                continue
            print(f"{time.strftime('%H:%M:%S')} {attack_class.title} ...", file=sys.stderr, flush=True)
            results.append(run_class(target, attack_class, samples_path))
            print(f"  {'as expected' if not results[-1].problems else results[-1].problems}", file=sys.stderr,
                  flush=True)
        text = report(results, target, command, began, load_before)
    finally:
        stop_sampling.set()
        if sampler is not None:
            sampler.join(10)
        if server is not None:
            stop_kg_serve(server.process)
        canary.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 1 if any(result.problems for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
