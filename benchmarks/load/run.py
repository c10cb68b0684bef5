"""Load and runaway-query storm against a real `kg serve`, over loopback.

Two phases, one server:

1. load: `--requests` requests from `--clients` concurrent clients, a mix of named queries, SPARQL
   queries (GET and POST), entity/event/claim/article pages (HTML and Turtle), the dumps listing,
   whole compressed dumps and byte ranges of the big ones. Every response is checked (status and
   the bytes it should carry); the RSS of the server (supervisor + workers) is read before and after.
2. storm: light queries from `--light-clients` clients, first alone for `--seconds`, then while
   `--storm-clients` clients keep sending the pathological queries of STORM (each must end with a
   clear 503 within the time limit + 1 s). The light latencies (p50/p99) of both halves are reported.

    python benchmarks/load/run.py --articles 100 --requests 20000 --clients 64

It generates and builds the synthetic corpus (benchmarks/corpus.py) in `--work` when missing,
starts `kg serve --build-dir`, and writes RESULTS.md beside this file. `run_load`, `run_storm`,
`Mix` and `server_rss` are also used by tests/test_load.py on the seed release.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DIPL = "https://w3id.org/diplomacy-kg/ontology#"
PREFIXES = (f"PREFIX dipl: <{DIPL}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            "PREFIX schema: <http://schema.org/> ")

# Pathological queries: each is far too slow for the time limit on the synthetic corpus and must
# end with a clear error (503) without stalling the server; the last one only produces far more
# than the result cap.
STORM = {
    "cartesian product of all triples": "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "unbounded property path (p|!p)*":
        f"SELECT (COUNT(*) AS ?n) {{ ?s (<{DIPL}participant>|!<{DIPL}participant>)* ?o }}",
    "huge GROUP BY": "SELECT ?c ?f (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f } GROUP BY ?c ?f ORDER BY DESC(?n)",
    "REGEX over every pair of literals":
        'SELECT (COUNT(*) AS ?n) { ?s ?p ?o . ?t ?q ?r '
        'FILTER(isLiteral(?o) && isLiteral(?r) && REGEX(CONCAT(STR(?o), STR(?r)), "(a|e)+(i|o)+u$", "i")) }',
    "deep OPTIONAL chain": "SELECT * { ?s ?p ?o " + " ".join(
        f"OPTIONAL {{ ?o{i} ?p{i} ?x{i} }}" for i in range(8)) + " } ORDER BY ?x7",
    "enormous sorted result": "SELECT * { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f",
    "enormous sorted CONSTRUCT": "CONSTRUCT { ?a ?b ?f } WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?f ?a",
    # Not slow, only big: the result cap answers it with its first rows and X-Result-Limit.
    "SELECT * of everything (capped)": "SELECT * { ?a ?b ?c . ?d ?e ?f }",
}
LIGHT = [  # what other clients keep asking during a storm
    PREFIXES + "SELECT ?label { ?e a dipl:State ; rdfs:label ?label } LIMIT 20",
    PREFIXES + "SELECT ?s ?o { ?s dipl:speaker ?o } LIMIT 10",
    PREFIXES + "ASK { ?s a dipl:Summit }",
]


@dataclass(frozen=True)
class Call:
    """One request of the mix and what its answer must look like."""

    kind: str
    method: str
    path: str
    params: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    body: bytes | None = None
    status: int = 200
    length: int | None = None  # exact body length, when known


@dataclass
class Outcome:
    """What a batch of requests gave: statuses, transport errors, latencies, problems seen."""

    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)  # transport errors and wrong answers
    latencies: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(c for e, c in self.errors.items() if e.startswith("transport"))

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


def sparql_rows(client: httpx.Client, base_url: str, query: str) -> list[dict]:
    response = client.get(f"{base_url}/sparql", params={"query": query}, headers={"accept": "application/json"})
    response.raise_for_status()
    return response.json()["results"]["bindings"]


class Mix:
    """The request mix, read from the server itself: its named queries, dumps and some IRIs of each kind."""

    def __init__(self, base_url: str, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        with httpx.Client(timeout=60) as client:
            self.queries = [q["name"] for q in client.get(f"{base_url}/queries").json()
                            if not any(p["required"] for p in q["parameters"]) and "federation" not in q["name"]]
            listing = client.get(f"{base_url}/dumps/?format=json").json()
            self.dumps = {f["name"]: f["bytes"] for f in listing["files"]}
            self.base = listing["base"]
            self.paths = {}
            for kind, pattern in (("entity", "?x a dipl:State"), ("entity", "?x a dipl:Person"),
                                  ("event", "VALUES ?c { dipl:Summit dipl:Meeting } ?x a ?c"),
                                  ("claim", "?x a dipl:Claim"), ("article", "?x a schema:NewsArticle")):
                rows = sparql_rows(client, base_url, f"{PREFIXES} SELECT ?x {{ {pattern} }} LIMIT 50")
                self.paths.setdefault(kind, []).extend(
                    "/" + row["x"]["value"].removeprefix(listing["base"]) for row in rows)

    def calls(self, count: int) -> list[Call]:
        """`count` calls drawn with fixed weights: queries 45 %, pages 35 %, dumps 20 %.

        Named queries over the whole corpus are the most expensive requests by far (a few hundred
        ms each on 300 articles); most named-query calls ask for one speaker's statements instead.
        """
        makers = [(self._named_query, 4), (self._speaker_statements, 16), (self._sparql_get, 15), (self._sparql_post, 10),
                  (self._page_html, 20), (self._page_turtle, 15), (self._dump_listing, 4),
                  (self._dump_range, 12), (self._dump_small, 4)]
        functions, weights = zip(*makers)
        return [self.rng.choices(functions, weights)[0]() for _ in range(count)]

    def _named_query(self) -> Call:
        return Call("named query", "GET", f"/queries/{self.rng.choice(self.queries)}", {"format": "json"})

    def _speaker_statements(self) -> Call:
        speaker = self.base + self.rng.choice(self.paths["entity"]).lstrip("/")
        return Call("named query, 1 speaker", "GET", "/queries/statements", {"speaker": speaker, "format": "json"})

    def _sparql_get(self) -> Call:
        query = self.rng.choice(LIGHT + [PREFIXES + "SELECT ?who (COUNT(?s) AS ?n) { ?s dipl:speaker ?who } "
                                                    "GROUP BY ?who ORDER BY DESC(?n) LIMIT 10"])
        return Call("sparql GET", "GET", "/sparql", {"query": query}, {"accept": "application/sparql-results+json"})

    def _sparql_post(self) -> Call:
        subject = self.rng.choice(self.paths["entity"])
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ BIND(<{self.base}{subject.lstrip('/')}> AS ?s) ?s ?p ?o }}"
        return Call("sparql POST", "POST", "/sparql", headers={"content-type": "application/sparql-query",
                                                               "accept": "application/n-triples"},
                    body=query.encode())

    def _page(self) -> str:
        return self.rng.choice(self.paths[self.rng.choice(list(self.paths))])

    def _page_html(self) -> Call:
        return Call("page HTML", "GET", self._page(), headers={"accept": "text/html"})

    def _page_turtle(self) -> Call:
        return Call("page Turtle", "GET", self._page(), headers={"accept": "text/turtle"})

    def _dump_listing(self) -> Call:
        return Call("dumps listing", "GET", "/dumps/", {"format": "json"})

    def _dump_range(self) -> Call:
        name = self.rng.choice([n for n in self.dumps if not n.endswith(".gz")])
        start = self.rng.randrange(max(self.dumps[name] - 1, 1))
        end = min(start + self.rng.randrange(1, 1 << 16), self.dumps[name] - 1)
        return Call("dump range", "GET", f"/dumps/{name}", headers={"range": f"bytes={start}-{end}"},
                    status=206, length=end - start + 1)

    def _dump_small(self) -> Call:
        name = min((n for n in self.dumps if n.endswith(".gz")), key=self.dumps.get)
        return Call("dump file", "GET", f"/dumps/{name}", length=self.dumps[name])


async def run_load(base_url: str, calls: list[Call], clients: int, timeout: float = 60) -> Outcome:
    """Send `calls` from `clients` concurrent connections; check every answer."""
    outcome = Outcome()
    queue = list(reversed(calls))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
        async def worker() -> None:
            while queue:
                call = queue.pop()
                started = time.perf_counter()
                try:
                    response = await client.request(call.method, call.path, params=call.params,
                                                    headers=call.headers, content=call.body)
                except httpx.HTTPError as error:
                    outcome.errors[f"transport: {type(error).__name__}"] += 1
                    continue
                outcome.latencies.setdefault(call.kind, []).append(time.perf_counter() - started)
                outcome.statuses[response.status_code] += 1
                if response.status_code != call.status:
                    outcome.errors[f"{call.kind}: status {response.status_code}"] += 1
                elif call.length is not None and len(response.content) != call.length:
                    outcome.errors[f"{call.kind}: {len(response.content)} bytes, not {call.length}"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        outcome.seconds = time.perf_counter() - started
    return outcome


@dataclass
class StormResult:
    """Light-query latencies without and during a storm, and how each storm query ended."""

    calm: list[float]
    stormy: list[float]
    light_statuses: Counter
    storm_answers: list[tuple[str, int, float, str]]  # name, status, seconds, message


async def run_storm(base_url: str, seconds: float, light_clients: int, storm_clients: int,
                    storm: dict[str, str] = STORM) -> StormResult:
    """Light queries alone for `seconds`, then for as long as `storm_clients` clients send every
    query of `storm` once each (round robin over the clients)."""
    statuses: Counter = Counter()
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        async def light(until: asyncio.Event, into: list[float]) -> None:
            rng = random.Random(len(into))
            while not until.is_set():
                started = time.perf_counter()
                response = await client.get("/sparql", params={"query": rng.choice(LIGHT)})
                into.append(time.perf_counter() - started)
                statuses[response.status_code] += 1

        async def light_phase(into: list[float], during) -> object:
            stop = asyncio.Event()
            tasks = [asyncio.create_task(light(stop, into)) for _ in range(light_clients)]
            result = await during
            stop.set()
            await asyncio.gather(*tasks)
            return result

        calm: list[float] = []
        await light_phase(calm, asyncio.sleep(seconds))
        answers: list[tuple[str, int, float, str]] = []
        pending = list(storm.items())

        async def storm_client() -> None:
            async with httpx.AsyncClient(base_url=base_url, timeout=120) as own:  # own connections
                while pending:
                    name, query = pending.pop()
                    started = time.perf_counter()
                    response = await own.get("/sparql", params={"query": query})
                    message = response.json().get("message", "") if response.status_code != 200 else \
                        f"{len(response.content)} bytes, X-Result-Limit: {response.headers.get('x-result-limit')}"
                    answers.append((name, response.status_code, time.perf_counter() - started, message))

        stormy: list[float] = []
        await light_phase(stormy, asyncio.gather(*(storm_client() for _ in range(storm_clients))))
    return StormResult(calm, stormy, statuses, sorted(answers))


def child_pids(pid: int) -> list[int]:
    """The child processes of `pid` (Linux): a supervisor's workers."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def server_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and its children: the supervisor and its workers."""
    total = 0
    for each in [pid, *child_pids(pid)]:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except FileNotFoundError:  # a worker that just exited
            continue
        # An exited worker not reaped yet has no VmRSS line.
        total += sum(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:"))
    return total


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * p / 100), len(ordered) - 1)] if ordered else float("nan")


# -- the benchmark run -----------------------------------------------------------------------------

def prepare(work: Path, articles: int) -> Path:
    """The build folder of the synthetic corpus of `articles` articles, built once."""
    project = work / f"corpus-{articles}"
    if not (project / "build" / "current").exists():
        sys.path.insert(0, str(REPO / "benchmarks"))
        from corpus import generate_corpus

        generate_corpus(project, articles)
        subprocess.run([sys.executable, "-m", "kg.cli.main", "build", "--build-dir", str(project / "build")],
                       cwd=REPO, env={**os.environ, "KG_PROJECT": str(project)}, check=True)
    return project / "build"


def start_server(build_dir: Path, timeout: float, workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "kg.cli.main", "serve", "--build-dir", str(build_dir), "--port", "0",
               "--timeout", str(timeout), "--workers", str(workers), "--queries", str(REPO / "queries")]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=log.open("wb"),
                               env={**os.environ, "KG_PROJECT": str(build_dir.parent)})
    line = process.stdout.readline().decode()
    base_url = line.split(" at ", 1)[1].split("/sparql")[0]
    for _ in range(600):
        try:
            if httpx.get(f"{base_url}/sparql", timeout=5).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"kg serve did not start; see {log}")


def report(args: argparse.Namespace, load: Outcome, rss: tuple[int, int], storm: StormResult, quads: str) -> str:
    mb = 1 << 20
    lines = [
        "# Load and runaway-query storm: results", "",
        f"`python benchmarks/load/run.py --articles {args.articles} --requests {args.requests} "
        f"--clients {args.clients} --timeout {args.timeout:g} --workers {args.workers}` on "
        f"{os.cpu_count()} CPUs (client and server share them), synthetic corpus of {args.articles} articles "
        f"({quads} quads), `kg serve --build-dir` with {args.workers} workers and a {args.timeout:g} s time limit.", "",
        "## Load", "",
        f"- {load.requests} requests from {args.clients} concurrent clients in {load.seconds:.1f} s "
        f"({load.requests / load.seconds:.0f} requests/s)",
        f"- statuses: {dict(sorted(load.statuses.items()))}; 5xx: {load.server_errors}; "
        f"errors (transport or wrong answer): {sum(load.errors.values())} {dict(load.errors) or ''}",
        f"- server RSS (supervisor + workers): {rss[0] / mb:.0f} MB at the start (after a warm-up), "
        f"{rss[1] / mb:.0f} MB at the end ({(rss[1] - rss[0]) / mb:+.0f} MB)", "",
        "| request kind | count | p50 ms | p99 ms |", "|---|---:|---:|---:|",
    ]
    for kind, values in sorted(load.latencies.items()):
        lines.append(f"| {kind} | {len(values)} | {percentile(values, 50) * 1000:.1f} | "
                     f"{percentile(values, 99) * 1000:.1f} |")
    lines += [
        "", "## Runaway-query storm", "",
        f"{args.storm_clients} clients send the {len(STORM)} pathological queries while {args.light_clients} "
        f"clients keep sending light queries; the light ones were first measured alone for {args.seconds:g} s.", "",
        "| storm query | status | seconds | message |", "|---|---:|---:|---|",
    ]
    for name, status, seconds, message in storm.storm_answers:
        lines.append(f"| {name} | {status} | {seconds:.2f} | {message} |")
    lines += [
        "", "| light queries | count | p50 ms | p99 ms |", "|---|---:|---:|---:|",
        f"| without the storm | {len(storm.calm)} | {percentile(storm.calm, 50) * 1000:.1f} | "
        f"{percentile(storm.calm, 99) * 1000:.1f} |",
        f"| during the storm | {len(storm.stormy)} | {percentile(storm.stormy, 50) * 1000:.1f} | "
        f"{percentile(storm.stormy, 99) * 1000:.1f} |", "",
        f"Light-query statuses over both halves: {dict(storm.light_statuses)}.", "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=10.0, help="the server's query time limit")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--seconds", type=float, default=10.0, help="light queries alone before the storm")
    parser.add_argument("--light-clients", type=int, default=4)
    parser.add_argument("--storm-clients", type=int, default=len(STORM))
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "load")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    build_dir = prepare(args.work, args.articles)
    args.work.mkdir(parents=True, exist_ok=True)
    process, base_url = start_server(build_dir, args.timeout, args.workers, args.work / "kg-serve.log")
    try:
        quads = json.loads((build_dir / "current" / "release.json").read_text()).get("quads", "?")
        mix = Mix(base_url)
        asyncio.run(run_load(base_url, mix.calls(500), args.clients))  # warm-up: caches, lazy imports
        rss_start = server_rss(process.pid)
        load = asyncio.run(run_load(base_url, mix.calls(args.requests), args.clients))
        rss_end = server_rss(process.pid)
        storm = asyncio.run(run_storm(base_url, args.seconds, args.light_clients, args.storm_clients))
        text = report(args, load, (rss_start, rss_end), storm, quads)
    finally:
        process.terminate()
        process.wait(60)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0 if not load.errors and not load.server_errors else 1


if __name__ == "__main__":
    sys.exit(main())
