"""Spreading independent tasks over the CPUs, for the build stages that are pure Python."""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

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
