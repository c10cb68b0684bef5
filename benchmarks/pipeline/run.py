#!/usr/bin/env python3
"""The whole pipeline at corpus scale, and the endpoint on that corpus, side by side with the peers.

For each size (number of synthetic articles from benchmarks/corpus.py, the real seed format):
- `kg build` end to end (wall time, peak RSS) and its stages (`kg build --timings`: mapping → RDF,
  validation, dumps, store), the time spent writing each dump format, then a one-article change
  rebuilt (the incremental path);
- query latency p50/p99 of a mix modelled on the named queries, in-process on the release store
  (pyoxigraph: the engine's own limit);
- HTTP throughput, and each server's CPU per request, at 1, 8 and 32 clients, on the mix and on
  single-entity lookups, of `kg serve` (serving the release; also with `--result-cache 0`, evaluating
  every request), `oxigraph serve-read-only` (the native server) and rdflib-endpoint (the Python peer,
  which loads the whole corpus in memory: skipped above --rdflib-max quads), same data, same queries,
  servers taking turns.

    python benchmarks/pipeline/run.py --sizes 1 100 1000 10000 --seconds 10

Needs `wrk` (apt-get install wrk) and the benchmark extra (pip install -e '.[bench]').
Bounded: every load run lasts --seconds, all traffic on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO / "benchmarks" / "endpoint")]
from corpus import generate_corpus  # noqa: E402
from run import KG_READY, Server, start, stop, wrk  # noqa: E402  (benchmarks/endpoint/run.py)
from workload import LOOKUPS, MIX, P  # noqa: E402

from kg.pipeline.build import FORMAT_TIMING  # noqa: E402

WORK = REPO / "benchmarks" / "work" / "pipeline"
KG, KG_UNCACHED = "kg serve", "kg serve --result-cache 0"
BIN = Path(sys.executable).parent
def timed_build(project: Path, build_dir: Path) -> dict:
    """Run the real `kg build --timings` under GNU time: wall seconds, peak RSS and the stage timings."""
    began = time.monotonic()
    run = subprocess.run(["/usr/bin/time", "-f", "peak-rss-kb %M", str(BIN / "kg"), "build", "--timings",
                          "--build-dir", str(build_dir)], cwd=REPO, env={**os.environ, "KG_PROJECT": str(project)},
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"kg build failed:\n{run.stderr[-3000:]}")
    stages = json.loads(re.search(r"^timings: (.*)$", run.stdout, re.M).group(1))
    quads = int(re.search(r"(\d+) quads", run.stdout).group(1))
    rss = int(re.search(r"peak-rss-kb (\d+)", run.stderr).group(1))
    return {"seconds": time.monotonic() - began, "peak_rss_mb": rss / 1024, "stages": stages, "quads": quads}


def change_one_article(project: Path) -> None:
    mapping = project / "seeds" / "articles" / "syn-000000" / "mapping.yaml"
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace("Both sides would meet again", "Both sides would meet again soon", 1),
                       encoding="utf-8")


def latencies(stores: dict[str, Path], repeats: int) -> dict[str, dict[str, tuple[float, float]]]:
    """p50 and p99 in ms of every query of the mix on each store, in-process, after one warm-up run; the
    stores take turns query by query, so a busy moment of the machine weighs on all of them alike."""
    from pyoxigraph import Store

    opened = {label: Store.read_only(str(path)) for label, path in stores.items()}
    figures: dict[str, dict[str, tuple[float, float]]] = {label: {} for label in opened}
    for name, (query, _) in MIX.items():
        times: dict[str, list[float]] = {label: [] for label in opened}
        for attempt in range(repeats + 1):
            for label, store in opened.items():
                began = time.perf_counter()
                for _ in store.query(P + query, use_default_graph_as_union=True):
                    pass
                if attempt:
                    times[label].append((time.perf_counter() - began) * 1000)
        for label, runs in times.items():
            runs.sort()
            figures[label][name] = (statistics.median(runs), runs[min(len(runs) - 1, int(len(runs) * 0.99))])
    return figures


def throughput(nquads: Path, size_dir: Path, seconds: int, with_rdflib: bool) -> dict:
    oxigraph_db = size_dir / "oxigraph-db"
    if not oxigraph_db.exists():
        subprocess.run([str(BIN / "oxigraph"), "load", "--location", str(oxigraph_db), "--file", str(nquads)],
                       check=True, capture_output=True)
        subprocess.run([str(BIN / "oxigraph"), "optimize", "--location", str(oxigraph_db)], check=True,
                       capture_output=True)
    # kg serve serves the release just built (its project named so that it finds the release up to date), with its
    # result cache and without it (every request evaluated, as by the other servers).
    kg_serve = ["env", f"KG_PROJECT={size_dir / 'project'}", str(BIN / "kg"), "serve", "--build-dir",
                str(size_dir / "build"), "--port", "{port}"]
    servers = [Server(KG, kg_serve, "/sparql", KG_READY),
               Server(KG_UNCACHED, [*kg_serve, "--result-cache", "0"], "/sparql", KG_READY),
               Server("oxigraph serve-read-only", [str(BIN / "oxigraph"), "serve-read-only", "--location",
                                                   str(oxigraph_db), "--bind", "127.0.0.1:{port}",
                                                   "--union-default-graph"], "/query")]
    if with_rdflib:
        servers.append(Server("rdflib-endpoint", [str(BIN / "rdflib-endpoint"), "serve", str(nquads), "--host",
                                                  "127.0.0.1", "--port", "{port}"], "/", startup_limit=1800))
    workloads = {"mix": [(P + query, accept) for query, accept in MIX.values()],
                 "lookup": [(P + query, accept) for query, accept in LOOKUPS.values()]}
    results: dict[str, dict[str, dict[int, dict]]] = {}
    for server in servers:
        try:
            start(server, size_dir)
            results[server.name] = {workload: {clients: wrk(server, queries, clients, seconds, size_dir / "requests.lua")
                                               for clients in (1, 8, 32)}
                                    for workload, queries in workloads.items()}
            print(server.name, results[server.name], flush=True)
        finally:
            stop(server)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000, 10000])
    parser.add_argument("--seconds", type=int, default=10, help="duration of every throughput cell")
    parser.add_argument("--repeats", type=int, default=30, help="in-process runs of each query")
    parser.add_argument("--rdflib-max", type=int, default=10_000_000,
                        help="largest corpus (quads) served by rdflib-endpoint (4.5 million took it 9 minutes and 8 GB to load)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "pipeline" / "RESULTS.md")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    rows = []
    for size in args.sizes:
        size_dir = WORK / f"{size}"
        shutil.rmtree(size_dir, ignore_errors=True)
        project = generate_corpus(size_dir / "project", size)
        build = timed_build(project, size_dir / "build")
        full_release = (size_dir / "build" / "current").resolve()
        change_one_article(project)
        incremental = timed_build(project, size_dir / "build")
        release = (size_dir / "build" / "current").resolve()
        latency = latencies({"full": full_release / "store", "changed": release / "store"}, args.repeats)
        row = {"articles": size, "build": build, "incremental": incremental,
               "latency": latency["changed"], "latency_full_build": latency["full"],
               "throughput": throughput(release / "dumps" / "graph.nq", size_dir, args.seconds,
                                        build["quads"] <= args.rdflib_max),
               "loadavg": os.getloadavg()[0]}
        rows.append(row)
        print(json.dumps(row), flush=True)
        (WORK / "results.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    args.out.write_text(report(rows, args), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def report(rows: list[dict], args: argparse.Namespace) -> str:
    timing_names = list(rows[0]["build"]["stages"])
    stage_names = [name for name in timing_names if not name.startswith(FORMAT_TIMING)]
    dump_names = [name.removeprefix(FORMAT_TIMING) for name in timing_names if name.startswith(FORMAT_TIMING)]
    lines = [f"""# The pipeline at corpus scale

Generated by `python benchmarks/pipeline/run.py --sizes {' '.join(map(str, args.sizes))} --seconds {args.seconds}`
on {datetime.date.today().isoformat()}: {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()},
synthetic articles from `benchmarks/corpus.py` (seed 7) in the real seed format. The machine is shared: the
1-minute load average is given per size; read ratios, not absolute times.

## Build (`kg build`, end to end, from nothing)

| articles | quads | wall (s) | per article (ms) | peak RSS (MB) | {' | '.join(f'{s} (s)' for s in stage_names)} | one-article change (s) | load avg |
|---|---|---|---|---|{'---|' * len(stage_names)}---|---|"""]
    for row in rows:
        build = row["build"]
        stages = " | ".join(f"{build['stages'].get(s, 0):.1f}" for s in stage_names)
        lines.append(f"| {row['articles']:,} | {build['quads']:,} | {build['seconds']:.1f} | "
                     f"{build['seconds'] / row['articles'] * 1000:.0f} | {build['peak_rss_mb']:.0f} | {stages} | "
                     f"{row['incremental']['seconds']:.1f} | {row['loadavg']:.1f} |")
    lines += ["", "## One-article change (`kg build` again after one article's mapping was edited)", "",
              f"| articles | wall (s) | peak RSS (MB) | {' | '.join(f'{s} (s)' for s in stage_names)} |",
              f"|---|---|---|{'---|' * len(stage_names)}"]
    for row in rows:
        change = row["incremental"]
        stages = " | ".join(f"{change['stages'].get(s, 0):.1f}" for s in stage_names)
        lines.append(f"| {row['articles']:,} | {change['seconds']:.1f} | {change['peak_rss_mb']:.0f} | {stages} |")
    lines += ["", "## Dump writing per format (full build)", "",
              "Seconds spent serializing, gzipping and writing each graph's part of the format, summed over the "
              "worker processes (they run in parallel, one per CPU, so the sum exceeds the `dump parts` stage); "
              "the `dumps` stage then concatenates the parts of every format at disk speed.", "",
              f"| articles | {' | '.join(f'{name} (s)' for name in dump_names)} |",
              f"|---|{'---|' * len(dump_names)}"]
    for row in rows:
        seconds = row["build"]["stages"]
        lines.append(f"| {row['articles']:,} | "
                     + " | ".join(f"{seconds.get(FORMAT_TIMING + name, 0):.1f}" for name in dump_names) + " |")
    lines += ["", "## Query latency, in-process (pyoxigraph on the release store), ms p50 / p99", "",
              "| query | " + " | ".join(f"{r['articles']:,} articles" for r in rows) + " |",
              "|---|" + "---|" * len(rows)]
    for name in MIX:
        lines.append(f"| {name} | " + " | ".join(f"{r['latency'][name][0]:.2f} / {r['latency'][name][1]:.2f}"
                                                for r in rows) + " |")
    lines += ["", "The release measured above (and served below) is the one after the one-article change: a copy of the",
              "full build's store with that article's graph replaced, then compacted. The same queries, taking turns",
              "on both stores, p50 in ms, full build → after the change:", "",
              "| query | " + " | ".join(f"{r['articles']:,} articles" for r in rows) + " |",
              "|---|" + "---|" * len(rows)]
    for name in MIX:
        lines.append(f"| {name} | " + " | ".join(f"{r['latency_full_build'][name][0]:.2f} → {r['latency'][name][0]:.2f}"
                                                for r in rows) + " |")
    lines += ["", "## HTTP throughput (req/s), ratios, and each server's CPU ms per request", "",
              "`mix` rotates over the queries above, `lookup` over 100 single-entity lookups. kg serve answers a repeated",
              "GET from its result cache; `uncached` is kg serve with `--result-cache 0`, evaluating every request as the",
              "other servers do. CPU: user and system time of the server's processes during the run, divided by the",
              "requests answered.", "",
              "| articles | workload | clients | kg serve | kg serve uncached | oxigraph serve | rdflib-endpoint "
              "| kg / oxigraph | uncached / oxigraph | kg / rdflib | CPU ms/request: kg, uncached, oxigraph |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        t = row["throughput"]
        for workload in ("mix", "lookup"):
            for clients in (1, 8, 32):
                kg, uncached = t[KG][workload][clients], t[KG_UNCACHED][workload][clients]
                ox = t["oxigraph serve-read-only"][workload][clients]
                rl = t.get("rdflib-endpoint", {}).get(workload, {}).get(clients, {}).get("rps")
                rdflib = f"{rl:,.1f}" if rl is not None else "not run"
                over_rdflib = f"{kg['rps'] / rl:.1f}×" if rl else "–"
                lines.append(f"| {row['articles']:,} | {workload} | {clients} | {kg['rps']:,.1f} | {uncached['rps']:,.1f} | "
                             f"{ox['rps']:,.1f} | {rdflib} | {kg['rps'] / ox['rps']:.2f}× | "
                             f"{uncached['rps'] / ox['rps']:.2f}× | {over_rdflib} | {kg['cpu_ms_per_request']:.2f}, "
                             f"{uncached['cpu_ms_per_request']:.2f}, {ox['cpu_ms_per_request']:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
