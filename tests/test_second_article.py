"""A second article is a data-only change: its own named graph, the shared entities reused."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, Store, parse

from conftest import REPO, run_kg

SECOND = "test-2019-03-05-pompeo-follow-up"
FIRST = "cgtn-2019-03-01-hanoi-summit"
BASE = "https://w3id.org/diplomacy-kg/"


@pytest.fixture(scope="module")
def two_article_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's inputs plus the fictional follow-up article (files only, no code), built."""
    project = tmp_path_factory.mktemp("two-articles")
    for folder in ("ontology", "seeds", "shapes"):
        shutil.copytree(REPO / folder, project / folder)
    shutil.copytree(REPO / "tests" / "fixtures" / "second-article", project / "seeds" / "articles" / SECOND)
    result = run_kg("build", "--build-dir", project / "build", env={"KG_PROJECT": str(project)})
    assert result.returncode == 0, result.stderr
    assert "2 article(s)" in result.stdout
    return (project / "build" / "current").resolve()


def graph_quads(nquads: Path, graph: str) -> set:
    return {q for q in parse(path=str(nquads), format=RdfFormat.N_QUADS) if q.graph_name.value == graph}


def test_each_article_has_its_own_named_graph(two_article_release: Path):
    graphs = {q.graph_name.value for q in parse(path=str(two_article_release / "dumps" / "graph.nq"),
                                                format=RdfFormat.N_QUADS)}
    assert {f"{BASE}graph/article/{FIRST}", f"{BASE}graph/article/{SECOND}"} <= graphs


def test_the_first_article_graph_is_unchanged_by_the_second(two_article_release: Path, built_release):
    graph = f"{BASE}graph/article/{FIRST}"
    assert graph_quads(two_article_release / "dumps" / "graph.nq", graph) == graph_quads(
        built_release.dumps / "graph.nq", graph)


def test_shared_entities_are_reused_across_articles(two_article_release: Path):
    store = Store.read_only(str(two_article_release / "store"))
    query = f"""
        PREFIX dipl: <https://w3id.org/diplomacy-kg/ontology#>
        SELECT ?article (COUNT(DISTINCT ?statement) AS ?statements) WHERE {{
          GRAPH ?g {{ ?statement dipl:speaker <{BASE}entity/mike-pompeo> ; dipl:madeAt ?occasion . }}
          BIND (STRAFTER(STR(?g), "graph/article/") AS ?article)
        }} GROUP BY ?article ORDER BY ?article"""
    rows = {row["article"].value: int(row["statements"].value) for row in store.query(query)}
    assert rows == {FIRST: 4, SECOND: 2}
    # Both articles' facts point to the one registry entity for the Hanoi summit.
    follows = f"""PREFIX dipl: <https://w3id.org/diplomacy-kg/ontology#>
        ASK {{ GRAPH <{BASE}graph/article/{SECOND}> {{ ?briefing dipl:follows <{BASE}entity/hanoi-summit> ;
                                                               dipl:date "2019-03-04"^^<http://www.w3.org/2001/XMLSchema#date> }} }}"""
    assert store.query(follows)


def test_second_article_spans_ground_in_its_own_text(two_article_release: Path):
    text = (REPO / "tests" / "fixtures" / "second-article" / "article.txt").read_text(encoding="utf-8")
    store = Store.read_only(str(two_article_release / "store"))
    rows = list(store.query(f"""
        PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
        PREFIX dipl: <https://w3id.org/diplomacy-kg/ontology#>
        SELECT ?begin ?end ?anchor WHERE {{
          ?span dipl:inArticle <{BASE}article/{SECOND}> ; nif:beginIndex ?begin ; nif:endIndex ?end ; nif:anchorOf ?anchor }}""",
                            use_default_graph_as_union=True))
    assert len(rows) > 10
    for row in rows:
        assert text[int(row["begin"].value):int(row["end"].value)] == row["anchor"].value
