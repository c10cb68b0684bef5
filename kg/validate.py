"""The SHACL gate: validate graphs against `shapes/` and explain every violation in words.

Each article is validated together with the shared entities and the ontology it needs, never the
whole union at once, so validation cost grows linearly with the number of articles.
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import rdflib
from pyoxigraph import Quad, RdfFormat, serialize
from pyshacl import validate as shacl_validate
from rdflib.namespace import RDFS, SH

SEVERITY_ORDER = {SH.Violation: 0, SH.Warning: 1, SH.Info: 2}


@dataclass(frozen=True)
class Violation:
    """One SHACL result, in words a curator can act on."""

    focus: str
    focus_label: str | None
    path: str | None
    message: str
    shape: str
    severity: str
    source: str | None  # "file:line" of the seed that produced the focus node, when known

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        label = f" ({self.focus_label})" if self.focus_label else ""
        path = f" [{self.path}]" if self.path else ""
        return f"{where}{self.severity}: <{self.focus}>{label}{path}: {self.message}"


@dataclass
class ValidationResult:
    conforms: bool
    violations: list[Violation]
    report: rdflib.Graph


def load_shapes(shapes_dir: Path) -> rdflib.Graph:
    """All shapes files (`*.ttl`) of the folder, as one graph."""
    shapes = rdflib.Graph()
    for path in sorted(shapes_dir.glob("*.ttl")):
        shapes.parse(path, format="turtle")
    return shapes


def to_rdflib(quads: Iterable[Quad]) -> rdflib.Graph:
    """Merge quads into one rdflib graph (through N-Triples, the fastest exchange between the two)."""
    data = serialize((q.triple for q in quads), format=RdfFormat.N_TRIPLES)
    graph = rdflib.Graph()
    graph.parse(data=data, format="nt")
    return graph


def validate_graph(data: rdflib.Graph, shapes: rdflib.Graph,
                   sources: dict[str, str] | None = None) -> ValidationResult:
    """Validate `data` against `shapes`; `sources` maps focus-node IRIs to the seed file:line behind them."""
    conforms, report, _ = shacl_validate(data, shacl_graph=shapes, inference="none", advanced=True,
                                         allow_warnings=True)
    violations = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        severity = report.value(result, SH.resultSeverity)
        shape = report.value(result, SH.sourceShape)
        label = data.value(focus, RDFS.label) if focus is not None else None
        violations.append(Violation(
            focus=str(focus), focus_label=str(label) if label is not None else None,
            path=data.namespace_manager.normalizeUri(path) if isinstance(path, rdflib.URIRef) else None,
            message=str(message) if message is not None else "constraint violated",
            shape=str(shape), severity=str(severity).rsplit("#", 1)[-1],
            source=(sources or {}).get(str(focus))))
    violations.sort(key=lambda v: (v.source or "", v.focus, v.path or "", v.message))
    return ValidationResult(bool(conforms), violations, report)


class UnreadableGraph(Exception):
    """A graph file that does not exist or does not parse; the message says which and where."""


GRAPH_FORMATS = {".ttl": "turtle", ".nt": "nt", ".nq": "nquads", ".trig": "trig", ".jsonld": "json-ld",
                 ".json": "json-ld", ".rdf": "xml", ".owl": "xml", ".xml": "xml"}


def read_graph_file(path: Path, into: rdflib.Graph | None = None) -> rdflib.Graph:
    """Parse one graph file (format from its extension, `.gz` allowed); named graphs are merged."""
    suffixes = path.suffixes
    compressed = suffixes[-1:] == [".gz"]
    suffix = (suffixes[-2] if compressed and len(suffixes) > 1 else path.suffix).lower()
    rdf_format = GRAPH_FORMATS.get(suffix)
    if rdf_format is None:
        raise UnreadableGraph(f"{path}: unknown graph format {suffix!r} (known: {', '.join(sorted(GRAPH_FORMATS))})")
    try:
        data = gzip.decompress(path.read_bytes()) if compressed else path.read_bytes()
        dataset = rdflib.Dataset()
        dataset.parse(data=data, format=rdf_format)
    except OSError as error:
        raise UnreadableGraph(f"{path}: cannot read: {error.strerror or error}") from None
    except Exception as error:  # parsers raise many exception types; each means "does not parse"
        raise UnreadableGraph(f"{path}: not valid {rdf_format}: {error}") from None
    graph = into if into is not None else rdflib.Graph()
    for subject, predicate, obj, _ in dataset.quads((None, None, None, None)):
        graph.add((subject, predicate, obj))
    return graph
