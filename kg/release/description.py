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
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse, serialize

from kg.release.layout import media_type
from kg.rdf.jsonld import base_prefixes, compact_iri
from kg.rdf.vocabulary import DCAT, DCT, DESCRIPTION_PREFIXES, FOAF, IANA, PREFIXES, SD, SPDX, VOID
from kg.parallel import in_workers

XSD = PREFIXES["xsd"]
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
TITLE = "Diplomacy KG"
DESCRIPTION = ("Diplomacy news as linked data: actors, events, statements, claims with who asserts or denies "
               "them, and proposals, every fact grounded in an exact span of the source article's text.")
RIGHTS = ("The mapping is published under CC BY 4.0. The quoted article text remains the property of its "
          "publisher and is included for grounding and research.")


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


@dataclass(frozen=True)
class DatasetInfo:
    """What the description needs besides the statistics: release id and the build summary."""

    release: str
    summary: dict  # base, version, article_count

    @property
    def base(self) -> str:
        return self.summary["base"]

    @property
    def dataset(self) -> NamedNode:
        return NamedNode(f"{self.base}dataset")


@dataclass(frozen=True)
class Statistics:
    """The answers to COUNT_QUERIES (by name) and to the class and property PARTITION_QUERIES (sorted (IRI, count)
    rows), held in memory: they do not grow with the corpus. The graph partition's rows and ARTICLES_QUERY's rows
    do, so they are read back from the files in `folder`, in the dump's order, each time they are asked for."""

    counts: dict[str, int]
    partitions: dict[str, list[tuple[str, int]]]  # "class", "property"
    folder: Path
    slices: int

    def partition(self, kind: str) -> Iterator[tuple[str, int]]:
        """The rows of PARTITION_QUERIES[kind]: per graph in the dump's order, else sorted."""
        if kind != "graph":
            yield from self.partitions[kind]
            return
        for index in range(self.slices):
            with (self.folder / f"{index}.graphs").open("rb") as rows:
                for row in rows:
                    graph, count = row.rsplit(b" ", 1)
                    yield graph[1:-1].decode(), int(count)

    def articles(self) -> Iterator[tuple[NamedNode, NamedNode | Literal, str]]:
        """ARTICLES_QUERY's rows (article, url, publication date), in the dump's order."""
        for index in range(self.slices):
            facts = iter(parse(path=self.folder / f"{index}.articles", format=RdfFormat.N_TRIPLES))
            for url, published in zip(facts, facts):  # written in pairs by _split
                yield url.subject, url.object, published.object.value


RDF_TYPE_TERM = f"<{PREFIXES['rdf']}type>".encode()
BUCKET_BYTES = 16 << 20  # of N-Quads per bucket: what one worker holds in memory at a time
# The store keeps literals of the types derived from xsd:integer as xsd:integer: counted alike, as the endpoint does.
DERIVED_INTEGER_TYPES = ("nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger", "long", "int",
                         "short", "byte", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte")
DERIVED_INTEGER = re.compile(rb"\^\^<" + re.escape(XSD.encode()) + b"(?:" + "|".join(DERIVED_INTEGER_TYPES).encode() + b")>$")
INTEGER_TYPE = f"^^<{XSD}integer>".encode()
NEWS_ARTICLE_TERM = f"<{PREFIXES['schema']}NewsArticle>".encode()
URL_TERM = f"<{PREFIXES['schema']}url>".encode()
PUBLISHED_TERM = f"<{PREFIXES['schema']}datePublished>".encode()
ARTICLE_FACTS = frozenset({RDF_TYPE_TERM, URL_TERM, PUBLISHED_TERM})  # what ARTICLES_QUERY asks of each article


@contextmanager
def statistics(nquads: Path, scratch: Path, bucket_bytes: int = BUCKET_BYTES) -> Iterator[Statistics]:
    """The statistics of a canonical N-Quads file (one quad per line, every quad in a named graph, each graph's
    quads on consecutive lines, as the dumps are written); `scratch` holds their rows until the block ends.

    Triples are spread over buckets by subject and objects by value, so each distinct triple, subject
    and object falls in one bucket only, and each bucket is counted on its own: memory is bounded by
    `bucket_bytes` whatever the size of the corpus. Slices of the file, then buckets, are shared out
    among worker processes.
    """
    buckets = max(1, -(-nquads.stat().st_size // bucket_bytes))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        slices = _graph_slices(nquads, os.cpu_count() or 1)
        list(in_workers(_split, [(nquads, start, end, scratch / str(index), buckets)
                                 for index, (start, end) in enumerate(slices)]))
        counts = Counter({name: 0 for name in COUNT_QUERIES})
        properties: Counter[bytes] = Counter()
        classes: Counter[bytes] = Counter()
        for found, bucket_properties, bucket_classes in in_workers(
                _count, [[scratch / f"{index}.{bucket}" for index in range(len(slices))] for bucket in range(buckets)]):
            counts.update(found)
            properties.update(bucket_properties)
            classes.update(bucket_classes)
        counts.update(classes=len(classes), properties=len(properties))
        for bucket_file in [*scratch.glob("*.s"), *scratch.glob("*.o")]:
            bucket_file.unlink()

        def rows(counter: Counter[bytes]) -> list[tuple[str, int]]:
            return sorted((term[1:-1].decode(), n) for term, n in counter.items() if term.startswith(b"<"))
        yield Statistics(dict(counts), {"class": rows(classes), "property": rows(properties)}, scratch, len(slices))
    finally:
        shutil.rmtree(scratch)


def _graph_slices(path: Path, count: int) -> list[tuple[int, int]]:
    """At most `count` byte ranges covering the file, each starting at the first line of a graph."""
    size = path.stat().st_size
    starts = [0]
    with path.open("rb") as handle:
        for index in range(1, count):
            handle.seek(max(size * index // count, starts[-1]))
            handle.readline()
            graph = None
            while True:
                start = handle.tell()
                line = handle.readline()
                if not line or graph not in (None, _graph_of(line)):
                    break
                graph = _graph_of(line)
            starts.append(min(start, size))
    return [(start, end) for start, end in zip(starts, starts[1:] + [size]) if start < end]


def _graph_of(line: bytes) -> bytes:
    """The graph term of a canonical N-Quads line."""
    return line.rsplit(b" ", 2)[1]


def _lines(path: Path, start: int, end: int) -> Iterator[bytes]:
    """The lines (without their newline) of a line-aligned byte range, read a block at a time."""
    with path.open("rb") as handle:
        handle.seek(start)
        rest, remaining = b"", end - start
        while remaining > 0 and (block := handle.read(min(1 << 20, remaining))):
            remaining -= len(block)
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            yield from lines
        if rest:
            yield rest


def _split(task: tuple[Path, int, int, Path, int]) -> None:
    """Spread the triples of one slice over bucket files by subject (`<prefix>.<bucket>.s`) and their
    objects by value (`.o`); write the quads per graph (`<prefix>.graphs`) and ARTICLES_QUERY's answers
    (`<prefix>.articles`: the URL then the publication date of each article, as N-Triples), graph by graph."""
    nquads, start, end, prefix, buckets = task
    by_subject = [prefix.with_name(f"{prefix.name}.{bucket}.s").open("wb") for bucket in range(buckets)]
    by_object = [prefix.with_name(f"{prefix.name}.{bucket}.o").open("wb") for bucket in range(buckets)]
    graph_rows = prefix.with_name(f"{prefix.name}.graphs").open("wb")
    article_rows = prefix.with_name(f"{prefix.name}.articles").open("wb")
    current, quads = None, 0
    facts: dict[bytes, dict[bytes, bytes]] = {}  # the current graph's, by subject

    def end_graph() -> None:
        if current is not None and current.startswith(b"<"):
            graph_rows.write(b"%s %d\n" % (current, quads))
        for subject, values in facts.items():
            if values.get(RDF_TYPE_TERM) == NEWS_ARTICLE_TERM and URL_TERM in values and PUBLISHED_TERM in values:
                article_rows.write(b"%s %s %s .\n%s %s %s .\n" % (subject, URL_TERM, values[URL_TERM],
                                                                   subject, PUBLISHED_TERM, values[PUBLISHED_TERM]))
        facts.clear()

    for line in _lines(nquads, start, end):
        triple, graph, _ = line.rsplit(b" ", 2)
        if graph != current:
            end_graph()
            current, quads = graph, 0
        quads += 1
        subject, predicate, obj = triple.split(b" ", 2)
        if obj.endswith(b">") and obj.startswith(b'"'):
            obj = DERIVED_INTEGER.sub(INTEGER_TYPE, obj)
            triple = b" ".join((subject, predicate, obj))
        by_subject[zlib.crc32(subject) % buckets].write(triple + b"\n")
        by_object[zlib.crc32(obj) % buckets].write(obj + b"\n")
        if predicate in ARTICLE_FACTS and (predicate != RDF_TYPE_TERM or obj == NEWS_ARTICLE_TERM):
            facts.setdefault(subject, {})[predicate] = obj
    end_graph()
    for handle in by_subject + by_object + [graph_rows, article_rows]:
        handle.close()


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


def release_date(published: Iterable[str]) -> str:
    """`SOURCE_DATE_EPOCH` (reproducible builds) when set, else the newest source article's date.

    Never the wall clock: the same input must give byte-identical files.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), timezone.utc).date().isoformat()
    return max(published, default=date(1970, 1, 1).isoformat())


def describe_release(stats: Statistics, info: DatasetInfo, files: dict[str, dict], output: Path) -> None:
    """Write the VoID + DCAT description (Turtle) of the data with `stats`, and of the dump `files` (name → bytes,
    sha256), to `output`: streamed, so the rows per graph and per article are never all held."""
    with output.open("wb") as handle:
        serialize(description_triples(stats, info, files), handle, RdfFormat.TURTLE, prefixes=DESCRIPTION_PREFIXES)


def description_triples(stats: Statistics, info: DatasetInfo, files: dict[str, dict]) -> Iterator[Triple]:
    """The description's triples, in a fixed order with each subject's together (how Turtle groups them)."""
    base, dataset = info.base, info.dataset
    rdf_type = NamedNode(PREFIXES["rdf"] + "type")

    def integer(value: int) -> Literal:
        return Literal(str(value), datatype=NamedNode(XSD + "integer"))

    def english(text: str) -> Literal:
        return Literal(text, language="en")

    def about(subject: NamedNode, statements: Iterable[tuple[str, object]]) -> Iterator[Triple]:
        """Triples of `subject`, from (predicate IRI or "a", object) pairs, taken one at a time."""
        for predicate, obj in statements:
            yield Triple(subject, rdf_type if predicate == "a" else NamedNode(predicate), obj)

    def part(kind: str, iri: str) -> NamedNode:
        return NamedNode(f"{dataset.value}#{kind}-{_fragment(iri, base)}")

    issued = Literal(release_date(published for _, _, published in stats.articles()), datatype=NamedNode(XSD + "date"))
    service = NamedNode(f"{base}sparql")
    publisher = NamedNode(base)
    partitions = (("graph", "subset", "triples"), ("class", "classPartition", "entities"),
                  ("property", "propertyPartition", "triples"))
    vocabularies = sorted({ns for kind in ("class", "property") for iri, _ in stats.partitions[kind]
                           for ns in PREFIXES.values() if iri.startswith(ns) and ns != base})

    yield from about(dataset, [
        ("a", NamedNode(VOID + "Dataset")), ("a", NamedNode(DCAT + "Dataset")),
        (DCT + "title", english(TITLE)), (DCT + "description", english(DESCRIPTION)),
        (DCT + "license", NamedNode(LICENSE)), (DCT + "rights", english(RIGHTS)), (DCT + "publisher", publisher),
        (DCT + "issued", issued), (DCT + "modified", issued), (DCAT + "version", Literal(info.release)),
        (PREFIXES["owl"] + "versionInfo", Literal(info.summary.get("version", ""))),
        (VOID + "sparqlEndpoint", service), (VOID + "uriSpace", Literal(base)),
        (VOID + "feature", NamedNode("http://www.w3.org/ns/formats/N-Quads")),
        *((VOID + name, integer(value)) for name, value in stats.counts.items()),
        *((VOID + "vocabulary", NamedNode(namespace)) for namespace in vocabularies),
        (DCAT + "distribution", service),  # also found as a service by DCAT-AP harvesters
        *((DCAT + "distribution", NamedNode(f"{base}dumps/{name}#distribution")) for name in sorted(files)),
        *((VOID + "dataDump", NamedNode(f"{base}dumps/{name}")) for name in sorted(files) if name.startswith("graph.")),
    ])
    yield from about(dataset, ((DCT + "source", url) for _, url, _ in stats.articles()))
    yield from about(dataset, ((VOID + "exampleResource", article) for article, _, _ in stats.articles()))
    for kind, predicate, _ in partitions:
        yield from about(dataset, ((VOID + predicate, part(kind, iri)) for iri, _ in stats.partition(kind)))
    for kind, _, count_property in partitions:
        for iri, count in stats.partition(kind):
            yield from about(part(kind, iri), [("a", NamedNode(VOID + "Dataset")),
                                               (PARTITION_KEYS[kind], NamedNode(iri)), (VOID + count_property, integer(count))])

    yield from about(publisher, [("a", NamedNode(FOAF + "Organization")), (FOAF + "name", Literal("diplomacy-kg"))])
    yield from about(service, [("a", NamedNode(DCAT + "DataService")), (DCAT + "endpointURL", service),
                               (DCAT + "servesDataset", dataset),
                               (DCT + "conformsTo", NamedNode("https://www.w3.org/TR/sparql11-protocol/"))])
    for name, meta in sorted(files.items()):
        download = NamedNode(f"{base}dumps/{name}")
        checksum = NamedNode(f"{download.value}#sha256")
        inner = name[:-3] if name.endswith(".gz") else name
        yield from about(NamedNode(f"{download.value}#distribution"), [
            ("a", NamedNode(DCAT + "Distribution")), (DCAT + "downloadURL", download),
            (DCAT + "accessURL", NamedNode(f"{base}dumps/")), (DCAT + "mediaType", NamedNode(IANA + media_type(inner))),
            *([(DCAT + "compressFormat", NamedNode(IANA + "application/gzip"))] if inner != name else []),
            (DCAT + "byteSize", Literal(str(meta["bytes"]), datatype=NamedNode(XSD + "nonNegativeInteger"))),
            (DCT + "license", NamedNode(LICENSE)), (DCT + "issued", issued), (SPDX + "checksum", checksum),
        ])
        yield from about(checksum, [("a", NamedNode(SPDX + "Checksum")),
                                    (SPDX + "algorithm", NamedNode(SPDX + "checksumAlgorithm_sha256")),
                                    (SPDX + "checksumValue", Literal(meta["sha256"], datatype=NamedNode(XSD + "hexBinary")))])


def _fragment(iri: str, base: str) -> str:
    """A readable, stable fragment for a partition: the IRI relative to the base or compacted, else a hash."""
    candidate = compact_iri(iri, {**base_prefixes(base), **PREFIXES})
    if candidate != iri and re.fullmatch(r"[A-Za-z0-9:/._-]+", candidate):
        return candidate
    return hashlib.sha1(iri.encode()).hexdigest()[:12]
