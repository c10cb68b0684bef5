"""`kg build`: seeds → mapping → RDF → SHACL gate → published release.

Nothing is published unless every article maps cleanly and every graph conforms to the shapes.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

from pyoxigraph import Quad, RdfFormat, Triple, parse, serialize

from kg import __version__
from kg.rdf.jsonld import ContextBuilder, JsonLdContext
from kg.seeds.mapping import ARTICLES_FOLDER, Registry, load_article, seed_registry
from kg.release.layout import DUMP_FORMATS, LAYOUT, VALIDATION_REPORT_FILE, Release, current_release
from kg.release.writer import TEMPORARY_SUFFIX, GraphParts, has_dump_parts, naming, publish_release, remove_leftovers, write_dump_parts, write_whole
from kg.rdf.vocabulary import DEFAULT_BASE, ENTITIES_GRAPH, ONTOLOGY_GRAPH, Iris
from kg.rdf.graphs import (article_quads, article_sources, cameo_table, canonical, ontology_quads, registry_quads,
                            registry_sources)
from kg.seeds.reader import SeedError, SeedProblem
from kg.validate.shacl import (Gate, ValidationResult, Violation, conforming_result, load_shapes,
                         write_report_turtle)
from kg.parallel import child_forked_now, in_workers

INPUT_FOLDERS = ("ontology", "seeds", "shapes")
ARTICLE_INDEX = "articles.jsonl"  # the article index of the last build (`read_inputs`)
FORMAT_TIMING = "parts of "  # + a dump's name: the timing of that format's parts, in worker seconds summed


T = TypeVar("T")


class BuildFilesError(Exception):
    """A file or folder the build reads or writes cannot be used (the message says which and why); nothing
    was published."""


@contextmanager
def _os_errors_explained() -> Iterator[None]:
    try:
        yield
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        if error.filename and error.filename2:  # a rename or a copy: both paths
            where = f"{error.filename} -> {error.filename2}: "
        raise BuildFilesError(f"{where}{error.strerror or error}") from None


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
    def articles(self) -> Path:
        return self.seeds / ARTICLES_FOLDER

    @property
    def ontology(self) -> Path:
        return self.root / "ontology"

    @property
    def shapes(self) -> Path:
        return self.root / "shapes"


def default_project() -> Project:
    """The project whose inputs are built: `$KG_PROJECT`, or the current folder."""
    return Project(Path(os.environ.get("KG_PROJECT", ".")).resolve())


@dataclass(frozen=True)
class Inputs:
    """What one reading of the input files gives a build."""

    fingerprint: str  # of everything a release depends on: input files, base IRI, code version, release layout
    shared_key: str  # of what every article depends on: registry, ontology, shapes, base IRI, code version
    index: Path  # one JSON line per article, in name order: its folder name and a hash of its files


def read_inputs(project: Project, iris: Iris, index: Path) -> Inputs:
    """Hash every input file (ontology, seeds, shapes) once, in path order, and write the article index.

    An article is a folder of the articles folder that holds a mapping; its hash covers all its files.
    The index goes to a file, one line per article, so that a corpus's worth of names and hashes is
    never in memory: what the build process holds is copied into every worker process it forks."""
    release = hashlib.sha256(f"{__version__}\n{LAYOUT}\n{iris.base}\n".encode())
    shared: dict[str, bytes] = {}  # digests of the files outside the article folders: a few
    articles = project.articles.relative_to(project.root).as_posix() + "/"
    article, article_hash, has_mapping = "", hashlib.sha256(), False
    with naming(index), index.open("w", encoding="utf-8") as lines:
        def index_article() -> None:
            if has_mapping:
                lines.write(json.dumps([article, article_hash.hexdigest()]) + "\n")
        for folder in INPUT_FOLDERS:
            for name, path in files_under(str(project.root / folder), f"{folder}/"):
                with open(path, "rb") as handle:
                    digest = hashlib.file_digest(handle, "sha256").digest()
                release.update(name.encode() + b"\0" + digest)
                folder_name, _, inner = name.removeprefix(articles).partition("/")
                if not name.startswith(articles) or not inner:
                    shared[name] = digest
                    continue
                if folder_name != article:
                    index_article()
                    article, article_hash, has_mapping = folder_name, hashlib.sha256(), False
                article_hash.update(inner.encode() + b"\0" + digest)
                has_mapping = has_mapping or inner == "mapping.yaml"
        index_article()
    shared_key = hashlib.sha256(f"{__version__}\n{iris.base}\n".encode())
    for path in [project.seeds / "entities.yaml", *sorted(project.ontology.glob("*.ttl")),
                 *sorted(project.shapes.glob("*.ttl"))]:
        shared_key.update(shared.get(path.relative_to(project.root).as_posix(), b""))
    return Inputs(release.hexdigest()[:20], shared_key.hexdigest(), index)


def files_under(folder: str, prefix: str) -> Iterator[tuple[str, str]]:
    """(prefix + relative POSIX path, path) of the files under `folder`, sorted as Paths sort; one
    folder's entries in memory at a time. A symbolic link to a folder is a SeedError: followed, it could
    lead anywhere, even back up; skipped, an article linked in would silently not be published."""
    if not os.path.isdir(folder):
        return
    with os.scandir(folder) as entries:
        entries = sorted(entries, key=lambda entry: entry.name)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from files_under(entry.path, f"{prefix}{entry.name}/")
        elif entry.is_file():
            yield prefix + entry.name, entry.path
        elif entry.is_dir():
            raise SeedError([SeedProblem(prefix + entry.name, 1, "a symbolic link to a folder, which the build "
                                         "does not follow: move or copy the folder here, or link its files")])


def cameo_codes(ontology: list[Quad]) -> dict:
    """The CAMEO codes of the ontology, each with its quad class and Goldstein score (kg.rdf.graphs.cameo_table)."""
    return cameo_table(ontology)


class ArticleCache:
    """Each article's validated graph (canonical N-Quads) and its dump parts, kept under a key of everything
    they depend on, in a folder per article.

    The key covers the article's own files and the inputs every article depends on (the registry, the
    ontology, the shapes, the base IRI, the code version): an unchanged article is neither mapped nor
    validated again, and a changed one is redone alone. A graph is written only once the article passed
    the gate, so the cache holds valid graphs only. Beside each graph, what its predicates' objects are
    (`.json`, for the JSON-LD context); its dump parts are keyed by the graph and the JSON-LD context.
    """

    def __init__(self, build_dir: Path, project: Project, inputs: Inputs):
        self.folder = build_dir / "cache" / "articles"
        self.parts = build_dir / "cache" / "parts"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.parts.mkdir(parents=True, exist_ok=True)
        self.seeds = project.articles
        self.index = inputs.index
        self.shared_key = inputs.shared_key.encode()

    def articles(self) -> Iterator[tuple[str, str]]:
        """Every article's name and key, in name order, read from the index a line at a time."""
        with self.index.open(encoding="utf-8") as lines:
            for line in lines:
                name, files_hash = json.loads(line)
                yield name, hashlib.sha256(self.shared_key + files_hash.encode()).hexdigest()[:20]

    def graph(self, article: str, key: str) -> Path:
        """Where the article's validated graph is cached (beside it, `.json`: its kinds)."""
        return self.folder / article / f"{key}.nq"

    def parts_stem(self, article: str, key: str, context_key: str) -> Path:
        """Where the article's dump parts are cached, for the JSON-LD context of `context_key`."""
        return self.parts / article / f"{key}.{context_key}"

    def prune(self, context_key: str) -> None:
        """Forget the graphs and parts of articles that changed or disappeared, and parts of older contexts:
        one article's files in memory at a time."""
        for article, key in self.articles():
            for folder, kept in ((self.folder / article, f"{key}."), (self.parts / article, f"{key}.{context_key}.")):
                with os.scandir(folder) as files:
                    for file in files:
                        # a temporary file is what a killed build was writing (see write_whole)
                        if not file.name.startswith(kept) or file.name.endswith(TEMPORARY_SUFFIX):
                            os.unlink(file.path)
        for folder in (self.folder, self.parts):
            with os.scandir(folder) as entries:
                for entry in entries:
                    if not entry.is_dir(follow_symlinks=False):
                        os.unlink(entry.path)
                    elif not os.path.isfile(os.path.join(self.seeds, entry.name, "mapping.yaml")):
                        shutil.rmtree(entry.path)


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
    """Build, validate and publish; raises SeedError, ValidationFailed or BuildFilesError and then publishes nothing.

    Articles are mapped, validated and written in batches, in one worker process per CPU, so memory
    does not grow with the corpus; unchanged articles come from the cache, and the release reuses
    what it can of the previous one. `timings` receives seconds per stage, and under
    FORMAT_TIMING + dump name the worker seconds spent writing that format's parts.
    """
    with _os_errors_explained(), build_lock(build_dir):
        return _build(project, build_dir, iris, timings if timings is not None else {})


def _build(project: Project, build_dir: Path, iris: Iris, timings: dict[str, float]) -> Release:
    """Build under the build lock, which the caller holds: what a killed build left under temporary names
    is removed first, so a build on a disk it filled can succeed."""
    remove_leftovers(build_dir)
    try:
        # Forked before anything is read, to load the store and describe the release: a forked process counts
        # its parent's memory, and this one comes to hold data per article.
        with child_forked_now() as apart:
            return _build_apart(project, build_dir, iris, timings, apart)
    finally:
        # publish_release removes its staging folder when it fails; should that have been cut short (Ctrl-C
        # while the forked process still wrote into it), it is gone now, that process having ended.
        remove_leftovers(build_dir)


def _build_apart(project: Project, build_dir: Path, iris: Iris, timings: dict[str, float],
                 apart: Callable[..., Any]) -> Release:
    (build_dir / "cache").mkdir(parents=True, exist_ok=True)
    inputs = read_inputs(project, iris, build_dir / "cache" / ARTICLE_INDEX)
    existing = current_release(build_dir)
    if existing is not None and existing.id == inputs.fingerprint:
        return existing

    began = time.perf_counter()
    registry = seed_registry(project.seeds, project.root)
    ontology = ontology_quads(project.ontology, iris)
    entities = registry_quads(registry, iris)
    cache = ArticleCache(build_dir, project, inputs)
    # The gate: the shared graphs once, then each article with the shared triples it refers to.
    job = ArticleJob(project, cache, registry, cameo_codes(ontology), iris,
                           Gate(load_shapes(project.shapes), (q.triple for q in ontology + entities)),
                           registry_sources(registry, iris))
    problems: list[SeedProblem] = []
    failed: list[ValidationResult] = []
    def unchecked() -> Iterator[tuple[str, str]]:
        return ((article, key) for article, key in cache.articles() if not cache.graph(article, key).is_file())
    for found, failures in in_workers(check_articles, batches(unchecked), inherited=job):
        problems += found
        failed += failures
    shared_validation = job.gate.validate_shared(job.entity_sources)
    timings["mapping and validation"] = time.perf_counter() - began
    if problems:
        raise SeedError(problems)
    violations = [v for result in [shared_validation, *failed] if not result.conforms for v in result.violations]
    if violations:
        # An entity's problem shows in the shared graphs and again in every article that refers to it.
        raise ValidationFailed(sorted(set(violations), key=Violation.sort_key))

    began = time.perf_counter()
    builder = ContextBuilder().add(ontology + entities)
    for article, key in cache.articles():
        builder.merge(json.loads(cache.graph(article, key).with_suffix(".json").read_text(encoding="utf-8")))
    context = builder.build(iris.base)
    context_key = hashlib.sha256(json.dumps(context.document()).encode()).hexdigest()[:12]
    def unwritten() -> Iterator[tuple[str, str]]:
        return ((article, key) for article, key in cache.articles()
                if not has_dump_parts(cache.parts_stem(article, key, context_key)))
    format_seconds: Counter[str] = Counter()
    for batch_seconds in in_workers(partial(write_parts, context, context_key), batches(unwritten), inherited=job):
        format_seconds.update(batch_seconds)
    cache.prune(context_key)
    timings["dump parts"] = time.perf_counter() - began
    timings.update({f"{FORMAT_TIMING}{dump}": format_seconds[dump] for dump in DUMP_FORMATS})

    # Every article passed the gate, now or when it was cached: one report says so for all of them.
    report = build_dir / "cache" / VALIDATION_REPORT_FILE
    with naming(report):
        write_report_turtle([([iris.graph(ENTITIES_GRAPH).value, iris.graph(ONTOLOGY_GRAPH).value], shared_validation),
                             ((iris.article_graph(article).value for article, _ in cache.articles()),
                              conforming_result())], report)
    summary = {"article_count": sum(1 for _ in cache.articles()), "base": iris.base, "version": __version__}

    def graphs() -> Iterator[GraphParts]:
        for article, key in cache.articles():
            stem = cache.parts_stem(article, key, context_key).relative_to(cache.parts).as_posix()
            yield GraphParts(iris.article_graph(article).value, cache.parts, stem, stem)
    shared = [list(canonical(entities)), list(canonical(ontology))]
    return publish_release(build_dir, inputs.fingerprint, graphs, shared, context, report, summary, timings,
                           sorted(project.shapes.glob("*.ttl")), apart)


@dataclass(frozen=True)
class ArticleJob:
    """What checking an article needs besides its name; worker processes inherit it when forked (see in_workers)."""

    project: Project
    cache: ArticleCache
    registry: Registry
    codes: set[str]
    iris: Iris
    gate: Gate
    entity_sources: dict[str, str]


BATCH = 25  # articles per task of a worker process: a worker's memory grows with it (one store of the gate)


def batches(items: Callable[[], Iterable[T]]) -> Iterator[list[T]]:
    """The items in batches of at most BATCH, at least one batch per CPU while there are enough items.
    `items` gives them anew: they are counted first, then read again a batch at a time."""
    size = max(1, min(BATCH, -(-sum(1 for _ in items()) // (os.cpu_count() or 1))))
    batch: list[T] = []
    for item in items():
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def check_articles(job: ArticleJob, batch: list[tuple[str, str]]) -> tuple[list[SeedProblem], list[ValidationResult]]:
    """Map, ground and validate articles; each that conforms is written to its cache file.

    Returns the seed problems, and the validation results of the articles that do not conform."""
    problems: list[SeedProblem] = []
    pending: dict[str, tuple[Path, list[Quad]]] = {}

    def units() -> Iterator[tuple[str, list[Triple], dict[str, str]]]:
        for name, key in batch:
            try:
                article = load_article(job.project.articles / name, job.registry, job.codes, job.project.root)
            except SeedError as error:
                problems.extend(error.problems)
                continue
            if article.id != name:
                problems.append(SeedProblem(article.mapping_file, 1,
                                            f"article id {article.id!r} must equal its folder name {name!r}"))
                continue
            quads = article_quads(article, job.registry, job.iris)
            graph = job.iris.article_graph(article.id).value
            pending[graph] = (job.cache.graph(name, key), quads)
            yield graph, [q.triple for q in quads], {**job.entity_sources, **article_sources(article, job.registry, job.iris)}

    failed = []
    for graph, result in job.gate.validate_units(units()):
        cached, quads = pending.pop(graph)
        if not result.conforms:
            failed.append(result)
            continue
        cached.parent.mkdir(exist_ok=True)
        write_whole(cached.with_suffix(".json"), json.dumps(ContextBuilder().add(quads).kinds()).encode())
        write_whole(cached, serialize(quads, format=RdfFormat.N_QUADS))  # last: a cached graph has its kinds beside it
    return problems, failed


def write_parts(context: JsonLdContext, context_key: str, job: ArticleJob, batch: list[tuple[str, str]]) -> Counter[str]:
    """Write the dump parts of articles' cached graphs; the seconds spent per dump format."""
    cache = job.cache
    seconds: Counter[str] = Counter()
    for article, key in batch:
        stem = cache.parts_stem(article, key, context_key)
        stem.parent.mkdir(exist_ok=True)
        seconds.update(write_dump_parts(list(parse(path=str(cache.graph(article, key)), format=RdfFormat.N_QUADS)),
                                        stem, context))
    return seconds


def ensure_release(build_dir: Path, project: Project, base: str | None = None) -> Release:
    """The current release, rebuilt first when missing or stale (what `kg serve` serves).

    Without an explicit base IRI the current release's base is kept, so `kg build --base X` then
    `kg serve` serves X rather than rebuilding under the default base.
    """
    existing = current_release(build_dir)
    base = base or (existing.manifest["base"] if existing else DEFAULT_BASE)
    with _os_errors_explained(), build_lock(build_dir, wait=existing is None) as ours:
        if not ours:  # another process is building: serve the last complete release meanwhile
            return existing
        return _build(project, build_dir, Iris(base), {})
