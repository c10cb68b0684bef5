"""Compacted JSON-LD with our own `@context`, written as a stream.

pyoxigraph writes expanded JSON-LD only (full IRIs as keys), which JSON users find unreadable. This
module derives a context from the data once (one pass, memory bounded by the number of distinct
predicates) and then writes node objects one by one, so a dump of any size is written in flat memory:

- every prefix of `kg.rdf.graphs.PREFIXES`, plus `entity:`, `article:` and `graph:` under the release's base;
- one short term per predicate (its local name, e.g. `participant`) unless two predicates share it;
- a term is coerced to `@id`, one `@language` or one datatype when all its objects allow it, so most
  values are plain strings; any other value is written as an explicit value object, which a JSON-LD
  processor never re-interprets, so expansion gives back exactly the input triples.

The context is embedded in every document (no remote context is ever fetched) and published as
`context.jsonld` beside the dumps.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from pyoxigraph import BlankNode, NamedNode, Quad, Triple

from kg.rdf.vocabulary import PREFIXES

RDF_TYPE = PREFIXES["rdf"] + "type"
XSD_STRING = PREFIXES["xsd"] + "string"
RESERVED_TERMS = frozenset({"id", "type", "graph", "context", "value", "language"})  # look like keywords
SIMPLE_TERM = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def base_prefixes(base: str) -> dict[str, str]:
    """Prefixes for IRIs minted under the base, ahead of the vocabulary prefixes."""
    return {"entity": f"{base}entity/", "article": f"{base}article/", "graph": f"{base}graph/"}


@dataclass(frozen=True)
class Term:
    """How one predicate is written: its key and the coercion its plain values get."""

    key: str
    coercion: tuple[str, str] | None  # ("@type", "@id") | ("@type", datatype) | ("@language", tag) | None


class ContextBuilder:
    """Collects what the context needs from a stream of quads or triples."""

    def __init__(self) -> None:
        self._objects: dict[str, set[tuple[str, str]]] = {}

    def add(self, statements: Iterable[Quad | Triple]) -> ContextBuilder:
        for statement in statements:
            predicate = statement.predicate.value
            if predicate == RDF_TYPE:
                continue
            self._note(predicate, _kind(statement.object))
        return self

    def kinds(self) -> dict[str, list[list[str]]]:
        """What was collected, as JSON: one article's share, kept in the build cache and merged later."""
        return {predicate: sorted(map(list, kinds)) for predicate, kinds in sorted(self._objects.items())}

    def merge(self, kinds: dict[str, list[list[str]]]) -> ContextBuilder:
        """Add what another builder collected (its `kinds()`)."""
        for predicate, found in kinds.items():
            for key, value in found:
                self._note(predicate, (key, value))
        return self

    def _note(self, predicate: str, kind: tuple[str, str]) -> None:
        kinds = self._objects.setdefault(predicate, set())
        if len(kinds) < 2:  # two kinds already mean no coercion
            kinds.add(kind)

    def build(self, base: str) -> JsonLdContext:
        prefixes = {**base_prefixes(base), **PREFIXES}
        by_local: dict[str, list[str]] = {}
        for predicate in self._objects:
            by_local.setdefault(_local_name(predicate), []).append(predicate)
        terms = {}
        for local, predicates in by_local.items():
            unique = (len(predicates) == 1 and SIMPLE_TERM.fullmatch(local) is not None
                      and local not in prefixes and local not in RESERVED_TERMS)
            for predicate in predicates:
                kinds = self._objects[predicate]
                coercion = next(iter(kinds)) if len(kinds) == 1 else None
                if coercion == ("@type", XSD_STRING):
                    coercion = None  # plain strings are xsd:string already
                terms[predicate] = Term(local if unique else compact_iri(predicate, prefixes), coercion if unique else None)
        return JsonLdContext(prefixes, terms)


def _kind(term) -> tuple[str, str]:
    if isinstance(term, (NamedNode, BlankNode)):
        return ("@type", "@id")
    if term.language:
        return ("@language", term.language)
    return ("@type", term.datatype.value)


def _local_name(iri: str) -> str:
    return iri.rstrip("/#").replace("#", "/").rsplit("/", 1)[-1]


def compact_iri(iri: str, prefixes: dict[str, str]) -> str:
    """The shortest safe compact IRI for `iri` (longest matching prefix), else `iri` itself."""
    best = ""
    for name, namespace in prefixes.items():
        if iri.startswith(namespace) and len(namespace) > len(prefixes.get(best, "")):
            suffix = iri[len(namespace):]
            if suffix and not suffix.startswith("//"):
                best = name
    return f"{best}:{iri[len(prefixes[best]):]}" if best else iri


class JsonLdContext:
    """A context and the writer of node objects compacted against it."""

    def __init__(self, prefixes: dict[str, str], terms: dict[str, Term]):
        self.prefixes = prefixes
        self.terms = terms

    def document(self) -> dict:
        """The `@context` value: prefixes first, then terms sorted by key."""
        context: dict = {"@version": 1.1}
        context.update(self.prefixes)
        for predicate, term in sorted(self.terms.items(), key=lambda item: item[1].key):
            if term.key == compact_iri(predicate, self.prefixes) or term.key == predicate:
                continue  # written as a compact IRI: no definition needed
            definition = {"@id": compact_iri(predicate, self.prefixes)}
            if term.coercion:
                key, value = term.coercion
                definition[key] = value if value == "@id" or key == "@language" else self.compact(value)
            context[term.key] = definition
        return context

    def compact(self, iri: str) -> str:
        return compact_iri(iri, self.prefixes)

    def node_ref(self, node: NamedNode | BlankNode) -> str:
        return f"_:{node.value}" if isinstance(node, BlankNode) else self.compact(node.value)

    def value(self, term: Term, obj) -> object:
        if isinstance(obj, (NamedNode, BlankNode)):
            ref = self.node_ref(obj)
            return ref if term.coercion == ("@type", "@id") else {"@id": ref}
        if obj.language:
            if term.coercion == ("@language", obj.language):
                return obj.value
            return {"@value": obj.value, "@language": obj.language}
        datatype = obj.datatype.value
        if (datatype == XSD_STRING and term.coercion is None) or term.coercion == ("@type", datatype):
            return obj.value
        return {"@value": obj.value, "@type": self.compact(datatype)}

    def node(self, subject, statements: Iterable[Quad | Triple]) -> dict:
        """One node object: `@id`, `@type`, then properties in term order, values in input order."""
        types: list[str] = []
        properties: dict[str, list] = {}
        for statement in statements:
            predicate = statement.predicate.value
            if predicate == RDF_TYPE and isinstance(statement.object, NamedNode):
                types.append(self.compact(statement.object.value))
                continue
            term = self.terms.get(predicate) or Term(self.compact(predicate), None)
            properties.setdefault(term.key, []).append(self.value(term, statement.object))
        node: dict = {"@id": self.node_ref(subject)}
        if types:
            node["@type"] = types[0] if len(types) == 1 else types
        for key in sorted(properties):
            values = properties[key]
            node[key] = values[0] if len(values) == 1 else values
        return node


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Array:
    """Writes the items of one JSON array with commas in the right places."""

    def __init__(self, out: IO[str], indent: str):
        self.out, self.indent, self.empty = out, indent, True

    def item(self, text: str) -> None:
        self.out.write(("" if self.empty else ",") + self.indent + text)
        self.empty = False


class _Writer:
    """State of one streamed document: the open named graph and the subject being collected."""

    def __init__(self, context: JsonLdContext, out: IO[str]):
        self.context, self.out = context, out
        self.top = _Array(out, "\n")
        self.inner: _Array | None = None
        self.graph: str | None = None
        self.subject = None
        self.group: list = []

    def add(self, statement: Quad | Triple) -> None:
        graph = getattr(statement, "graph_name", None)
        key = graph.value if isinstance(graph, (NamedNode, BlankNode)) else None
        if key != self.graph:
            self.flush()
            self.close_graph()
            if key is not None:
                self.top.item('{"@id":' + _dumps(self.context.node_ref(graph)) + ',"@graph":[')
                self.inner = _Array(self.out, "\n ")
            self.graph = key
        if statement.subject != self.subject:
            self.flush()
            self.subject = statement.subject
        self.group.append(statement)

    def flush(self) -> None:
        if self.group:
            (self.inner or self.top).item(_dumps(self.context.node(self.subject, self.group)))
        self.group, self.subject = [], None

    def close_graph(self) -> None:
        if self.inner is not None:
            self.out.write("\n]}")
            self.inner = None


def write_jsonld(statements: Iterable[Quad | Triple], context: JsonLdContext, out: IO[str]) -> None:
    """Write quads (named graphs as `@graph` objects) or triples as one compacted JSON-LD document.

    Statements should come grouped by graph and then by subject (as in the canonical N-Quads); a
    subject seen again later is written as a second node object, which JSON-LD merges on expansion.
    """
    out.write(document_header(context))
    write_items(statements, context, out)
    out.write(DOCUMENT_FOOTER)


def document_header(context: JsonLdContext) -> str:
    """The start of a document, up to its top-level `@graph` array; its items follow, comma-separated."""
    return '{"@context":' + json.dumps(context.document(), ensure_ascii=False, indent=1) + ',\n"@graph":['


DOCUMENT_FOOTER = "\n]}\n"


def write_items(statements: Iterable[Quad | Triple], context: JsonLdContext, out: IO[str]) -> None:
    """The items of the top-level `@graph` array for `statements`: node objects, or one object per named graph."""
    writer = _Writer(context, out)
    for statement in statements:
        writer.add(statement)
    writer.flush()
    writer.close_graph()


def load_context(document: dict) -> JsonLdContext:
    """The context of a published `context.jsonld` document, to write more documents with the same keys."""
    context = dict(document.get("@context", document))
    context.pop("@version", None)
    prefixes = {key: value for key, value in context.items() if isinstance(value, str)}
    terms = {}
    for key, definition in context.items():
        if isinstance(definition, dict):
            iri = _expand(definition["@id"], prefixes)
            coercion = next(((k, v if k == "@language" or v == "@id" else _expand(v, prefixes))
                             for k, v in definition.items() if k in ("@type", "@language")), None)
            terms[iri] = Term(key, coercion)
    return JsonLdContext(prefixes, terms)


def _expand(value: str, prefixes: dict[str, str]) -> str:
    prefix, _, rest = value.partition(":")
    return prefixes[prefix] + rest if prefix in prefixes and not rest.startswith("//") else value
