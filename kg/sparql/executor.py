"""Running queries on a read-only store under a time limit, without ever blocking the event loop.

pyoxigraph releases the GIL while it evaluates, so queries run in a thread pool and use every
core. It offers no way to cancel a query, though: a thread stuck in a runaway query can only be
stopped by ending its process. So the executor answers the caller with QueryTimeout at the
deadline and reports the runaway through `on_runaway`; the server process then stops taking
connections, finishes its other requests and exits, and its supervisor has already started a
fresh process in its place (see kg.server.supervisor). This keeps the lean in-process hot path for
the ordinary queries, which need no inter-process hop.

Two things keep a storm of slow queries from slowing everyone else down (on Linux, where the
priority of a single thread can be set): a query still running after `DEPRIORITIZE_AFTER` seconds
has its thread's nice value raised, so short queries get the CPU first, and an abandoned runaway
gets the lowest priority until its process exits. A query that timed out while still waiting for
a free thread never started: it is dropped, and its process is not recycled for it. A query that
outlived a shorter time limit its client asked for is only a runaway if it is still running at the
operator's limit (`limit`): otherwise any client could recycle workers at will with tiny limits.
"""
from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Generic, TypeVar

from pyoxigraph import Store

from kg.sparql.stores import open_read_only

T = TypeVar("T")
QUERY_STACK_BYTES = 16 << 20  # per query thread: eight times what the largest query the policy lets through needs
OTHER_STACK_BYTES = 2 << 20  # threads started later (file reads, the memory guard) need little
DEPRIORITIZE_AFTER = 0.5  # seconds a query runs before it yields the CPU to shorter ones
SLOW_NICE, RUNAWAY_NICE = 10, 19  # weights: a slow query gets a tenth of a short one's CPU share
_THREAD_PRIORITIES = sys.platform == "linux"  # elsewhere setpriority would change the whole process


class QueryAbandoned(Exception):
    """The query was given up before it finished; the message says why (HTTP 503)."""


class QueryTimeout(QueryAbandoned):
    """The query ran past its time limit and was abandoned; the message says which limit."""


class QueryOverMemory(QueryAbandoned):
    """The process passed its memory budget while the query ran; the process is being replaced."""


class _Job(Generic[T]):
    """One evaluation, knowing which thread runs it so that thread's priority can be lowered."""

    def __init__(self, evaluate: Callable[[Store], T]) -> None:
        self.evaluate = evaluate
        self.lock = threading.Lock()
        self.thread: int | None = None  # native id while running
        self.started = False
        self.abandoned = False  # the caller stopped waiting: never start
        self.restore: int | None = None  # the thread's nice value before it was lowered

    def __call__(self, store: Store) -> T:
        with self.lock:
            if self.abandoned:
                raise QueryTimeout("abandoned before it started")
            self.thread, self.started = threading.get_native_id(), True
        try:
            return self.evaluate(store)
        finally:
            with self.lock:
                if self.restore is not None:
                    _set_nice(self.thread, self.restore)  # fails without privilege: the thread stays niced
                self.thread = None

    def abandon(self) -> bool:
        """Stop waiting for the job; whether it had started (and so may run on)."""
        with self.lock:
            self.abandoned = True
            return self.started

    def lower_priority(self, nice: int) -> None:
        with self.lock:
            if self.thread is None or not _THREAD_PRIORITIES:
                return
            before = os.getpriority(os.PRIO_PROCESS, self.thread)
            if _set_nice(self.thread, max(nice, before)) and self.restore is None:
                self.restore = before


def _started_pool(threads: int, stack_bytes: int) -> ThreadPoolExecutor:
    """A pool of `threads` threads, all started now with `stack_bytes` of stack each.

    pyoxigraph parses and evaluates recursively on the native stack: a query nested or chained
    deep enough overflows a default 8 MB stack and kills the process. The threads are started up
    front because the stack size is a process-wide setting read when a thread starts; threads
    started later get OTHER_STACK_BYTES.
    """
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="query")
    started = threading.Barrier(threads + 1)
    threading.stack_size(stack_bytes)
    try:
        for _ in range(threads):  # each waits for all: the pool must start a new thread for the next
            pool.submit(started.wait)
    finally:
        threading.stack_size(OTHER_STACK_BYTES)
    started.wait()
    return pool


def _set_nice(thread: int, nice: int) -> bool:
    try:
        os.setpriority(os.PRIO_PROCESS, thread, nice)
        return True
    except OSError:
        return False


class QueryExecutor:
    """Owns the read-only store and the threads queries run in; every run has a deadline."""

    local = True  # the store is in this process: bounded queries may run right on the event loop

    def __init__(self, store_path: Path, threads: int, on_runaway: Callable[[], None] | None = None,
                 limit: float | None = None) -> None:
        """`limit`: the operator's time limit, the longest any query may keep its thread (default:
        each run's own `timeout`)."""
        self.store: Store = open_read_only(store_path)
        self._pool = _started_pool(threads, QUERY_STACK_BYTES)
        self._on_runaway = on_runaway
        self._limit = limit
        self._aborts: set[asyncio.Future] = set()  # one per run in progress: failing it answers the caller

    def abandon_all(self, error: QueryAbandoned) -> None:
        """Answer every run in progress with `error` (on the event loop), whatever its query still does."""
        for abort in self._aborts:
            if not abort.done():
                abort.set_exception(error)

    async def run(self, evaluate: Callable[[Store], T], timeout: float) -> T:
        """Evaluate `evaluate(store)` in a query thread; QueryTimeout after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        job = _Job(evaluate)
        future = loop.run_in_executor(self._pool, job, self.store)
        abort = loop.create_future()
        self._aborts.add(abort)
        slow = loop.call_later(DEPRIORITIZE_AFTER, job.lower_priority, SLOW_NICE)
        try:
            done, _ = await asyncio.wait((future, abort), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            slow.cancel()
            self._aborts.discard(abort)
        if future in done:
            if abort.done():
                abort.exception()  # retrieved: the run finished anyway
            return future.result()
        future.cancel()
        started = job.abandon()
        if abort.done():
            raise abort.exception()
        abort.cancel()
        if started:  # a query that never got a thread will not start: nothing runs away
            if self._limit is not None and timeout < self._limit:
                loop.call_later(self._limit - timeout, self._runaway_if_running, job)
            else:
                self._runaway_if_running(job)
        raise QueryTimeout(f"the query did not finish within its time limit of {timeout:g} s")

    def _runaway_if_running(self, job: _Job) -> None:
        if job.thread is not None:
            job.lower_priority(RUNAWAY_NICE)
            if self._on_runaway is not None:
                self._on_runaway()
