"""Run `kg build` as if its build folder were on a small disk (tests/test_build_full_disk.py).

    python tests/full_disk.py [--capacity BYTES] [--record FILE] [--interrupt] [--sqlite-full] -- build ARGS...

The disk is simulated in the build's own process, so it works anywhere, root or not: `SmallDisk` limits, at
the level of write(2), what Python's open() (pathlib's too) writes in the build folder. Each build runs in a
process of its own, as `kg build` does: a build forks, and a process that forks must not have opened a store
(see kg.parallel.child_forked_now), which a test process may well have done.
"""
from __future__ import annotations

import argparse
import builtins
import errno
import io
import os
import sqlite3
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REAL_OPEN = io.open
NO_SPACE = os.strerror(errno.ENOSPC)  # "No space left on device"
WRITING = set("wax")


class SmallDisk:
    """The folder as if on a disk of `capacity` bytes (its files' sizes summed).

    Files opened for writing in the folder write through WriteOnSmallDisk, as the system's write(2) does
    on a full disk: what fits is written, then OSError ENOSPC, naming no file. Processes forked while it is
    installed (the build's workers) inherit it. Native code (the store engine, SQLite) writes past it, but
    what it writes takes room all the same. With `record`, every write appends to that file the size the
    folder would reach and the stage it belongs to (`release` or `cache`). With `interrupt`, a write that
    does not fit raises KeyboardInterrupt instead (in the build's main process: Ctrl-C there).
    """

    def __init__(self, folder: Path, capacity: float, record: Path | None = None, interrupt: bool = False):
        self.folder = str(folder.resolve())
        self.capacity = capacity
        self.record = record
        self.interrupt = interrupt
        self.process = os.getpid()

    def used(self) -> int:
        total = 0
        for root, _, files in os.walk(self.folder):
            for name in files:
                try:
                    total += os.lstat(os.path.join(root, name)).st_size
                except FileNotFoundError:
                    pass  # removed meanwhile
        return total

    def room_for(self, size: int, name: str) -> int:
        """How many of `size` bytes fit; raises as a full disk does when none does."""
        used = self.used()
        if self.record is not None:
            stage = "release" if name.startswith(os.path.join(self.folder, "releases") + os.sep) else "cache"
            line = os.open(self.record, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            os.write(line, f"{used + size} {stage}\n".encode())
            os.close(line)
        room = int(min(size, self.capacity - used))
        if room <= 0:
            if self.interrupt and os.getpid() == self.process:
                raise KeyboardInterrupt
            raise OSError(errno.ENOSPC, NO_SPACE)
        return room

    def open(self, file, mode="r", buffering=-1, encoding=None, errors=None, newline=None, closefd=True,
             opener=None):
        if (isinstance(file, int) or not WRITING & set(mode) or "+" in mode
                or not os.path.abspath(file).startswith(self.folder + os.sep)):
            return REAL_OPEN(file, mode, buffering, encoding, errors, newline, closefd, opener)
        raw = REAL_OPEN(file, mode.replace("t", "").replace("b", "") + "b", 0, closefd=closefd, opener=opener)
        checked = WriteOnSmallDisk(raw, self)
        if "b" in mode and buffering == 0:
            return checked
        buffered = io.BufferedWriter(checked)
        return buffered if "b" in mode else io.TextIOWrapper(buffered, encoding, errors, newline)

    def install(self) -> None:
        io.open = builtins.open = self.open


class WriteOnSmallDisk(io.RawIOBase):
    """A file's system calls, with write limited by the SmallDisk's room."""

    def __init__(self, raw: io.FileIO, disk: SmallDisk):
        super().__init__()
        self.raw, self.disk = raw, disk

    @property
    def name(self) -> str:
        return self.raw.name

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.raw.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def fileno(self) -> int:
        return self.raw.fileno()

    def write(self, data) -> int:
        data = memoryview(data).cast("B")
        return self.raw.write(data[:self.disk.room_for(len(data), os.path.abspath(self.raw.name))])

    def close(self) -> None:
        if not self.closed:
            self.raw.close()
        super().close()


@contextmanager
def full_sqlite_databases(folder: Path) -> Iterator[None]:
    """SQLite databases created in `folder` cannot grow past their first page: SQLite's own "database or
    disk is full" (SQLITE_FULL), as on a full disk."""
    connect = sqlite3.connect
    prefix = str(folder.resolve()) + os.sep

    def connect_to_a_full_disk(database, *args, **kwargs):
        connection = connect(database, *args, **kwargs)
        if str(database).startswith(prefix):
            connection.execute("PRAGMA max_page_count = 1")
        return connection
    sqlite3.connect = connect_to_a_full_disk
    try:
        yield
    finally:
        sqlite3.connect = connect


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capacity", type=float, default=float("inf"), help="bytes the build folder may hold")
    parser.add_argument("--record", type=Path, help="append the size each write would reach to this file")
    parser.add_argument("--interrupt", action="store_true", help="KeyboardInterrupt instead of ENOSPC")
    parser.add_argument("--sqlite-full", type=Path, help="SQLite databases created under this folder are full")
    parser.add_argument("kg", nargs=argparse.REMAINDER, help="-- then the `kg` command line (build --build-dir X)")
    args = parser.parse_args()
    command = args.kg[1:] if args.kg[:1] == ["--"] else args.kg
    build_dir = Path(command[command.index("--build-dir") + 1])
    SmallDisk(build_dir, args.capacity, args.record, args.interrupt).install()
    from kg.cli.main import main as kg

    if args.sqlite_full is None:
        return kg(command)
    with full_sqlite_databases(args.sqlite_full):
        return kg(command)


if __name__ == "__main__":
    sys.exit(main())
