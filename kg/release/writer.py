"""Publish a validated graph as a release: dumps, an embedded store and a manifest, swapped in atomically.

Layout of the build folder:

    build/releases/<release-id>/   one complete release (dumps/ with the SHACL shapes.ttl and validation-report.ttl, store/,
                                   release.json)
    build/current                  symlink to the release being served; replaced atomically

A release is written into a temporary folder and renamed into place only when complete, then
`current` is re-pointed with one atomic rename: a reader sees the old release or the new one,
whole, and a failed or interrupted build leaves the published release untouched.

A build that fails removes its temporary folder (`.staging-*`), and one that was killed (SIGKILL, the
OOM killer) leaves it to the next build: `remove_leftovers`, run under the build lock. An error of the
system names the file or folder it is about (`naming`): a failed write() names none by itself.
"""
from __future__ import annotations

import errno
import gzip
import io
import json
import os
import shutil
import sqlite3
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from pyoxigraph import NamedNode, Quad, RdfFormat, Store, parse, serialize

from kg.release.description import DatasetInfo, describe_release, statistics
from kg.release.layout import CHECKSUMS_FILE, CONTEXT_FILE, CURRENT, DESCRIPTION_FILE, DUMP_FORMATS, GRAPHS_FILE, RELEASES, Release, SHAPES_FILE, STAGING, UNION_NQUADS, VALIDATION_REPORT_FILE, current_release, sha256_of
from kg.rdf.jsonld import DOCUMENT_FOOTER, JsonLdContext, document_header, write_items
from kg.rdf.vocabulary import PREFIXES, SHAPES_PREFIXES
from kg.rdf.graphs import canonical, stable_blank_nodes
from kg.parallel import hand_back_freed_memory

KEEP_RELEASES = 3
INCREMENTAL_SHARE = 0.1  # replace graphs in a copy of the previous store when at most this share changed
# N-Quads per bulk load: the loader's memory grows with its input (measured in docs/performance.md).
BULK_LOAD_BYTES = 4 << 20
STORE_SEGMENT_BYTES = 96 << 20  # of N-Quads loaded into the store by one process (see load_store)

SQLITE_FULL = 13  # SQLite's result code for "database or disk is full"
TEMPORARY_SUFFIX = ".tmp"  # of a file being written by write_whole

def dump_part(stem: Path, dump: str) -> Path:
    """The file holding one graph's part of `dump` (e.g. `graph.ttl`), beside the graph's other parts."""
    return stem.with_name(f"{stem.name}.{dump.split('.', 1)[1]}")


def write_dump_parts(quads: list[Quad], stem: Path, context: JsonLdContext) -> dict[str, float]:
    """One graph's part of every dump format, plain and gzip, each file written whole or not at all;
    returns the seconds each format took (serializing, compressing, writing), for `kg build --timings`.

    A dump is a header, its graphs' parts and a footer, concatenated (`assemble_dumps`). A gzip file
    may hold several members, so the .gz dumps are concatenations too: a changed article rewrites
    its own parts only, never the whole corpus.
    """
    seconds = {}
    for dump, rdf_format in DUMP_FORMATS.items():
        began = time.perf_counter()
        if rdf_format == RdfFormat.JSON_LD:
            text = io.StringIO()
            write_items(quads, context, text)
            data = text.getvalue().encode()
        else:
            statements = quads if rdf_format.supports_datasets else [q.triple for q in quads]
            data = serialize(statements, format=rdf_format, prefixes=PREFIXES)
            while data.startswith(b"@prefix "):  # declared once, in the dump's header
                data = data[data.index(b"\n") + 1:]
        part = dump_part(stem, dump)
        write_whole(part, data)
        write_whole(part.with_name(part.name + ".gz"), gzipped(data))
        seconds[dump] = time.perf_counter() - began
    return seconds


def has_dump_parts(stem: Path) -> bool:
    return all(dump_part(stem, dump + suffix).is_file() for dump in DUMP_FORMATS for suffix in ("", ".gz"))


def write_whole(path: Path, data: bytes) -> None:
    """Write a file under a temporary name, then rename it: readers see it whole or not at all. When that
    fails (a full disk, say), the temporary file is removed and the error names `path`."""
    temporary = path.with_name(path.name + TEMPORARY_SUFFIX)
    try:
        with naming(path):
            temporary.write_bytes(data)
            os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def naming(path: Path) -> Iterator[None]:
    """Give `path` to an OSError raised in the block that names no file (a failed write() or close() names
    none, nor does the store engine), and turn a SQLite error into an OSError naming `path`: every message
    of a failed build then says where."""
    try:
        yield
    except OSError as error:
        if error.filename is not None:
            raise
        if error.strerror is None:  # the store engine's: a message alone, which would be lost beside a file name
            raise OSError(error.errno, str(error), str(path)) from error
        error.filename = str(path)
        raise
    except sqlite3.Error as error:
        raise sqlite_os_error(error, path) from error


def sqlite_os_error(error: sqlite3.Error, path: Path) -> OSError:
    """A SQLite error as the OSError of the system it stands for (SQLITE_FULL: ENOSPC), naming the file."""
    code = errno.ENOSPC if getattr(error, "sqlite_errorcode", 0) & 0xFF == SQLITE_FULL else errno.EIO
    return OSError(code, f"{os.strerror(code)} (SQLite: {error})", str(path))


class WrittenFile:
    """A file open for writing (binary) whose write and close errors name it, for files written a block at
    a time; use as a context manager, which closes it."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = path.open("wb")

    def write(self, data: bytes) -> int:
        with naming(self.path):
            return self.handle.write(data)

    def __enter__(self) -> WrittenFile:
        return self

    def __exit__(self, *_: object) -> None:
        with naming(self.path):
            self.handle.close()


def gzipped(data: bytes) -> bytes:
    """One byte-reproducible gzip member: no file name and a zero timestamp in its header."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def dump_frame(dump: str, context: JsonLdContext) -> tuple[bytes, bytes, bytes]:
    """What a dump holds around its graphs' parts: header, separator between parts, footer."""
    rdf_format = DUMP_FORMATS[dump]
    if rdf_format == RdfFormat.JSON_LD:
        return document_header(context).encode(), b",", DOCUMENT_FOOTER.encode()
    if rdf_format in (RdfFormat.TURTLE, RdfFormat.TRIG):
        return "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in PREFIXES.items()).encode(), b"", b""
    return b"", b"", b""


def assemble_dumps(graphs: Graphs, dumps: Path, context: JsonLdContext) -> int:
    """Write every dump (and its .gz) from the graphs' parts, in order, and the JSON-LD context; returns the quads.

    Files are concatenated block by block, so memory stays flat however large the corpus grows.
    """
    write_whole(dumps / CONTEXT_FILE, (json.dumps({"@context": context.document()}, indent=1) + "\n").encode())
    quads = 0
    for dump in DUMP_FORMATS:
        header, separator, footer = dump_frame(dump, context)
        with WrittenFile(dumps / dump) as plain, WrittenFile(dumps / f"{dump}.gz") as packed:
            def add(data: bytes) -> None:
                if data:
                    plain.write(data)
                    packed.write(gzipped(data))
            add(header)
            for index, graph in enumerate(graphs()):
                if index:
                    add(separator)
                part = dump_part(graph.stem, dump)
                with naming(part), part.open("rb") as source:  # read errors name the part, write errors the dump
                    for block in iter(lambda: source.read(1 << 20), b""):
                        plain.write(block)
                        if dump == UNION_NQUADS:
                            quads += block.count(b"\n")
                packed_part = part.with_name(part.name + ".gz")
                with naming(packed_part), packed_part.open("rb") as source:
                    shutil.copyfileobj(source, packed, 1 << 20)
            add(footer)
    return quads


def inventory(dumps: Path) -> dict[str, dict]:
    """Byte size and SHA-256 of every file in `dumps` but the checksum file, by name."""
    return {path.name: {"bytes": path.stat().st_size, "sha256": sha256_of(path)}
            for path in sorted(dumps.iterdir()) if path.name != CHECKSUMS_FILE}


def write_checksums(dumps: Path) -> dict[str, dict]:
    """Write SHA256SUMS (the format `sha256sum -c` reads) for every file in `dumps`; returns the inventory."""
    files = inventory(dumps)
    sums = "".join(f"{meta['sha256']}  {name}\n" for name, meta in files.items())
    write_whole(dumps / CHECKSUMS_FILE, sums.encode())
    return files


def shapes_turtle(shapes_files: Iterable[Path]) -> bytes:
    """The SHACL shapes files as one Turtle document, canonical (sorted, stable blank-node labels)."""
    quads = [quad for path in shapes_files for quad in parse(path=str(path), format=RdfFormat.TURTLE)]
    triples = [q.triple for q in stable_blank_nodes(list(canonical(quads)))]
    return serialize(triples, format=RdfFormat.TURTLE, prefixes={**PREFIXES, **SHAPES_PREFIXES})


@dataclass(frozen=True)
class GraphParts:
    """One named graph ready to publish: its IRI, where its dump parts are, and a key of its content."""

    name: str
    folder: Path  # one Path object for all the graphs of a build: a Path takes ~0.5 KB, a build has thousands
    stem_name: str
    key: str

    @property
    def stem(self) -> Path:
        """dump_part(stem, UNION_NQUADS) is the graph as canonical N-Quads."""
        return self.folder / self.stem_name


Graphs = Callable[[], Iterable[GraphParts]]  # gives the graphs anew, in the same order, each time it is called


def publish_release(build_dir: Path, release_id: str, articles: Graphs, shared: list[list[Quad]],
                    context: JsonLdContext, validation_report: Path, summary: dict, timings: dict[str, float],
                    shapes_files: list[Path], apart: Callable[..., Any]) -> Release:
    """Write a complete release, then make it current.

    `articles` are the articles' graphs with their dump parts written, `shared` the shared graphs, all
    in graph order: every dump is the concatenation of their parts, streamed, and the graphs are read
    again for each stage, never the whole corpus in memory. `validation_report` is the build's SHACL report
    (a Turtle file). `timings` receives seconds per stage. `shapes_files` (the SHACL shapes the release was
    validated against) are published as one file, so the server can show them without the repository.
    `apart(work, *args)` runs each segment of the store load, and the dataset statistics, in a process that
    holds none of the caller's per-article data (`kg.parallel.child_forked_now`).
    """
    releases = build_dir / RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    final = releases / release_id
    if not (final / "release.json").is_file():
        staging = releases / f"{STAGING}{release_id}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)  # of a build that ended before with this process id
        try:
            write_release(staging, release_id, build_dir, articles, shared, context, validation_report, summary,
                          timings, shapes_files, apart)
            try:
                os.replace(staging, final)
            except OSError:
                if not (final / "release.json").is_file():
                    raise
                # another build published the same release (same inputs) first; removed below
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # gone once renamed; else what a failure left
    point_current(build_dir, final)
    prune_releases(releases, keep=final)
    return Release(final)


def write_release(staging: Path, release_id: str, build_dir: Path, articles: Graphs, shared: list[list[Quad]],
                  context: JsonLdContext, validation_report: Path, summary: dict, timings: dict[str, float],
                  shapes_files: list[Path], apart: Callable[..., Any]) -> None:
    """Write a whole release into the folder `staging` (see publish_release); an error names its file."""
    dumps = staging / "dumps"
    dumps.mkdir(parents=True)
    began = time.perf_counter()
    shared_graphs = shared_parts(shared, staging / "parts", context)

    def graphs() -> Iterator[GraphParts]:
        yield from articles()
        yield from shared_graphs
    quads = assemble_dumps(graphs, dumps, context)
    timings["dumps"] = time.perf_counter() - began
    began = time.perf_counter()
    with naming(staging / GRAPHS_FILE):
        write_graph_keys(staging / GRAPHS_FILE, graphs())
    with naming(staging / "store"):
        load_store(staging / "store", graphs, staging / GRAPHS_FILE, current_release(build_dir), apart)
    shutil.rmtree(staging / "parts")
    timings["store load"] = time.perf_counter() - began
    began = time.perf_counter()
    # The description lists the dumps with their checksums, so it cannot be inside them: it is
    # published beside them (and in SHA256SUMS), and served at /.well-known/void.
    with naming(dumps / DESCRIPTION_FILE):
        apart(describe_dumps, dumps, staging / "statistics", DatasetInfo(release_id, summary))
    # Likewise the SHACL report of the build: published with the dumps, not a distribution of the data.
    with naming(dumps / VALIDATION_REPORT_FILE):
        shutil.copyfile(validation_report, dumps / VALIDATION_REPORT_FILE)
    write_whole(dumps / SHAPES_FILE, shapes_turtle(shapes_files))
    files = write_checksums(dumps)
    timings["description and checksums"] = time.perf_counter() - began
    manifest = {"release": release_id, "quads": quads, "dumps": files, **summary}
    write_whole(staging / "release.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())


def describe_dumps(dumps: Path, scratch: Path, info: DatasetInfo) -> None:
    """Write the description of a release's dumps beside them, with the statistics of its union N-Quads dump."""
    files = inventory(dumps)
    with naming(scratch), statistics(dumps / UNION_NQUADS, scratch) as stats:
        with naming(dumps / DESCRIPTION_FILE):
            describe_release(stats, info, files, dumps / DESCRIPTION_FILE)


def shared_parts(shared: list[list[Quad]], folder: Path, context: JsonLdContext) -> list[GraphParts]:
    """Dump parts of the shared graphs (small, written anew each build), keyed by their N-Quads."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for index, quads in enumerate(shared):
        quads = stable_blank_nodes(quads)
        stem = folder / f"shared-{index}"
        write_dump_parts(quads, stem, context)
        parts.append(GraphParts(quads[0].graph_name.value, folder, stem.name, sha256_of(dump_part(stem, UNION_NQUADS))))
    return parts


def write_graph_keys(path: Path, graphs: Iterable[GraphParts]) -> None:
    """Write a release's graph IRIs with the keys of their content, on disk (SQLite), never all in memory."""
    with closing(sqlite3.connect(path)) as keys, keys:
        keys.execute("CREATE TABLE graphs (name TEXT PRIMARY KEY, key TEXT NOT NULL) WITHOUT ROWID")
        keys.executemany("INSERT INTO graphs VALUES (?, ?)", ((graph.name, graph.key) for graph in graphs))


def load_store(path: Path, graphs: Graphs, keys: Path, previous: Release | None, apart: Callable[..., Any]) -> None:
    """Write the release's store: a copy of the previous release's with only the changed graphs replaced, when
    few changed; otherwise loaded afresh, each segment of the corpus in a process of its own (`apart`).

    `keys` holds the graphs' content keys (`write_graph_keys`), compared with the previous release's.
    A store engine's memory grows with what it has loaded, as long as it stays open, so each segment is
    loaded by a process of its own (figures in docs/performance.md).
    Either way the store is compacted last. Replaced graphs otherwise stay in table files of their own
    over the copied ones, and every index scan merges both: queries ran 10–25% slower on such a store.
    """
    with naming(keys):
        changes = _few_changes(graphs, keys, previous)
    if changes is not None:
        apart(_replace_graphs, previous.store_path, path, *changes)
    else:
        for segment in _groups_of_size(graphs(), STORE_SEGMENT_BYTES):
            apart(_bulk_load, path, segment)
    apart(_compact, path)


def _few_changes(graphs: Graphs, keys: Path, previous: Release | None) -> tuple[list[str], list[GraphParts]] | None:
    """The graphs gone since the previous release and the graphs new or changed, when they are at most
    INCREMENTAL_SHARE of the graphs; else None. The keys are compared on disk, a graph at a time."""
    known = previous.path / GRAPHS_FILE if previous is not None else None
    if known is None or not known.is_file():
        return None
    with closing(sqlite3.connect(keys.resolve().as_uri(), uri=True)) as db:
        db.execute("ATTACH DATABASE ? AS previous", (known.resolve().as_uri() + "?mode=ro",))
        total, changed = db.execute(
            "SELECT count(*), count(*) FILTER (WHERE old.key IS NOT new.key) "
            "FROM main.graphs AS new LEFT JOIN previous.graphs AS old USING (name)").fetchone()
        gone = "FROM previous.graphs WHERE name NOT IN (SELECT name FROM main.graphs)"
        if changed + db.execute(f"SELECT count(*) {gone}").fetchone()[0] > total * INCREMENTAL_SHARE:
            return None
        old_key = "SELECT key FROM previous.graphs WHERE name = ?"
        return ([name for name, in db.execute(f"SELECT name {gone} ORDER BY name")],
                [graph for graph in graphs() if db.execute(old_key, (graph.name,)).fetchone() != (graph.key,)])


def _groups_of_size(graphs: Iterable[GraphParts], limit: int) -> Iterator[list[GraphParts]]:
    """The graphs in order, in consecutive groups of about `limit` bytes of N-Quads (the last one may be less)."""
    group: list[GraphParts] = []
    size = 0
    for graph in graphs:
        group.append(graph)
        size += dump_part(graph.stem, UNION_NQUADS).stat().st_size
        if size >= limit:
            yield group
            group, size = [], 0
    if group:
        yield group


def _replace_graphs(source: Path, path: Path, gone: list[str], changed: list[GraphParts]) -> None:
    """A copy of the store at `source` without the graphs `gone` and with the `changed` ones loaded anew."""
    Store.read_only(str(source)).backup(str(path))
    store = Store(str(path))
    for name in gone + [graph.name for graph in changed]:
        store.remove_graph(NamedNode(name))
    for graph in changed:
        store.load(path=str(dump_part(graph.stem, UNION_NQUADS)), format=RdfFormat.N_QUADS)
    store.flush()


def _bulk_load(path: Path, graphs: list[GraphParts]) -> None:
    """Add the graphs to the store at `path`, about BULK_LOAD_BYTES of N-Quads per bulk load: the engine's
    memory grows with a load's size. What it frees after each goes back to the system."""
    store = Store(str(path))
    for batch in _groups_of_size(graphs, BULK_LOAD_BYTES):
        store.bulk_load(b"".join(dump_part(graph.stem, UNION_NQUADS).read_bytes() for graph in batch),
                        format=RdfFormat.N_QUADS)
        hand_back_freed_memory()


def _compact(path: Path) -> None:
    Store(str(path)).optimize()


def point_current(build_dir: Path, release: Path) -> None:
    """Re-point `build/current` at a release with one atomic rename."""
    temporary = build_dir / f".{CURRENT}-{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    try:
        temporary.symlink_to(release.relative_to(build_dir))
        os.replace(temporary, build_dir / CURRENT)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove_leftovers(build_dir: Path) -> None:
    """Remove what killed builds left under temporary names: release folders being written (`.staging-*`)
    and `current` links being replaced (`.current-*`).

    Only while holding the build lock (`kg.pipeline.build.build_lock`): every build holds it from start to end, so
    none is writing these, and the lock of a killed build is gone with its process (the system releases
    it). Without the lock a running build's staging folder could not be told from a dead one's."""
    for leftover in (build_dir / RELEASES).glob(f"{STAGING}*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in build_dir.glob(f".{CURRENT}-*"):
        if leftover.is_symlink():
            leftover.unlink(missing_ok=True)


def prune_releases(releases: Path, keep: Path) -> None:
    """Remove all but the newest few releases (builds' leftovers go in `remove_leftovers`)."""
    others = sorted((p for p in releases.iterdir() if p.is_dir() and p != keep and not p.name.startswith(STAGING)),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in others[KEEP_RELEASES - 1:]:
        shutil.rmtree(old, ignore_errors=True)
