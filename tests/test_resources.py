"""Dereferenceable IRIs: direct 200 content negotiation at each IRI (HTML, Turtle, JSON-LD,
N-Triples, RDF/XML), format suffixes and ?format=, Vary: Accept, and 404 for unknown IRIs; in process."""
from __future__ import annotations

import pytest
import rdflib

ARTICLE = "article/cgtn-2019-03-01-hanoi-summit"
PATHS = {  # one of each kind of resource
    "entity": "entity/kim-jong-un",
    "event": None,
    "statement": None,  # found from the store below
    "claim": None,
    "article": ARTICLE,
    "cameo concept": "cameo/01",
}
RDF_FORMATS = [("text/turtle", "turtle", "ttl"), ("application/ld+json", "json-ld", "jsonld"),
               ("application/n-triples", "nt", "nt"), ("application/rdf+xml", "xml", "rdf")]
RDFS_LABEL = rdflib.RDFS.label


@pytest.fixture(scope="module")
def paths(release_store, built_release) -> dict[str, str]:
    base = built_release.manifest["base"]
    found = dict(PATHS)
    for kind, cls in (("statement", "Statement"), ("claim", "Claim"), ("event", "Dinner")):
        rows = release_store.query(f"SELECT ?s WHERE {{ GRAPH ?g {{ ?s a <https://w3id.org/diplomacy-kg/ontology#{cls}> }} }} "
                                   "ORDER BY ?s LIMIT 1")
        found[kind] = next(iter(rows))["s"].value[len(base):]
    return found


@pytest.mark.parametrize("kind", sorted(PATHS))
@pytest.mark.parametrize("accept, rdflib_format, suffix", RDF_FORMATS)
def test_every_kind_of_iri_negotiates_rdf(release_app, built_release, paths, kind, accept, rdflib_format, suffix):
    path = paths[kind]
    iri = (built_release.manifest["base"] + path) if not path.startswith("cameo/") else \
        "https://w3id.org/diplomacy-kg/" + path
    response = release_app.get(f"/{path}", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == accept
    assert "Accept" in response.headers["vary"]
    assert response.headers["content-location"] == f"/{path}.{suffix}"
    graph = rdflib.Graph().parse(data=response.content, format=rdflib_format)
    subject = rdflib.URIRef(iri)
    assert (subject, None, None) in graph
    # labels of what it points to come along, so the description is readable on its own
    objects = {o for o in graph.objects(subject) if isinstance(o, rdflib.URIRef) and "#char=" not in o
               and o != rdflib.OWL.Class}
    labelled = {o for o in objects if graph.value(o, RDFS_LABEL) is not None}
    assert labelled, objects
    by_suffix = release_app.get(f"/{path}.{suffix}")
    assert by_suffix.status_code == 200 and by_suffix.content == response.content


def test_turtle_and_jsonld_describe_the_same_triples(release_app, paths):
    url = f"/{paths['claim']}"
    turtle = rdflib.Graph().parse(data=release_app.get(url, headers={"Accept": "text/turtle"}).content, format="turtle")
    jsonld = rdflib.Graph().parse(data=release_app.get(url, params={"format": "jsonld"}).content, format="json-ld")
    assert set(turtle) == set(jsonld) and len(turtle) > 5


def test_browsers_get_html_and_curl_gets_turtle(release_app, paths):
    url = f"/{paths['entity']}"
    browser = release_app.get(url, headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html")
    assert '<link rel="alternate" type="text/turtle" href="/entity/kim-jong-un.ttl">' in browser.text
    assert release_app.get(url, headers={"Accept": "*/*"}).headers["content-type"].startswith("text/turtle")
    assert 'rel="alternate"; type="application/ld+json"' in browser.headers["link"]


def test_the_article_description_includes_its_text_spans(release_app, built_release):
    response = release_app.get(f"/{ARTICLE}.ttl")
    graph = rdflib.Graph().parse(data=response.content, format="turtle")
    span = rdflib.URIRef(built_release.manifest["base"] + ARTICLE + "#char=0,27")
    assert str(graph.value(span, rdflib.URIRef("http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#anchorOf"))) \
        == "U.S. President Donald Trump"


def test_the_ontology_resolves_at_its_namespace(release_app):
    html = release_app.get("/ontology", headers={"Accept": "text/html"})
    assert html.status_code == 200
    assert 'id="Summit"' in html.text and "closeMatch" in html.text
    turtle = release_app.get("/ontology", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=turtle.content, format="turtle")
    summit = rdflib.URIRef("https://w3id.org/diplomacy-kg/ontology#Summit")
    assert (summit, rdflib.RDF.type, rdflib.OWL.Class) in graph


@pytest.mark.parametrize("path", ["entity/no-such-entity", f"{ARTICLE}/claim/no-such-claim", "cameo/999",
                                  "entity/no-such-entity.ttl"])
def test_unknown_iris_are_404(release_app, path):
    for accept in ("text/html", "text/turtle"):
        response = release_app.get(f"/{path}", headers={"Accept": accept})
        assert response.status_code == 404
        assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize("kind", ["entity", "shapes", "graph", "void"])
def test_unservable_accept_is_406(release_app, paths, kind):
    path = {"shapes": "shapes", "graph": "graph/entities", "void": ".well-known/void"}.get(kind) or paths[kind]
    response = release_app.get(f"/{path}", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "Accept" in response.headers["vary"]
    assert "text/turtle" in response.text  # the message lists what can be produced
