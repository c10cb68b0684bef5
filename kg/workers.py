"""Build work in forked processes: independent tasks spread over the CPUs (the stages that are pure
Python), or one task alone so that the memory it takes is handed back when it ends."""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def in_workers(work: Callable[..., T], tasks: Iterable) -> list[T]:
    """`work` applied to each task, in order: in forked worker processes (one per CPU) when there are
    several tasks. Workers inherit the parent's module state; tasks and results are pickled."""
    tasks = list(tasks)
    if len(tasks) <= 1:
        return [work(task) for task in tasks]
    with ProcessPoolExecutor(max_workers=min(len(tasks), os.cpu_count() or 1),
                             mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(work, tasks))


def in_child(work: Callable[..., T], *args: Any) -> T:
    """`work(*args)` in one forked process. The memory it takes (a store engine's caches, say) goes
    back to the system when it ends, instead of staying in this process and every process it forks
    later, which count it in their own resident size."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        return pool.submit(work, *args).result()
