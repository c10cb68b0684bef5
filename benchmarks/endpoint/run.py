#!/usr/bin/env python3
"""Throughput (and server CPU per request) of `kg serve` vs `oxigraph serve-read-only` vs rdflib-endpoint, side
by side in one run, with pyoxigraph in-process (no HTTP at all: the engine's own limit) beside them.

Same data (the release of a synthetic corpus, benchmarks/corpus.py, built by `kg build`), same queries
(benchmarks/workload.py), same load generator (wrk, one thread, on the same machine as the servers),
every server running throughout but measured one at a time, back to back for each cell, over several rounds
(the machine is shared: medians, spreads and paired ratios are reported), all on 127.0.0.1, every load run
bounded by `--seconds`. Every server must give the
same answers to the mix before it is measured. Writes a Markdown table with throughput and ratios to `--out`.

    python benchmarks/endpoint/run.py --articles 150 --seconds 10 --rounds 3 --out benchmarks/endpoint/RESULTS.md

`--kg-options "" "--result-cache 0" "--workers 4"` runs kg serve once per set of options, side by side with the
others: its default, then without its result cache, then with four worker processes.

Needs `wrk` (apt-get install wrk) and the benchmark extra: pip install -e '.[bench]'.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from pyoxigraph import QueryResultsFormat, RdfFormat, Store

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from workload import LOOKUPS, MIX, NTRIPLES, P, built_corpus  # noqa: E402

WORK = REPO / "benchmarks" / "work" / "endpoint"
BIN = Path(sys.executable).parent
CONCURRENCY = (8, 32)
IN_PROCESS = "pyoxigraph in-process"
KG_READY = "SPARQL endpoint at"  # kg serve prints its URL once every worker accepts connections


@dataclass
class Server:
    name: str
    command: list[str]
    path: str  # query path on the server
    ready_line: str | None = None  # printed once the server runs at full strength (kg serve: all workers accept)
    startup_limit: float = 300  # seconds it may take to answer (rdflib-endpoint loads millions of quads for minutes)
    process: subprocess.Popen | None = None
    port: int = 0

    def url(self, query: str) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}?query={quote(query, safe='')}"


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(server: Server, log_dir: Path) -> float:
    server.port = free_port()
    command = [part.replace("{port}", str(server.port)) for part in server.command]
    began = time.monotonic()
    log = log_dir / f"{server.name}.log"
    server.process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=REPO)
    deadline = began + server.startup_limit
    while time.monotonic() < deadline:
        try:
            if (httpx.get(server.url("ASK {}"), timeout=5).status_code == 200
                    and (server.ready_line is None or server.ready_line in log.read_text(errors="replace"))):
                return time.monotonic() - began
        except httpx.HTTPError:
            pass
        if server.process.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not start; see {log_dir / server.name}.log")


def stop(server: Server) -> None:
    if server.process and server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by a process and its child processes, the live ones and those it
    has reaped (a recycled kg serve worker), from Linux /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(field) for field in fields[11:15])  # utime, stime, and its reaped children's cutime, cstime
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # it has just exited: its time shows in the parent's once reaped
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(server: Server, queries: list[tuple[str, str]], clients: int, seconds: int, script: Path) -> dict:
    """Run wrk rotating through `queries`; requests/s, error counts and the server's CPU ms per request."""
    entries = ",\n".join(f'  {{"{server.path}?query={quote(q, safe="")}", "{accept}"}}' for q, accept in queries)
    script.write_text(
        "local requests = {\n" + entries + "\n}\nlocal i = 0\n"
        "request = function()\n  i = i % #requests + 1\n"
        '  return wrk.format("GET", requests[i][1], {["Accept"] = requests[i][2]})\nend\n'
    )
    cpu_before = cpu_seconds(server.process.pid)
    run = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
         f"http://127.0.0.1:{server.port}"],
        capture_output=True, text=True, timeout=seconds + 60,
    )
    cpu = cpu_seconds(server.process.pid) - cpu_before
    out = run.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return {"rps": rps, "non_2xx": non_2xx, "errors": errors,
            "cpu_ms_per_request": cpu / requests * 1000 if requests else None}


def in_process(store: Store, queries: list[tuple[str, str]], threads: int, seconds: int) -> dict:
    """The engine's own limit: `threads` threads of this process evaluating and serializing `queries` in turn
    (as a server must, in the format asked for) for `seconds`, with no HTTP; queries/s and CPU ms per query."""
    formats = [RdfFormat.N_TRIPLES if accept == NTRIPLES else QueryResultsFormat.JSON for _, accept in queries]
    answered = [0] * threads
    deadline = time.monotonic() + seconds

    def evaluate(thread: int) -> None:
        turn = thread
        while time.monotonic() < deadline:
            index = turn % len(queries)
            store.query(queries[index][0], use_default_graph_as_union=True).serialize(format=formats[index])
            answered[thread] += 1
            turn += 1

    workers = [threading.Thread(target=evaluate, args=(thread,)) for thread in range(threads)]
    cpu_before, began = time.process_time(), time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    cpu, elapsed, total = time.process_time() - cpu_before, time.monotonic() - began, sum(answered)
    return {"rps": total / elapsed, "non_2xx": 0, "errors": 0, "cpu_ms_per_request": cpu / total * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=150, help="size of the synthetic corpus")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="times every server runs every cell, alternately")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "endpoint" / "RESULTS.md")
    parser.add_argument("--kg-options", nargs="+", default=[""], metavar="OPTIONS",
                        help="run kg serve once with each of these option strings (default: once, with its defaults)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    WORK.mkdir(parents=True, exist_ok=True)
    data = built_corpus(WORK, args.articles)
    triples = sum(1 for _ in data.open("rb"))
    oxigraph_db = WORK / "oxigraph-db"
    shutil.rmtree(oxigraph_db, ignore_errors=True)
    subprocess.run([str(BIN / "oxigraph"), "load", "--location", str(oxigraph_db), "--file", str(data)],
                   check=True, capture_output=True)
    subprocess.run([str(BIN / "oxigraph"), "optimize", "--location", str(oxigraph_db)], check=True, capture_output=True)
    kg_serve = [str(BIN / "kg"), "serve", "--data", str(data), "--port", "{port}", "--cache-dir", str(WORK / "kg-cache")]
    servers = [
        *(Server(f"kg serve {options}".strip(), [*kg_serve, *options.split()], "/sparql", KG_READY)
          for options in args.kg_options),
        Server("oxigraph serve-read-only", [str(BIN / "oxigraph"), "serve-read-only", "--location", str(oxigraph_db),
                                            "--bind", "127.0.0.1:{port}", "--union-default-graph"], "/query"),
        Server("rdflib-endpoint", [str(BIN / "rdflib-endpoint"), "serve", str(data), "--host", "127.0.0.1",
                                   "--port", "{port}"], "/"),
    ]
    lookups = [(P + query, accept) for query, accept in LOOKUPS.values()]
    mix = [(P + query, accept) for query, accept in MIX.values()]
    answers: dict[str, int] = {}
    # results[server][cell] = one measurement per round.
    results: dict[str, dict] = {server.name: {"startup": []} for server in servers}
    results[IN_PROCESS] = {}
    loads: list[float] = []
    engine = Store.read_only(str(oxigraph_db))
    try:
        for server in servers:
            results[server.name]["startup"].append(start(server, WORK))
            for query, accept in mix:  # warm up, and check that every server gives the same answers
                response = httpx.get(server.url(query), headers={"accept": accept}, timeout=120)
                assert response.status_code == 200, (server.name, query, response.text[:300])
                size = answer_size(response)
                assert answers.setdefault(query, size) == size, (server.name, query, size, answers[query])
        contenders: list[Server | str] = [IN_PROCESS, *servers]
        for round_number in range(args.rounds):
            for clients in CONCURRENCY:
                for workload, queries in (("lookup", lookups), ("mix", mix)):
                    # Back to back, in an order that turns from round to round: a burst of load from elsewhere
                    # on the shared machine falls on the servers compared alike.
                    turn = round_number % len(contenders)
                    for contender in contenders[turn:] + contenders[:turn]:
                        loads.append(os.getloadavg()[0])
                        if contender == IN_PROCESS:
                            name, cell = IN_PROCESS, in_process(engine, queries, clients, args.seconds)
                        else:
                            name, cell = contender.name, wrk(contender, queries, clients, args.seconds,
                                                             WORK / "requests.lua")
                        results[name].setdefault((workload, clients), []).append(cell)
                        print(round_number + 1, name, workload, clients, cell, flush=True)
    finally:
        for server in servers:
            stop(server)
    args.out.write_text(report(results, triples, loads, args), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def answer_size(response: httpx.Response) -> int:
    """Rows of a SPARQL JSON result, or triples of an N-Triples one."""
    if response.headers["content-type"].startswith("application/sparql-results+json"):
        return len(json.loads(response.content)["results"]["bindings"])
    return len({line for line in response.text.splitlines() if line.strip()})


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def median_cpu(runs: list[dict]) -> float | None:
    """The median CPU ms per request over the rounds; None when a round answered no request (rdflib-endpoint
    on a large corpus)."""
    figures = [run["cpu_ms_per_request"] for run in runs]
    return median(figures) if figures and None not in figures else None


def report(results: dict, triples: int, loads: list[float], args: argparse.Namespace) -> str:
    """The Markdown report: per cell the median req/s of each server, its min–max, and ratios of medians; one row
    per kg serve configuration, beside the same figures of its peers."""
    peers = ("oxigraph serve-read-only", "rdflib-endpoint", IN_PROCESS)
    variants = [name for name in results if name.startswith("kg serve")]
    options_column = len(variants) > 1
    rows, cpu_rows = [], []
    for workload in ("lookup", "mix"):
        for clients in CONCURRENCY:
            key = (workload, clients)
            for variant in variants:
                measured = [results[name] for name in (variant, *peers)]
                label = f"{workload} | {clients} | " + (f"{variant.removeprefix('kg serve').strip() or 'defaults'} | "
                                                         if options_column else "")
                cpu = [median_cpu(server.get(key, [])) for server in measured]
                cpu_rows.append(f"| {label}{' | '.join('–' if ms is None else f'{ms:.2f}' for ms in cpu)} | "
                                f"{f'{cpu[1] / cpu[0]:.2f}×' if cpu[0] and cpu[1] else '–'} |")
                cells = []
                medians = []
                for server in measured:
                    runs = server.get(key, [])
                    rates = [run["rps"] for run in runs]
                    failures = sum(run["non_2xx"] + run["errors"] for run in runs)
                    medians.append(median(rates) if rates else None)
                    cells.append(f"{median(rates):,.0f} ({min(rates):,.0f}–{max(rates):,.0f})"
                                 + (f", {failures} failed" if failures else "") if rates else "–")
                ratio_ox = f"{medians[0] / medians[1]:.2f}×" if medians[0] and medians[1] else "–"
                paired = [kg["rps"] / ox["rps"] for kg, ox in zip(measured[0].get(key, []), measured[1].get(key, []))
                          if ox["rps"]]
                ratio_paired = f"{median(paired):.2f}× ({min(paired):.2f}–{max(paired):.2f})" if paired else "–"
                ratio_rl = f"{medians[0] / medians[2]:.1f}×" if medians[0] and medians[2] else "–"
                ratio_ip = f"{medians[0] / medians[3]:.2f}×" if medians[0] and medians[3] else "–"
                rows.append(f"| {label}{' | '.join(cells)} | {ratio_ox} | {ratio_paired} | {ratio_rl} | {ratio_ip} |")
    options_header = ("| kg serve options ", "|---") if options_column else ("", "")
    command = (f"python benchmarks/endpoint/run.py --articles {args.articles} --seconds {args.seconds} --rounds {args.rounds}"
               + (" --kg-options " + " ".join(f'"{options}"' for options in args.kg_options) if options_column else ""))
    versions = subprocess.run([str(BIN / "oxigraph"), "--version"], capture_output=True, text=True).stdout.strip()
    startup = {name: median(runs["startup"]) for name, runs in results.items() if "startup" in runs}
    return f"""# `/sparql` throughput: kg serve vs oxigraph serve vs rdflib-endpoint

Generated by `{command}`
on {datetime.date.today().isoformat()}: the release of {args.articles} synthetic articles (`benchmarks/corpus.py`,
{triples:,} quads in named graphs; the default graph is their union on every server), {os.cpu_count()} CPUs,
Python {platform.python_version()}, {versions}. All servers on 127.0.0.1, on-disk stores, default settings
(kg serve: {"its defaults and the options given" if options_column else "its defaults"}). Load from `wrk -t1` on the same machine, {args.seconds} s per cell, 10 s
request timeout. `lookup` rotates over 100 single-entity `CONSTRUCT {{ e:person-N ?p ?o }}` queries
(N-Triples); `mix` rotates over the {len(MIX)} queries of `benchmarks/workload.py` ({", ".join(MIX)}; SPARQL JSON
but the lookup), after checking that every server gives the same number of results to each.

Every server runs for the whole benchmark, idle but while it is measured. Each cell (workload and clients) is
measured on every server and in-process back to back, in an order that turns from round to round, {args.rounds} rounds.
Each cell shows the **median** req/s over the rounds and, in brackets, the lowest and highest; ratios are
of medians, and **paired** is the median (lowest–highest) over the rounds of kg serve's rate divided by oxigraph
serve's measured in the same round, seconds apart: what a burst of load from elsewhere moves least.
Startup (s, to the first answer, and for kg serve until every worker accepts; kg serve reuses a store it loaded in an earlier run):
{", ".join(f"{name} {startup[name]:.1f}" for name in variants)}, oxigraph {startup['oxigraph serve-read-only']:.1f} (data loaded beforehand with
`oxigraph load`), rdflib-endpoint {startup['rdflib-endpoint']:.1f}.
The machine is shared and noisy: 1-minute load average at the start of the cells {min(loads):.1f}–{max(loads):.1f}
(median {median(loads):.1f}) on {os.cpu_count()} CPUs. Read the ratios, not the absolute numbers.

**{IN_PROCESS}** is the engine's own limit, with no HTTP and no load generator: as many threads as
clients, in the harness's process, evaluating and serializing the same queries in turn on the oxigraph
store (pyoxigraph {importlib.metadata.version("pyoxigraph")}, the engine of kg serve), queries/s.

kg serve answers a repeated GET of a repeatable query from its result cache (the store does not change while
it is served; such answers carry `X-Cache: hit`), and both workloads repeat their queries, so with its defaults
it mostly sends answers again. With `--result-cache 0` it evaluates every request, as the other servers do.

| workload | clients {options_header[0]}| kg serve req/s | oxigraph serve req/s | rdflib-endpoint req/s | {IN_PROCESS} q/s | kg / oxigraph | kg / oxigraph, paired | kg / rdflib-endpoint | kg / in-process |
|---|---{options_header[1]}|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

CPU per request, in ms (median over the rounds): the user and system time of the server's processes
during the cell (for {IN_PROCESS}: of the harness's process), divided by the requests it answered. It weighs
less on how busy the rest of the machine was than req/s does; the last column is how much CPU oxigraph spent
for each ms kg serve spent.

| workload | clients {options_header[0]}| kg serve | oxigraph serve | rdflib-endpoint | {IN_PROCESS} | oxigraph / kg |
|---|---{options_header[1]}|---|---|---|---|---|
{chr(10).join(cpu_rows)}
"""


if __name__ == "__main__":
    sys.exit(main())
