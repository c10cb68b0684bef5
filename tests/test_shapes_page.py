"""The shapes page and named-graph IRIs, served in process: the release carries the SHACL shapes
(dumps/shapes.ttl), `/shapes` shows every node and property shape to a curator and gives the shapes as
RDF by content negotiation; `{base}graph/…` IRIs dereference to a page and to their VoID description."""
from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from markupsafe import escape
from rdflib.compare import isomorphic

REPO = Path(__file__).resolve().parents[1]
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
SD_NAME = rdflib.URIRef("http://www.w3.org/ns/sparql-service-description#name")
DSHAPES = "https://w3id.org/diplomacy-kg/shapes#"
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def repo_shapes() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted((REPO / "shapes").glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def test_the_release_carries_the_shapes_it_was_validated_against(built_release, repo_shapes):
    published = rdflib.Graph().parse(built_release.dumps / "shapes.ttl", format="turtle")
    assert isomorphic(published, repo_shapes)
    assert "shapes.ttl" in (built_release.dumps / "SHA256SUMS").read_text()


def test_the_shapes_page_shows_every_node_and_property_shape(release_app, repo_shapes):
    response = release_app.get("/shapes", headers=HTML)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "Accept" in response.headers["vary"]
    page = response.text
    node_shapes = set(repo_shapes.subjects(rdflib.RDF.type, SH.NodeShape))
    assert len(node_shapes) > 10
    for shape in node_shapes:
        assert f'id="{str(shape)[len(DSHAPES):]}"' in page, shape
        for text in (repo_shapes.value(shape, SH.name), repo_shapes.value(shape, SH.description)):
            assert text is None or str(escape(str(text))) in page, text
        for prop in repo_shapes.objects(shape, SH.property):
            message = repo_shapes.value(prop, SH.message)
            if message is not None:
                assert str(escape(str(message))) in page, message
    # targets and paths are shown as compact IRIs linked to the ontology page
    assert '<a href="/ontology#Attribution">dipl:Attribution</a>' in page
    assert "prov:hadActivity / dipl:speaker" in page  # a sequence path
    assert "sh:in ( dipl:Asserts dipl:Denies )" in page


def plain_strings(graph: rdflib.Graph) -> rdflib.Graph:
    """The graph with "x"^^xsd:string written "x" (the same literal in RDF 1.1; rdflib tells them apart)."""
    out = rdflib.Graph()
    for s, p, o in graph:
        if isinstance(o, rdflib.Literal) and o.datatype == rdflib.XSD.string:
            o = rdflib.Literal(str(o))
        out.add((s, p, o))
    return out


@pytest.mark.parametrize("accept, rdflib_format, suffix", [
    ("text/turtle", "turtle", "ttl"), ("application/ld+json", "json-ld", "jsonld"),
    ("application/n-triples", "nt", "nt"), ("application/rdf+xml", "xml", "rdf")])
def test_the_shapes_negotiate_rdf(release_app, built_release, accept, rdflib_format, suffix):
    response = release_app.get("/shapes", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == accept
    assert response.headers["content-location"] == f"/shapes.{suffix}"
    served = rdflib.Graph().parse(data=response.content, format=rdflib_format)
    assert isomorphic(plain_strings(served), rdflib.Graph().parse(built_release.dumps / "shapes.ttl", format="turtle"))
    assert release_app.get(f"/shapes.{suffix}").content == response.content


def test_home_and_ontology_pages_link_the_shapes_and_the_graphs(release_app):
    home = release_app.get("/", headers=HTML).text
    ontology = release_app.get("/ontology", headers=HTML).text
    assert 'href="/shapes"' in home and 'href="/shapes"' in ontology
    assert 'href="/graph/entities"' in home and 'href="/graph/ontology"' in ontology


def count(server, query: str) -> int:
    rows = server.get("/sparql", params={"query": query},
                     headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
    return int(rows[0]["n"]["value"])


def graph_names(server) -> list[str]:
    rows = server.get("/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"},
                     headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
    return [row["g"]["value"] for row in rows]


def test_every_named_graph_dereferences_to_a_page_and_its_void_description(release_app, built_release):
    base = built_release.manifest["base"]
    names = graph_names(release_app)
    articles = [folder.name for folder in (REPO / "seeds" / "articles").iterdir()]
    expected = {f"{base}graph/ontology", f"{base}graph/entities", *(f"{base}graph/article/{a}" for a in articles)}
    assert set(names) == expected
    assert built_release.manifest["article_count"] == len(articles)
    for iri in names:
        path = "/" + iri[len(base):]
        triples = count(release_app, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
        page = release_app.get(path, headers=HTML)
        assert page.status_code == 200, path
        assert f"{triples:,}" in page.text and iri in page.text
        assert 'href="/dumps/graph.nq.gz"' in page.text and "/sparql?query=CONSTRUCT" in page.text
        if "/article/" in iri:
            article = "/" + iri[len(f"{base}graph/"):]
            assert f'href="{article}"' in page.text
            assert release_app.get(article, headers=HTML).status_code == 200
        turtle = release_app.get(path, headers={"Accept": "text/turtle"})
        assert turtle.status_code == 200 and "Accept" in turtle.headers["vary"]
        assert turtle.headers["content-location"] == f"{path}.ttl"
        graph = rdflib.Graph().parse(data=turtle.content, format="turtle")
        partition = graph.value(rdflib.URIRef(iri), VOID.inDataset)
        assert (partition, SD_NAME, rdflib.URIRef(iri)) in graph
        assert graph.value(partition, VOID.triples).toPython() == triples
        assert (rdflib.URIRef(f"{base}dataset"), VOID.subset, partition) in graph


def test_unknown_graphs_are_404(release_app):
    for accept in ("text/html", "text/turtle"):
        response = release_app.get("/graph/article/no-such-article", headers={"Accept": accept})
        assert response.status_code == 404 and "Accept" in response.headers["vary"]
