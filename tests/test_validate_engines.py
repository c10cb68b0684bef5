"""`kg validate --engine compiled|pyshacl`: two SHACL engines behind one interface (kg.validate.shacl.ShaclEngine).

Both run the same shapes on the same units and give the same violation records (focus node, resource,
path, shape, constraint, message, severity, value), so `kg validate` prints and reports alike with
either: here on the seed release and through `kg validate`, and on every break of the shapes in
tests/test_shapes.py. The compiled engine refuses shapes it cannot evaluate exactly, naming the shape and the
component and pointing to pyshacl, rather than skipping them.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import RDF, SH

from conftest import REPO, run_kg
from kg.cli.main import main
from kg.validate.engines import DEFAULT_ENGINE, ENGINES
from kg.validate.reference import PYSHACL
from kg.validate.shacl import COMPILED, UnsupportedShapes, validate_dataset
from kg.validate.sparql_constraints import UnsupportedShape

EVENT_SHAPE = "https://example.org/shapes#EventAfterHanoi"
# A component the compiled engine lacks (sh:minInclusive), broken by the seed's events dated before March.
MIN_INCLUSIVE_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dipl: <https://w3id.org/diplomacy-kg/ontology#> .
<https://example.org/shapes#EventAfterHanoi> a sh:NodeShape ; sh:targetClass dipl:Event ;
    sh:property [ sh:path dipl:date ; sh:minInclusive "2019-03-01"^^xsd:date ;
                  sh:message "An event of this test is dated on or after 2019-03-01." ] .
"""


def report_results(path: Path) -> set[tuple]:
    """The results of a written SHACL report, blank nodes aside."""
    report = rdflib.Graph().parse(path, format="turtle")
    return {(report.value(r, SH.focusNode), report.value(r, SH.value), report.value(r, SH.sourceShape),
             report.value(r, SH.sourceConstraintComponent), report.value(r, SH.resultSeverity),
             str(report.value(r, SH.resultMessage)))
            for r in report.subjects(RDF.type, SH.ValidationResult)}


def kg_validate(*args: str | Path) -> int:
    """`kg validate ARGS` in process: the command line's own parser and run function."""
    return main(["validate", *(str(a) for a in args)])


@pytest.fixture
def min_inclusive_shapes(tmp_path: Path) -> Path:
    folder = tmp_path / "shapes"
    folder.mkdir()
    (folder / "events.ttl").write_text(MIN_INCLUSIVE_SHAPES, encoding="utf-8")
    return folder


def test_the_engines_are_named_and_compiled_is_the_default():
    assert set(ENGINES) == {"compiled", "pyshacl"} and DEFAULT_ENGINE == "compiled"
    assert ENGINES["compiled"] is COMPILED and ENGINES["pyshacl"] is PYSHACL


def test_both_engines_agree_on_the_seed_release(seed_quads):
    validations = {name: validate_dataset(seed_quads, engine.load(REPO / "shapes"), engine)
                   for name, engine in ENGINES.items()}
    for name, results in validations.items():
        assert [graphs for graphs, _ in results] == [graphs for graphs, _ in validations["compiled"]], name
        assert all(result.conforms and not result.violations for _, result in results), name
        assert all((None, SH.conforms, rdflib.Literal(True)) in result.report for _, result in results), name


def test_a_component_the_compiled_engine_lacks_is_refused_naming_shape_and_component(min_inclusive_shapes):
    with pytest.raises(UnsupportedShapes) as refusal:
        COMPILED.load(min_inclusive_shapes)
    assert f"shape <{EVENT_SHAPE}>" in str(refusal.value)
    assert "sh:minInclusive (sh:MinInclusiveConstraintComponent)" in str(refusal.value)
    assert PYSHACL.load(min_inclusive_shapes).graph  # pyshacl takes them


def test_shapes_loaded_for_pyshacl_are_refused_by_the_compiled_engine_not_half_evaluated():
    """The compiled engine runs sh:sparql constraints apart; shapes that still hold them are refused."""
    shapes = PYSHACL.load(REPO / "shapes")
    with pytest.raises(UnsupportedShape, match="sh:sparql"):
        COMPILED.validate([], shapes)


def test_kg_validate_with_the_compiled_engine_refuses_and_points_to_pyshacl(built_release, min_inclusive_shapes,
                                                                            capsys):
    assert kg_validate(built_release.dumps / "graph.nq", "--shapes", min_inclusive_shapes) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "the compiled engine cannot evaluate these shapes exactly" in err and f"<{EVENT_SHAPE}>" in err
    assert "sh:MinInclusiveConstraintComponent" in err and "Use --engine pyshacl" in err


def test_kg_validate_with_pyshacl_evaluates_what_the_compiled_engine_refuses(built_release, min_inclusive_shapes,
                                                                             tmp_path, capsys):
    report = tmp_path / "report.ttl"
    code = kg_validate(built_release.dumps / "graph.nq", "--shapes", min_inclusive_shapes, "--engine", "pyshacl",
                       "--report", report)
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert out.startswith(f"does not conform: {built_release.dumps / 'graph.nq'}: ")
    assert "An event of this test is dated on or after 2019-03-01." in out
    assert ", dipl:date [" in out and " sh:minInclusive]" in out  # the property shape is a blank node
    assert {component for _, _, _, component, _, _ in report_results(report)} == \
        {SH.MinInclusiveConstraintComponent}


def test_kg_validate_prints_and_reports_the_same_with_either_engine(built_release, tmp_path, capsys):
    """An edited dump (two broken Wikidata links): the same output and the same report results."""
    edited = tmp_path / "edited.ttl"
    text = (built_release.dumps / "graph.ttl").read_text(encoding="utf-8")
    edited.write_text(text.replace("wd:Q22686", "<http://www.wikidata.org/entity/Trump>"), encoding="utf-8")
    assert kg_validate(edited, "--report", tmp_path / "compiled.ttl", "--engine", "compiled") == 1
    compiled_out = capsys.readouterr().out
    assert kg_validate(edited, "--report", tmp_path / "pyshacl.ttl", "--engine", "pyshacl") == 1
    reference_out = capsys.readouterr().out
    assert compiled_out.startswith(f"does not conform: {edited}: 2 violation(s)")
    assert compiled_out == reference_out
    results = report_results(tmp_path / "compiled.ttl")
    assert len(results) == 2 and results == report_results(tmp_path / "pyshacl.ttl")


def test_kg_validate_refuses_an_unknown_engine(built_release, capsys):
    with pytest.raises(SystemExit) as exit_:
        kg_validate(built_release.dumps / "graph.nq", "--engine", "rdfunit")
    assert exit_.value.code == 2 and "invalid choice: 'rdfunit'" in capsys.readouterr().err


def test_kg_validate_engines_as_a_real_command(built_release, min_inclusive_shapes):
    """The command line as users run it: refused by the compiled engine, evaluated by pyshacl."""
    refused = run_kg("validate", built_release.dumps / "graph.nq", "--shapes", min_inclusive_shapes)
    assert refused.returncode == 2 and "Use --engine pyshacl" in refused.stderr
    assert "Traceback" not in refused.stderr
    evaluated = run_kg("validate", built_release.dumps / "graph.nq", "--shapes", min_inclusive_shapes,
                       "--engine", "pyshacl")
    assert evaluated.returncode == 1, evaluated.stdout + evaluated.stderr
    assert "An event of this test is dated on or after 2019-03-01." in evaluated.stdout
