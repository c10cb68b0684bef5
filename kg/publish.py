"""Publish a validated graph as a release: dumps, an embedded store and a manifest, swapped in atomically.

Layout of the build folder:

    build/releases/<release-id>/   one complete release (dumps/, store/, release.json, validation-report.ttl)
    build/current                  symlink to the release being served; replaced atomically

A release is written into a temporary folder and renamed into place only when complete, then
`current` is re-pointed with one atomic rename: a reader sees the old release or the new one,
whole, and a failed or interrupted build leaves the published release untouched.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from pyoxigraph import Quad, RdfFormat, Store, parse, serialize

from kg.rdf import PREFIXES

RELEASES = "releases"
CURRENT = "current"
KEEP_RELEASES = 3
UNION_NQUADS = "graph.nq"

DUMP_FORMATS = {
    "graph.nq": RdfFormat.N_QUADS,
    "graph.trig": RdfFormat.TRIG,
    "graph.ttl": RdfFormat.TURTLE,
    "graph.nt": RdfFormat.N_TRIPLES,
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


def write_dumps(nquads: Path, dumps: Path) -> dict[str, dict]:
    """Write every dump format from the canonical N-Quads file, streaming; returns sizes and checksums."""
    for name, rdf_format in DUMP_FORMATS.items():
        target = dumps / name
        if name == UNION_NQUADS:
            continue
        quads = parse(path=str(nquads), format=RdfFormat.N_QUADS)
        items: Iterator = quads if rdf_format.supports_datasets else (q.triple for q in quads)
        serialize(items, str(target), rdf_format, prefixes=PREFIXES)
    files = {}
    for path in sorted(dumps.iterdir()):
        files[path.name] = {"bytes": path.stat().st_size, "sha256": sha256_of(path)}
    (dumps / "SHA256SUMS").write_text("".join(f"{meta['sha256']}  {name}\n" for name, meta in files.items()),
                                      encoding="utf-8")
    return files


def publish_release(build_dir: Path, release_id: str, graphs: Iterable[list[Quad]],
                    validation_report: bytes, summary: dict) -> Release:
    """Write a complete release from canonical per-graph quad lists (in graph order), then make it current."""
    releases = build_dir / RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    final = releases / release_id
    if not (final / "release.json").is_file():
        staging = releases / f".staging-{release_id}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "dumps").mkdir(parents=True)
        nquads = staging / "dumps" / UNION_NQUADS
        triples = 0
        with nquads.open("wb") as out:
            for quads in graphs:
                serialize(quads, out, RdfFormat.N_QUADS)
                triples += len(quads)
        files = write_dumps(nquads, staging / "dumps")
        store = Store(str(staging / "store"))
        store.bulk_load(path=str(nquads), format=RdfFormat.N_QUADS)
        store.optimize()
        del store
        (staging / "validation-report.ttl").write_bytes(validation_report)
        manifest = {"release": release_id, "quads": triples, "dumps": files, **summary}
        (staging / "release.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)
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
