"""A least-recently-used cache bounded in bytes, not entries: the server's one kind of memo.

`functools.lru_cache(maxsize=N)` bounds the number of entries, so N clients' distinct 1 MB queries
keep N MB: a client chooses how much memory the server holds after its requests. Here each entry is
weighed (its key's and value's size, as the caller estimates them) and the least recently used go
once the total would pass `max_bytes`; an entry heavier than a sixteenth of the budget is computed
but never kept.
"""
from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import wraps
from threading import Lock
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
ENTRY_OVERHEAD = 256  # bytes of bookkeeping per entry (dict slot, tuple, ordering)


class ByteBoundedCache(Generic[K, V]):
    """A mapping that keeps at most `max_bytes` of entries, forgetting the least recently used first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.largest_entry = max_bytes // 16
        self.size = 0  # bytes held, as weighed by `put`
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = Lock()  # the server calls in from its event loop and its query threads

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K, default: V | None = None) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return default
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: K, value: V, weight: int) -> None:
        """Keep `value` under `key`, weighing `weight` bytes (plus ENTRY_OVERHEAD); too heavy: not kept."""
        weight += ENTRY_OVERHEAD
        if weight > self.largest_entry:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self.size -= previous[1]
            while self._entries and self.size + weight > self.max_bytes:
                _, (_, forgotten) = self._entries.popitem(last=False)
                self.size -= forgotten
            self._entries[key] = (value, weight)
            self.size += weight

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0


def weight_of(*objects: object) -> int:
    """A cheap estimate of the bytes `objects` hold: strings and bytes by their size, the rest shallowly."""
    return sum(sys.getsizeof(item) for item in objects)


def byte_bounded_cache(max_bytes: int, weigh: Callable[..., int] | None = None) -> Callable[[Callable[..., V]], Callable[..., V]]:
    """Decorator: memoize a function of hashable arguments in a ByteBoundedCache of `max_bytes`.

    `weigh(result, *args)` estimates an entry's bytes; by default the arguments' and result's shallow sizes.
    Exceptions are not cached. The cache is the wrapper's `cache` attribute.
    """
    def decorate(function: Callable[..., V]) -> Callable[..., V]:
        cache: ByteBoundedCache = ByteBoundedCache(max_bytes)
        missing = object()

        @wraps(function)
        def cached(*args: Hashable) -> V:
            value = cache.get(args, missing)
            if value is missing:
                value = function(*args)
                cache.put(args, value, weigh(value, *args) if weigh else weight_of(value, *args))
            return value

        cached.cache = cache  # type: ignore[attr-defined]
        return cached
    return decorate
