"""`kg build`: seeds → mapping → RDF → SHACL gate → published release.

Nothing is published unless every article maps cleanly and every graph conforms to the shapes.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pyoxigraph import Quad, RdfFormat, Triple, serialize

from kg import __version__
from kg.mapping import load_article, load_corpus
from kg.publish import LAYOUT, Release, current_release, publish_release
from kg.rdf import (CAMEO, DEFAULT_BASE, ENTITIES_GRAPH, ONTOLOGY_GRAPH, SKOS, Iris, article_quads, article_sources,
                    canonical, ontology_quads, registry_quads, registry_sources)
from kg.seeds import SeedError, SeedProblem
from kg.validate import Gate, ValidationResult, Violation, conforming_result, load_shapes, report_turtle

INPUT_FOLDERS = ("ontology", "seeds", "shapes")


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


def input_fingerprint(project: Project, iris: Iris) -> str:
    """A hash of everything a release depends on: input files, base IRI, code version and release layout."""
    digest = hashlib.sha256(f"{__version__}\n{LAYOUT}\n{iris.base}\n".encode())
    for folder in INPUT_FOLDERS:
        for path in sorted((project.root / folder).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(project.root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def cameo_codes(ontology: list[Quad]) -> set[str]:
    return {q.object.value for q in ontology if q.predicate == SKOS.notation and q.subject.value.startswith(CAMEO.iri)}


class ArticleCache:
    """Each article's validated graph (canonical N-Quads), kept under a key of everything it depends on.

    The key covers the article's own files and the inputs every article depends on (the registry, the
    ontology, the shapes, the base IRI, the code version): an unchanged article is neither mapped nor
    validated again, and a changed one is redone alone. Files are written under a temporary name and
    renamed only once the article passed the gate, so the cache holds valid graphs only.
    """

    def __init__(self, build_dir: Path, project: Project, iris: Iris):
        self.folder = build_dir / "cache" / "articles"
        self.folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(f"{__version__}\n{iris.base}\n".encode())
        for path in [project.seeds / "entities.yaml", *sorted(project.ontology.glob("*.ttl")),
                     *sorted(project.shapes.glob("*.ttl"))]:
            digest.update(path.read_bytes() + b"\0")
        self.shared_key = digest.hexdigest()
        self.used: set[Path] = set()

    def path(self, folder: Path) -> Path:
        digest = hashlib.sha256(self.shared_key.encode())
        for file in sorted(folder.iterdir()):
            if file.is_file():
                digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
        path = self.folder / f"{folder.name}.{digest.hexdigest()[:20]}.nq"
        self.used.add(path)
        return path

    def prune(self) -> None:
        """Forget the graphs of articles that changed or disappeared."""
        for stale in set(self.folder.iterdir()) - self.used:
            stale.unlink()


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

    Articles are mapped, validated and written one at a time, so memory does not grow with the
    corpus; unchanged articles come from the cache. `timings` receives seconds per stage.
    """
    with build_lock(build_dir):
        return _build(project, build_dir, iris, timings if timings is not None else {})


def _build(project: Project, build_dir: Path, iris: Iris, timings: dict[str, float]) -> Release:
    fingerprint = input_fingerprint(project, iris)
    existing = current_release(build_dir)
    if existing is not None and existing.id == fingerprint:
        return existing

    began = time.perf_counter()
    registry, folders = load_corpus(project.seeds, project.root)
    ontology = ontology_quads(project.ontology, iris)
    entities = registry_quads(registry, iris)
    shapes = load_shapes(project.shapes)
    codes = cameo_codes(ontology)
    cache = ArticleCache(build_dir, project, iris)

    # The gate: the shared graphs once, then each article with the shared triples it refers to.
    gate = Gate(shapes, (q.triple for q in ontology + entities))
    entity_sources = registry_sources(registry, iris)
    problems: list[SeedProblem] = []
    articles: list[str] = []
    graph_files: list[Path] = []
    pending: dict[str, Path] = {}  # article graph → its cache file, written once the article passes
    mapping_seconds = 0.0

    def mapped_articles() -> Iterator[tuple[str, list[Triple], dict[str, str]]]:
        """Each changed article that maps cleanly, as a unit for the gate; the others' problems are collected."""
        nonlocal mapping_seconds
        for folder in folders:
            cached = cache.path(folder)
            articles.append(folder.name)
            graph_files.append(cached)
            if cached.is_file():
                continue
            started = time.perf_counter()
            try:
                article = load_article(folder, registry, codes, project.root)
            except SeedError as error:
                problems.extend(error.problems)
                continue
            if article.id != folder.name:
                problems.append(SeedProblem(article.mapping_file, 1,
                                            f"article id {article.id!r} must equal its folder name {folder.name!r}"))
                continue
            quads = article_quads(article, registry, iris)
            graph = iris.article_graph(article.id).value
            serialize(quads, str(cached.with_suffix(".tmp")), RdfFormat.N_QUADS)
            pending[graph] = cached
            mapping_seconds += time.perf_counter() - started
            yield graph, [q.triple for q in quads], {**entity_sources, **article_sources(article, registry, iris)}

    validations: list[tuple[list[str], ValidationResult]] = [
        ([iris.graph(ENTITIES_GRAPH).value, iris.graph(ONTOLOGY_GRAPH).value], gate.validate_shared(entity_sources))]
    for graph, result in gate.validate_units(mapped_articles()):
        validations.append(([graph], result))
        cached = pending.pop(graph)
        if result.conforms:
            os.replace(cached.with_suffix(".tmp"), cached)
        else:
            cached.with_suffix(".tmp").unlink()
    timings["mapping and RDF"] = mapping_seconds
    timings["validation"] = time.perf_counter() - began - mapping_seconds
    if problems:
        raise SeedError(problems)
    violations = [v for _, result in validations if not result.conforms for v in result.violations]
    if violations:
        # An entity's problem shows in the shared graphs and again in every article that refers to it.
        raise ValidationFailed(sorted(set(violations), key=Violation.sort_key))
    cache.prune()
    # Articles taken from the cache passed the gate when they were written: their reports say so.
    validated = {graphs[0] for graphs, _ in validations}
    validations += [([iris.article_graph(a).value], conforming_result()) for a in articles
                    if iris.article_graph(a).value not in validated]

    summary = {"articles": articles, "base": iris.base, "version": __version__}
    shared = [list(canonical(entities)), list(canonical(ontology))]
    return publish_release(build_dir, fingerprint, graph_files, shared, report_turtle(validations), summary, timings,
                           sorted(project.shapes.glob("*.ttl")))


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
