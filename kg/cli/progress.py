"""Progress of long work on stderr: what is being done, a line every few seconds while it lasts, and each
stage of a build as it ends (read from the `timings` the pipeline fills in)."""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from kg.pipeline.build import FORMAT_TIMING

HEARTBEAT_SECONDS = 10.0
# The stages of a build as kg.pipeline.build times them, and what is being done until each ends.
BUILD_STAGES = (("mapping and validation", "mapping and validating the articles"),
                ("dump parts", "writing the dumps"), ("", "loading the store and publishing the release"))


@contextmanager
def progress(prefix: str, what: str, timings: dict[str, float] | None = None,
             out: TextIO | None = None) -> Iterator[None]:
    """Say `what` is being done, then, until the block ends, every HEARTBEAT_SECONDS how long it has
    taken, and each stage of `timings` as it appears ("mapping and validation: 12.3 s")."""
    out = out or sys.stderr
    print(f"{prefix}: {what} ...", file=out, flush=True)
    began = time.monotonic()
    done = threading.Event()
    reported: set[str] = set()

    def report_stages() -> None:
        for stage, seconds in list((timings or {}).items()):
            if stage not in reported and not stage.startswith(FORMAT_TIMING):
                reported.add(stage)
                print(f"{prefix}:   {stage}: {seconds:.1f} s", file=out, flush=True)

    def watch() -> None:
        next_beat = HEARTBEAT_SECONDS
        while not done.wait(1.0):
            report_stages()
            elapsed = time.monotonic() - began
            if elapsed >= next_beat:
                doing = next((what for stage, what in BUILD_STAGES if stage not in (timings or {})), "working") \
                    if timings is not None else "working"
                print(f"{prefix}:   {elapsed:.0f} s: {doing} ...", file=out, flush=True)
                next_beat += HEARTBEAT_SECONDS

    watcher = threading.Thread(target=watch, name="progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        report_stages()


def count_articles(articles: Path) -> int:
    """How many article folders (with a mapping) a project has: said before a build starts."""
    try:
        return sum(1 for _ in articles.glob("*/mapping.yaml"))
    except OSError:
        return 0
