"""`kg build`: seeds → mapping → RDF → SHACL gate → published release.

Nothing is published unless every article maps cleanly and every graph conforms to the shapes.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pyoxigraph import Quad, Triple

from kg import __version__
from kg.mapping import load_article, load_corpus
from kg.publish import Release, current_release, publish_release
from kg.rdf import (CAMEO, DEFAULT_BASE, ENTITIES_GRAPH, ONTOLOGY_GRAPH, SKOS, Iris, article_quads, article_sources,
                    canonical, ontology_quads, registry_quads, registry_sources)
from kg.seeds import SeedError, SeedProblem
from kg.validate import Gate, ValidationResult, Violation, load_shapes, report_turtle

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
    """A hash of everything a release depends on: input files, base IRI and code version."""
    digest = hashlib.sha256(f"{__version__}\n{iris.base}\n".encode())
    for folder in INPUT_FOLDERS:
        for path in sorted((project.root / folder).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(project.root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def cameo_codes(ontology: list[Quad]) -> set[str]:
    return {q.object.value for q in ontology if q.predicate == SKOS.notation and q.subject.value.startswith(CAMEO.iri)}


def build(project: Project, build_dir: Path, iris: Iris) -> Release:
    """Build, validate and publish; raises SeedError or ValidationFailed and then publishes nothing."""
    fingerprint = input_fingerprint(project, iris)
    existing = current_release(build_dir)
    if existing is not None and existing.id == fingerprint:
        return existing

    registry, folders = load_corpus(project.seeds, project.root)
    ontology = ontology_quads(project.ontology, iris)
    entities = registry_quads(registry, iris)
    shapes = load_shapes(project.shapes)
    codes = cameo_codes(ontology)

    # The gate: the shared graphs once, then each article with the shared triples it refers to.
    gate = Gate(shapes, (q.triple for q in ontology + entities))
    entity_sources = registry_sources(registry, iris)
    problems: list[SeedProblem] = []
    article_graphs: list[list[Quad]] = []
    articles: list[str] = []

    def mapped_articles() -> Iterator[tuple[str, list[Triple], dict[str, str]]]:
        """Each article that maps cleanly, as a unit for the gate; the others' problems are collected."""
        for folder in folders:
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
            article_graphs.append(quads)
            articles.append(article.id)
            yield (iris.article_graph(article.id).value, [q.triple for q in quads],
                   {**entity_sources, **article_sources(article, registry, iris)})

    validations: list[tuple[list[str], ValidationResult]] = [
        ([iris.graph(ENTITIES_GRAPH).value, iris.graph(ONTOLOGY_GRAPH).value], gate.validate_shared(entity_sources))]
    workers = min(os.cpu_count() or 1, len(folders))
    validations += [([graph], result) for graph, result in gate.validate_units(mapped_articles(), workers)]
    if problems:
        raise SeedError(problems)
    violations = [v for _, result in validations if not result.conforms for v in result.violations]
    if violations:
        # An entity's problem shows in the shared graphs and again in every article that refers to it.
        raise ValidationFailed(sorted(set(violations), key=Violation.sort_key))

    graphs = [*article_graphs, list(canonical(entities)), list(canonical(ontology))]
    summary = {"articles": articles, "base": iris.base, "version": __version__}
    return publish_release(build_dir, fingerprint, graphs, report_turtle(validations), summary)


def ensure_release(build_dir: Path, project: Project, base: str | None = None) -> Release:
    """The current release, rebuilt first when missing or stale (what `kg serve` serves).

    Without an explicit base IRI the current release's base is kept, so `kg build --base X` then
    `kg serve` serves X rather than rebuilding under the default base.
    """
    existing = current_release(build_dir)
    base = base or (existing.manifest["base"] if existing else DEFAULT_BASE)
    return build(project, build_dir, Iris(base))
