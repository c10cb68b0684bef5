"""How fast the site answers people at corpus scale: the home page, a search, browse pages and the
pages of the busiest entity and of an article, from a real `kg serve` over loopback.

    python benchmarks/site/run.py --articles 10000 --requests 30

Generates and builds the synthetic corpus (benchmarks/corpus.py) in `--work` when missing (or uses
`--project DIR` with its build/), starts `kg serve --workers 1`, asks every page once to warm up (the
first search builds the name index: its time is reported apart), then asks each page `--requests`
times one after the other and reports the median, 95th percentile and maximum latency, with the
server's cheapest route (`/site.css`, a static file) measured the same way as the floor of any
request, and writes the table at the top of RESULTS.md beside this file (the text from its
"## Method" heading on is kept).
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from corpus import generate_corpus

GAF_DENOTED_BY = "http://groundedannotationframework.org/gaf#denotedBy"
STARTUP_SECONDS = 600
WARM_UP_SECONDS = 300
KEPT_FROM = "## Method"  # RESULTS.md from this heading on is written by hand and kept across runs


def project_for(articles: int, work: Path, given: Path | None) -> Path:
    """The project to serve: `given`, else a generated corpus of `articles` articles (kept in `work`)."""
    if given:
        return given.resolve()
    project = work / f"corpus-{articles}"
    if not (project / "seeds").is_dir():
        print(f"generating {articles} articles in {project}", file=sys.stderr)
        generate_corpus(project, articles)
    return project


def start_server(project: Path) -> tuple[subprocess.Popen, str]:
    """`kg serve` over the project's release (built first when missing), one worker; its URL."""
    command = [sys.executable, "-m", "kg.cli.main", "--project", str(project), "serve", "--host", "127.0.0.1",
               "--port", "0", "--workers", "1"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=sys.stderr)
    deadline = time.monotonic() + STARTUP_SECONDS
    line = b""
    while time.monotonic() < deadline and process.poll() is None:
        line += process.stdout.read1(4096)
        found = re.search(rb"(http://127\.0\.0\.1:\d+)/sparql", line)
        if found:
            return process, found.group(1).decode()
    process.terminate()
    raise RuntimeError("kg serve did not start")


def sparql_value(client: httpx.Client, query: str, name: str) -> str:
    rows = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"},
                      timeout=120).json()["results"]["bindings"]
    return rows[0][name]["value"]


def pages_to_ask(client: httpx.Client, base: str) -> dict[str, str]:
    """The pages measured; the busiest entity and one article are found with SPARQL first."""
    busiest = sparql_value(client, f"SELECT ?e (COUNT(?m) AS ?n) WHERE {{ ?e <{GAF_DENOTED_BY}> ?m "
                                   f"FILTER(STRSTARTS(STR(?e), \"{base}entity/\")) }} GROUP BY ?e ORDER BY DESC(?n) LIMIT 1", "e")
    label = sparql_value(client, f"SELECT ?l WHERE {{ <{busiest}> <http://www.w3.org/2000/01/rdf-schema#label> ?l }}", "l")
    article = sparql_value(client, "SELECT ?a WHERE { ?a a <http://schema.org/NewsArticle> } LIMIT 1", "a")
    return {
        "static file /site.css (floor)": "/site.css",
        "home /": "/",
        f"search ({label})": f"/search?q={quote(label)}",
        "search, misspelt (fuzzy)": f"/search?q={quote(label[:-1] + 'x')}",
        "browse statements, page 1": "/browse?type=Statement",
        "browse statements, page 20": "/browse?type=Statement&page=20",
        "browse claims denied by the busiest entity": f"/browse?type=Claim&stance=denies&speaker={quote(busiest[len(base) + 7:])}",
        f"entity page of the busiest entity ({label})": busiest[len(base) - 1:],
        "article page": article[len(base) - 1:],
    }


def measure(client: httpx.Client, path: str, times: int) -> list[float]:
    latencies = []
    for _ in range(times):
        began = time.perf_counter()
        response = client.get(path, headers={"Accept": "text/html"})
        latencies.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30, help="requests per page, one after the other")
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work")
    parser.add_argument("--project", type=Path, help="an existing project to serve (its build/ is used)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    project = project_for(args.articles, args.work, args.project)
    articles = sum(1 for _ in (project / "seeds" / "articles").glob("*/mapping.yaml"))
    process, url = start_server(project)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            base = json.loads((project / "build" / "current" / "release.json").read_text(encoding="utf-8"))["base"]
            pages = pages_to_ask(client, base)
            first = {}
            for name, path in pages.items():
                began = time.perf_counter()
                while client.get(path, headers={"Accept": "text/html"}).status_code == 503 \
                        and time.perf_counter() - began < WARM_UP_SECONDS:
                    time.sleep(1)  # the name index is still being read (once per process)
                first[name] = (time.perf_counter() - began) * 1000
            rows = []
            for name, path in pages.items():
                latencies = sorted(measure(client, path, args.requests))
                size = len(client.get(path, headers={"Accept": "text/html"}).content)
                rows.append((name, path, statistics.median(latencies),
                             latencies[max(0, int(len(latencies) * 0.95) - 1)], latencies[-1], first[name], size))
    finally:
        process.terminate()
        process.wait(60)
    command = " ".join(["python benchmarks/site/run.py", *sys.argv[1:]])
    lines = [f"# Site pages at {articles:,} articles", "",
             f"`{command}` on "
             f"{time.strftime('%Y-%m-%d')}: `kg serve --workers 1` over loopback, each page asked once to warm up "
             f"(first), then {args.requests} times one after the other. Milliseconds; the static file is the "
             "floor of any request on this (shared, noisy) machine.", "",
             "| page | median | p95 | max | first | bytes |", "|---|---:|---:|---:|---:|---:|"]
    for name, path, median, p95, most, once, size in rows:
        lines.append(f"| {name} `{path[:60]}` | {median:.1f} | {p95:.1f} | {most:.1f} | {once:.0f} | {size:,} |")
    text = "\n".join(lines) + "\n"
    print(text)
    # The hand-written method and reading below the table are kept; only the table is rewritten.
    kept = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
    written = kept.find(KEPT_FROM)
    args.out.write_text(text + ("\n" + kept[written:] if written >= 0 else ""), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
