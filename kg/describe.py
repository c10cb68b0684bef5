"""The dataset description (VoID + DCAT) of a release, computed when it is published.

The statistics are the answers to SPARQL queries (`COUNT_QUERIES`, `PARTITION_QUERIES`, `ARTICLES_QUERY`),
which the tests ask the endpoint; they are computed from the union N-Quads dump in bounded memory, since the
store would hold every distinct triple of the corpus in memory to answer them. The description names the
dataset `{base}dataset`, the endpoint `{base}sparql` and each dump `{base}dumps/<file>`: public IRIs
under the base, never the address a server happens to listen on.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse, serialize

from kg.jsonld import base_prefixes, compact_iri
from kg.rdf import PREFIXES
from kg.workers import in_workers

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = PREFIXES["dcterms"]
SPDX = "http://spdx.org/rdf/terms#"
FOAF = "http://xmlns.com/foaf/0.1/"
SD = "http://www.w3.org/ns/sparql-service-description#"
XSD = PREFIXES["xsd"]
IANA = "https://www.iana.org/assignments/media-types/"
DESCRIPTION_PREFIXES = {"void": VOID, "dcat": DCAT, "dcterms": DCT, "spdx": SPDX, "foaf": FOAF, "sd": SD,
                        **{k: PREFIXES[k] for k in ("rdf", "rdfs", "xsd", "schema", "dipl", "owl")}}

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
TITLE = "Diplomacy KG"
DESCRIPTION = ("Diplomacy news as linked data: actors, events, statements, claims with who asserts or denies "
               "them, and proposals, every fact grounded in an exact span of the source article's text.")
RIGHTS = ("The mapping is published under CC BY 4.0. The quoted article text remains the property of its "
          "publisher and is included for grounding and research.")

MEDIA_TYPES = {
    ".nq": "application/n-quads",
    ".trig": "application/trig",
    ".jsonld": "application/ld+json",
    ".ttl": "text/turtle",
    ".nt": "application/n-triples",
    ".gz": "application/gzip",
}

# The dataset-wide statistics: one number each, named by the VoID property it fills.
COUNT_QUERIES = {
    "triples": "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }",
    "entities": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?class } FILTER(isIRI(?s)) }",
    "classes": "SELECT (COUNT(DISTINCT ?class) AS ?n) WHERE { GRAPH ?g { ?s a ?class } }",
    "properties": "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    "distinctSubjects": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    "distinctObjects": "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
}
# Per-partition statistics: (?key, ?n) rows.
PARTITION_QUERIES = {
    "graph": "SELECT ?key (COUNT(*) AS ?n) WHERE { GRAPH ?key { ?s ?p ?o } } GROUP BY ?key",
    "class": "SELECT ?key (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?key } } GROUP BY ?key",
    "property": "SELECT ?key (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?key ?o WHERE { GRAPH ?g { ?s ?key ?o } } } "
                "GROUP BY ?key",
}
ARTICLES_QUERY = """SELECT ?article ?url ?published WHERE { GRAPH ?g {
  ?article a <http://schema.org/NewsArticle> ; <http://schema.org/url> ?url ; <http://schema.org/datePublished> ?published
} } ORDER BY ?article"""


PARTITION_KEYS = {"graph": SD + "name", "class": VOID + "class", "property": VOID + "property"}


def media_type(name: str) -> str:
    """The media type a published file is served with (a .gz file is gzip, never a content encoding)."""
    return MEDIA_TYPES.get(Path(name).suffix, "text/plain")


@dataclass(frozen=True)
class DatasetInfo:
    """What the description needs besides the statistics: release id and the build summary."""

    release: str
    summary: dict  # base, version, articles

    @property
    def base(self) -> str:
        return self.summary["base"]

    @property
    def dataset(self) -> NamedNode:
        return NamedNode(f"{self.base}dataset")


@dataclass(frozen=True)
class Statistics:
    """The answers to COUNT_QUERIES (by name), PARTITION_QUERIES (by kind: sorted (IRI, count) rows) and
    ARTICLES_QUERY (article, url, publication date, sorted by article)."""

    counts: dict[str, int]
    partitions: dict[str, list[tuple[str, int]]]
    articles: list[tuple[NamedNode, NamedNode | Literal, str]]


RDF_TYPE_TERM = f"<{PREFIXES['rdf']}type>".encode()
BUCKET_BYTES = 16 << 20  # of N-Quads per bucket: what one worker holds in memory at a time (32 MB took 47 MB)
# The store keeps literals of the types derived from xsd:integer as xsd:integer: counted alike, as the endpoint does.
DERIVED_INTEGER_TYPES = ("nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger", "long", "int",
                         "short", "byte", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte")
DERIVED_INTEGER = re.compile(rb"\^\^<" + re.escape(XSD.encode()) + b"(?:" + "|".join(DERIVED_INTEGER_TYPES).encode() + b")>$")
INTEGER_TYPE = f"^^<{XSD}integer>".encode()
NEWS_ARTICLE_TERM = f"<{PREFIXES['schema']}NewsArticle>".encode()
URL_TERM = f"<{PREFIXES['schema']}url>".encode()
PUBLISHED_TERM = f"<{PREFIXES['schema']}datePublished>".encode()
ARTICLE_FACTS = frozenset({RDF_TYPE_TERM, URL_TERM, PUBLISHED_TERM})  # what ARTICLES_QUERY asks of each article


def statistics(nquads: Path, scratch: Path, bucket_bytes: int = BUCKET_BYTES) -> Statistics:
    """The statistics of a canonical N-Quads file (one quad per line, every quad in a named graph).

    Triples are spread over buckets by subject and objects by value, so each distinct triple, subject
    and object falls in one bucket only, and each bucket is counted on its own: memory is bounded by
    `bucket_bytes` whatever the size of the corpus. Slices of the file, then buckets, are shared out
    among worker processes.
    """
    buckets = max(1, -(-nquads.stat().st_size // bucket_bytes))
    scratch.mkdir(parents=True, exist_ok=True)
    slices = _line_slices(nquads, os.cpu_count() or 1)
    graphs: Counter[bytes] = Counter()
    facts: dict[tuple[bytes, bytes], dict[bytes, bytes]] = {}
    for found, slice_facts in in_workers(_split, [(nquads, start, end, scratch / str(index), buckets)
                                                  for index, (start, end) in enumerate(slices)]):
        graphs.update(found)
        for key, values in slice_facts.items():
            facts.setdefault(key, {}).update(values)
    counts = Counter({name: 0 for name in COUNT_QUERIES})
    properties: Counter[bytes] = Counter()
    classes: Counter[bytes] = Counter()
    for found, bucket_properties, bucket_classes in in_workers(
            _count, [[scratch / f"{index}.{bucket}" for index in range(len(slices))] for bucket in range(buckets)]):
        counts.update(found)
        properties.update(bucket_properties)
        classes.update(bucket_classes)
    counts.update(classes=len(classes), properties=len(properties))
    shutil.rmtree(scratch)

    def rows(counter: Counter[bytes]) -> list[tuple[str, int]]:
        return sorted((term[1:-1].decode(), n) for term, n in counter.items() if term.startswith(b"<"))
    return Statistics(dict(counts), {"graph": rows(graphs), "class": rows(classes), "property": rows(properties)},
                      _articles(facts))


def _articles(facts: dict[tuple[bytes, bytes], dict[bytes, bytes]]) -> list[tuple[NamedNode, NamedNode | Literal, str]]:
    """ARTICLES_QUERY's rows from the (graph, subject) → {predicate: object} facts the split collected."""
    lines = b"".join(subject + b" " + predicate + b" " + obj + b" .\n"
                     for (_, subject), values in sorted(facts.items())
                     if values.get(RDF_TYPE_TERM) == NEWS_ARTICLE_TERM and URL_TERM in values and PUBLISHED_TERM in values
                     for predicate, obj in values.items() if predicate != RDF_TYPE_TERM)
    found: dict[NamedNode, dict[str, object]] = {}
    for triple in parse(lines, RdfFormat.N_TRIPLES):
        found.setdefault(triple.subject, {})[triple.predicate.value] = triple.object
    return sorted(((article, values[URL_TERM[1:-1].decode()], values[PUBLISHED_TERM[1:-1].decode()].value)
                   for article, values in found.items()), key=lambda row: row[0].value)


def _line_slices(path: Path, count: int) -> list[tuple[int, int]]:
    """`count` byte ranges covering the file, each starting at the start of a line."""
    size = path.stat().st_size
    starts = [0]
    with path.open("rb") as handle:
        for index in range(1, count):
            handle.seek(max(size * index // count, starts[-1]))
            handle.readline()
            starts.append(min(handle.tell(), size))
    return [(start, end) for start, end in zip(starts, starts[1:] + [size]) if start < end]


def _lines(path: Path, start: int, end: int) -> Iterator[bytes]:
    """The lines (without their newline) of a line-aligned byte range, read a block at a time."""
    with path.open("rb") as handle:
        handle.seek(start)
        rest, remaining = b"", end - start
        while remaining > 0 and (block := handle.read(min(1 << 23, remaining))):
            remaining -= len(block)
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            yield from lines
        if rest:
            yield rest


def _split(task: tuple[Path, int, int, Path, int]) -> tuple[Counter[bytes], dict[tuple[bytes, bytes], dict[bytes, bytes]]]:
    """Spread the triples of one slice over bucket files by subject (`<prefix>.<bucket>.s`) and their
    objects by value (`.o`); returns the quads per graph, and the type, URL and publication date of
    what has them, by (graph, subject)."""
    nquads, start, end, prefix, buckets = task
    graphs: Counter[bytes] = Counter()
    facts: dict[tuple[bytes, bytes], dict[bytes, bytes]] = {}
    by_subject = [prefix.with_name(f"{prefix.name}.{bucket}.s").open("wb") for bucket in range(buckets)]
    by_object = [prefix.with_name(f"{prefix.name}.{bucket}.o").open("wb") for bucket in range(buckets)]
    for line in _lines(nquads, start, end):
        triple, graph, _ = line.rsplit(b" ", 2)
        graphs[graph] += 1
        subject, predicate, obj = triple.split(b" ", 2)
        if obj.endswith(b">") and obj.startswith(b'"'):
            obj = DERIVED_INTEGER.sub(INTEGER_TYPE, obj)
            triple = b" ".join((subject, predicate, obj))
        by_subject[zlib.crc32(subject) % buckets].write(triple + b"\n")
        by_object[zlib.crc32(obj) % buckets].write(obj + b"\n")
        if predicate in ARTICLE_FACTS and (predicate != RDF_TYPE_TERM or obj == NEWS_ARTICLE_TERM):
            facts.setdefault((graph, subject), {})[predicate] = obj
    for handle in by_subject + by_object:
        handle.close()
    return graphs, facts


def _count(prefixes: list[Path]) -> tuple[Counter[str], Counter[bytes], Counter[bytes]]:
    """Count one bucket, from every slice's files: the dataset counts, and triples per property and
    distinct subjects per class."""
    triples = _distinct_lines(prefix.with_name(prefix.name + ".s") for prefix in prefixes)
    subjects: set[bytes] = set()
    entities: set[bytes] = set()
    properties: Counter[bytes] = Counter()
    classes: Counter[bytes] = Counter()
    for triple in triples:
        subject, predicate, obj = triple.split(b" ", 2)
        subjects.add(subject)
        properties[predicate] += 1
        if predicate == RDF_TYPE_TERM:
            classes[obj] += 1  # one distinct (subject, class) pair
            if subject.startswith(b"<"):
                entities.add(subject)
    counts = Counter(triples=len(triples), distinctSubjects=len(subjects), entities=len(entities))
    del triples, subjects, entities
    counts["distinctObjects"] = len(_distinct_lines(prefix.with_name(prefix.name + ".o") for prefix in prefixes))
    return counts, properties, classes


def _distinct_lines(paths: Iterable[Path]) -> set[bytes]:
    """The distinct lines of files, read one at a time. An object file holds every occurrence: the bucket
    of a common class has one line per instance in the corpus, which is never held all at once."""
    distinct: set[bytes] = set()
    for path in paths:
        with path.open("rb") as handle:
            distinct.update(line[:-1] for line in handle)
    return distinct


def release_date(published: list[str]) -> str:
    """`SOURCE_DATE_EPOCH` (reproducible builds) when set, else the newest source article's date.

    Never the wall clock: the same input must give byte-identical files.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), timezone.utc).date().isoformat()
    return max(published, default=date(1970, 1, 1).isoformat())


def describe_release(stats: Statistics, info: DatasetInfo, files: dict[str, dict]) -> bytes:
    """The VoID + DCAT description (Turtle) of the data with `stats`, and of the dump `files` (name → bytes, sha256)."""
    triples = description_triples(stats, info, files)
    return serialize(sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object))),
                     format=RdfFormat.TURTLE, prefixes=DESCRIPTION_PREFIXES)


def description_triples(stats: Statistics, info: DatasetInfo, files: dict[str, dict]) -> list[Triple]:
    base, dataset = info.base, info.dataset
    triples: list[Triple] = []

    def add(subject: NamedNode, predicate: str, obj) -> None:
        triples.append(Triple(subject, NamedNode(predicate), obj))

    def integer(value: int) -> Literal:
        return Literal(str(value), datatype=NamedNode(XSD + "integer"))

    def english(text: str) -> Literal:
        return Literal(text, language="en")

    articles = stats.articles
    issued = Literal(release_date([published for _, _, published in articles]), datatype=NamedNode(XSD + "date"))
    rdf_type = PREFIXES["rdf"] + "type"
    for kind in ("void:Dataset", "dcat:Dataset"):
        prefix, name = kind.split(":")
        add(dataset, rdf_type, NamedNode(DESCRIPTION_PREFIXES[prefix] + name))
    add(dataset, DCT + "title", english(TITLE))
    add(dataset, DCT + "description", english(DESCRIPTION))
    add(dataset, DCT + "license", NamedNode(LICENSE))
    add(dataset, DCT + "rights", english(RIGHTS))
    publisher = NamedNode(base)
    add(dataset, DCT + "publisher", publisher)
    add(publisher, rdf_type, NamedNode(FOAF + "Organization"))
    add(publisher, FOAF + "name", Literal("diplomacy-kg"))
    add(dataset, DCT + "issued", issued)
    add(dataset, DCT + "modified", issued)
    add(dataset, DCAT + "version", Literal(info.release))
    add(dataset, PREFIXES["owl"] + "versionInfo", Literal(info.summary.get("version", "")))
    for article, url, _ in articles:
        add(dataset, DCT + "source", url)
        add(dataset, VOID + "exampleResource", article)
    add(dataset, VOID + "sparqlEndpoint", NamedNode(f"{base}sparql"))
    add(dataset, VOID + "uriSpace", Literal(base))
    add(dataset, VOID + "feature", NamedNode("http://www.w3.org/ns/formats/N-Quads"))

    for name, value in stats.counts.items():
        add(dataset, VOID + name, integer(value))
    vocabularies: set[str] = set()
    for kind, predicate, count_property in (("graph", "subset", "triples"), ("class", "classPartition", "entities"),
                                            ("property", "propertyPartition", "triples")):
        for iri, count in stats.partitions[kind]:
            part = NamedNode(f"{dataset.value}#{kind}-{_fragment(iri, base)}")
            add(dataset, VOID + predicate, part)
            add(part, rdf_type, NamedNode(VOID + "Dataset"))
            add(part, PARTITION_KEYS[kind], NamedNode(iri))
            add(part, VOID + count_property, integer(count))
            if kind != "graph":
                vocabularies.update(ns for ns in PREFIXES.values() if iri.startswith(ns) and ns != base)
    for namespace in sorted(vocabularies):
        add(dataset, VOID + "vocabulary", NamedNode(namespace))

    service = NamedNode(f"{base}sparql")
    add(service, rdf_type, NamedNode(DCAT + "DataService"))
    add(service, DCAT + "endpointURL", service)
    add(service, DCAT + "servesDataset", dataset)
    add(service, DCT + "conformsTo", NamedNode("https://www.w3.org/TR/sparql11-protocol/"))
    add(dataset, DCAT + "distribution", service)  # also found as a service by DCAT-AP harvesters

    for name, meta in sorted(files.items()):
        download = NamedNode(f"{base}dumps/{name}")
        if name.startswith("graph."):
            add(dataset, VOID + "dataDump", download)
        distribution = NamedNode(f"{download.value}#distribution")
        checksum = NamedNode(f"{download.value}#sha256")
        add(dataset, DCAT + "distribution", distribution)
        add(distribution, rdf_type, NamedNode(DCAT + "Distribution"))
        add(distribution, DCAT + "downloadURL", download)
        add(distribution, DCAT + "accessURL", NamedNode(f"{base}dumps/"))
        inner = name[:-3] if name.endswith(".gz") else name
        add(distribution, DCAT + "mediaType", NamedNode(IANA + media_type(inner)))
        if inner != name:
            add(distribution, DCAT + "compressFormat", NamedNode(IANA + "application/gzip"))
        add(distribution, DCAT + "byteSize", Literal(str(meta["bytes"]), datatype=NamedNode(XSD + "nonNegativeInteger")))
        add(distribution, DCT + "license", NamedNode(LICENSE))
        add(distribution, DCT + "issued", issued)
        add(distribution, SPDX + "checksum", checksum)
        add(checksum, rdf_type, NamedNode(SPDX + "Checksum"))
        add(checksum, SPDX + "algorithm", NamedNode(SPDX + "checksumAlgorithm_sha256"))
        add(checksum, SPDX + "checksumValue", Literal(meta["sha256"], datatype=NamedNode(XSD + "hexBinary")))
    return triples


def _fragment(iri: str, base: str) -> str:
    """A readable, stable fragment for a partition: the IRI relative to the base or compacted, else a hash."""
    candidate = compact_iri(iri, {**base_prefixes(base), **PREFIXES})
    if candidate != iri and re.fullmatch(r"[A-Za-z0-9:/._-]+", candidate):
        return candidate
    return hashlib.sha1(iri.encode()).hexdigest()[:12]
