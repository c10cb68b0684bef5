"""The result cache of `/sparql`: a repeated GET of a repeatable query is answered again without evaluating it."""
from __future__ import annotations

import asyncio

import httpx

from conftest import run_kg

JSON = "application/sparql-results+json"
TRUMP = "<https://w3id.org/diplomacy-kg/entity/donald-trump>"


def test_a_repeated_get_is_answered_from_the_cache_with_the_same_bytes(protocol_app) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o # test_result_cache"
    client = protocol_app  # one app: one result cache
    first, second, as_xml = (client.get("/sparql", params={"query": query}, headers={"accept": accept})
                             for accept in (JSON, JSON, "application/sparql-results+xml"))
    assert [r.status_code for r in (first, second, as_xml)] == [200, 200, 200]
    assert "x-cache" not in first.headers and second.headers["x-cache"] == "hit"
    assert second.content == first.content and second.headers["content-type"] == first.headers["content-type"]
    assert "x-cache" not in as_xml.headers  # another representation is another answer


def test_fresh_values_and_posts_are_never_answered_from_the_cache(protocol_app) -> None:
    client = protocol_app
    for query in ("SELECT (NOW() AS ?t) WHERE {}", "SELECT (RAND() AS ?r) WHERE {}",
                  "SELECT (STRUUID() AS ?u) WHERE {}", "CONSTRUCT { ?s <http://e/p> ?b } WHERE { ?s ?p ?o BIND(BNODE() AS ?b) }"):
        answers = [client.get("/sparql", params={"query": query}) for _ in range(3)]
        assert [a.status_code for a in answers] == [200] * 3, answers[-1].text
        assert not any("x-cache" in a.headers for a in answers), query
    posts = [client.post("/sparql", content="ASK { ?s ?p ?o }", headers={"content-type": "application/sparql-query"})
             for _ in range(3)]
    assert [p.status_code for p in posts] == [200] * 3
    assert not any("x-cache" in p.headers for p in posts)


def ask_in_process(endpoint, queries: list[str]) -> list[httpx.Response]:
    async def ask() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=endpoint), base_url="http://127.0.0.1") as client:
            return [await client.get("/sparql", params={"query": query}, headers={"accept": JSON}) for query in queries]
    return asyncio.run(ask())


def endpoint_over(store_path, **settings):
    from kg.sparql.executor import QueryExecutor
    from kg.server.settings import ServerSettings
    from kg.server.sparql import SparqlEndpoint

    return SparqlEndpoint(QueryExecutor(store_path, 2), ServerSettings(**settings))


def test_the_cache_keeps_to_its_size_and_forgets_old_answers_to_keep_new_ones(built_release) -> None:
    small = f"SELECT ?p WHERE {{ {TRUMP} ?p ?o }} ORDER BY ?p LIMIT 1"
    large = f"SELECT ?p ?o WHERE {{ {TRUMP} ?p ?o }} ORDER BY ?p ?o"
    probe = ask_in_process(endpoint_over(built_release.store_path), [small, large])
    small_size, large_size = (len(answer.content) for answer in probe)
    assert small_size * 3 < large_size

    # An answer larger than a sixteenth of the cache is not kept.
    endpoint = endpoint_over(built_release.store_path, result_cache=16 * (large_size - 1))
    answers = ask_in_process(endpoint, [large, large, small, small])
    assert [a.headers.get("x-cache") for a in answers] == [None, None, None, "hit"]
    assert answers[0].content == answers[1].content

    # Room for sixteen answers of that size: the seventeenth makes room for itself by forgetting the others.
    endpoint = endpoint_over(built_release.store_path, result_cache=16 * large_size)
    others = [f"{large} # {number}" for number in range(16)]
    answers = ask_in_process(endpoint, [large, large, *others, others[-1], large])
    assert [a.headers.get("x-cache") for a in answers] == [None, "hit", *[None] * 16, "hit", None]
    assert endpoint._answer_bytes == 2 * large_size


def test_a_capped_answer_says_so_when_sent_again(built_release) -> None:
    endpoint = endpoint_over(built_release.store_path, max_results=2)
    query = f"SELECT ?p ?o WHERE {{ {TRUMP} ?p ?o }}"
    answers = ask_in_process(endpoint, [query, query])
    assert answers[1].headers["x-cache"] == "hit"
    assert [a.headers.get("x-result-limit") for a in answers] == ["2", "2"]
    assert len(answers[1].json()["results"]["bindings"]) == 2


def test_a_result_cache_of_zero_sends_nothing_again_and_a_negative_size_is_refused(built_release) -> None:
    endpoint = endpoint_over(built_release.store_path, result_cache=0)
    query = f"SELECT ?p WHERE {{ {TRUMP} ?p ?o }}"
    assert [a.headers.get("x-cache") for a in ask_in_process(endpoint, [query] * 3)] == [None] * 3

    result = run_kg("serve", "--result-cache", "-1")
    assert result.returncode == 2
    assert "--result-cache: must be zero or more, not -1" in result.stderr and "Traceback" not in result.stderr
