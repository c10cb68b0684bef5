"""Opening and loading the on-disk pyoxigraph stores the server reads.

`kg serve --data FILE...` loads arbitrary RDF files into a store kept in a cache folder keyed by a
hash of the files' contents, so a restart with unchanged input reuses the store instead of reloading.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from pyoxigraph import RdfFormat, Store

from kg.rdf.vocabulary import RDF_FILE_FORMATS

_STORE_LAYOUT_VERSION = b"kg-store-1"


class StoreLoadError(Exception):
    """An input file could not be read or parsed; the message names the file and where."""


def default_cache_dir() -> Path:
    """The per-user cache folder for loaded stores (XDG_CACHE_HOME honoured)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "diplomacy-kg" / "stores"


def rdf_format_for(path: Path) -> RdfFormat:
    """The RDF syntax of a file, from its extension; StoreLoadError when unknown."""
    rdf_format = RDF_FILE_FORMATS.get(path.suffix.lower())
    if rdf_format is None:
        raise StoreLoadError(f"{path}: unknown RDF file extension {path.suffix or '(none)'!r} "
                             f"(known: {', '.join(sorted(RDF_FILE_FORMATS))})")
    return rdf_format


def fingerprint(files: Sequence[Path]) -> str:
    """A hash of the files' names' syntaxes and contents, in order: the cache key of their store."""
    digest = hashlib.sha256(_STORE_LAYOUT_VERSION)
    for path in files:
        digest.update(b"\0" + rdf_format_for(path).media_type.encode() + b"\0")
        try:
            with path.open("rb") as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError as error:
            raise StoreLoadError(f"{path}: cannot read: {error.strerror or error}") from None
    return digest.hexdigest()[:32]


def load_data_store(files: Sequence[Path], cache_dir: Path | None = None) -> Path:
    """Return the path of an on-disk store holding `files`, loading it only if not cached yet.

    Triples from triple formats go to the default graph, quads keep their graph names. The store is
    built in a private temporary folder and renamed into place, so concurrent `kg serve` runs on the
    same files never see a half-loaded store.
    """
    cache_dir = cache_dir or default_cache_dir()
    target = cache_dir / fingerprint(files)
    if target.is_dir():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    building = cache_dir / f".{target.name}.{os.getpid()}.loading"
    shutil.rmtree(building, ignore_errors=True)
    try:
        store = Store(str(building))
        for path in files:
            try:
                store.bulk_load(path=str(path), format=rdf_format_for(path))
            except SyntaxError as error:
                where = f"{path}:{error.lineno}:{error.offset}" if error.lineno else str(path)
                reason = (error.msg or str(error)).split(": ", 1)[-1]
                raise StoreLoadError(f"{where}: {reason}") from None
            except OSError as error:
                raise StoreLoadError(f"{path}: cannot load: {error}") from None
        store.flush()
        del store
        try:
            building.rename(target)
        except OSError:
            if not target.is_dir():  # lost a race against another loader only if it won
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def open_read_only(path: Path) -> Store:
    """Open a store for reading; several processes may do so at once."""
    return Store.read_only(str(path))
