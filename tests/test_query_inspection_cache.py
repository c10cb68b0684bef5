"""The query-inspection cache is bounded in bytes, not entries (issue 19, item 6).

It used to keep 2,048 inspections of any size: 200 different 1 MB queries kept 399 MB after their
requests. Now it keeps at most INSPECTION_CACHE_BYTES, and an inspection heavier than a sixteenth of
that is computed but never kept.
"""
from __future__ import annotations

from kg.sparql.policy import INSPECTION_CACHE_BYTES, inspect_query


def distinct_queries(count: int, size: int) -> list[str]:
    """`count` different SELECT queries of about `size` bytes (one long string: cheap to tokenize)."""
    return [f"SELECT * {{ ?s ?p '{'x' * size}{i}' }}" for i in range(count)]


def test_two_hundred_different_megabyte_queries_keep_less_than_the_budget() -> None:
    cache = inspect_query.cache
    cache.clear()
    for query in distinct_queries(200, 1 << 20):
        assert inspect_query(query, frozenset(), 100).row_limit_imposed
        assert cache.size <= INSPECTION_CACHE_BYTES
    assert cache.size < 1 << 20  # each is past the largest entry kept


def test_smaller_queries_are_kept_until_the_budget_then_the_oldest_go() -> None:
    cache = inspect_query.cache
    cache.clear()
    queries = distinct_queries(120, 100_000)  # 12 MB of queries, 100 KB each
    for query in queries:
        inspect_query(query, frozenset(), 100)
        assert cache.size <= INSPECTION_CACHE_BYTES
    assert INSPECTION_CACHE_BYTES // 2 < cache.size
    assert 0 < len(cache) < len(queries)
    assert inspect_query(queries[-1], frozenset(), 100) is inspect_query(queries[-1], frozenset(), 100)
    cache.clear()
