"""SHACL-SPARQL constraints (`sh:sparql`) evaluated on pyoxigraph instead of rdflib's engine.

The shapes stay standard SHACL: any SHACL-SPARQL engine, pyshacl included, evaluates them to the
same results. The gate runs them here because pyshacl hands each of them to rdflib's SPARQL engine,
which parses the query again for every focus node and evaluates a join over a few thousand triples in
0.3-0.9 s; pyoxigraph does it in about a millisecond. Supported: SPARQL constraints of node shapes,
with the targets sh:targetClass (with rdfs:subClassOf*), sh:targetNode, sh:targetSubjectsOf and
sh:targetObjectsOf, pre-bound $this, sh:prefixes, and {?var} / {$var} message templates. Anything
else is refused when the shapes are loaded, so no constraint is silently skipped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, QuerySolution, Store, Variable
from rdflib.namespace import RDF, SH

TEMPLATE = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")
THIS = Variable("this")


class UnsupportedShape(ValueError):
    """A SPARQL-based constraint the gate cannot evaluate exactly as SHACL specifies."""


@dataclass(frozen=True)
class SparqlConstraint:
    """One `sh:sparql` constraint of one node shape, ready to run."""

    shape: rdflib.term.Node
    constraint: rdflib.term.Node
    focus_query: str  # SELECT DISTINCT ?this: the shape's focus nodes
    select: str
    prefixes: dict[str, str]
    message: str
    severity: rdflib.URIRef


@dataclass(frozen=True)
class SparqlResult:
    """A solution of a SPARQL constraint: a violation at `focus` (with the offending `value`)."""

    constraint: SparqlConstraint
    focus: rdflib.term.Node
    value: rdflib.term.Node
    path: rdflib.term.Node | None
    message: str


def split_sparql_constraints(shapes: rdflib.Graph) -> tuple[rdflib.Graph, list[SparqlConstraint]]:
    """The shapes graph without its `sh:sparql` links (for the core engine), and those constraints."""
    core = rdflib.Graph()
    for prefix, namespace in shapes.namespaces():
        core.bind(prefix, namespace)
    core += shapes
    constraints = []
    for shape, constraint in sorted(shapes.subject_objects(SH.sparql)):
        core.remove((shape, SH.sparql, constraint))
        if shapes.value(constraint, SH.deactivated) == rdflib.Literal(True) or \
                shapes.value(shape, SH.deactivated) == rdflib.Literal(True):
            continue
        constraints.append(read_constraint(shapes, shape, constraint))
    return core, constraints


def read_constraint(shapes: rdflib.Graph, shape: rdflib.term.Node, constraint: rdflib.term.Node) -> SparqlConstraint:
    where = f"shape {shape.n3()}, constraint {constraint.n3()}"
    if shapes.value(shape, SH.path) is not None:
        raise UnsupportedShape(f"{where}: SPARQL constraints of property shapes ($PATH) are not supported")
    if shapes.value(shape, SH.target) is not None or \
            {rdflib.RDFS.Class, rdflib.OWL.Class} & set(shapes.objects(shape, RDF.type)):
        raise UnsupportedShape(f"{where}: only sh:targetClass/Node/SubjectsOf/ObjectsOf targets are supported")
    if next(shapes.subject_predicates(shape), None) is not None:
        raise UnsupportedShape(f"{where}: a shape with SPARQL constraints must not be used inside another shape")
    select = shapes.value(constraint, SH.select)
    if select is None:
        raise UnsupportedShape(f"{where}: only sh:select constraints are supported (not sh:ask)")
    message = shapes.value(constraint, SH.message)
    return SparqlConstraint(
        shape=shape, constraint=constraint, focus_query=focus_query(shapes, shape), select=str(select),
        prefixes=declared_prefixes(shapes, constraint),
        message=str(message) if message is not None else f"SPARQL constraint {constraint.n3()} violated",
        severity=shapes.value(shape, SH.severity) or SH.Violation)


def focus_query(shapes: rdflib.Graph, shape: rdflib.term.Node) -> str:
    """A query for the focus nodes of `shape`: the union of its targets."""
    patterns = []
    for cls in shapes.objects(shape, SH.targetClass):
        patterns.append(f"?this <{RDF.type}>/<{rdflib.RDFS.subClassOf}>* {cls.n3()} .")
    for node in shapes.objects(shape, SH.targetNode):
        patterns.append(f"VALUES ?this {{ {node.n3()} }}")
    for predicate in shapes.objects(shape, SH.targetSubjectsOf):
        patterns.append(f"?this {predicate.n3()} ?any .")
    for predicate in shapes.objects(shape, SH.targetObjectsOf):
        patterns.append(f"?any {predicate.n3()} ?this .")
    if not patterns:
        raise UnsupportedShape(f"shape {shape.n3()} has SPARQL constraints but no target")
    return "SELECT DISTINCT ?this WHERE { " + " UNION ".join("{ " + p + " }" for p in patterns) + " }"


def declared_prefixes(shapes: rdflib.Graph, constraint: rdflib.term.Node) -> dict[str, str]:
    prefixes = {}
    for declaration in shapes.objects(constraint, SH.prefixes):
        for entry in shapes.objects(declaration, SH.declare):
            prefixes[str(shapes.value(entry, SH.prefix))] = str(shapes.value(entry, SH.namespace))
    return prefixes


def evaluate(store: Store, constraints: list[SparqlConstraint]) -> list[SparqlResult]:
    """Run every constraint on the data in `store` (its default graph) for every focus node."""
    results = []
    for constraint in constraints:
        for row in store.query(constraint.focus_query):
            focus = row[THIS]
            for solution in store.query(constraint.select, prefixes=constraint.prefixes,
                                        substitutions={THIS: focus}):
                # An unbound or unprojected variable reads as None: ?value defaults to the focus node.
                value, path = solution["value"], solution["path"]
                results.append(SparqlResult(constraint, to_rdflib_term(focus),
                                            to_rdflib_term(value if value is not None else focus),
                                            to_rdflib_term(path) if path is not None else None,
                                            fill_template(constraint.message, solution)))
    return results


def fill_template(message: str, solution: QuerySolution) -> str:
    """Replace {?var} and {$var} with the solution's values (the lexical form of literals, IRIs as they are)."""
    def value_of(match: re.Match) -> str:
        term = solution[match.group(1)]
        return term.value if term is not None else ""
    return TEMPLATE.sub(value_of, message)


@lru_cache(maxsize=1 << 16)  # the ontology's and the registry's terms recur in every article
def to_rdflib_term(term) -> rdflib.term.Node:
    """The rdflib term for a pyoxigraph term (a simple literal becomes an rdflib literal without datatype)."""
    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        if term.datatype.value == str(rdflib.XSD.string):
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    raise TypeError(f"not an RDF term: {term!r}")
