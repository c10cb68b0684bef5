#!/usr/bin/env python3
"""Virtuoso as the production store: loading a release (Graph Store Protocol vs the bulk loader) and the same
query mix through `kg serve --store` (Virtuoso), Virtuoso's own /sparql, `kg serve` embedded and
`oxigraph serve-read-only`, side by side in one run, for each release given.

    python benchmarks/virtuoso/run.py --releases build1000/current build10000/current --seconds 10 --rounds 2

Each release is a `kg build` of a synthetic corpus (benchmarks/corpus.py): its dumps/graph.nq is what every
store serves. Per release: a fresh private Virtuoso (benchmarks/virtuoso/server.py) loaded by `kg publish --to`
(one PUT per graph), another by `kg publish --to --bulk` (ld_dir + rdf_loader_run), each timed, with the peak
resident memory of the kg process and of Virtuoso; then the four endpoints over the bulk-loaded data, answers
checked equal, measured with wrk (the harness of benchmarks/endpoint/run.py) back to back, in an order that
turns from round to round. Writes Markdown to `--out`. Needs wrk and virtuoso-opensource.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


endpoint = load_module("endpoint_run", REPO / "benchmarks" / "endpoint" / "run.py")
launcher = load_module("virtuoso_server", HERE / "server.py")
from workload import LOOKUPS, MIX, P  # noqa: E402 (benchmarks/ is on sys.path through endpoint_run)

WORK = REPO / "benchmarks" / "work" / "virtuoso"
ADMIN = {"KG_STORE_USER": launcher.USER, "KG_STORE_PASSWORD": launcher.PASSWORD}
CLIENTS = 8
BUFFERS = 100_000  # 8 KB pages: 800 MB of Virtuoso cache, enough for 4.5 M quads


def peak_mb(pid: int) -> float:
    """The peak resident memory of a running process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# What `kg publish --to URL [--bulk FOLDER --isql-port N]` runs once the release is built (the release given may
# have been built by another version of kg, which `kg publish` would build again first).
PUBLISH = """
import sys
from pathlib import Path
from kg.integrations.graph_store import publish_to_store
from kg.integrations.virtuoso_bulk import bulk_load
dump, url, folder, isql = sys.argv[1:]
uploads = bulk_load(Path(dump), Path(folder), isql) if folder else publish_to_store(Path(dump), url)
print(len(uploads), sum(upload.triples for upload in uploads))
"""


def timed_publish(*args: str) -> tuple[float, float, str]:
    """Run PUBLISH with the administrator's credentials: wall seconds, peak RSS of its process (MB), its output."""
    log = WORK / "publish.log"
    began = time.monotonic()
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, "-c", PUBLISH, *args], stdout=output, stderr=subprocess.STDOUT,
                                   text=True, env={**os.environ, **ADMIN})
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - began
    if process.returncode != 0:
        raise RuntimeError(f"publishing failed: {log.read_text()[-2000:]}")
    return wall, usage.ru_maxrss / 1024, log.read_text().strip()


def load(data: Path, folder: Path, bulk: bool) -> tuple[launcher.Virtuoso, dict]:
    """A fresh Virtuoso in `folder` loaded with the dump `data`; its measurements."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    server = launcher.start_virtuoso(folder, buffers=BUFFERS, max_seconds=60)
    staging = str(folder / "bulk") if bulk else ""
    wall, kg_rss, said = timed_publish(str(data), server.graph_store, staging, f"127.0.0.1:{server.isql_port}")
    return server, {"seconds": wall, "kg_peak_mb": kg_rss, "virtuoso_peak_mb": peak_mb(server.process.pid), "said": said}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--releases", type=Path, nargs="+", required=True, help="release folders (build/current)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--gsp-max-articles", type=int, default=10_000,
                        help="load larger releases by the bulk loader only (the protocol path takes minutes per 1,000)")
    args = parser.parse_args()
    if not shutil.which("wrk") or launcher.missing():
        sys.exit(f"needs wrk and Virtuoso: apt-get install wrk virtuoso-opensource ({launcher.missing() or ''})")
    WORK.mkdir(parents=True, exist_ok=True)
    sections = []
    for release in args.releases:
        sections.append(measure(release.resolve(), args))
        args.out.write_text(report(sections, args), encoding="utf-8")  # after each size: a partial run still reports
    print(f"wrote {args.out}")
    return 0


def measure(release: Path, args: argparse.Namespace) -> dict:
    """Loading and serving one release."""
    manifest = __import__("json").loads((release / "release.json").read_text())
    data = release / "dumps" / "graph.nq"
    size = manifest["article_count"]
    work = WORK / f"{size}"
    work.mkdir(parents=True, exist_ok=True)
    loads: dict[str, dict] = {}
    if size <= args.gsp_max_articles:
        gsp_server, loads["Graph Store Protocol (kg publish --to)"] = load(data, work / "virtuoso-gsp", bulk=False)
        gsp_server.stop()
        shutil.rmtree(work / "virtuoso-gsp", ignore_errors=True)
    store, loads["bulk loader (kg publish --to --bulk)"] = load(data, work / "virtuoso-bulk", bulk=True)
    print(size, loads, flush=True)
    oxigraph_db = work / "oxigraph-db"
    shutil.rmtree(oxigraph_db, ignore_errors=True)
    began = time.monotonic()
    subprocess.run([str(endpoint.BIN / "oxigraph"), "load", "--location", str(oxigraph_db), "--file", str(data)],
                   check=True, capture_output=True)
    oxigraph_load = time.monotonic() - began
    kg = [str(endpoint.BIN / "kg"), "serve", "--port", "{port}", "--result-cache", "0"]
    servers = [
        endpoint.Server("kg serve --store (Virtuoso)", [*kg, "--store", store.sparql], "/sparql", endpoint.KG_READY),
        endpoint.Server("Virtuoso /sparql", ["sleep", "infinity"], "/sparql"),
        endpoint.Server("kg serve (embedded)", [*kg, "--data", str(data), "--cache-dir", str(work / "kg-cache")],
                        "/sparql", endpoint.KG_READY, startup_limit=900),
        endpoint.Server("oxigraph serve-read-only", [str(endpoint.BIN / "oxigraph"), "serve-read-only", "--location",
                                                     str(oxigraph_db), "--bind", "127.0.0.1:{port}",
                                                     "--union-default-graph"], "/query"),
    ]
    mix = [(P + query, accept) for query, accept in MIX.values()]
    lookups = [(P + query, accept) for query, accept in LOOKUPS.values()]
    results: dict[str, dict] = {server.name: {} for server in servers}
    answers: dict[str, dict[str, int]] = {}
    load_averages: list[float] = []
    try:
        for server in servers:
            if server.name == "Virtuoso /sparql":  # already running: measured through its own process
                server.port, server.process = store.http_port, store.process
            else:
                endpoint.start(server, work)
            for name, (query, accept) in zip(MIX, mix):
                response = httpx.get(server.url(query), headers={"accept": accept}, timeout=300)
                assert response.status_code == 200, (server.name, name, response.text[:300])
                answers.setdefault(name, {})[server.name] = endpoint.answer_size(response)
        for round_number in range(args.rounds):
            for workload, queries in (("lookup", lookups), ("mix", mix)):
                turn = round_number % len(servers)
                for server in servers[turn:] + servers[:turn]:
                    load_averages.append(os.getloadavg()[0])
                    cell = endpoint.wrk(server, queries, CLIENTS, args.seconds, work / "requests.lua")
                    results[server.name].setdefault(workload, []).append(cell)
                    print(size, round_number + 1, server.name, workload, cell, flush=True)
    finally:
        for server in servers:
            if server.name != "Virtuoso /sparql":
                endpoint.stop(server)
        store.stop()
    return {"articles": size, "quads": manifest["quads"], "loads": loads, "oxigraph_load": oxigraph_load,
            "results": results, "answers": answers, "load_averages": load_averages}


def report(sections: list[dict], args: argparse.Namespace) -> str:
    median = endpoint.median
    lines = [f"""# Virtuoso as the production store: loading and serving, side by side

Generated by `python benchmarks/virtuoso/run.py --releases {' '.join(f'{r.parent.name}/{r.name}' for r in args.releases)} --seconds {args.seconds} --rounds {args.rounds}`
on {datetime.date.today().isoformat()}: {os.cpu_count()} CPUs, shared by the servers under test and the load generator
(the 1-minute load average at each cell is given), x86_64, Python {platform.python_version()}, Debian's OpenLink Virtuoso 7.2.5
(`virtuoso-opensource`) started by `benchmarks/virtuoso/server.py` ({BUFFERS:,} buffers of 8 KB,
MaxQueryExecutionTime 60 s, the rest as packaged), `oxigraph serve-read-only --union-default-graph`. Releases are
`kg build`s of synthetic corpora (`benchmarks/corpus.py`, seed 7). Read ratios, not absolute figures.

Method. Loading: a fresh Virtuoso per path, timed from the `kg publish` command's start to its end; peak resident
memory (VmHWM / ru_maxrss) of the kg process and of Virtuoso. Serving: the bulk-loaded Virtuoso behind
`kg serve --store` and its own `/sparql`; `kg serve --data graph.nq` (embedded pyoxigraph) and oxigraph over the
same dump. kg serve runs with `--result-cache 0`, so that every request is evaluated, as the other servers do
(with its cache, kg serve embedded sends repeated answers again without evaluating them: benchmarks/endpoint).
`wrk -t1 -c{CLIENTS}`, {args.seconds} s per cell, on the same machine; `lookup` rotates over 100 single-entity
CONSTRUCT queries, `mix` over the {len(MIX)} queries of `benchmarks/workload.py` ({', '.join(MIX)}). Every server
runs throughout; each cell is measured on every server back to back, in an order turning from round to round,
{args.rounds} rounds; figures are medians (lowest–highest).
"""]
    for section in sections:
        loads = section["loads"]
        lines.append(f"## {section['articles']:,} articles ({section['quads']:,} quads)\n")
        lines.append("| load path | wall (s) | kg process peak RSS (MB) | Virtuoso peak RSS (MB) | quads/s |")
        lines.append("|---|---|---|---|---|")
        for path, figures in loads.items():
            lines.append(f"| {path} | {figures['seconds']:.1f} | {figures['kg_peak_mb']:.0f} | "
                         f"{figures['virtuoso_peak_mb']:.0f} | {section['quads'] / figures['seconds']:,.0f} |")
        seconds = [figures["seconds"] for figures in loads.values()]
        if len(seconds) == 2:
            lines.append(f"\nThe bulk loader took {seconds[1] / seconds[0]:.2f}× the time of the Graph Store Protocol path.")
        else:
            lines.append(f"\nThe Graph Store Protocol path was not run at this size (`--gsp-max-articles {args.gsp_max_articles}`).")
        lines.append(f"(`oxigraph load` of the same dump: {section['oxigraph_load']:.1f} s.)\n")
        mismatched = {name: sizes for name, sizes in section["answers"].items() if len(set(sizes.values())) > 1}
        lines.append("Answers: " + ("every server gave the same number of results to every query of the mix."
                                    if not mismatched else f"sizes differ: {mismatched}") + "\n")
        names = list(section["results"])
        lines.append("| workload | " + " | ".join(f"{name} req/s" for name in names) +
                     " | kg --store / Virtuoso /sparql | kg --store / kg embedded | kg embedded / oxigraph |")
        lines.append("|---|" + "---|" * (len(names) + 3))
        for workload in ("lookup", "mix"):
            medians, cells = [], []
            for name in names:
                rates = [cell["rps"] for cell in section["results"][name].get(workload, [])]
                failed = sum(cell["non_2xx"] + cell["errors"] for cell in section["results"][name].get(workload, []))
                medians.append(median(rates) if rates else None)
                cells.append(f"{median(rates):,.0f} ({min(rates):,.0f}–{max(rates):,.0f})"
                             + (f", {failed} failed" if failed else "") if rates else "–")

            def ratio(a: int, b: int) -> str:
                return f"{medians[a] / medians[b]:.2f}×" if medians[a] and medians[b] else "–"
            lines.append(f"| {workload} | {' | '.join(cells)} | {ratio(0, 1)} | {ratio(0, 2)} | {ratio(2, 3)} |")
        cpu_line = []
        for name in names:
            per_workload = []
            for workload in ("lookup", "mix"):
                figure = endpoint.median_cpu(section["results"][name].get(workload, []))
                per_workload.append("–" if figure is None else f"{figure:.2f}")
            cpu_line.append(f"{name} {' / '.join(per_workload)}")
        lines.append(f"\nServer CPU ms per request (lookup / mix; for kg serve --store its own processes only, "
                     f"not Virtuoso's): {'; '.join(cpu_line)}.")
        averages = section["load_averages"]
        lines.append(f"1-minute load average at the cells: {min(averages):.1f}–{max(averages):.1f} "
                     f"(median {median(averages):.1f}) on {os.cpu_count()} CPUs.\n")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
