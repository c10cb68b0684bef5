"""The SHACL gate: `kg build` publishes nothing invalid and says why, the report of a good build is
published, and `kg validate` checks any graph file (exit 0 conforms, 1 does not, 2 unreadable)."""
from __future__ import annotations

import httpx
import pytest
import rdflib
from pyoxigraph import RdfFormat, Store, parse
from pyshacl import validate as pyshacl_validate
from rdflib.namespace import DCTERMS, RDF, SH

from conftest import REPO, break_and_build, run_kg
from kg.validate.sparql_constraints import split_sparql_constraints
from kg.validate.shacl import Gate, Shapes, load_shapes, to_rdflib, validate_triples
from shape_breaks import A, BREAKS, SPARQL_PREFIXES, shape_iri, shapes_for

MAPPING = "seeds/articles/cgtn-2019-03-01-hanoi-summit/mapping.yaml"
STATEMENT = f"{A}/statement/"

# Seed edits the mapping loader accepts but the shapes reject: the gate must catch them.
GATE_CASES = {
    "a spokesperson speaks for no one": (
        "speaker: dmitry-peskov\n    on_behalf_of: kremlin\n    quote: 'Kremlin spokesperson Dmitry Peskov said",
        "speaker: dmitry-peskov\n    quote: 'Kremlin spokesperson Dmitry Peskov said",
        "peskov-negotiation-not-interrupted",
        "This statement is made by a spokesperson (Spokesperson of Kremlin) but not on behalf of that body "
        "(dipl:onBehalfOf)."),
    "a denial that answers no assertion": (
        "{claim: dprk-asked-for-partial-sanctions-relief, stance: asserts}",
        "{claim: dprk-asked-for-partial-sanctions-relief, stance: denies}",
        "ri-yong-ho-partial-removal",
        "This statement denies the claim \"The DPRK asked only for partial sanctions relief, the removal of the "
        "sanctions impeding its people's livelihood\", but no party asserts that claim: a denial answers an assertion."),
    "a statement dated before its occasion": (
        "at: trump-press-conference\n    audience: reporters\n",
        "at: trump-press-conference\n    audience: reporters\n    when: {quote: \"February 27, 2019\", occurrence: 1, because: a wrong date}\n",
        "trump-productive-but-no-signing",
        "This statement is dated 2019-02-27, before the event it is made at (dipl:madeAt) begins: 2019-02-28."),
}


@pytest.mark.parametrize("case", GATE_CASES, ids=list(GATE_CASES))
def test_a_graph_the_shapes_reject_fails_the_build_with_a_located_explanation(published_project, tmp_path, case):
    old, new, statement, message = GATE_CASES[case]
    stderr, _ = break_and_build(published_project, tmp_path, MAPPING, old, new)
    assert "does not conform to the shapes" in stderr
    mapping = (REPO / MAPPING).read_text(encoding="utf-8")
    entry = mapping[:mapping.index(f"  - id: {statement}\n")].count("\n") + 1
    rows = stderr.splitlines()
    # The seed line of the statement's entry, the message, then the resource (IRI and label) and the shape.
    assert f"{MAPPING}:{entry}: {message}" in rows, stderr
    detail = rows[rows.index(f"{MAPPING}:{entry}: {message}") + 1]
    assert detail.startswith(f"    <{STATEMENT}{statement}> \"") and "[dshapes:" in detail, detail


def test_a_violation_names_the_property_path_and_the_shape(published_project, tmp_path):
    stderr, _ = break_and_build(published_project, tmp_path, MAPPING,
                                "  - id: peskov-negotiation-not-interrupted\n    speaker: dmitry-peskov\n"
                                "    on_behalf_of: kremlin",
                                "  - id: peskov-negotiation-not-interrupted\n    speaker: dmitry-peskov\n"
                                "    on_behalf_of: dmitry-peskov")
    assert "A statement is made on behalf of at most one actor, other than the speaker." in stderr
    assert "dipl:onBehalfOf [dshapes:Statement-onBehalfOf sh:disjoint]" in stderr


def test_the_validation_report_is_published_with_the_dumps(built_release):
    report = rdflib.Graph().parse(built_release.dumps / "validation-report.ttl", format="turtle")
    roots = set(report.subjects(RDF.type, SH.ValidationReport))
    assert roots and all(report.value(root, SH.conforms) == rdflib.Literal(True) for root in roots)
    assert not set(report.subjects(RDF.type, SH.ValidationResult))
    covered = {str(graph) for root in roots for graph in report.objects(root, DCTERMS.subject)}
    published = {q.graph_name.value for q in parse(path=str(built_release.dumps / "graph.nq"),
                                                   format=RdfFormat.N_QUADS)}
    assert covered == published
    assert all(report.value(root, DCTERMS.conformsTo) == rdflib.URIRef("https://w3id.org/diplomacy-kg/shapes")
               for root in roots)


def test_the_validation_report_is_served_and_listed(release_server, built_release):
    response = httpx.get(f"{release_server.base_url}/dumps/validation-report.ttl")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    assert response.content == (built_release.dumps / "validation-report.ttl").read_bytes()
    assert "validation-report.ttl" in built_release.manifest["dumps"]
    assert "validation-report.ttl" in (built_release.dumps / "SHA256SUMS").read_text()


@pytest.mark.parametrize("dump", ["graph.nq", "graph.trig", "graph.ttl", "graph.nt", "graph.jsonld", "graph.nq.gz"])
def test_kg_validate_accepts_every_dump_format(built_release, dump):
    result = run_kg("validate", built_release.dumps / dump)
    assert result.returncode == 0, result.stdout + result.stderr
    quads = built_release.manifest["quads"]
    assert result.stdout.startswith(f"conforms: {built_release.dumps / dump} ({quads} quads; validated ")
    assert ("then 1 article graph(s)" in result.stdout) == (dump not in ("graph.ttl", "graph.nt"))


def test_kg_validate_explains_an_edited_dump_and_writes_the_report(built_release, tmp_path):
    edited = tmp_path / "edited.ttl"
    text = (built_release.dumps / "graph.ttl").read_text(encoding="utf-8")
    assert text.count("wd:Q22686") == 2  # schema:sameAs and skos:exactMatch of Donald Trump
    edited.write_text(text.replace("wd:Q22686", "<http://www.wikidata.org/entity/Trump>"), encoding="utf-8")
    report = tmp_path / "report.ttl"
    result = run_kg("validate", edited, "--report", report)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith(f"does not conform: {edited}: 2 violation(s)")
    assert "schema:sameAs must be one Wikidata entity IRI of the form http://www.wikidata.org/entity/Q<digits>." \
        in result.stdout
    assert '<https://w3id.org/diplomacy-kg/entity/donald-trump> "Donald Trump", schema:sameAs' in result.stdout
    written = rdflib.Graph().parse(report, format="turtle")
    assert (None, SH.conforms, rdflib.Literal(False)) in written
    assert len(set(written.subjects(RDF.type, SH.ValidationResult))) == 2


@pytest.mark.parametrize("name, content, expected", [
    ("missing.ttl", None, "missing.ttl: cannot read"),
    ("broken.ttl", b"<http://a> <http://b> .\n", "broken.ttl: not valid Turtle: Parser error at line 1"),
    ("broken.jsonld", b'{"@id": "http://a", "http://b": ', "broken.jsonld: not valid JSON-LD"),
    ("broken.nq.gz", b"not gzip", "broken.nq.gz: cannot read"),
    ("table.csv", b"a,b\n", "table.csv: unknown graph format '.csv'"),
])
def test_kg_validate_reports_unreadable_input_without_a_traceback(tmp_path, name, content, expected):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = run_kg("validate", path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_kg_validate_says_when_it_cannot_write_the_report(built_release, tmp_path):
    report = tmp_path / "missing-folder" / "report.ttl"
    result = run_kg("validate", built_release.dumps / "graph.ttl", "--report", report)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"cannot write the report to {report}: " in result.stderr and "Traceback" not in result.stderr


def test_kg_validate_without_usable_shapes_refuses_rather_than_passing_everything(built_release, tmp_path):
    result = run_kg("validate", built_release.dumps / "graph.ttl", "--shapes", tmp_path)
    assert result.returncode == 2 and "no shapes (*.ttl)" in result.stderr
    (tmp_path / "broken.ttl").write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n<a> sh:name ", encoding="utf-8")
    result = run_kg("validate", built_release.dumps / "graph.ttl", "--shapes", tmp_path)
    assert result.returncode == 2 and "broken.ttl: not valid Turtle" in result.stderr
    assert "Traceback" not in result.stderr


def test_sparql_constraints_give_what_pyshacl_gives(built_release):
    """The gate runs SPARQL constraints on pyoxigraph; pyshacl (rdflib's engine) is the reference.

    One graph with every SPARQL-constraint break applied, validated both ways: same results."""
    shapes = load_shapes(REPO / "shapes")
    sparql_breaks = [b for b in BREAKS if b.constraint.startswith("dshapes:")]
    store = Store()
    store.bulk_load(path=str(built_release.dumps / "graph.nt"), format=RdfFormat.N_TRIPLES)
    for broken in sparql_breaks:
        store.update(SPARQL_PREFIXES + broken.update)
    triples = [q.triple for q in store]

    subset = rdflib.Graph()
    for node_shape in {shape_iri(b.shape) for b in sparql_breaks}:
        subset += shapes_for(shapes, node_shape).graph
    sparql_only = Shapes(subset, rdflib.Graph(), tuple(split_sparql_constraints(subset)[1]))
    ours = validate_triples(triples, sparql_only)
    _, reference, _ = pyshacl_validate(to_rdflib(triples), shacl_graph=subset, advanced=True, inplace=True)

    def results(report: rdflib.Graph) -> set[tuple]:
        return {(report.value(r, SH.focusNode), report.value(r, SH.value), report.value(r, SH.sourceConstraint),
                 str(report.value(r, SH.resultMessage))) for r in report.subjects(RDF.type, SH.ValidationResult)}

    assert results(ours.report) == results(reference)
    # Some breaks undo others (two of them move the same span): most constraints still fire.
    assert len({v.constraint for v in ours.violations}) >= len({b.constraint for b in sparql_breaks}) - 2



@pytest.mark.parametrize("shape, refusal", [
    ("ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:sparql ex:Q .", "property shapes"),
    ("ex:S a sh:NodeShape ; sh:target [ a sh:SPARQLTarget ] ; sh:sparql ex:Q .", "targets are supported"),
    ("ex:S a sh:NodeShape, rdfs:Class ; sh:sparql ex:Q .", "targets are supported"),
    ("ex:S a sh:NodeShape ; sh:sparql ex:Q . ex:T a sh:NodeShape ; sh:targetClass ex:C ; sh:node ex:S .",
     "must not be used inside another shape"),
])
def test_sparql_constraints_the_gate_cannot_run_exactly_are_refused(tmp_path, shape, refusal):
    from kg.validate.shacl import ShapesError

    (tmp_path / "shapes.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        f'{shape}\nex:Q a sh:SPARQLConstraint ; sh:message "m" ; sh:select "SELECT $this WHERE {{ }}" .\n',
        encoding="utf-8")
    with pytest.raises(ShapesError, match=refusal):
        load_shapes(tmp_path)


def test_articles_validated_in_one_batch_give_their_results_alone_in_order(built_release):
    shapes = load_shapes(REPO / "shapes")
    article_graph = "https://w3id.org/diplomacy-kg/graph/article/cgtn-2019-03-01-hanoi-summit"
    quads = list(parse(path=str(built_release.dumps / "graph.nq"), format=RdfFormat.N_QUADS))
    article = [q.triple for q in quads if q.graph_name.value == article_graph]
    gate = Gate(shapes, [q.triple for q in quads if q.graph_name.value != article_graph])
    on_behalf_of = "https://w3id.org/diplomacy-kg/ontology#onBehalfOf"
    broken = [t for t in article if t.predicate.value != "http://www.w3.org/2000/01/rdf-schema#label"]
    jobs = [("as built", article, {}), ("no rdfs:label", broken, {}),
            ("no dipl:onBehalfOf", [t for t in article if t.predicate.value != on_behalf_of], {})]

    batched = list(gate.validate_units(jobs))
    alone = [(name, gate.validate_unit(unit)) for name, unit, _ in jobs]
    assert [(name, result.conforms, result.violations) for name, result in batched] == \
        [(name, result.conforms, result.violations) for name, result in alone]
    assert [name for name, _ in batched] == ["as built", "no rdfs:label", "no dipl:onBehalfOf"]
    assert batched[0][1].conforms and not batched[1][1].conforms and not batched[2][1].conforms
    assert {v.constraint for v in batched[1][1].violations} == {"sh:qualifiedMinCount"}  # a core constraint
    assert {v.constraint for v in batched[2][1].violations} == {"dshapes:SpokespersonOnBehalfOf"}
