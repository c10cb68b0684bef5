"""`kg build`: seeds → mapping → RDF → SHACL gate → published release.

Nothing is published unless every article maps cleanly and every graph conforms to the shapes.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Iterator

from pyoxigraph import Quad, RdfFormat, Triple, parse, serialize

from kg import __version__
from kg.jsonld import ContextBuilder, JsonLdContext
from kg.mapping import Registry, load_article, load_corpus
from kg.publish import (DUMP_FORMATS, LAYOUT, GraphParts, Release, current_release, has_dump_parts, publish_release,
                        write_dump_parts, write_whole)
from kg.rdf import (CAMEO, DEFAULT_BASE, ENTITIES_GRAPH, ONTOLOGY_GRAPH, SKOS, Iris, article_quads, article_sources,
                    canonical, ontology_quads, registry_quads, registry_sources)
from kg.seeds import SeedError, SeedProblem
from kg.validate import Gate, ValidationResult, Violation, conforming_result, load_shapes, report_turtle
from kg.workers import in_workers

INPUT_FOLDERS = ("ontology", "seeds", "shapes")
FORMAT_TIMING = "parts of "  # + a dump's name: the timing of that format's parts, in worker seconds summed


class ValidationFailed(Exception):
    """The graph does not conform to the shapes; nothing was published."""

    def __init__(self, violations: list[Violation]):
        self.violations = violations
        super().__init__("\n".join(str(v) for v in violations))


@dataclass(frozen=True)
class Project:
    """The input folders of a build."""

    root: Path

    @property
    def seeds(self) -> Path:
        return self.root / "seeds"

    @property
    def ontology(self) -> Path:
        return self.root / "ontology"

    @property
    def shapes(self) -> Path:
        return self.root / "shapes"


def default_project() -> Project:
    """The project whose inputs are built: `$KG_PROJECT`, or the current folder."""
    return Project(Path(os.environ.get("KG_PROJECT", ".")).resolve())


def input_digests(project: Project) -> dict[Path, bytes]:
    """The SHA-256 of every input file (ontology, seeds, shapes), by path in path order: a build reads each once."""
    return {path: hashlib.sha256(path.read_bytes()).digest()
            for folder in INPUT_FOLDERS for path in sorted((project.root / folder).rglob("*")) if path.is_file()}


def input_fingerprint(project: Project, iris: Iris, digests: dict[Path, bytes]) -> str:
    """A hash of everything a release depends on: input files, base IRI, code version and release layout."""
    digest = hashlib.sha256(f"{__version__}\n{LAYOUT}\n{iris.base}\n".encode())
    for path, file_digest in digests.items():
        digest.update(path.relative_to(project.root).as_posix().encode() + b"\0" + file_digest)
    return digest.hexdigest()[:20]


def cameo_codes(ontology: list[Quad]) -> set[str]:
    return {q.object.value for q in ontology if q.predicate == SKOS.notation and q.subject.value.startswith(CAMEO.iri)}


class ArticleCache:
    """Each article's validated graph (canonical N-Quads) and its dump parts, kept under a key of everything
    they depend on.

    The key covers the article's own files and the inputs every article depends on (the registry, the
    ontology, the shapes, the base IRI, the code version): an unchanged article is neither mapped nor
    validated again, and a changed one is redone alone. A graph is written only once the article passed
    the gate, so the cache holds valid graphs only. Beside each graph, what its predicates' objects are
    (`.json`, for the JSON-LD context); its dump parts are keyed by the graph and the JSON-LD context.
    """

    def __init__(self, build_dir: Path, project: Project, iris: Iris, digests: dict[Path, bytes]):
        """`digests`: the input files' (`input_digests`)."""
        self.folder = build_dir / "cache" / "articles"
        self.parts = build_dir / "cache" / "parts"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.parts.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(f"{__version__}\n{iris.base}\n".encode())
        for path in [project.seeds / "entities.yaml", *sorted(project.ontology.glob("*.ttl")),
                     *sorted(project.shapes.glob("*.ttl"))]:
            digest.update(digests[path])
        self.shared_key = digest.hexdigest()
        self.files: dict[Path, list[tuple[str, bytes]]] = defaultdict(list)  # folder → (file name, digest)
        for path, file_digest in digests.items():
            self.files[path.parent].append((path.name, file_digest))
        self.used: set[str] = set()
        self.used_parts: set[str] = set()

    def path(self, folder: Path) -> Path:
        digest = hashlib.sha256(self.shared_key.encode())
        for name, file_digest in self.files[folder]:
            digest.update(name.encode() + b"\0" + file_digest)
        path = self.folder / f"{folder.name}.{digest.hexdigest()[:20]}.nq"
        self.used.add(path.stem)
        return path

    def parts_stem(self, graph: Path, context_key: str) -> Path:
        stem = self.parts / f"{graph.stem}.{context_key}"
        self.used_parts.add(stem.name)
        return stem

    def prune(self) -> None:
        """Forget the graphs and parts of articles that changed or disappeared, and parts of older contexts."""
        for folder, used in ((self.folder, self.used), (self.parts, self.used_parts)):
            for file in folder.iterdir():
                if file.name.removesuffix(".tmp").removesuffix(".gz").rsplit(".", 1)[0] not in used:
                    file.unlink()


@contextmanager
def build_lock(build_dir: Path, wait: bool = True) -> Iterator[bool]:
    """Hold the build folder's lock (one build at a time); yields False when busy and `wait` is False."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with (build_dir / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True


def build(project: Project, build_dir: Path, iris: Iris, timings: dict[str, float] | None = None) -> Release:
    """Build, validate and publish; raises SeedError or ValidationFailed and then publishes nothing.

    Articles are mapped, validated and written in batches, in one worker process per CPU, so memory
    does not grow with the corpus; unchanged articles come from the cache, and the release reuses
    what it can of the previous one. `timings` receives seconds per stage, and under
    FORMAT_TIMING + dump name the worker seconds spent writing that format's parts.
    """
    with build_lock(build_dir):
        return _build(project, build_dir, iris, timings if timings is not None else {})


def _build(project: Project, build_dir: Path, iris: Iris, timings: dict[str, float]) -> Release:
    digests = input_digests(project)
    fingerprint = input_fingerprint(project, iris, digests)
    existing = current_release(build_dir)
    if existing is not None and existing.id == fingerprint:
        return existing

    began = time.perf_counter()
    registry, folders = load_corpus(project.seeds, project.root)
    ontology = ontology_quads(project.ontology, iris)
    entities = registry_quads(registry, iris)
    cache = ArticleCache(build_dir, project, iris, digests)
    graphs = [cache.path(folder) for folder in folders]
    global _ARTICLES
    # The gate: the shared graphs once, then each article with the shared triples it refers to.
    _ARTICLES = ArticleJob(project.root, registry, cameo_codes(ontology), iris,
                           Gate(load_shapes(project.shapes), (q.triple for q in ontology + entities)),
                           registry_sources(registry, iris))
    problems: list[SeedProblem] = []
    failed: list[ValidationResult] = []
    todo = [(folder, graph) for folder, graph in zip(folders, graphs) if not graph.is_file()]
    for found, failures in in_workers(check_articles, batches(todo)):
        problems += found
        failed += failures
    shared_validation = _ARTICLES.gate.validate_shared(_ARTICLES.entity_sources)
    timings["mapping and validation"] = time.perf_counter() - began
    if problems:
        raise SeedError(problems)
    violations = [v for result in [shared_validation, *failed] if not result.conforms for v in result.violations]
    if violations:
        # An entity's problem shows in the shared graphs and again in every article that refers to it.
        raise ValidationFailed(sorted(set(violations), key=Violation.sort_key))

    began = time.perf_counter()
    builder = ContextBuilder().add(ontology + entities)
    for graph in graphs:
        builder.merge(json.loads(graph.with_suffix(".json").read_text(encoding="utf-8")))
    context = builder.build(iris.base)
    context_key = hashlib.sha256(json.dumps(context.document()).encode()).hexdigest()[:12]
    stems = [cache.parts_stem(graph, context_key) for graph in graphs]
    todo = [(graph, stem) for graph, stem in zip(graphs, stems) if not has_dump_parts(stem)]
    format_seconds: Counter[str] = Counter()
    for batch_seconds in in_workers(partial(write_parts, context), batches(todo)):
        format_seconds.update(batch_seconds)
    cache.prune()
    timings["dump parts"] = time.perf_counter() - began
    timings.update({f"{FORMAT_TIMING}{dump}": format_seconds[dump] for dump in DUMP_FORMATS})

    articles = [folder.name for folder in folders]
    names = [iris.article_graph(article).value for article in articles]
    # Every article passed the gate, now or when it was cached: one report says so for all of them.
    report = report_turtle([([iris.graph(ENTITIES_GRAPH).value, iris.graph(ONTOLOGY_GRAPH).value], shared_validation),
                            (names, conforming_result())])
    summary = {"articles": articles, "base": iris.base, "version": __version__}
    parts = [GraphParts(name, stem, stem.name) for name, stem in zip(names, stems)]
    shared = [list(canonical(entities)), list(canonical(ontology))]
    return publish_release(build_dir, fingerprint, parts, shared, context, report, summary, timings,
                           sorted(project.shapes.glob("*.ttl")))


@dataclass(frozen=True)
class ArticleJob:
    """What checking an article needs besides its folder; worker processes inherit it when forked."""

    root: Path
    registry: Registry
    codes: set[str]
    iris: Iris
    gate: Gate
    entity_sources: dict[str, str]


_ARTICLES: ArticleJob | None = None
BATCH = 100  # articles per task of a worker process: one store of the gate, and balanced across workers


def batches(items: list) -> list[list]:
    """`items` in batches of at most BATCH, at least one batch per CPU while there are enough items."""
    size = max(1, min(BATCH, -(-len(items) // (os.cpu_count() or 1))))
    return [items[start:start + size] for start in range(0, len(items), size)]


def check_articles(batch: list[tuple[Path, Path]]) -> tuple[list[SeedProblem], list[ValidationResult]]:
    """Map, ground and validate articles; each that conforms is written to its cache file.

    Returns the seed problems, and the validation results of the articles that do not conform."""
    job = _ARTICLES
    problems: list[SeedProblem] = []
    pending: dict[str, tuple[Path, list[Quad]]] = {}

    def units() -> Iterator[tuple[str, list[Triple], dict[str, str]]]:
        for folder, cached in batch:
            try:
                article = load_article(folder, job.registry, job.codes, job.root)
            except SeedError as error:
                problems.extend(error.problems)
                continue
            if article.id != folder.name:
                problems.append(SeedProblem(article.mapping_file, 1,
                                            f"article id {article.id!r} must equal its folder name {folder.name!r}"))
                continue
            quads = article_quads(article, job.registry, job.iris)
            graph = job.iris.article_graph(article.id).value
            pending[graph] = (cached, quads)
            yield graph, [q.triple for q in quads], {**job.entity_sources, **article_sources(article, job.registry, job.iris)}

    failed = []
    for graph, result in job.gate.validate_units(units()):
        cached, quads = pending.pop(graph)
        if not result.conforms:
            failed.append(result)
            continue
        write_whole(cached.with_suffix(".json"), json.dumps(ContextBuilder().add(quads).kinds()).encode())
        write_whole(cached, serialize(quads, format=RdfFormat.N_QUADS))  # last: a cached graph has its kinds beside it
    return problems, failed


def write_parts(context: JsonLdContext, batch: list[tuple[Path, Path]]) -> Counter[str]:
    """Write the dump parts of cached graphs (graph file, parts stem); the seconds spent per dump format."""
    seconds: Counter[str] = Counter()
    for graph, stem in batch:
        seconds.update(write_dump_parts(list(parse(path=str(graph), format=RdfFormat.N_QUADS)), stem, context))
    return seconds


def ensure_release(build_dir: Path, project: Project, base: str | None = None) -> Release:
    """The current release, rebuilt first when missing or stale (what `kg serve` serves).

    Without an explicit base IRI the current release's base is kept, so `kg build --base X` then
    `kg serve` serves X rather than rebuilding under the default base.
    """
    existing = current_release(build_dir)
    base = base or (existing.manifest["base"] if existing else DEFAULT_BASE)
    with build_lock(build_dir, wait=existing is None) as ours:
        if not ours:  # another process is building: serve the last complete release meanwhile
            return existing
        return _build(project, build_dir, Iris(base), {})
