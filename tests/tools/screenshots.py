"""Screenshots of the site's main pages for the README, into docs/screenshots/ (PNG, 1280×900 CSS pixels).

Builds the seed release into a scratch folder, serves it with `kg serve` on 127.0.0.1, and drives Debian's
chromium through Playwright (as the browser tests do); the server is stopped by its PID at the end.

    .venv/bin/python tests/tools/screenshots.py [--out docs/screenshots]
"""
from __future__ import annotations

import argparse
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ARTICLE = "/article/cgtn-2019-03-01-hanoi-summit"
EDITOR_QUERY = """PREFIX dipl: <https://w3id.org/diplomacy-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?speaker ?name (COUNT(?statement) AS ?statements) WHERE {
  ?statement a dipl:Statement ; dipl:speaker ?speaker .
  ?speaker rdfs:label ?name .
} GROUP BY ?speaker ?name ORDER BY DESC(?statements)"""
# file name -> (path, what shows that the page is drawn)
PAGES = {
    "home": ("/", "h1"),
    "search": ("/search?q=kim", "h1"),
    "browse": ("/browse", "h1"),
    "editor": (f"/sparql?query={quote(EDITOR_QUERY)}", ".yasr table.dataTable tbody tr"),
    "timeline": ("/timeline", ".vis-item"),
    "graph": (f"/network?about={ARTICLE}", "#network canvas"),
    "entity": ("/entity/mike-pompeo", "h1"),
    "article": (ARTICLE, "h1"),
}
STARTUP_SECONDS = 120


def serve(build_dir: Path) -> tuple[subprocess.Popen, str]:
    """`kg serve` (building the seed release first) on a free port; its process and base URL."""
    command = [sys.executable, "-m", "kg.cli.main", "serve", "--host", "127.0.0.1", "--port", "0",
               "--build-dir", str(build_dir), "--workers", "1"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline, seen = time.monotonic() + STARTUP_SECONDS, b""
    while time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            seen += os.read(process.stdout.fileno(), 4096)
            match = re.search(rb"http://127\.0\.0\.1:(\d+)/sparql", seen)
            if match:
                return process, f"http://127.0.0.1:{match.group(1).decode()}"
    stop(process)
    raise SystemExit(f"kg serve did not start: {seen.decode(errors='replace')}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(30)


def take(base_url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        for name, (path, drawn) in PAGES.items():
            page.goto(base_url + path)
            page.wait_for_selector(drawn)
            page.wait_for_timeout(300)  # let drawings settle (layouts, fonts)
            page.screenshot(path=str(out / f"{name}.png"))
            print(f"{out / f'{name}.png'}: {path}")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kg-screenshots-") as scratch:
        process, base_url = serve(Path(scratch) / "build")
        try:
            take(base_url, args.out)
        finally:
            stop(process)


if __name__ == "__main__":
    main()
