"""Running queries on a read-only store under a time limit, without ever blocking the event loop.

pyoxigraph releases the GIL while it evaluates, so queries run in a thread pool and use every
core. It offers no way to cancel a query, though: a thread stuck in a runaway query can only be
stopped by ending its process. So the executor answers the caller with QueryTimeout at the
deadline and reports the runaway through `on_runaway`; the server process then stops taking
connections, finishes its other requests and exits, and its supervisor has already started a
fresh process in its place (see kg.server.supervisor). This keeps the lean in-process hot path for
the ordinary queries, which need no inter-process hop.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from pyoxigraph import Store

from kg.store import open_read_only

T = TypeVar("T")


class QueryTimeout(Exception):
    """The query ran past its time limit and was abandoned; the message says which limit."""


class QueryExecutor:
    """Owns the read-only store and the threads queries run in; every run has a deadline."""

    def __init__(self, store_path: Path, threads: int, on_runaway: Callable[[], None] | None = None) -> None:
        self.store: Store = open_read_only(store_path)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="query")
        self._on_runaway = on_runaway

    async def run(self, evaluate: Callable[[Store], T], timeout: float) -> T:
        """Evaluate `evaluate(store)` in a query thread; QueryTimeout after `timeout` seconds."""
        future = asyncio.get_running_loop().run_in_executor(self._pool, evaluate, self.store)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            if self._on_runaway is not None:
                self._on_runaway()
            raise QueryTimeout(f"the query did not finish within its time limit of {timeout:g} s") from None
