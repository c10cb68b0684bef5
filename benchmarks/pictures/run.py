"""How fast the timeline, the graph views and the query editor answer at corpus scale, from a real `kg serve`.

    python benchmarks/corpus.py WORK/corpus --articles 1000
    KG_PROJECT=WORK/corpus kg build --build-dir WORK/corpus/build
    python benchmarks/pictures/run.py --build-dir WORK/corpus/build --requests 10

Starts `kg serve --workers 1` over the built release on 127.0.0.1, asks each page once to warm up, then
`--requests` times one after the other, and prints the median and maximum latency of each, beside the
server's cheapest route (`/site.css`, a static file) and an entity page measured the same way. The busiest
entity (most attributions) and the first article are chosen by SPARQL. The server is stopped by its PID.
"""
from __future__ import annotations

import argparse
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
BUSIEST = """PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?agent (COUNT(*) AS ?n) WHERE { ?a prov:agent ?agent } GROUP BY ?agent ORDER BY DESC(?n) LIMIT 1"""
ARTICLE = "SELECT ?a WHERE { ?a a <http://schema.org/NewsArticle> } ORDER BY ?a LIMIT 1"


def serve(build_dir: Path) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "kg.cli.main", "serve", "--host", "127.0.0.1", "--port", "0",
               "--build-dir", str(build_dir), "--workers", "1"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline, seen = time.monotonic() + 600, b""
    while time.monotonic() < deadline and process.poll() is None:
        if select.select([process.stdout], [], [], 0.5)[0]:
            seen += os.read(process.stdout.fileno(), 4096)
            match = re.search(rb"http://127\.0\.0\.1:(\d+)/sparql", seen)
            if match:
                return process, f"http://127.0.0.1:{match.group(1).decode()}"
    process.kill()
    raise SystemExit("kg serve did not start")


def first_value(client: httpx.Client, query: str) -> str:
    rows = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}).json()
    return next(iter(rows["results"]["bindings"][0].values()))["value"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=10)
    args = parser.parse_args()
    process, base = serve(args.build_dir)
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            base_iri = client.get("/dumps/", headers={"Accept": "application/json"}).json()["base"]
            busiest = "/" + first_value(client, BUSIEST)[len(base_iri):]
            article = "/" + first_value(client, ARTICLE)[len(base_iri):]
            pages = {"/site.css (floor)": "/site.css", f"entity page {busiest}": busiest,
                     "/sparql editor (browser)": "/sparql", "/timeline (all)": "/timeline",
                     f"/timeline?article= ({article.rsplit('/', 1)[-1]})": f"/timeline?article={article.rsplit('/', 1)[-1]}",
                     f"/network about {busiest}": f"/network?about={busiest}",
                     f"/network about {article.rsplit('/', 1)[-1]}": f"/network?about={article}"}
            print(f"{'page':60} {'median ms':>10} {'max ms':>8} {'bytes':>9}")
            for name, path in pages.items():
                client.get(path, headers={"Accept": "text/html"})  # warm up
                times, size = [], 0
                for _ in range(args.requests):
                    began = time.perf_counter()
                    answer = client.get(path, headers={"Accept": "text/html"})
                    times.append((time.perf_counter() - began) * 1000)
                    assert answer.status_code == 200, (path, answer.status_code)
                    size = len(answer.content)
                print(f"{name:60} {statistics.median(times):10.1f} {max(times):8.1f} {size:9d}")
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(30)


if __name__ == "__main__":
    main()
