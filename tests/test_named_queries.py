"""Named queries over HTTP: /queries lists them, /queries/{name} runs one with typed parameters."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from conftest import REPO
from kg.server.views.named_queries import NamedQueryError, read_named_query

ENTITY = "https://w3id.org/diplomacy-kg/entity/"
BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]]


def test_listing_names_every_query_file_with_its_header(release_server) -> None:
    listing = httpx.get(f"{release_server.base_url}/queries").json()
    names = {q["name"] for q in listing}
    assert names == {path.stem for path in (REPO / "queries").glob("*.rq")}
    statements = next(q for q in listing if q["name"] == "statements")
    assert statements["title"] == "Who said what"
    assert statements["parameters"] == [{"name": "speaker", "type": "iri", "required": False,
                                         "description": statements["parameters"][0]["description"]}]
    assert statements["sparql"] == (REPO / "queries" / "statements.rq").read_text(encoding="utf-8")
    page = httpx.get(f"{release_server.base_url}/queries", headers=BROWSER)
    assert page.headers["content-type"].startswith("text/html")
    assert 'href="/queries/statements?format=html">Who said what</a>' in page.text


def test_a_parameter_narrows_the_answer_to_the_bound_value(release_server) -> None:
    url = f"{release_server.base_url}/queries/statements"
    everyone = rows(httpx.get(url))
    trump = rows(httpx.get(url, params={"speaker": f"{ENTITY}donald-trump"}))
    assert trump and {row["speakerLabel"] for row in trump} == {"Donald Trump"}
    assert trump == [row for row in everyone if row["speaker"] == f"{ENTITY}donald-trump"]
    assert len(everyone) > len(trump)


@pytest.mark.parametrize(("accept", "fmt", "content_type"), [
    ("text/csv", None, "text/csv; charset=utf-8"),
    ("application/sparql-results+xml", None, "application/sparql-results+xml"),
    ("application/json", "tsv", "text/tab-separated-values; charset=utf-8"),
])
def test_any_result_format_by_accept_or_format(release_server, accept, fmt, content_type) -> None:
    response = httpx.get(f"{release_server.base_url}/queries/positions-held",
                         params={"person": f"{ENTITY}wang-yi", **({"format": fmt} if fmt else {})},
                         headers={"accept": accept})
    assert response.status_code == 200 and response.headers["content-type"] == content_type
    assert "State Councilor" in response.text and "Donald Trump" not in response.text


@pytest.mark.parametrize(("params", "says"), [
    ({"speeker": ENTITY + "donald-trump"}, "unknown parameter 'speeker' for query 'statements'; it takes: speaker"),
    ({"speaker": "donald-trump"}, "parameter 'speaker' must be an absolute IRI, not 'donald-trump'"),
    ([("speaker", ENTITY + "a"), ("speaker", ENTITY + "b")], "parameter 'speaker' given 2 times"),
])
def test_bad_parameters_get_400_with_a_message(release_server, params, says) -> None:
    response = httpx.get(f"{release_server.base_url}/queries/statements", params=params)
    assert response.status_code == 400 and says in response.json()["message"]


def test_named_queries_obey_the_endpoint_policy(release_server) -> None:
    federated = httpx.get(f"{release_server.base_url}/queries/wikidata-federation")
    assert federated.status_code == 403 and "not allowed" in federated.json()["message"]
    assert httpx.get(f"{release_server.base_url}/queries/no-such-query").status_code == 404


def test_openapi_describes_each_query_and_its_parameters(release_server) -> None:
    paths = httpx.get(f"{release_server.base_url}/openapi.json").json()["paths"]
    operation = paths["/queries/statements"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert operation["summary"] == "Who said what"
    assert parameters["speaker"]["schema"] == {"type": "string", "format": "iri"}
    assert parameters["speaker"]["required"] is False
    assert "csv" in parameters["format"]["schema"]["enum"]
    assert "text/csv" in operation["responses"]["200"]["content"]
    assert {f"/queries/{p.stem}" for p in (REPO / "queries").glob("*.rq")} <= set(paths)


def test_every_operation_in_the_openapi_document_has_its_own_id(release_app) -> None:
    """OpenAPI: operationId MUST be unique; client generators name their methods after it."""
    paths = release_app.get("/openapi.json").json()["paths"]
    ids = [operation["operationId"] for item in paths.values() for operation in item.values()
           if isinstance(operation, dict) and "operationId" in operation]
    assert len(ids) > 10
    assert sorted(ids) == sorted(set(ids)), [i for i in set(ids) if ids.count(i) > 1]


def test_html_page_has_a_form_and_the_result_table(release_server) -> None:
    page = httpx.get(f"{release_server.base_url}/queries/positions-held",
                     params={"person": f"{ENTITY}wang-yi"}, headers=BROWSER)
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert f'<input name="person" value="{ENTITY}wang-yi"' in page.text
    assert "<td>Foreign Minister</td>" in page.text and "<td>Donald Trump</td>" not in page.text
    assert "Open in the editor" in page.text


@pytest.fixture(scope="module")
def typed_server(kg_serve, tmp_path_factory):
    """kg serve --data with a queries folder whose parameters use every type but iri (a SELECT projects
    its parameters and tests an optional one with COALESCE, not BOUND: see kg.server.views.named_queries)."""
    folder = tmp_path_factory.mktemp("typed")
    data = folder / "data.ttl"
    data.write_text('@prefix ex: <http://example.org/> .\n'
                    'ex:a ex:day "2019-02-27"^^<http://www.w3.org/2001/XMLSchema#date> ; ex:n 3 ; ex:ok true ; ex:name "A" .\n'
                    'ex:b ex:day "2019-03-01"^^<http://www.w3.org/2001/XMLSchema#date> ; ex:n 7 ; ex:ok false ; ex:name "B" .\n')
    queries = folder / "queries"
    queries.mkdir()
    (queries / "since.rq").write_text(
        '# title: Things since a day\n# description: typed parameters\n'
        '# param: ?since date "the first day"\n# param: ?min integer optional "smallest n"\n'
        '# param: ?ok boolean optional "flag"\n# param: ?name string optional "exact name"\n'
        'PREFIX ex: <http://example.org/>\n'
        'SELECT ?x ?since ?min ?ok ?name WHERE { ?x ex:day ?d ; ex:n ?n ; ex:ok ?ok ; ex:name ?name . '
        'FILTER(?d >= ?since && COALESCE(?n >= ?min, true)) } ORDER BY ?x\n')
    return kg_serve("--data", data, "--queries", queries, "--workers", "1")


@pytest.mark.parametrize(("params", "expected"), [
    ({"since": "2019-02-28"}, ["http://example.org/b"]),
    ({"since": "2019-01-01", "min": "5"}, ["http://example.org/b"]),
    ({"since": "2019-01-01", "ok": "true"}, ["http://example.org/a"]),
    ({"since": "2019-01-01", "name": "B"}, ["http://example.org/b"]),
])
def test_typed_parameters_are_bound_as_typed_literals(typed_server, params, expected) -> None:
    answer = rows(httpx.get(f"{typed_server.base_url}/queries/since", params=params))
    assert [row["x"] for row in answer] == expected


@pytest.mark.parametrize(("params", "says"), [
    ({}, "parameter 'since' is required"),
    ({"since": "2019-02-30"}, "must be a date YYYY-MM-DD, not '2019-02-30'"),
    ({"since": "2019-01-01", "min": "five"}, "must be an integer"),
    ({"since": "2019-01-01", "ok": "yes"}, "must be true or false"),
])
def test_typed_parameters_refuse_bad_values(typed_server, params, says) -> None:
    response = httpx.get(f"{typed_server.base_url}/queries/since", params=params)
    assert response.status_code == 400 and says in response.json()["message"]


def test_a_malformed_param_line_stops_kg_serve_with_its_location(tmp_path: Path) -> None:
    (tmp_path / "bad.rq").write_text('# title: Bad\n# param: ?who person "someone"\nSELECT ?who {}\n')
    data = tmp_path / "data.nt"
    data.write_text("<http://e/a> <http://e/b> <http://e/c> .\n")
    run = subprocess.run([sys.executable, "-m", "kg.cli.main", "serve", "--data", str(data), "--queries", str(tmp_path),
                          "--port", "0", "--cache-dir", str(tmp_path / "cache")], capture_output=True, text=True,
                         timeout=60, cwd=REPO)
    assert run.returncode == 1
    assert f"{tmp_path / 'bad.rq'}:2: expected # param: ?name TYPE [optional]" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_select_parameter_outside_the_projection_is_refused_with_its_location(tmp_path: Path) -> None:
    """pyoxigraph substitutes a value only for a variable the SELECT projects: say so when the file is read."""
    path = tmp_path / "hidden.rq"
    path.write_text('# title: Hidden\n# param: ?who iri "someone"\nSELECT ?s WHERE { ?s ?p ?who }\n')
    with pytest.raises(NamedQueryError, match=rf"{re.escape(str(path))}:2: parameter \?who must be in the query's SELECT"):
        read_named_query(path)
    path.write_text('# title: Shown\n# param: ?who iri "someone"\nSELECT ?s ?who WHERE { ?s ?p ?who }\n')
    assert [p.name for p in read_named_query(path).parameters] == ["who"]


def test_bound_on_a_parameter_is_refused_with_its_location(tmp_path: Path) -> None:
    """pyoxigraph answers BOUND(?min) false even when ?min is substituted: refuse it rather than answer wrongly."""
    path = tmp_path / "bound.rq"
    path.write_text('# param: ?min integer optional "least n"\n'
                    'SELECT ?s ?min WHERE { ?s <http://e/n> ?n FILTER(!bound( ?min ) || ?n >= ?min) }\n')
    with pytest.raises(NamedQueryError, match=rf"{re.escape(str(path))}:1: BOUND\(\?min\) is false"):
        read_named_query(path)


def test_parameters_are_substituted_for_the_variable_everywhere(tmp_path: Path) -> None:
    """The bound value reaches a subquery that projects the variable, and FILTERs, as the store's substitutions do."""
    store = Store()
    for name, n in (("a", 1), ("b", 2)):
        store.add(Quad(NamedNode(f"http://e/{name}"), NamedNode("http://e/n"), Literal(n)))
    path = tmp_path / "sub.rq"
    path.write_text('# param: ?x iri "a thing"\n'
                    'SELECT ?x ?n WHERE { { SELECT ?x ?n WHERE { ?x <http://e/n> ?n } } FILTER(?x != <http://e/b>) }\n')
    query = read_named_query(path)
    substitutions = query.bind({"x": ["http://e/a"]})
    assert [(s["x"].value, s["n"].value) for s in store.query(query.text, substitutions=substitutions)] == [("http://e/a", "1")]
    assert list(store.query(query.text, substitutions=query.bind({"x": ["http://e/b"]}))) == []
