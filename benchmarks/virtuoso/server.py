"""A private OpenLink Virtuoso 7 (Debian's `virtuoso-opensource`) for the tests and the benchmarks.

`start_virtuoso(folder)` copies the packaged /etc/virtuoso-opensource-7/virtuoso.ini with its database,
log and lock files in `folder`, free ports for HTTP and ISQL, `folder` allowed to the bulk loader
(DirsAllowed), and the store's own query limits given; it runs `virtuoso-t +foreground` and waits until
/sparql answers. `stop()` ends that process by its PID. Nothing outside `folder` is written.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

PACKAGED_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
VIRTUOSO = "virtuoso-t"
ISQL = "isql-vt"
INSTALL = "apt-get install -y virtuoso-opensource"
USER, PASSWORD = "dba", "dba"  # the packaged database's administrator, on 127.0.0.1 only
STARTUP_SECONDS = 120


def missing() -> str | None:
    """Why Virtuoso cannot be started here, or None when it can."""
    for program in (VIRTUOSO, ISQL):
        if shutil.which(program) is None:
            return f"{program} is missing: {INSTALL}"
    if not PACKAGED_INI.is_file():
        return f"{PACKAGED_INI} is missing: {INSTALL}"
    return None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Virtuoso:
    """A running private Virtuoso and where to reach it."""

    process: subprocess.Popen
    folder: Path
    http_port: int
    isql_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql(self) -> str:
        """The anonymous SPARQL 1.1 Protocol endpoint (read-only for its SPARQL user)."""
        return f"{self.url}/sparql"

    @property
    def graph_store(self) -> str:
        """The authenticated SPARQL 1.1 Graph Store endpoint (HTTP Digest)."""
        return f"{self.url}/sparql-graph-crud-auth"

    def isql(self, script: str, timeout: float = 600) -> str:
        """Run an ISQL script as the administrator; its output (RuntimeError with it on failure)."""
        done = subprocess.run([ISQL, str(self.isql_port), USER, PASSWORD, "VERBOSE=OFF", "BANNER=OFF"],
                              input=script, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0 or "*** Error" in done.stdout:
            raise RuntimeError(f"isql-vt failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
        return done.stdout

    def stop(self) -> None:
        """End the server by its PID (SIGTERM, then SIGKILL after 30 s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log(self) -> str:
        path = self.folder / "virtuoso.log"
        return path.read_text(errors="replace")[-3000:] if path.is_file() else ""


PRIVATE_GRAPHS = "http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs"  # Virtuoso's group of private graphs


def private_graphs_script(graphs: list[str]) -> str:
    """ISQL making `graphs` private: the anonymous SPARQL user ("nobody", the one /sparql answers as) no longer
    reads them, so its default graph and GRAPH ?g leave them out, while every other graph, published now or
    later, stays readable (Virtuoso's graph-level security; docs/stores.md)."""
    lines = [f"DB.DBA.RDF_GRAPH_GROUP_CREATE ('{PRIVATE_GRAPHS}', 1);"]
    lines += [f"DB.DBA.RDF_GRAPH_GROUP_INS ('{PRIVATE_GRAPHS}', '{graph}');" for graph in graphs]
    lines += ["DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 0, 1);",  # private graphs: nothing
              "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 1, 0);"]  # the others: read
    return "\n".join(lines) + "\n"


def configure(folder: Path, http_port: int, isql_port: int, *, buffers: int = 50_000,
              max_rows: int = 1_000_000, max_seconds: int = 0, dirs_allowed: tuple[Path, ...] = ()) -> Path:
    """Write `folder`/virtuoso.ini: the packaged one with every path, port and limit set for `folder`.

    `buffers` are 8 KB pages of cache; `max_rows` is the store's ResultSetMaxRows (answers longer than
    that are cut short by Virtuoso, silently) and MaxSortedTopRows (an ORDER BY with a LIMIT above it is
    refused: kg serve asks for --max-results + 1 rows); `max_seconds` its MaxQueryExecutionTime (0: none).
    Its MaxQueryCostEstimationTime is 0: no query is refused on its estimated cost, only stopped by time.
    """
    db = folder / "db"
    db.mkdir(parents=True, exist_ok=True)
    settings = {
        "Database": {"DatabaseFile": db / "virtuoso.db", "ErrorLogFile": folder / "virtuoso.log",
                     "LockFile": db / "virtuoso.lck", "TransactionFile": db / "virtuoso.trx",
                     "xa_persistent_file": db / "virtuoso.pxa"},
        "TempDatabase": {"DatabaseFile": db / "virtuoso-temp.db", "TransactionFile": db / "virtuoso-temp.trx"},
        "Parameters": {"ServerPort": isql_port, "MaxSortedTopRows": max_rows, "NumberOfBuffers": buffers, "MaxDirtyBuffers": buffers * 3 // 4,
                       "DirsAllowed": ", ".join([".", "/usr/share/virtuoso-opensource-7/vad", str(folder),
                                                 *map(str, dirs_allowed)])},
        "HTTPServer": {"ServerPort": http_port},
        "URIQA": {"DefaultHost": f"localhost:{http_port}"},
        "SPARQL": {"ResultSetMaxRows": max_rows, "MaxQueryExecutionTime": max_seconds,
                   "MaxQueryCostEstimationTime": 0},  # no refusals on a guessed cost: only the time really spent
    }
    lines, section = [], None
    for line in PACKAGED_INI.read_text().splitlines():
        header = re.match(r"\s*\[(.+)\]", line)
        if header:
            section = header.group(1)
            lines.append(line)
            lines += [f"{key} = {value}" for key, value in settings.get(section, {}).items()]
            continue
        key = re.match(r"\s*([A-Za-z_]\w*)\s*=", line)
        if key and key.group(1) in settings.get(section, {}):
            continue  # written under the section's header
        lines.append(line)
    ini = folder / "virtuoso.ini"
    ini.write_text("\n".join(lines) + "\n")
    return ini


def start_virtuoso(folder: Path, **limits) -> Virtuoso:
    """Start a Virtuoso with its database in `folder` (see `configure`) and wait until /sparql answers."""
    reason = missing()
    if reason:
        raise RuntimeError(reason)
    http_port, isql_port = free_port(), free_port()
    ini = configure(folder, http_port, isql_port, **limits)
    process = subprocess.Popen([VIRTUOSO, "+configfile", str(ini), "+foreground"], cwd=folder / "db",
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    server = Virtuoso(process, folder, http_port, isql_port)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(server.sparql, params={"query": "ASK {}"}, timeout=5).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"virtuoso-t did not answer within {STARTUP_SECONDS} s:\n{server.log()}")


def main() -> None:
    """Run a private Virtuoso in a folder until interrupted (for trying the commands of docs/deploy.md)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    server = start_virtuoso(args.folder.resolve())
    print(f"virtuoso: {server.sparql} (graph store {server.graph_store}, ISQL port {server.isql_port}, "
          f"pid {server.process.pid})", flush=True)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
