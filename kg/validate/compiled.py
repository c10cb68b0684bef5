"""SHACL core constraints compiled to SPARQL and evaluated by pyoxigraph over many units at once.

pyshacl evaluates the core constraints in Python over an rdflib graph, ~100-200 ms per article. Here
every node shape that has targets becomes one SELECT query whose solutions are the violations
(unit, focus node, constraint, value), and a batch of units (each an article's graph with the shared
triples it needs) is loaded into one in-memory store, one named graph per unit, every pattern inside
`GRAPH ?g`: one query per shape per batch, so the cost is linear in the corpus and memory bounded by
the batch. Semantics are those of SHACL (W3C Recommendation, section 4), as pyshacl implements them.

Literals keep their identity: pyoxigraph's store normalizes typed literals ("05"^^xsd:integer reads
back as "5", "5"^^xsd:nonNegativeInteger as xsd:integer), which would change term equality, counts,
lexical forms and datatypes. So every literal other than a plain or language-tagged string enters
the store under a private datatype that encodes its original one and whether it is well-typed
(decided in Python, as pyshacl does, on the original term); constants of the shapes are encoded the
same way, and sh:lessThan(OrEquals) decode the values before comparing them.

Anything in the shapes that the compiler does not support is refused when the shapes are loaded
(UnsupportedShape), never skipped. SPARQL-based constraints (sh:sparql) are kg.validate.sparql_constraints'.
"""
from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Iterable, Mapping

import rdflib
from pyoxigraph import Literal, NamedNode, Quad, Store, Triple
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from kg.validate.sparql_constraints import UnsupportedShape, to_rdflib_term

TYPED = "urn:x-kg:typed:"  # + original datatype IRI ('#' as %23): a well-typed literal
ILL_TYPED = "urn:x-kg:ill-typed:"  # likewise, for an ill-typed literal (never matches sh:datatype)
UNIT = "urn:x-kg:unit:"
MARKER = NamedNode("urn:x-kg:unit")  # <marker> <marker> <marker> in every unit's graph, to bind ?g for sh:targetNode
XSD_STRING = str(XSD.string)
RDF_LANGSTRING = str(RDF.langString)
MAX_COUNT_PARAMETER = 4  # counts are compiled to n distinct variables; larger ones are refused

TARGETS = {SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf}
DOCUMENTATION = {SH.name, SH.description, SH.message, SH.severity, SH.deactivated, SH.order, SH.group,
                 SH.defaultValue, SH.sparql}  # sh:sparql: evaluated by kg.validate.sparql_constraints
STRUCTURE = {SH.property, SH.path, SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount,
             SH.qualifiedValueShapesDisjoint}
COMPONENTS = {SH["class"], SH.datatype, SH.nodeKind, SH.pattern, SH.flags, SH.minLength, SH.maxLength, SH["in"],
              SH.hasValue, SH.languageIn, SH.uniqueLang, SH.equals, SH.disjoint, SH.lessThan,
              SH.lessThanOrEquals, SH["or"], SH["and"], SH["not"], SH.node, SH.minCount, SH.maxCount}
NODE_KINDS = {SH.IRI: "isIRI({v})", SH.BlankNode: "isBlank({v})", SH.Literal: "isLiteral({v})",
              SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))",
              SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
              SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))"}
SUBCLASS_PATH = f"<{RDF.type}>/<{RDFS.subClassOf}>*"
INSTANCE = re.compile(r"INSTANCE\((\?\w+) (<[^>]*>)\)")  # "INSTANCE(?x <C>)": ?x is an instance of C


# Parameters of SHACL core components the compiler does not evaluate, and their component when its name
# is not the parameter's (sh:ignoredProperties belongs to sh:ClosedConstraintComponent).
UNSUPPORTED_COMPONENTS = {"closed": "Closed", "ignoredProperties": "Closed", "xone": "Xone",
                          "minInclusive": "MinInclusive", "maxInclusive": "MaxInclusive",
                          "minExclusive": "MinExclusive", "maxExclusive": "MaxExclusive"}


def component_of(parameter: rdflib.URIRef) -> str:
    """The parameter, with its constraint component when it has one: "sh:xone (sh:XoneConstraintComponent)"."""
    name = str(parameter).removeprefix(str(SH))
    component = UNSUPPORTED_COMPONENTS.get(name)
    return f"sh:{name} (sh:{component}ConstraintComponent)" if component else f"sh:{name}"


@dataclass(frozen=True)
class Constraint:
    """One constraint component of one shape, as a report names it."""

    shape: rdflib.term.Node  # sh:sourceShape
    component: rdflib.URIRef  # sh:sourceConstraintComponent
    path: rdflib.term.Node | None  # sh:resultPath (a node of the shapes graph), for property shapes
    severity: rdflib.URIRef
    message: str | None  # the shape's sh:message


@dataclass(frozen=True)
class CoreResult:
    """A violation of a core constraint in one unit."""

    unit: str
    focus: rdflib.term.Node
    value: rdflib.term.Node | None
    constraint: Constraint


# ---------------------------------------------------------------------------------------------
# Literals: identity-preserving encoding


WELL_TYPED_VALUES = {XSD.integer: int, XSD.float: float, XSD.decimal: Decimal, XSD.boolean: bool,
                     XSD.date: date, XSD.time: time, XSD.dateTime: datetime}


def well_typed(lexical: str, datatype: str) -> bool:
    """Whether the literal is well-typed in pyshacl's sense: rdflib does not find it ill-typed, and for
    the datatypes pyshacl checks itself, its value has the right Python type."""
    literal = rdflib.Literal(lexical, datatype=datatype)
    expected = WELL_TYPED_VALUES.get(rdflib.URIRef(datatype))
    return literal.ill_typed is not True and (expected is None or isinstance(literal.value, expected))


def encode(term):
    """The term as stored: literals other than (language-tagged) strings under a private datatype."""
    if not isinstance(term, Literal) or term.language or term.datatype.value == XSD_STRING:
        return term
    return encoded_literal(term.value, term.datatype.value)


@lru_cache(maxsize=1 << 12)  # dates and text offsets recur across articles; small, as a worker keeps it all build
def encoded_literal(lexical: str, datatype: str) -> Literal:
    prefix = TYPED if well_typed(lexical, datatype) else ILL_TYPED
    return Literal(lexical, datatype=NamedNode(prefix + datatype.replace("#", "%23")))


def decode(term):
    """The original term of a stored one."""
    if isinstance(term, Literal) and not term.language:
        for prefix in (TYPED, ILL_TYPED):
            if term.datatype.value.startswith(prefix):
                return Literal(term.value, datatype=NamedNode(term.datatype.value[len(prefix):].replace("%23", "#")))
    return term


def decoded_expression(var: str) -> str:
    """SPARQL for the value of a stored term: typed literals get their original datatype back."""
    original = f'IRI(REPLACE(STRAFTER(STR(DATATYPE({var})), "{TYPED}"), "%23", "#"))'
    return (f'IF(isLiteral({var}) && STRSTARTS(STR(DATATYPE({var})), "{TYPED}"), '
            f'STRDT(STR({var}), {original}), {var})')


def sparql_term(node: rdflib.term.Node) -> str:
    """A constant of the shapes graph in SPARQL, encoded as data terms are."""
    if isinstance(node, rdflib.URIRef):
        return f"<{node}>"
    if isinstance(node, rdflib.Literal):
        if node.language:
            term = Literal(str(node), language=node.language)
        else:
            term = Literal(str(node), datatype=NamedNode(str(node.datatype or XSD.string)))
        return str(encode(term))
    raise UnsupportedShape(f"a blank node {node.n3()} cannot be a constant of a constraint")


# ---------------------------------------------------------------------------------------------
# The compiler


class Compiler:
    """Turns shapes into SPARQL patterns that match violations; refuses what it does not support."""

    def __init__(self, shapes: rdflib.Graph):
        self.graph = shapes
        self.counter = itertools.count()
        self.expanding: list[rdflib.term.Node] = []

    def var(self) -> str:
        return f"?v{next(self.counter)}"

    def values(self, node: rdflib.term.Node, parameter: rdflib.URIRef) -> list[rdflib.term.Node]:
        return sorted(self.graph.objects(node, parameter))

    def one(self, shape: rdflib.term.Node, parameter: rdflib.URIRef) -> rdflib.term.Node | None:
        found = self.values(shape, parameter)
        if len(found) > 1:
            raise UnsupportedShape(f"shape {shape.n3()} has {len(found)} values of {parameter.n3()}; one expected")
        return found[0] if found else None

    def deactivated(self, shape: rdflib.term.Node) -> bool:
        return self.one(shape, SH.deactivated) == rdflib.Literal(True)

    def check_parameters(self, shape: rdflib.term.Node) -> None:
        """Refuse any SHACL parameter the compiler does not evaluate."""
        unknown = {p for p in self.graph.predicates(shape, None) if str(p).startswith(str(SH))} \
            - TARGETS - DOCUMENTATION - STRUCTURE - COMPONENTS
        if unknown:
            names = ", ".join(sorted(component_of(p) for p in unknown))
            raise UnsupportedShape(f"{self.describe(shape)} uses {names}, which the compiled engine does not evaluate")
        if self.one(shape, SH.qualifiedValueShapesDisjoint) == rdflib.Literal(True):
            raise UnsupportedShape(f"shape {shape.n3()}: sh:qualifiedValueShapesDisjoint is not supported")
        if self.one(shape, SH.flags) is not None and self.one(shape, SH.pattern) is None:
            raise UnsupportedShape(f"shape {shape.n3()}: sh:flags without sh:pattern")
        if {RDFS.Class, rdflib.OWL.Class} & set(self.graph.objects(shape, RDF.type)):
            raise UnsupportedShape(f"shape {shape.n3()} is also a class: implicit class targets are not supported")

    def describe(self, shape: rdflib.term.Node) -> str:
        """The shape for a message: its IRI, or for a blank property shape its path and the shape holding it."""
        if not isinstance(shape, rdflib.BNode):
            return f"shape {shape.n3()}"
        holders = sorted(self.graph.subjects(SH.property, shape))
        path = self.graph.value(shape, SH.path)
        where = f" with sh:path {path.n3()}" if isinstance(path, rdflib.URIRef) else ""
        return f"the property shape{where} of {self.describe(holders[0])}" if holders else f"shape {shape.n3()}"

    def path(self, path: rdflib.term.Node) -> str:
        """A SHACL property path in SPARQL syntax."""
        if isinstance(path, rdflib.URIRef):
            return f"<{path}>"
        if isinstance(path, rdflib.Literal):
            raise UnsupportedShape(f"a literal {path.n3()} is not a property path")
        if self.graph.value(path, RDF.first) is not None:
            steps = list(Collection(self.graph, path))
            if len(steps) < 2:
                raise UnsupportedShape(f"a sequence path needs at least two steps: {path.n3()}")
            return "(" + "/".join(self.path(step) for step in steps) + ")"
        for parameter, template in ((SH.inversePath, "^({})"), (SH.zeroOrMorePath, "({})*"),
                                    (SH.oneOrMorePath, "({})+"), (SH.zeroOrOnePath, "({})?")):
            inner = self.graph.value(path, parameter)
            if inner is not None:
                return template.format(self.path(inner))
        alternatives = self.graph.value(path, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(self.path(p) for p in Collection(self.graph, alternatives)) + ")"
        raise UnsupportedShape(f"unsupported property path {path.n3()}")

    def focus(self, shape: rdflib.term.Node, this: str) -> str | None:
        """A pattern binding `this` to the shape's focus nodes, or None when it has no targets."""
        if self.graph.value(shape, SH.target) is not None:
            raise UnsupportedShape(f"shape {shape.n3()}: sh:target (SPARQL-based targets) is not supported")
        patterns = [f"INSTANCE({this} {sparql_term(c)})" for c in self.values(shape, SH.targetClass)]
        patterns += [f"{MARKER} {MARKER} {MARKER} . VALUES {this} {{ {sparql_term(n)} }}"
                     for n in self.values(shape, SH.targetNode)]
        patterns += [f"{this} {sparql_term(p)} {self.var()} ." for p in self.values(shape, SH.targetSubjectsOf)]
        patterns += [f"{self.var()} {sparql_term(p)} {this} ." for p in self.values(shape, SH.targetObjectsOf)]
        if not patterns:
            return None
        return " UNION ".join("{ " + p + " }" for p in patterns)

    def constraint(self, shape: rdflib.term.Node, component: rdflib.URIRef) -> Constraint:
        message = self.values(shape, SH.message)
        return Constraint(shape, component, self.one(shape, SH.path), self.one(shape, SH.severity) or SH.Violation,
                          str(message[0]) if message else None)

    def violations(self, shape: rdflib.term.Node, this: str) -> list[tuple[Constraint, str, str | None]]:
        """Every constraint of the shape (its property shapes' included) as (constraint, pattern, value
        variable): the pattern matches, with `this` bound to a focus node, when the focus violates it."""
        if self.deactivated(shape):
            return []
        if shape in self.expanding:
            raise UnsupportedShape(f"shape {shape.n3()} refers to itself (recursive shapes are not supported)")
        self.expanding.append(shape)
        try:
            self.check_parameters(shape)
            found = []
            for component, pattern, value in self.own_violations(shape, this):
                found.append((self.constraint(shape, component), pattern, value))
            for property_shape in self.values(shape, SH.property):
                if self.one(property_shape, SH.path) is None:
                    raise UnsupportedShape(f"sh:property {property_shape.n3()} of {shape.n3()} has no sh:path")
                found.extend(self.violations(property_shape, this))
            return found
        finally:
            self.expanding.pop()

    def conforms_not(self, shape: rdflib.term.Node, node: str) -> str:
        """A pattern for EXISTS that matches when `node` does not conform to `shape`."""
        branches = [pattern for _, pattern, _ in self.violations(shape, node)]
        return " UNION ".join("{ " + b + " }" for b in branches) if branches else "FILTER (false)"

    def own_violations(self, shape: rdflib.term.Node, this: str) -> Iterable[tuple[rdflib.URIRef, str, str | None]]:
        """The shape's own constraint components: (component, pattern, value variable)."""
        path_node = self.one(shape, SH.path)
        path = self.path(path_node) if path_node is not None else None

        def value_nodes() -> tuple[str, str]:
            """A pattern for the value nodes and its variable: the path's values, or the focus itself."""
            if path is None:
                return "", this
            value = self.var()
            return f"{this} {path} {value} .", value

        def per_value(component: rdflib.URIRef, condition) -> tuple[rdflib.URIRef, str, str]:
            pattern, value = value_nodes()
            return component, f"{pattern} FILTER ({condition(value)})", value

        g = self.graph
        for cls in self.values(shape, SH["class"]):
            pattern, value = value_nodes()
            yield (SH.ClassConstraintComponent,
                   f"{pattern} FILTER NOT EXISTS {{ INSTANCE({value} {sparql_term(cls)}) }}", value)
        datatype = self.one(shape, SH.datatype)
        if datatype is not None:
            yield per_value(SH.DatatypeConstraintComponent, lambda v: f"!({self.has_datatype(v, datatype)})")
        kind = self.one(shape, SH.nodeKind)
        if kind is not None:
            if kind not in NODE_KINDS:
                raise UnsupportedShape(f"shape {shape.n3()}: unknown sh:nodeKind {kind.n3()}")
            yield per_value(SH.NodeKindConstraintComponent, lambda v: "!" + NODE_KINDS[kind].format(v=v))
        pattern_ = self.one(shape, SH.pattern)
        if pattern_ is not None:
            flags = self.one(shape, SH.flags)
            arguments = f"{sparql_term(rdflib.Literal(str(pattern_)))}" + \
                (f", {sparql_term(rdflib.Literal(str(flags)))}" if flags is not None else "")
            yield per_value(SH.PatternConstraintComponent, lambda v: f"isBlank({v}) || !REGEX(STR({v}), {arguments})")
        for parameter, component, operator in ((SH.minLength, SH.MinLengthConstraintComponent, "<"),
                                               (SH.maxLength, SH.MaxLengthConstraintComponent, ">")):
            length = self.one(shape, parameter)
            if length is not None:
                n = self.integer(shape, parameter, length)
                yield per_value(component, lambda v: f"isBlank({v}) || STRLEN(STR({v})) {operator} {n}")
        members = self.one(shape, SH["in"])
        if members is not None:
            allowed = " || ".join(f"sameTerm({{v}}, {sparql_term(m)})" for m in Collection(g, members)) or "false"
            yield per_value(SH.InConstraintComponent, lambda v: "!(" + allowed.format(v=v) + ")")
        for required in self.values(shape, SH.hasValue):
            if path is None:
                yield SH.HasValueConstraintComponent, f"FILTER (!sameTerm({this}, {sparql_term(required)}))", None
            else:
                yield SH.HasValueConstraintComponent, f"FILTER NOT EXISTS {{ {this} {path} {sparql_term(required)} }}", None
        languages = self.one(shape, SH.languageIn)
        if languages is not None:
            tests = " || ".join(f"langMatches(LANG({{v}}), {sparql_term(rdflib.Literal(str(tag)))})"
                                for tag in Collection(g, languages)) or "false"
            yield per_value(SH.LanguageInConstraintComponent,
                            lambda v: f"!isLiteral({v}) || !(" + tests.format(v=v) + ")")
        if self.one(shape, SH.uniqueLang) == rdflib.Literal(True):
            if path is None:
                raise UnsupportedShape(f"shape {shape.n3()}: sh:uniqueLang needs a property shape")
            first, second = self.var(), self.var()
            yield (SH.UniqueLangConstraintComponent,
                   f"{this} {path} {first} . {this} {path} {second} . FILTER (!sameTerm({first}, {second}) && "
                   f"LANG({first}) != \"\" && LCASE(LANG({first})) = LCASE(LANG({second})))", None)
        elif self.one(shape, SH.uniqueLang) not in (None, rdflib.Literal(False)):
            raise UnsupportedShape(f"shape {shape.n3()}: sh:uniqueLang must be true or false")
        if path is None and any(self.values(shape, p) for p in (SH.equals, SH.disjoint, SH.lessThan,
                                                                    SH.lessThanOrEquals)):
            raise UnsupportedShape(f"shape {shape.n3()}: property pair constraints need a property shape (sh:path)")
        for other in self.values(shape, SH.equals):
            pattern, value = value_nodes()
            predicate = sparql_term(other)
            yield (SH.EqualsConstraintComponent,
                   f"{{ {pattern} FILTER NOT EXISTS {{ {this} {predicate} {value} }} }} UNION "
                   f"{{ {this} {predicate} {value} . FILTER NOT EXISTS {{ {pattern} }} }}",
                   value)
        for other in self.values(shape, SH.disjoint):
            pattern, value = value_nodes()
            yield SH.DisjointConstraintComponent, f"{pattern} {this} {sparql_term(other)} {value} .", value
        for parameter, component, operator in ((SH.lessThan, SH.LessThanConstraintComponent, "<"),
                                               (SH.lessThanOrEquals, SH.LessThanOrEqualsConstraintComponent, "<=")):
            for other in self.values(shape, parameter):
                pattern, value = value_nodes()
                compared = self.var()
                yield (component, f"{pattern} {this} {sparql_term(other)} {compared} . FILTER (!COALESCE("
                       f"{decoded_expression(value)} {operator} {decoded_expression(compared)}, false))", value)
        for parameter, component, combine in ((SH["or"], SH.OrConstraintComponent, " && "),
                                              (SH["and"], SH.AndConstraintComponent, " || ")):
            for members in self.values(shape, parameter):
                pattern, value = value_nodes()
                tests = [f"EXISTS {{ {self.conforms_not(member, value)} }}" for member in Collection(g, members)]
                yield component, f"{pattern} FILTER ({combine.join(tests) or ('true' if combine == ' && ' else 'false')})", value
        for negated in self.values(shape, SH["not"]):
            pattern, value = value_nodes()
            yield SH.NotConstraintComponent, f"{pattern} FILTER NOT EXISTS {{ {self.conforms_not(negated, value)} }}", value
        for node_shape in self.values(shape, SH.node):
            pattern, value = value_nodes()
            yield SH.NodeConstraintComponent, f"{pattern} FILTER EXISTS {{ {self.conforms_not(node_shape, value)} }}", value
        yield from self.counts(shape, this, path)

    def counts(self, shape: rdflib.term.Node, this: str, path: str | None) -> Iterable[tuple[rdflib.URIRef, str, None]]:
        """sh:minCount, sh:maxCount and the qualified counts, with n distinct variables for a count of n."""
        qualified = self.one(shape, SH.qualifiedValueShape)
        checks = [(SH.minCount, SH.MinCountConstraintComponent, None), (SH.maxCount, SH.MaxCountConstraintComponent, None)]
        if qualified is not None:
            checks += [(SH.qualifiedMinCount, SH.QualifiedMinCountConstraintComponent, qualified),
                       (SH.qualifiedMaxCount, SH.QualifiedMaxCountConstraintComponent, qualified)]
        elif self.one(shape, SH.qualifiedMinCount) is not None or self.one(shape, SH.qualifiedMaxCount) is not None:
            raise UnsupportedShape(f"shape {shape.n3()}: a qualified count without sh:qualifiedValueShape")
        for parameter, component, value_shape in checks:
            count = self.one(shape, parameter)
            if count is None:
                continue
            if path is None:
                raise UnsupportedShape(f"shape {shape.n3()}: {parameter.n3()} needs a property shape (sh:path)")
            n = self.integer(shape, parameter, count)
            if n > MAX_COUNT_PARAMETER:
                raise UnsupportedShape(f"shape {shape.n3()}: {parameter.n3()} {n} is above {MAX_COUNT_PARAMETER}")
            minimum = parameter in (SH.minCount, SH.qualifiedMinCount)
            if minimum and n == 0:
                continue
            variables = [self.var() for _ in range(n if minimum else n + 1)]
            parts = [f"{this} {path} {v} ." for v in variables]
            if value_shape is not None:
                parts += [f"FILTER NOT EXISTS {{ {self.conforms_not(value_shape, v)} }}" for v in variables]
            distinct = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(variables, 2)]
            if distinct:
                parts.append(f"FILTER ({' && '.join(distinct)})")
            pattern = " ".join(parts)
            yield component, (f"FILTER NOT EXISTS {{ {pattern} }}" if minimum else pattern), None

    def integer(self, shape: rdflib.term.Node, parameter: rdflib.URIRef, value: rdflib.term.Node) -> int:
        if not isinstance(value, rdflib.Literal) or not isinstance(value.value, int) or value.value < 0:
            raise UnsupportedShape(f"shape {shape.n3()}: {parameter.n3()} must be a non-negative integer")
        return value.value

    def has_datatype(self, value: str, datatype: rdflib.term.Node) -> str:
        """SPARQL: the value is a well-typed literal of the datatype (SHACL 4.2.2, as pyshacl decides)."""
        if datatype == RDFS.Literal:
            return f"isLiteral({value})"
        if datatype == RDF.langString:
            return f'isLiteral({value}) && LANG({value}) != ""'
        if datatype == XSD.string:
            return f'isLiteral({value}) && LANG({value}) = "" && DATATYPE({value}) = <{XSD.string}>'
        if datatype == RDFS.Datatype:
            return f'isLiteral({value}) && LANG({value}) = ""'
        if not isinstance(datatype, rdflib.URIRef):
            raise UnsupportedShape(f"sh:datatype {datatype.n3()} is not an IRI")
        return f"isLiteral({value}) && DATATYPE({value}) = <{TYPED}{str(datatype).replace('#', '%23')}>"


@dataclass(frozen=True)
class ShapeQuery:
    """One SELECT query for a node shape with targets: its violations, each tagged with its constraint."""

    text: str
    constraints: tuple[Constraint, ...]


def compile_shapes(shapes: rdflib.Graph) -> list[ShapeQuery]:
    """One query per shape that has targets (deactivated shapes excluded)."""
    compiler = Compiler(shapes)
    subjects = sorted({s for p in TARGETS | {SH.target} for s in shapes.subjects(p, None)})
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape)):
        compiler.check_parameters(shape)
    queries = []
    for shape in subjects:
        if compiler.deactivated(shape):
            continue
        focus = compiler.focus(shape, "?this")
        branches = compiler.violations(shape, "?this")
        if not branches:
            continue
        unions = []
        for index, (_, pattern, value) in enumerate(branches):
            bind_value = f" BIND ({value} AS ?value)" if value is not None and value != "?this" else \
                (" BIND (?this AS ?value)" if value == "?this" else "")
            unions.append(f"{{ {focus} {pattern}{bind_value} BIND ({index} AS ?c) }}")
        text = "SELECT DISTINCT ?g ?this ?c ?value WHERE { GRAPH ?g { " + " UNION ".join(unions) + " } }"
        queries.append(ShapeQuery(text, tuple(c for c, _, _ in branches)))
    return queries


class CoreValidator:
    """The compiled core constraints of a shapes graph, for validating batches of units."""

    def __init__(self, shapes: rdflib.Graph):
        self.queries = compile_shapes(shapes)

    def validate(self, units: Mapping[str, Iterable[Triple]]) -> dict[str, list[CoreResult]]:
        """The violations of each unit (a name and its triples), all units evaluated together."""
        names = list(units)
        store = Store()
        store.extend(Quad(t.subject, t.predicate, encode(t.object), NamedNode(f"{UNIT}{i}"))
                     for i, name in enumerate(names) for t in itertools.chain(units[name], [Triple(MARKER, MARKER, MARKER)]))
        results: dict[str, list[CoreResult]] = {name: [] for name in names}
        instance = instance_pattern(store, len(names))
        for query in self.queries:
            for row in store.query(INSTANCE.sub(instance, query.text)):
                name = names[int(row["g"].value[len(UNIT):])]
                value = row["value"]
                results[name].append(CoreResult(
                    name, rdflib_term(row["this"]), rdflib_term(value) if value is not None else None,
                    query.constraints[int(row["c"].value)]))
        return results


def instance_pattern(store: Store, units: int):
    """How INSTANCE(?x <C>) is written for this batch: when every unit holds the same rdfs:subClassOf
    triples (the shared class hierarchy), with the subclasses of C listed (much faster than the path
    rdf:type/rdfs:subClassOf* with the graph unbound); otherwise with that path."""
    hierarchies: dict = defaultdict(set)
    for quad in store.quads_for_pattern(None, NamedNode(str(RDFS.subClassOf)), None):
        hierarchies[quad.graph_name].add((quad.subject, quad.object))
    distinct = {frozenset(h) for h in hierarchies.values()}
    if len(distinct) > 1 or (distinct and len(hierarchies) != units):
        return lambda match: f"{match.group(1)} {SUBCLASS_PATH} {match.group(2)} ."
    subclasses: dict = defaultdict(set)
    for sub, sup in next(iter(distinct), ()):
        subclasses[sup].add(sub)
    counter = itertools.count()

    def closure(cls: str) -> list[str]:
        found, todo = set(), [NamedNode(cls)]
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(subclasses.get(current, ()))
        return sorted(str(c) for c in found)

    def write(match: re.Match) -> str:
        kind = f"?class{next(counter)}"
        return f"{match.group(1)} <{RDF.type}> {kind} . VALUES {kind} {{ {' '.join(closure(match.group(2)[1:-1]))} }}"
    return write


def rdflib_term(term) -> rdflib.term.Node:
    """The rdflib term of a stored term, its original literal restored."""
    return to_rdflib_term(decode(term))
