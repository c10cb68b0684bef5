"""The shapes are the contract of the published graph.

The seed graph conforms; and every constraint of every shape fires, with that shape's message, on a
copy of the built graph broken for it (a shape no test can make fire is a defect: the coverage test
fails when a constraint has no break below).

Each break is validated, by both engines (compiled and pyshacl), against the one node shape it is about
(with the shapes it refers to): SHACL evaluates shapes independently, so the result is the one the full
gate gives, at a fraction of the cost. The full gate is exercised end to end by the seed graph, `kg build`
and `kg validate`. The breaks themselves are in tests/shape_breaks.py.
"""
from __future__ import annotations

import re

import pytest
import rdflib
from rdflib.namespace import RDF, SH

from kg.validate.engines import ENGINES
from kg.validate.shacl import Shapes, Violation, validate_dataset
from shape_breaks import BREAKS, SHAPES_NS, Break, broken_triples, expand, shape_iri

# Parameters that make a constraint component; every one used in shapes/ must be broken below.
CONSTRAINT_PARAMETERS = ("minCount", "maxCount", "datatype", "class", "nodeKind", "pattern", "minLength",
                         "maxLength", "in", "hasValue", "languageIn", "uniqueLang", "lessThan", "lessThanOrEquals",
                         "equals", "disjoint", "or", "and", "not", "xone", "node", "qualifiedMinCount",
                         "qualifiedMaxCount", "minInclusive", "maxInclusive", "minExclusive", "maxExclusive",
                         "closed")
# Everything else a shape may say: targets, documentation, structure.
SHAPE_PARAMETERS = ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "name", "description",
                    "message", "path", "property", "severity", "qualifiedValueShape", "sparql", "deactivated")


def constraints_in(shapes: Shapes) -> set[tuple[str, str]]:
    """Every (shape, constraint) of the shapes: one per constraint parameter, one per SPARQL constraint."""
    graph, found = shapes.graph, set()
    for shape in set(graph.subjects(RDF.type, SH.NodeShape)) | set(graph.subjects(RDF.type, SH.PropertyShape)):
        local = str(shape).removeprefix(SHAPES_NS)
        found |= {(local, p) for p in CONSTRAINT_PARAMETERS if (shape, SH[p], None) in graph}
        found |= {(local, shapes.name(c)) for c in graph.objects(shape, SH.sparql)}
    return found


def template_pattern(message: str) -> re.Pattern:
    """A regular expression for messages produced from a template with {?var} placeholders."""
    return re.compile("".join(".*?" if re.fullmatch(r"\{[?$]\w+\}", part) else re.escape(part)
                              for part in re.split(r"(\{[?$]\w+\})", message)) + "$", re.S)


def test_the_seed_graph_conforms_graph_by_graph(seed_quads, shapes):
    results = validate_dataset(seed_quads, shapes)
    assert sorted(g for graphs, _ in results for g in graphs) == sorted({q.graph_name.value for q in seed_quads})
    assert len(results) == 2  # the shared graphs once, then the article with what it needs
    for graphs, result in results:
        assert result.conforms, (graphs, [str(v) for v in result.violations])


def test_every_shape_is_documented_and_every_constraint_explains_itself(shapes):
    graph = shapes.graph
    all_shapes = set(graph.subjects(RDF.type, SH.NodeShape)) | set(graph.subjects(RDF.type, SH.PropertyShape))
    assert len(all_shapes) > 80
    for shape in all_shapes:
        assert isinstance(shape, rdflib.URIRef) and str(shape).startswith(SHAPES_NS), shape
        assert graph.value(shape, SH.name) is not None, f"{shape} has no sh:name"
        assert graph.value(shape, SH.description) is not None, f"{shape} has no sh:description"
        constrains_itself = any((shape, SH[p], None) in graph for p in CONSTRAINT_PARAMETERS)
        if constrains_itself:
            assert graph.value(shape, SH.message) is not None, f"{shape} has constraints but no sh:message"
        known = {SH[p] for p in CONSTRAINT_PARAMETERS + SHAPE_PARAMETERS}
        unknown = {p for p in graph.predicates(shape, None) if str(p).startswith(str(SH)) and p not in known}
        assert not unknown, f"{shape} uses {unknown}: add them to CONSTRAINT_PARAMETERS or SHAPE_PARAMETERS"
    for constraint in set(graph.objects(None, SH.sparql)):
        assert graph.value(constraint, SH.name) is not None and graph.value(constraint, SH.message) is not None, \
            f"SPARQL constraint {constraint} needs sh:name and sh:message"


def test_every_constraint_of_every_shape_has_a_break(shapes):
    broken = {(b.shape, b.constraint) for b in BREAKS}
    assert constraints_in(shapes) - broken == set(), "constraints no test makes fire"
    assert broken - constraints_in(shapes) == set(), "breaks for constraints that do not exist"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("broken", BREAKS, ids=lambda b: b.id)
def test_the_constraint_fires_with_its_message_on_a_graph_broken_for_it(broken: Break, engine, shapes, article_unit,
                                                                        break_result):
    triples = broken_triples(article_unit, broken)
    assert set(triples) != {q.triple for q in article_unit}, "the update changed nothing"

    shape = shape_iri(broken.shape)
    result = break_result(broken, engine)
    fired = [v for v in result.violations if v.shape == f"dshapes:{broken.shape}" and v.constraint == (
        broken.constraint if broken.constraint.startswith("dshapes:") else f"sh:{broken.constraint}")]
    assert [v.node for v in fired if v.node == expand(broken.node)], \
        f"expected a violation on {broken.node}; got:\n" + "\n".join(str(v) for v in result.violations)
    message_source = shape if not broken.constraint.startswith("dshapes:") else \
        shape_iri(broken.constraint.removeprefix("dshapes:"))
    expected = template_pattern(str(shapes.graph.value(message_source, SH.message)))
    for violation in fired:
        assert expected.match(violation.message), violation.message


def records(violations: list[Violation]) -> set[tuple]:
    """Everything a violation says, value included (Violation equality leaves the value out). A set: a
    SPARQL constraint's duplicate solutions are one violation (`kg validate` and `kg build` print it once)."""
    return {(v.focus, v.node, v.label, v.path, v.shape, v.constraint, v.message, v.severity, v.source, v.value)
            for v in violations}


@pytest.mark.parametrize("broken", BREAKS, ids=lambda b: b.id)
def test_both_engines_give_the_same_violations_on_every_break(broken: Break, break_result):
    """The compiled engine and pyshacl (`kg validate --engine`) say the same, record for record."""
    compiled, reference = break_result(broken, "compiled"), break_result(broken, "pyshacl")
    assert not compiled.conforms and not reference.conforms
    assert records(compiled.violations) == records(reference.violations) != set()


def test_every_typed_resource_of_the_articles_and_the_registry_is_checked_by_a_shape(seed_quads, shapes):
    """A node shape for every class instances use: each typed resource is a focus of some class target."""
    hierarchy: dict[str, set[str]] = {}
    for q in seed_quads:
        if q.predicate.value == str(rdflib.RDFS.subClassOf):
            hierarchy.setdefault(q.subject.value, set()).add(q.object.value)

    def with_superclasses(cls: str) -> set[str]:
        found, todo = set(), [cls]
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(hierarchy.get(current, ()))
        return found

    targeted = {str(c) for c in shapes.graph.objects(None, SH.targetClass)}
    types: dict[str, set[str]] = {}
    for q in seed_quads:
        if q.predicate.value == str(RDF.type) and not q.graph_name.value.endswith("/graph/ontology"):
            types.setdefault(q.subject.value, set()).add(q.object.value)
    unchecked = {node: classes for node, classes in types.items()
                 if not any(with_superclasses(c) & targeted for c in classes)}
    assert len(types) > 300 and unchecked == {}
