"""A worker process's memory budget: queries that take it past it are answered 503, and the process is replaced.

pyoxigraph cannot cancel a query, nor bound the memory one takes (a string doubled by CONCAT 26 times
needs gigabytes). So the budget is kept in two steps:

- A watch thread reads the process's resident size every WATCH_INTERVAL seconds. When the process
  has grown by GIVE_BACK_AFTER_GROWTH and stopped growing, it hands freed memory back to the system
  (big requests leave it in the allocator's arenas). Past
  `SOFT_SHARE` of the budget it calls `on_exceeded` once: the worker answers every query still
  running with 503, asks its supervisor for a replacement and exits, which ends the query.
- The kernel holds the hard line: `RLIMIT_DATA` lets the process's private memory grow by at most
  what the budget leaves, so an allocation past it fails; pyoxigraph then aborts the process and the
  supervisor starts another. This is what happens when a query grows faster than the watch thread
  can look.

Linux only (it reads /proc); elsewhere `start` does nothing and says so once in the log.
"""
from __future__ import annotations

import logging
import resource
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from kg.parallel import hand_back_freed_memory, resident_bytes

log = logging.getLogger(__name__)
WATCH_INTERVAL = 0.01  # seconds between two readings of the resident size
GIVE_BACK_AFTER_GROWTH = 16 << 20  # bytes the process grew by before freed memory is handed back
SOFT_SHARE = 0.75  # of the budget: the watch thread acts past it, the kernel's limit is the budget


def _data_bytes() -> int:
    """The size of the process's private writable mappings (VmData), which RLIMIT_DATA bounds."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    raise OSError("no VmData in /proc/self/status")


class MemoryGuard:
    """Keeps this process within `budget` bytes; `on_exceeded` is called (from the watch thread) once."""

    def __init__(self, budget: int, on_exceeded: Callable[[int], None]) -> None:
        self.budget, self.on_exceeded = budget, on_exceeded
        self.soft_limit = int(budget * SOFT_SHARE)
        self._stop = threading.Event()

    def start(self, reserve: int = 0) -> bool:
        """Set the kernel's limit and start watching; whether the guard runs on this system.

        `reserve`: bytes of address space that threads not yet started will take for their stacks
        (which count in VmData without being resident).
        """
        if sys.platform != "linux":
            log.warning("no memory budget per query on %s: it needs Linux's /proc", sys.platform)
            return False
        resident = resident_bytes()
        if resident >= self.soft_limit:
            raise ValueError(f"the process already holds {resident >> 20} MB, more than its memory budget of "
                             f"{self.budget >> 20} MB allows; give --max-query-memory more")
        hard = _data_bytes() + reserve + (self.budget - resident)
        resource.setrlimit(resource.RLIMIT_DATA, (hard, hard))
        threading.Thread(target=self._watch, name="memory-guard", daemon=True).start()
        return True

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        settled = previous = resident_bytes()  # the size after the last hand-back
        while not self._stop.wait(WATCH_INTERVAL):
            resident = resident_bytes()
            if resident > self.soft_limit:
                self.on_exceeded(resident)
                return
            if resident - settled > GIVE_BACK_AFTER_GROWTH and resident <= previous:  # grown, and done growing
                hand_back_freed_memory()  # what big requests freed goes back to the system, not to the arenas
                resident = settled = resident_bytes()
            settled, previous = min(settled, resident), resident
