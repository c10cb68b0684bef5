"""Build work in forked processes: independent tasks spread over the CPUs (the stages that are pure
Python), or work kept apart from the build's memory in a process forked early."""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from itertools import islice
from typing import Any, TypeVar

T = TypeVar("T")
PR_SET_PDEATHSIG = 1  # Linux prctl option: a signal the process gets when its parent dies
_LIBC = ctypes.CDLL(None)  # the symbols of this process: the C library's among them
_PAGE = os.sysconf("SC_PAGE_SIZE")


def in_workers(work: Callable[..., T], tasks: Iterable, inherited: Any = None) -> Iterator[T]:
    """`work` applied to each task, results in task order as they come: in forked worker processes (one
    per CPU) when there are several tasks. Tasks and results are pickled; `inherited`, when given, is not:
    each worker inherits it when forked (a store, say, which cannot be pickled), and `work(inherited, task)`
    is called instead of `work(task)`. A few tasks per worker are handed out ahead, never all: tasks are
    drawn from `tasks` as results are taken, so neither the tasks nor the results of a corpus are in memory
    at once."""
    workers = os.cpu_count() or 1
    tasks = iter(tasks)
    first = list(islice(tasks, max(workers, 2)))
    call = work if inherited is None else partial(_with_inherited, work)
    if len(first) <= 1:
        global _INHERITED
        _INHERITED = inherited
        try:
            yield from map(call, first)
        finally:
            _INHERITED = None
        return
    with _pool(min(len(first), workers), inherited) as pool:
        pending = deque(pool.submit(call, task) for task in first)
        for task in tasks:
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
            pending.append(pool.submit(call, task))
        while pending:
            yield pending.popleft().result()


_INHERITED: Any = None  # in a worker process: what its pool was given to inherit (see in_workers)


def _with_inherited(work: Callable[..., T], task: Any) -> T:
    return work(_INHERITED, task)


@contextmanager
def child_forked_now() -> Iterator[Callable[..., Any]]:
    """A process forked at once, to run work later: `run(work, *args)` returns `work(*args)`, computed in
    a process of its own forked from that one.

    A forked process counts its parent's resident memory in its own resident size. Forked from a
    process that was forked while this one was small, work holds none of what this process takes
    meanwhile (a build's per-article data), nor what earlier work took (a store engine's caches, say):
    that goes back to the system when the work ends.

    Enter it before this process opens a store: the store engine's background threads do not survive a
    fork, and a store written in a process forked after waits for them forever when it flushes.
    """
    with _pool(1) as pool:
        pool.submit(os.getpid).result()  # the pool forks its worker for its first task
        yield lambda work, *args: pool.submit(_in_own_process, work, *args).result()


def _in_own_process(work: Callable[..., T], *args: Any) -> T:
    with _pool(1) as pool:
        return pool.submit(work, *args).result()


def _pool(workers: int, inherited: Any = None) -> ProcessPoolExecutor:
    hand_back_freed_memory()
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(os.getpid(), inherited))


def _start_worker(parent: int, inherited: Any) -> None:
    """In a new worker: keep what it inherited (forked, initargs are not pickled), and end with the parent."""
    global _INHERITED
    _INHERITED = inherited
    _end_with_parent(parent)


def resident_bytes() -> int:
    """This process's resident set size, in bytes (Linux: /proc; elsewhere 0)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        return 0


def hand_back_freed_memory() -> None:
    """Give the system the memory that C's allocator keeps after frees (glibc's malloc_trim): a forked
    process starts with every page resident in its parent, freed or not, in its own resident size."""
    malloc_trim = getattr(_LIBC, "malloc_trim", None)
    if malloc_trim is not None:
        malloc_trim(0)


def _end_with_parent(parent: int) -> None:
    """Make a worker end when the build that forked it is killed (SIGKILL, the OOM killer). Otherwise an
    idle worker waits for tasks forever: forked, it holds the write end of its own task queue."""
    if sys.platform == "linux":
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)

