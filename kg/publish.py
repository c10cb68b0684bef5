"""Publish a validated graph as a release: dumps, an embedded store and a manifest, swapped in atomically.

Layout of the build folder:

    build/releases/<release-id>/   one complete release (dumps/ with the SHACL shapes.ttl and validation-report.ttl, store/,
                                   release.json)
    build/current                  symlink to the release being served; replaced atomically

A release is written into a temporary folder and renamed into place only when complete, then
`current` is re-pointed with one atomic rename: a reader sees the old release or the new one,
whole, and a failed or interrupted build leaves the published release untouched.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from pyoxigraph import Quad, RdfFormat, Store, parse, serialize

from kg.describe import DatasetInfo, describe_release
from kg.jsonld import ContextBuilder, write_jsonld
from kg.rdf import PREFIXES, canonical, stable_blank_nodes

RELEASES = "releases"
CURRENT = "current"
KEEP_RELEASES = 3
LAYOUT = "2"  # what a release folder holds; part of the release id, so a new layout is rebuilt, never reused
UNION_NQUADS = "graph.nq"

DUMP_FORMATS = {
    "graph.nq": RdfFormat.N_QUADS,
    "graph.trig": RdfFormat.TRIG,
    "graph.jsonld": RdfFormat.JSON_LD,
    "graph.ttl": RdfFormat.TURTLE,
    "graph.nt": RdfFormat.N_TRIPLES,
}
CONTEXT_FILE = "context.jsonld"
DESCRIPTION_FILE = "void.ttl"
VALIDATION_REPORT_FILE = "validation-report.ttl"
SHAPES_FILE = "shapes.ttl"
SHAPES_PREFIXES = {"sh": "http://www.w3.org/ns/shacl#", "dshapes": "https://w3id.org/diplomacy-kg/shapes#"}
CHECKSUMS_FILE = "SHA256SUMS"

@dataclass(frozen=True)
class Release:
    """A published release folder."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def store_path(self) -> Path:
        return self.path / "store"

    @property
    def dumps(self) -> Path:
        return self.path / "dumps"

    @property
    def manifest(self) -> dict:
        return json.loads((self.path / "release.json").read_text(encoding="utf-8"))


def current_release(build_dir: Path) -> Release | None:
    """The release `build/current` points to, or None when nothing was ever published."""
    link = build_dir / CURRENT
    if not link.is_symlink() or not (link.resolve() / "release.json").is_file():
        return None
    return Release(link.resolve())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_dumps(nquads: Path, dumps: Path, base: str) -> None:
    """Write every dump format, the JSON-LD context and a gzip copy of each dump from the N-Quads file.

    Each format is streamed from a fresh parse of the canonical N-Quads, so memory stays flat however
    large the corpus grows; the triple formats hold the union of the named graphs.
    """
    for name, rdf_format in DUMP_FORMATS.items():
        target = dumps / name
        if rdf_format == RdfFormat.JSON_LD:
            context = ContextBuilder().add(_read(nquads)).build(base)
            (dumps / CONTEXT_FILE).write_text(json.dumps({"@context": context.document()}, indent=1) + "\n",
                                              encoding="utf-8")
            with target.open("w", encoding="utf-8") as out:
                write_jsonld(_read(nquads), context, out)
        elif name != UNION_NQUADS:
            quads = _read(nquads)
            items: Iterator = quads if rdf_format.supports_datasets else (q.triple for q in quads)
            serialize(items, str(target), rdf_format, prefixes=PREFIXES)
        gzip_file(target)


def _read(nquads: Path) -> Iterator[Quad]:
    return parse(path=str(nquads), format=RdfFormat.N_QUADS)


def gzip_file(path: Path) -> Path:
    """`path` + `.gz`, byte-reproducible: no file name and a zero timestamp in the gzip header."""
    target = path.with_name(path.name + ".gz")
    with path.open("rb") as source, target.open("wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as out:
        shutil.copyfileobj(source, out, 1 << 20)
    return target


def inventory(dumps: Path) -> dict[str, dict]:
    """Byte size and SHA-256 of every file in `dumps` but the checksum file, by name."""
    return {path.name: {"bytes": path.stat().st_size, "sha256": sha256_of(path)}
            for path in sorted(dumps.iterdir()) if path.name != CHECKSUMS_FILE}


def write_checksums(dumps: Path) -> dict[str, dict]:
    """Write SHA256SUMS (the format `sha256sum -c` reads) for every file in `dumps`; returns the inventory."""
    files = inventory(dumps)
    (dumps / CHECKSUMS_FILE).write_text("".join(f"{meta['sha256']}  {name}\n" for name, meta in files.items()),
                                        encoding="utf-8")
    return files


def shapes_turtle(shapes_files: Iterable[Path]) -> bytes:
    """The SHACL shapes files as one Turtle document, canonical (sorted, stable blank-node labels)."""
    quads = [quad for path in shapes_files for quad in parse(path=str(path), format=RdfFormat.TURTLE)]
    triples = [q.triple for q in stable_blank_nodes(list(canonical(quads)))]
    return serialize(triples, format=RdfFormat.TURTLE, prefixes={**PREFIXES, **SHAPES_PREFIXES})


def publish_release(build_dir: Path, release_id: str, graph_files: list[Path], shared: list[list[Quad]],
                    validation_report: bytes, summary: dict, timings: dict[str, float],
                    shapes_files: list[Path]) -> Release:
    """Write a complete release, then make it current.

    `graph_files` are the articles' graphs as canonical N-Quads files and `shared` the shared graphs,
    all in graph order: the union dump is their concatenation, streamed, never the whole corpus in
    memory. `timings` receives seconds per stage. `shapes_files` (the SHACL shapes the release was
    validated against) are published as one file, so the server can show them without the repository.
    """
    releases = build_dir / RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    final = releases / release_id
    if not (final / "release.json").is_file():
        staging = releases / f".staging-{release_id}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        dumps = staging / "dumps"
        dumps.mkdir(parents=True)
        nquads = dumps / UNION_NQUADS
        began = time.perf_counter()
        triples = 0
        with nquads.open("wb") as out:
            for path in graph_files:
                with path.open("rb") as graph:
                    for block in iter(lambda: graph.read(1 << 20), b""):
                        out.write(block)
                        triples += block.count(b"\n")
            for quads in shared:
                quads = stable_blank_nodes(quads)
                serialize(quads, out, RdfFormat.N_QUADS)
                triples += len(quads)
        timings["union N-Quads"] = time.perf_counter() - began
        began = time.perf_counter()
        store = Store(str(staging / "store"))
        store.bulk_load(path=str(nquads), format=RdfFormat.N_QUADS)
        store.optimize()
        timings["store load"] = time.perf_counter() - began
        began = time.perf_counter()
        write_dumps(nquads, dumps, summary["base"])
        timings["other dump formats"] = time.perf_counter() - began
        began = time.perf_counter()
        # The description lists the dumps with their checksums, so it cannot be inside them: it is
        # published beside them (and in SHA256SUMS), and served at /.well-known/void.
        description = describe_release(store, DatasetInfo(release_id, summary), inventory(dumps))
        (dumps / DESCRIPTION_FILE).write_bytes(description)
        # Likewise the SHACL report of the build: published with the dumps, not a distribution of the data.
        (dumps / VALIDATION_REPORT_FILE).write_bytes(validation_report)
        (dumps / SHAPES_FILE).write_bytes(shapes_turtle(shapes_files))
        files = write_checksums(dumps)
        timings["description and checksums"] = time.perf_counter() - began
        del store
        manifest = {"release": release_id, "quads": triples, "dumps": files, **summary}
        (staging / "release.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        try:
            os.replace(staging, final)
        except OSError:
            if not (final / "release.json").is_file():
                raise
            shutil.rmtree(staging)  # another build published the same release (same inputs) first
    point_current(build_dir, final)
    prune_releases(releases, keep=final)
    return Release(final)


def point_current(build_dir: Path, release: Path) -> None:
    """Re-point `build/current` at a release with one atomic rename."""
    temporary = build_dir / f".{CURRENT}-{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(release.relative_to(build_dir))
    os.replace(temporary, build_dir / CURRENT)


def prune_releases(releases: Path, keep: Path) -> None:
    """Remove staging leftovers of interrupted builds and all but the newest few releases."""
    for leftover in releases.glob(".staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    others = sorted((p for p in releases.iterdir() if p.is_dir() and p != keep),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in others[KEEP_RELEASES - 1:]:
        shutil.rmtree(old, ignore_errors=True)
