"""pyshacl as a SHACL engine behind the project's interface (`kg validate --engine pyshacl`).

pyshacl evaluates all of SHACL (core, SHACL-SPARQL, the advanced features) over an rdflib graph: the
reference for the compiled engine, and the engine for shapes the compiled one refuses. It validates the
same units as the compiled engine (kg.validate.shacl.Gate), and its report is read into the same
Violations, so `kg validate` prints and writes the same for both. It is several times slower.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from pyoxigraph import Triple
from pyshacl import validate as pyshacl_validate
from rdflib.namespace import RDF, SH

from kg.validate.shacl import (ShaclEngine, Shapes, ValidationResult, Violation, explain, read_shapes_graph,
                               to_rdflib)


class PyshaclEngine(ShaclEngine):
    """pyshacl over each unit, with no inference (as the compiled engine: rdfs:subClassOf* only, as
    SHACL's class targets read it) and warnings not failing conformance."""

    name = "pyshacl"

    def load(self, shapes_dir: Path) -> Shapes:
        """The whole shapes graph: pyshacl takes it as it is (no SPARQL constraints split off)."""
        graph = read_shapes_graph(shapes_dir)
        return Shapes(graph, graph, ())

    def validate_batch(self, units: list[tuple[Iterable[Triple], dict[str, str]]],
                       shapes: Shapes) -> list[ValidationResult]:
        return [self.validate_unit(list(dict.fromkeys(triples)), shapes, sources) for triples, sources in units]

    def validate_unit(self, triples: list[Triple], shapes: Shapes, sources: dict[str, str]) -> ValidationResult:
        """One unit: pyshacl's report, its results read as Violations."""
        data = to_rdflib(triples)
        conforms, report, _ = pyshacl_validate(data, shacl_graph=shapes.graph, inference="none", advanced=True,
                                               allow_warnings=True, inplace=True)
        root = report.value(predicate=RDF.type, object=SH.ValidationReport, any=False)
        violations = sorted((explain(report, result, data, shapes, sources)
                             for result in report.objects(root, SH.result)), key=Violation.sort_key)
        return ValidationResult(bool(conforms), violations, report)


PYSHACL = PyshaclEngine()

