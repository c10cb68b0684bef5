"""The SHACL gate: validate graphs against `shapes/` and explain every violation in words.

Cost grows linearly with the corpus: each article's graph is validated as one unit, together with
only the shared triples it needs (the entities and ontology terms it refers to, and the class
hierarchy), never the whole union at once. The shared graphs are validated once on their own.

Two engines run the same shapes behind one interface (ShaclEngine), with the same units, results and
report. The compiled engine (the default, the build's) compiles the core constraints to SPARQL and runs
them over batches of units in one pyoxigraph store (kg.validate.compiled); the SPARQL-based ones run unit
by unit on pyoxigraph (kg.validate.sparql_constraints). It refuses, when the shapes are loaded, any shape
it cannot evaluate exactly (UnsupportedShapes). pyshacl (kg.validate.reference) evaluates all of SHACL, slower:
the reference, and the engine for shapes the compiled one refuses.
"""
from __future__ import annotations

import gzip
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import ClassVar, Iterable, Iterator

import rdflib
from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad, RdfFormat, Store, Triple, parse, serialize
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, RDF, RDFS, SH, SKOS

from kg.rdf.vocabulary import PREFIXES, RDF_FILE_FORMATS, SHAPES_PREFIXES
from kg.rdf.graphs import stable_blank_nodes
from kg.validate.compiled import CoreResult, CoreValidator
from kg.validate.sparql_constraints import (SparqlConstraint, SparqlResult, UnsupportedShape, evaluate,
                                   split_sparql_constraints, to_rdflib_term)

SHAPES_NAMESPACE = SHAPES_PREFIXES["dshapes"]
SHAPES_IRI = rdflib.URIRef(SHAPES_NAMESPACE.rstrip("#"))
NIF_ANCHOR = rdflib.URIRef(PREFIXES["nif"] + "anchorOf")
NEWS_ARTICLE = NamedNode(PREFIXES["schema"] + "NewsArticle")
SUBCLASS_OF = NamedNode(str(RDFS.subClassOf))
RDF_TYPE = NamedNode(str(RDF.type))
LABEL_LENGTH = 100  # characters of a label shown in a violation
BATCH = 150  # units per store of the compiled core constraints: fewer queries, memory still bounded


@dataclass(frozen=True)
class Shapes:
    """The shapes of `shapes/`: the whole graph, its core part and its SPARQL constraints."""

    graph: rdflib.Graph
    core: rdflib.Graph
    sparql: tuple[SparqlConstraint, ...]

    @cached_property
    def compiled(self) -> CoreValidator:
        """The core constraints compiled to SPARQL; raises UnsupportedShape for what cannot be compiled."""
        if (None, SH.sparql, None) in self.core:  # the compiler takes sh:sparql for kg.validate.sparql_constraints'
            raise UnsupportedShape("the core shapes still hold sh:sparql constraints: load the shapes with "
                                   "the compiled engine (load_shapes), which splits them off")
        return CoreValidator(self.core)

    def name(self, shape: rdflib.term.Node) -> str:
        """A shape's IRI with the `dshapes:` prefix, or its sh:name when it has no IRI."""
        if isinstance(shape, rdflib.URIRef) and str(shape).startswith(SHAPES_NAMESPACE):
            return "dshapes:" + str(shape)[len(SHAPES_NAMESPACE):]
        name = self.graph.value(shape, SH.name)
        return str(name) if name is not None else shape.n3()


class ShapesError(Exception):
    """A shapes file that does not parse, or a constraint the gate cannot evaluate; the message says where."""


class UnsupportedShapes(ShapesError):
    """Shapes the compiled engine cannot evaluate exactly (pyshacl can): the message names the shape and
    the constraint component."""


def read_shapes_graph(shapes_dir: Path) -> rdflib.Graph:
    """All shapes files (`*.ttl`) of the folder, as one graph; ShapesError for a file that does not parse."""
    graph = rdflib.Graph()
    graph.bind("dshapes", SHAPES_NAMESPACE)
    for path in sorted(shapes_dir.glob("*.ttl")):
        try:
            graph.parse(path, format="turtle")
        except Exception as error:  # rdflib's parsers raise many types; each means "not valid Turtle"
            raise ShapesError(f"{path}: not valid Turtle: {error}") from None
    return graph


def load_shapes(shapes_dir: Path) -> Shapes:
    """The shapes of the folder, ready for the compiled engine: UnsupportedShapes if it cannot evaluate
    one of them exactly (it is refused now, never skipped while validating)."""
    graph = read_shapes_graph(shapes_dir)
    try:
        core, sparql = split_sparql_constraints(graph)
        shapes = Shapes(graph, core, tuple(sparql))
        shapes.compiled  # compiled now, so that unsupported shapes are refused when loaded
    except UnsupportedShape as error:
        raise UnsupportedShapes(f"{shapes_dir}: {error}") from None
    return shapes


@dataclass(frozen=True)
class Violation:
    """One SHACL result, in words a curator can act on."""

    node: str  # what is wrong: the focus node, or the offending resource an article-wide rule found
    label: str | None
    path: str | None
    message: str
    shape: str  # the shape that fired, e.g. dshapes:Event-place
    constraint: str  # which of its constraints: a parameter (sh:maxCount) or a SPARQL constraint
    severity: str
    source: str | None  # "file:line" of the seed that produced the node, when known
    focus: str
    # The offending value (sh:value), when the result has one; kept out of equality, so that a shape broken
    # by several values of one node reads as one violation.
    value: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        severity = "" if self.severity == "Violation" else f"{self.severity}: "
        label = f' "{self.label}"' if self.label else ""
        path = f", {self.path}" if self.path else ""
        return f"{where}{severity}{self.message}\n    <{self.node}>{label}{path} [{self.shape} {self.constraint}]"

    def sort_key(self) -> tuple:
        return (self.source or "~", self.node, self.path or "", self.message)


@dataclass
class ValidationResult:
    conforms: bool
    violations: list[Violation]
    report: rdflib.Graph = field(repr=False)


def conforming_result() -> ValidationResult:
    """The result of a unit known to conform (validated by an earlier build): a report saying so."""
    report = rdflib.Graph()
    root = rdflib.BNode()
    report.add((root, RDF.type, SH.ValidationReport))
    report.add((root, SH.conforms, rdflib.Literal(True)))
    return ValidationResult(True, [], report)


# ---------------------------------------------------------------------------------------------
# Validating units


def to_rdflib(triples: Iterable[Triple]) -> rdflib.Graph:
    """An rdflib graph of pyoxigraph triples, converted term by term."""
    graph = rdflib.Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    graph.addN((to_rdflib_term(t.subject), to_rdflib_term(t.predicate), to_rdflib_term(t.object), graph)
               for t in triples)
    return graph


class ShaclEngine:
    """A SHACL engine: loads a folder of shapes and validates units (a graph and the seed lines behind its
    IRIs) against them, giving the project's ValidationResult (Violations and a SHACL report)."""

    name: ClassVar[str]

    def load(self, shapes_dir: Path) -> Shapes:
        """The folder's shapes, prepared for this engine; ShapesError when they cannot be used."""
        raise NotImplementedError

    def validate_batch(self, units: list[tuple[Iterable[Triple], dict[str, str]]],
                       shapes: Shapes) -> list[ValidationResult]:
        """Validate (triples, sources) units; results in the order of the units."""
        raise NotImplementedError

    def validate(self, triples: Iterable[Triple], shapes: Shapes,
                 sources: dict[str, str] | None = None) -> ValidationResult:
        """Validate one graph; `sources` maps IRIs to the seed `file:line` behind them, for the explanation."""
        return self.validate_batch([(triples, sources or {})], shapes)[0]


class CompiledEngine(ShaclEngine):
    """The compiled SPARQL engine on pyoxigraph: fast, and refuses what it cannot evaluate exactly."""

    name = "compiled"

    def load(self, shapes_dir: Path) -> Shapes:
        return load_shapes(shapes_dir)

    def validate_batch(self, units: list[tuple[Iterable[Triple], dict[str, str]]],
                       shapes: Shapes) -> list[ValidationResult]:
        return validate_batch(units, shapes)


COMPILED = CompiledEngine()


def validate_triples(triples: Iterable[Triple], shapes: Shapes, sources: dict[str, str] | None = None,
                     engine: ShaclEngine = COMPILED) -> ValidationResult:
    """Validate one graph; `sources` maps IRIs to the seed `file:line` behind them, for the explanation."""
    return engine.validate(triples, shapes, sources)


def validate_batch(units: list[tuple[Iterable[Triple], dict[str, str]]], shapes: Shapes) -> list[ValidationResult]:
    """Validate (triples, sources) units, in their order: the core constraints of all of them in one
    store, the SPARQL-based ones unit by unit."""
    units = [(list(dict.fromkeys(triples)), sources) for triples, sources in units]
    core = shapes.compiled.validate({str(i): triples for i, (triples, _) in enumerate(units)})
    return [unit_result(triples, core[str(i)], shapes, sources) for i, (triples, sources) in enumerate(units)]


def unit_result(triples: list[Triple], core: list[CoreResult], shapes: Shapes,
                sources: dict[str, str]) -> ValidationResult:
    """A unit's result: its SPARQL constraints evaluated, and a report as pyshacl writes it."""
    store = Store()
    store.extend(Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in triples)
    found = evaluate(store, list(shapes.sparql))
    conforms = all(r.constraint.severity != SH.Violation for r in core) and \
        all(f.constraint.severity != SH.Violation for f in found)
    report = rdflib.Graph()
    root = rdflib.BNode()
    report.add((root, RDF.type, SH.ValidationReport))
    report.add((root, SH.conforms, rdflib.Literal(conforms)))
    if not core and not found:
        return ValidationResult(conforms, [], report)
    data = to_rdflib(triples)
    for result in core:
        add_core_result(report, root, result, shapes.core, data)
    for result in found:
        add_result(report, root, result)
    violations = sorted((explain(report, result, data, shapes, sources)
                         for result in report.objects(root, SH.result)), key=Violation.sort_key)
    return ValidationResult(conforms, violations, report)


def add_core_result(report: rdflib.Graph, root: rdflib.term.Node, found: CoreResult, shapes: rdflib.Graph,
                    data: rdflib.Graph) -> None:
    """Record a core constraint's result in the report as pyshacl does: blank nodes (a shape, a path,
    a value) copied with their description, every message of the shape."""
    constraint = found.constraint
    result = rdflib.BNode()
    report.add((root, SH.result, result))
    for predicate, obj, graph in ((RDF.type, SH.ValidationResult, None),
                                  (SH.sourceConstraintComponent, constraint.component, None),
                                  (SH.sourceShape, constraint.shape, shapes),
                                  (SH.resultSeverity, constraint.severity, None),
                                  (SH.focusNode, found.focus, data), (SH.value, found.value, data),
                                  (SH.resultPath, constraint.path, shapes)):
        if obj is not None:
            report.add((result, predicate, copy_node(graph, obj, report) if graph is not None else obj))
    for message in shapes.objects(constraint.shape, SH.message):
        report.add((result, SH.resultMessage, message))


def copy_node(graph: rdflib.Graph, node: rdflib.term.Node, target: rdflib.Graph) -> rdflib.term.Node:
    """The node, or for a blank node a fresh one in `target` with a copy of its description."""
    if not isinstance(node, rdflib.BNode):
        return node
    copy = rdflib.BNode()
    for predicate, obj in graph.predicate_objects(node):
        target.add((copy, predicate, copy_node(graph, obj, target)))
    return copy


def add_result(report: rdflib.Graph, root: rdflib.term.Node, found: SparqlResult) -> None:
    """Record a SPARQL constraint's result in the report, as a SHACL engine would."""
    result = rdflib.BNode()
    report.add((root, SH.result, result))
    for predicate, obj in ((RDF.type, SH.ValidationResult), (SH.focusNode, found.focus), (SH.value, found.value),
                           (SH.resultSeverity, found.constraint.severity), (SH.sourceShape, found.constraint.shape),
                           (SH.sourceConstraint, found.constraint.constraint),
                           (SH.sourceConstraintComponent, SH.SPARQLConstraintComponent),
                           (SH.resultMessage, rdflib.Literal(found.message)), (SH.resultPath, found.path)):
        if obj is not None:
            report.add((result, predicate, obj))


def explain(report: rdflib.Graph, result: rdflib.term.Node, data: rdflib.Graph, shapes: Shapes,
            sources: dict[str, str]) -> Violation:
    """A report result as a Violation: what is wrong, where it came from, and the shape's words."""
    focus = report.value(result, SH.focusNode)
    value = report.value(result, SH.value)
    component = report.value(result, SH.sourceConstraintComponent)
    # Article-wide rules (the article is the focus) find the offending resource as the value.
    node = value if component == SH.SPARQLConstraintComponent and isinstance(value, rdflib.URIRef) else focus
    path = report.value(result, SH.resultPath)
    message = report.value(result, SH.resultMessage)
    return Violation(
        node=str(node), label=label_of(data, node), path=path_text(report, path) if path is not None else None,
        message=str(message) if message is not None else "constraint violated",
        shape=shapes.name(report.value(result, SH.sourceShape)),
        constraint=constraint_name(report, result, shapes),
        severity=str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[-1],
        source=source_of(data, node, sources), focus=str(focus), value=str(value) if value is not None else None)


def constraint_name(report: rdflib.Graph, result: rdflib.term.Node, shapes: Shapes) -> str:
    """The constraint that fired: its parameter (sh:maxCount for sh:MaxCountConstraintComponent) or,
    for a SPARQL-based constraint, the constraint's name."""
    component = report.value(result, SH.sourceConstraintComponent)
    if component == SH.SPARQLConstraintComponent:
        return shapes.name(report.value(result, SH.sourceConstraint))
    name = str(component).removeprefix(str(SH)).removesuffix("ConstraintComponent")
    return "sh:" + name[:1].lower() + name[1:]


def label_of(data: rdflib.Graph, node: rdflib.term.Node) -> str | None:
    """A name for the node: its English label, any label, or the text a span covers."""
    labels = list(data.objects(node, RDFS.label)) + list(data.objects(node, SKOS.prefLabel))
    english = [label for label in labels if getattr(label, "language", None) == "en"]
    names = english or labels or list(data.objects(node, NIF_ANCHOR))
    if not names:
        return None
    text = str(sorted(names)[0])
    return text if len(text) <= LABEL_LENGTH else text[:LABEL_LENGTH - 3] + "..."


def source_of(data: rdflib.Graph, node: rdflib.term.Node, sources: dict[str, str]) -> str | None:
    """The seed line of the node, or of the nearest resource linked to it that has one.

    Participations, attributions, outcomes and spans have no mapping entry of their own: they come
    from the event, statement or claim that links to them (or that they link to).
    """
    if str(node) in sources:
        return sources[str(node)]
    for neighbours in (data.subjects(None, node), data.objects(node, None)):
        found = sorted(sources[str(n)] for n in neighbours if str(n) in sources)
        if found:
            return found[0]
    return None


def path_text(report: rdflib.Graph, path: rdflib.term.Node) -> str:
    """A SHACL property path in SPARQL syntax, with the usual prefixes."""
    if isinstance(path, rdflib.URIRef):
        for prefix, namespace in PREFIXES.items():
            if str(path).startswith(namespace):
                return f"{prefix}:{str(path)[len(namespace):]}"
        return path.n3()
    inverse = report.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + path_text(report, inverse)
    alternatives = report.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(path_text(report, p) for p in Collection(report, alternatives)) + ")"
    for modifier, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = report.value(path, modifier)
        if inner is not None:
            return path_text(report, inner) + suffix
    return "/".join(path_text(report, p) for p in Collection(report, path))


# ---------------------------------------------------------------------------------------------
# Units: an article's graph with the shared triples it needs


class Context:
    """The shared graphs (ontology, entities) indexed so that each unit takes only what it refers to."""

    def __init__(self, triples: Iterable[Triple]):
        self.triples = list(dict.fromkeys(triples))
        self.by_subject: dict = defaultdict(list)
        self.hierarchy = []
        for triple in self.triples:
            self.by_subject[triple.subject].append(triple)
            if triple.predicate == SUBCLASS_OF:
                self.hierarchy.append(triple)

    def needed_by(self, unit: list[Triple]) -> list[Triple]:
        """The shared triples about every resource the unit mentions, and the whole class hierarchy."""
        mentioned = {term for t in unit for term in (t.subject, t.object)}
        needed = list(self.hierarchy)
        for term in mentioned:
            needed.extend(self.by_subject.get(term, ()))
        return needed


class Gate:
    """Validates the shared graphs once and each unit with the shared triples it needs."""

    def __init__(self, shapes: Shapes, shared: Iterable[Triple], engine: ShaclEngine = COMPILED):
        self.shapes = shapes
        self.context = Context(shared)
        self.engine = engine

    def validate_shared(self, sources: dict[str, str] | None = None) -> ValidationResult:
        return self.engine.validate(self.context.triples, self.shapes, sources)

    def validate_unit(self, unit: list[Triple], sources: dict[str, str] | None = None) -> ValidationResult:
        return self.engine.validate(unit + self.context.needed_by(unit), self.shapes, sources)

    def validate_units(self, jobs: Iterable[tuple[str, list[Triple], dict[str, str]]]
                       ) -> Iterator[tuple[str, ValidationResult]]:
        """Validate (name, unit, sources) jobs, BATCH units at a time; results come in the order of the jobs."""
        jobs = iter(jobs)
        while batch := list(islice(jobs, BATCH)):
            results = self.engine.validate_batch(
                [(unit + self.context.needed_by(unit), sources) for _, unit, sources in batch], self.shapes)
            yield from zip((name for name, _, _ in batch), results)


def validate_dataset(quads: Iterable[Quad], shapes: Shapes,
                     engine: ShaclEngine = COMPILED) -> list[tuple[list[str], ValidationResult]]:
    """Validate any dataset the way `kg build` does: every named graph that holds an article is a unit,
    all other graphs (default graph included) are the shared context, validated once. Without such
    graphs (a Turtle file, say) the whole dataset is one unit. Returns, for each validation, the names
    of the graphs it covered ("" for the default graph) and its result. `shapes` come from `engine.load`."""
    graphs: dict = defaultdict(list)
    for quad in quads:
        graphs[quad.graph_name].append(quad.triple)
    units = {name: triples for name, triples in graphs.items()
             if not isinstance(name, DefaultGraph) and any(t.predicate == RDF_TYPE and t.object == NEWS_ARTICLE
                                                           for t in triples)}
    shared = [name for name in graphs if name not in units]
    if not units:
        return [([graph_name(n) for n in shared], engine.validate((t for ts in graphs.values() for t in ts), shapes))]
    gate = Gate(shapes, (t for name in shared for t in graphs[name]), engine)
    results = [([graph_name(n) for n in shared], gate.validate_shared())] if shared else []
    results.extend(([graph_name(name)], result) for name, result in
                   gate.validate_units((name, triples, {}) for name, triples in units.items()))
    return results


def graph_name(name) -> str:
    return "" if isinstance(name, DefaultGraph) else name.value


# ---------------------------------------------------------------------------------------------
# The published report


def write_report_turtle(results: list[tuple[Iterable[str], ValidationResult]], path: Path) -> None:
    """Write one Turtle document of the SHACL reports, each linked to the graphs it covers (dcterms:subject).

    Blank nodes get canonical labels, so the same build gives the same bytes. They are computed for the
    reports alone, each with one placeholder link: canonicalizing a blank node with a link per article
    held 23 MB at 10,000 articles. The links are streamed from the graph names, through the serializer in
    the placeholder's stead, to the file.
    """
    combined = rdflib.Graph()
    roots = []
    for _, result in results:
        combined += result.report
        root = result.report.value(predicate=RDF.type, object=SH.ValidationReport, any=False)
        combined.add((root, DCTERMS.conformsTo, SHAPES_IRI))
        roots.append(root)
    subject = NamedNode(str(DCTERMS.subject))
    covers = {NamedNode(f"urn:x-kg:covers:{index}"): graphs for index, (graphs, _) in enumerate(results)}
    quads = list(parse(combined.serialize(format="nt", encoding="utf-8"), RdfFormat.N_TRIPLES))
    quads += (Quad(BlankNode(str(root)), subject, placeholder) for root, placeholder in zip(roots, covers))

    def linked(labelled: list[Quad]) -> Iterator[Quad]:
        for quad in labelled:
            graphs = covers.get(quad.object) if quad.predicate == subject else None
            if graphs is None:
                yield quad
            else:
                yield from (Quad(quad.subject, subject, NamedNode(graph)) for graph in graphs if graph)
    prefixes = {"sh": str(SH), "dcterms": str(DCTERMS), "dshapes": SHAPES_NAMESPACE, "xsd": PREFIXES["xsd"]}
    serialize(linked(stable_blank_nodes(quads)), output=str(path), format=RdfFormat.TURTLE, prefixes=prefixes)


# ---------------------------------------------------------------------------------------------
# Reading graph files


class UnreadableGraph(Exception):
    """A graph file that does not exist or does not parse; the message says which and where."""


def read_graph_files(paths: Iterable[Path]) -> Iterator[Quad]:
    """The quads of graph files (format from the extension, `.gz` allowed), named graphs kept.

    Blank nodes are renamed apart so that files do not share them by accident; relative IRIs are
    resolved against the file's own location.
    """
    for path in paths:
        compressed = path.suffix.lower() == ".gz"
        suffix = Path(path.stem).suffix.lower() if compressed else path.suffix.lower()
        rdf_format = RDF_FILE_FORMATS.get(suffix)
        if rdf_format is None:
            raise UnreadableGraph(f"{path}: unknown graph format {suffix or '(no extension)'!r} "
                                  f"(known: {', '.join(sorted(RDF_FILE_FORMATS))}, optionally .gz)")
        try:
            data = path.read_bytes()
            if compressed:
                data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise UnreadableGraph(f"{path}: cannot read: {getattr(error, 'strerror', None) or error}") from None
        try:
            yield from list(parse(data, rdf_format, base_iri=path.resolve().as_uri(), rename_blank_nodes=True))
        except (SyntaxError, ValueError) as error:
            raise UnreadableGraph(f"{path}: not valid {rdf_format.name}: {error}") from None
