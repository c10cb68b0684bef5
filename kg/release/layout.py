"""The layout of a release folder: the one thing the build writes and the server reads.

    build/
      releases/<id>/        a release: its id hashes every input and LAYOUT, so a new layout is rebuilt
        release.json        the manifest (counts, files, timings)
        store/              the embedded Oxigraph store, opened read-only by the server
        graphs.sqlite       graph IRI → key of its content, for the next incremental build
        dumps/              the dumps and files published under /dumps/ (with SHA256SUMS)
      releases/.staging-*   a release being written (removed when a build fails)
      current -> releases/<id>   the release being served, swapped by one atomic rename

kg.release.writer writes this; kg.server reads it through here only.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import RdfFormat

RELEASES = "releases"
CURRENT = "current"
LAYOUT = "4"  # what a release folder holds; part of the release id, so a new layout is rebuilt, never reused
UNION_NQUADS = "graph.nq"
GRAPHS_FILE = "graphs.sqlite"  # graph IRI → key of its content: what a later release can keep from this one
CONTEXT_FILE = "context.jsonld"
DESCRIPTION_FILE = "void.ttl"
VALIDATION_REPORT_FILE = "validation-report.ttl"
SHAPES_FILE = "shapes.ttl"
CHECKSUMS_FILE = "SHA256SUMS"
STAGING = ".staging-"  # + release id and process id: a release being written

DUMP_FORMATS = {
    "graph.nq": RdfFormat.N_QUADS,
    "graph.trig": RdfFormat.TRIG,
    "graph.jsonld": RdfFormat.JSON_LD,
    "graph.ttl": RdfFormat.TURTLE,
    "graph.nt": RdfFormat.N_TRIPLES,
}

MEDIA_TYPES = {
    ".nq": "application/n-quads",
    ".trig": "application/trig",
    ".jsonld": "application/ld+json",
    ".ttl": "text/turtle",
    ".nt": "application/n-triples",
    ".gz": "application/gzip",
}


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


def media_type(name: str) -> str:
    """The media type a published file is served with (a .gz file is gzip, never a content encoding)."""
    return MEDIA_TYPES.get(Path(name).suffix, "text/plain")
