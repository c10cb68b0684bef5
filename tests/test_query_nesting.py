"""Queries nested or chained deeper than pyoxigraph's stack survives are refused before it parses them.

pyoxigraph's parser and evaluator recurse on the native stack: 2,200 nested groups, 4,600 nested
parentheses or a sum of 6,900 terms overflow an 8 MB stack and kill the whole worker process (a
segfault, no exception). kg.sparql.policy counts brackets (MAX_NESTING) and chained
patterns and operators (MAX_CHAIN) and refuses what passes them with QueryTooComplex (HTTP 400);
whatever it lets through parses with room to spare even on a quarter of the default stack.
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest

from conftest import REPO
from kg.sparql.policy import MAX_CHAIN, MAX_NESTING, QueryTooComplex, inspect_query

# Each shape: its query as a function of n, the construct repeated n times. Nested brackets first,
# then chains: the engine recurses once per element of each. Constant terms where variables would
# make pyoxigraph's join planning slow (minutes for 500 joined patterns sharing variables).
SHAPES: dict[str, Callable[[int], str]] = {
    "groups": lambda n: "ASK " + "{" * n + "}" * n,
    "parentheses": lambda n: "ASK { FILTER(" + "(" * n + "1" + ")" * n + ") }",
    "blank nodes": lambda n: "ASK { ?s ?p " + "[ ?p " * n + "1" + " ]" * n + " }",
    "collections": lambda n: "ASK { ?s ?p " + "(" * n + "1" + ")" * n + " }",
    "path groups": lambda n: "ASK { ?s " + "(" * n + "<http://p>" + ")" * n + " ?o }",
    "OPTIONAL in OPTIONAL": lambda n: "ASK { " + "OPTIONAL { " * n + "}" * n + " }",
    "FILTER EXISTS in FILTER EXISTS": lambda n: "ASK { " + "FILTER EXISTS { " * n + "}" * n + " }",
    "subqueries": lambda n: "ASK { " + "{ SELECT * WHERE " * n + "{}" + " }" * n + " }",
    "quoted triples": lambda n: ("ASK { " + "<< " * n + "<http://a> <http://b> <http://c>"
                                 + " >> <http://b> <http://c>" * n + " }"),
    "sum": lambda n: "ASK { FILTER(1" + "+1" * n + ") }",
    "product": lambda n: "ASK { FILTER(1" + "*1" * n + ") }",
    "negations": lambda n: "ASK { FILTER(" + "!" * n + "true) }",
    "disjunction": lambda n: "ASK { FILTER(true" + "||true" * n + ") }",
    "UNION": lambda n: "ASK { {}" + "UNION{}" * n + " }",
    "joined groups": lambda n: "ASK { " + "{<http://a> <http://b> <http://c>}" * n + " }",
    "OPTIONAL chain": lambda n: "ASK { ?s ?p ?o " + "OPTIONAL{<http://a> <http://b> ?o}" * n + " }",
    "MINUS chain": lambda n: "ASK { ?s ?p ?o " + "MINUS{?s ?p ?o}" * n + " }",
    "FILTER chain": lambda n: "ASK { ?s ?p ?o " + "FILTER(?o)" * n + " }",
    "BIND chain": lambda n: "ASK { " + "".join(f"BIND(1 AS ?v{i})" for i in range(n)) + " }",
    "projections": lambda n: "SELECT " + "".join(f"(1 AS ?v{i})" for i in range(n)) + " {}",
    "triple patterns": lambda n: "ASK { " + "<http://a> <http://b> <http://c> ." * n + " }",
    "objects": lambda n: "ASK { <http://a> <http://b> <http://c>" + ",<http://c>" * n + " }",
    "long collection": lambda n: "ASK { <http://a> <http://b> (" + " 1" * n + ") }",
    "path sequence": lambda n: "ASK { <http://a> <http://p>" + "/<http://p>" * n + " <http://c> }",
    "path alternative": lambda n: "ASK { ?s <http://p>" + "|<http://p>" * n + " ?o }",
}


def refused(query: str) -> bool:
    try:
        inspect_query(query, frozenset(), 100)
    except QueryTooComplex:
        return True
    return False


def largest_accepted(shape: Callable[[int], str], limit: int = 20_000) -> int:
    """The largest n whose query the policy lets through (a binary search; refusal grows with n)."""
    low, high = 0, limit
    assert refused(shape(high))
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if refused(shape(middle)) else (middle, high)
    return low


@pytest.mark.parametrize("bracket", ["{", "(", "["])
def test_nesting_past_the_limit_is_refused_with_the_limit_named(bracket: str) -> None:
    def nested(depth: int) -> str:
        if bracket == "{":
            return "ASK " + "{" * depth + "}" * depth
        if bracket == "(":
            return "ASK { FILTER(" + "(" * (depth - 2) + "1" + ")" * (depth - 2) + ") }"
        return "ASK { ?s ?p " + "[ ?p " * (depth - 1) + "1" + " ]" * (depth - 1) + " }"
    inspect_query(nested(MAX_NESTING), frozenset(), 100)
    with pytest.raises(QueryTooComplex, match=f"more than {MAX_NESTING} deep; at most {MAX_NESTING}"):
        inspect_query(nested(MAX_NESTING + 1), frozenset(), 100)
    # The report of issue 19: 3,000 nested groups (12 KB) and 5,000 parentheses crashed the worker.
    for query in ("ASK " + "{ " * 3000 + "} " * 3000, "ASK { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }"):
        with pytest.raises(QueryTooComplex):
            inspect_query(query, frozenset(), 100)


def test_chains_past_the_limit_are_refused() -> None:
    with pytest.raises(QueryTooComplex, match=f"at most {MAX_CHAIN}"):
        inspect_query(SHAPES["sum"](7000), frozenset(), 100)
    with pytest.raises(QueryTooComplex, match=f"at most {MAX_CHAIN}"):
        inspect_query("ASK { " + "?s ?p ?o ." * 8200 + " }", frozenset(), 100)
    inspect_query(SHAPES["sum"](100), frozenset(), 100)
    inspect_query("ASK { " + "?s ?p ?o ." * 100 + " }", frozenset(), 100)


def test_flat_lists_are_not_chains() -> None:
    """VALUES rows, IN lists and function arguments are flat lists in the engine: any number is fine."""
    many = 50_000
    for query in ("SELECT * { VALUES ?x {" + " 1" * many + " } }",
                  "SELECT * { VALUES (?x ?y) {" + " (1 2)" * many + " } }",
                  "SELECT * { VALUES (" + " ".join(f"?v{i}" for i in range(300)) + ") { (" + " 1" * 300 + ") } }",
                  "ASK { FILTER(1 IN (1" + ", 1" * many + ")) }",
                  "ASK { FILTER(CONCAT(''" + ", ''" * many + ") = '') }"):
        inspect_query(query, frozenset(), 100)


def test_the_project_queries_are_far_from_the_limits() -> None:
    from kg.sparql.policy import _lex
    for path in sorted((REPO / "queries").glob("*.rq")):
        lexed = _lex(path.read_text())
        assert lexed.nesting * 4 <= MAX_NESTING and lexed.chain * 10 <= MAX_CHAIN, path.name


def test_whatever_the_limits_let_through_parses_on_a_quarter_of_the_default_stack() -> None:
    """For every shape, the largest query the policy accepts would run through pyoxigraph in a thread
    with a 2 MB stack, a quarter of what the main thread and the query threads have. Shown at a
    quarter of the scale on a 512 KB stack (the engine's stack use grows with n; at full scale the
    planning of the longest chains takes minutes), in a child process: an overflow there is a crash,
    seen as the child's exit status."""
    quarter = {name: largest_accepted(shape) // 4 for name, shape in SHAPES.items()}
    assert all(n > 0 for n in quarter.values()), quarter
    script = f"""
import sys, threading
sys.path[:0] = [{str(REPO)!r}, {str(REPO / "tests")!r}]
from pyoxigraph import Store
from test_query_nesting import SHAPES

def run():
    store = Store()
    for name, n in {quarter!r}.items():
        try:
            bool(store.query(SHAPES[name](n)))
        except (SyntaxError, RuntimeError, OSError) as error:
            print(name, "failed:", error)
            return
        print(name, "ok", flush=True)

threading.stack_size(512 << 10)
thread = threading.Thread(target=run)
thread.start()
thread.join()
"""
    child = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert child.returncode == 0, f"crashed after: {child.stdout[-500:]}\n{child.stderr[-2000:]}"
    assert child.stdout.split("\n")[:-1] == [f"{name} ok" for name in SHAPES]


def test_the_server_answers_400_and_its_worker_survives(protocol_server) -> None:
    for query in ("ASK " + "{ " * 3000 + "} " * 3000, SHAPES["sum"](7000)):
        response = httpx.post(protocol_server.sparql, data={"query": query}, timeout=60)
        assert response.status_code == 400, response.text
        assert "at most" in response.json()["message"]
    assert httpx.get(protocol_server.sparql, params={"query": "ASK { ?s ?p ?o }"}, timeout=60).json()["boolean"]
    assert "Traceback" not in protocol_server.log()
