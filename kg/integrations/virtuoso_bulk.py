"""`kg publish --to URL --bulk FOLDER`: load a release into OpenLink Virtuoso with its bulk loader.

For a whole corpus the Graph Store Protocol sends one graph at a time through HTTP and Virtuoso parses each
PUT in one transaction; the bulk loader (`ld_dir` + `rdf_loader_run`, run through `isql-vt`) reads the
release's N-Quads dump straight from disk without a transaction log. It needs what the protocol does not:
the store's machine (the dump is copied into FOLDER, which the Virtuoso server must be allowed to read:
its `DirsAllowed`), its ISQL port, and the administrator's credentials (KG_STORE_USER and
KG_STORE_PASSWORD, as for `kg publish --to`; `isql-vt` takes the password as an argument, so it shows
in `ps` on that machine while the load runs).

It is not atomic: each graph of the release is first emptied, then the whole dump loaded, so readers
see the release's graphs partly loaded for the duration (minutes at 10,000 articles). Use it for a
first load or into a store not yet served; the protocol path (`kg publish --to` alone) replaces each
graph atomically.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from itertools import groupby
from pathlib import Path

from pyoxigraph import RdfFormat, parse

from kg.integrations.graph_store import GraphUpload, RemoteStoreError

ISQL = "isql-vt"
ERROR_MARK = "kg-bulk-error:"
REGISTERED_MARK = "kg-bulk-registered:"


def graph_sizes(nquads: Path) -> list[GraphUpload]:
    """The named graphs of a canonical (graph-sorted) N-Quads dump and their triple counts."""
    quads = parse(path=str(nquads), format=RdfFormat.N_QUADS)
    return [GraphUpload(graph, sum(1 for _ in group)) for graph, group in groupby(quads, key=lambda q: q.graph_name.value)]


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def register_script(folder: Path, file_name: str) -> str:
    """The ISQL script putting the dump on the loader's list, and counting what is on it (0: not readable)."""
    pattern = sql_string(f"{folder}/%")
    return "\n".join([
        f"DELETE FROM DB.DBA.load_list WHERE ll_file LIKE {pattern};",
        f"ld_dir({sql_string(str(folder))}, {sql_string(file_name)}, 'urn:x-diplomacy-kg:no-graph');",
        f"SELECT {sql_string(REGISTERED_MARK)}, COUNT(*) FROM DB.DBA.load_list WHERE ll_file LIKE {pattern};",
    ]) + "\n"


def bulk_script(folder: Path, graphs: list[str]) -> str:
    """The ISQL script: empty the release's graphs, run the bulk loader, checkpoint, report errors."""
    lines = ["log_enable(3, 1);"]
    lines += [f"DELETE FROM DB.DBA.RDF_QUAD WHERE G = iri_to_id({sql_string(graph)}, 0);" for graph in graphs]
    pattern = sql_string(f"{folder}/%")
    lines += [
        "rdf_loader_run();",
        "checkpoint;",
        f"SELECT {sql_string(ERROR_MARK)}, ll_file, ll_error FROM DB.DBA.load_list "
        f"WHERE ll_file LIKE {pattern} AND (ll_error IS NOT NULL OR ll_state <> 2);",
        f"DELETE FROM DB.DBA.load_list WHERE ll_file LIKE {pattern};",
    ]
    return "\n".join(lines) + "\n"


def bulk_load(nquads: Path, folder: Path, isql_address: str, timeout: float = 7200) -> list[GraphUpload]:
    """Load the dump `nquads` into the Virtuoso at `isql_address` (host:port) through FOLDER; the graphs loaded.

    RemoteStoreError when the folder cannot be written, isql-vt is missing or refused, or the loader reports
    an error (its message names the file and Virtuoso's reason).
    """
    user, password = os.environ.get("KG_STORE_USER"), os.environ.get("KG_STORE_PASSWORD")
    if not user or not password:
        raise RemoteStoreError("--bulk loads through isql-vt as the store's administrator: set KG_STORE_USER and "
                               "KG_STORE_PASSWORD")
    if shutil.which(ISQL) is None:
        raise RemoteStoreError(f"--bulk needs {ISQL} (Debian: apt-get install virtuoso-opensource) on this machine")
    staging = folder.resolve() / f"kg-bulk-{os.getpid()}"
    try:
        staging.mkdir(parents=True, exist_ok=True)
        target = staging / "release.nq"
        try:
            os.link(nquads, target)
        except OSError:
            shutil.copyfile(nquads, target)
        staging.chmod(0o755)
    except OSError as error:
        raise RemoteStoreError(f"--bulk: cannot write the dump into {folder}: {error.strerror or error}") from None
    try:
        unreadable = (f"Virtuoso at {isql_address} cannot read {folder}: it must be on the store's machine and in "
                      "the DirsAllowed of its virtuoso.ini; nothing was changed")
        try:
            registered = _isql(isql_address, user, password, register_script(staging, target.name), timeout)
        except RemoteStoreError as error:
            raise RemoteStoreError(f"{error}\n{unreadable}") from None
        if not re.search(rf"{REGISTERED_MARK}\s+[1-9]", registered):
            raise RemoteStoreError(f"--bulk: {unreadable}")
        uploads = graph_sizes(target)
        output = _isql(isql_address, user, password, bulk_script(staging, [upload.graph for upload in uploads]), timeout)
        failures = [line.split(ERROR_MARK, 1)[1].strip() for line in output.splitlines()
                    if ERROR_MARK in line and "ll_file" not in line]
        if failures:
            raise RemoteStoreError(f"--bulk: Virtuoso's loader refused the dump (the release's graphs are emptied or "
                                   f"partly loaded): {failures[0][:300]}")
        return uploads
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _isql(address: str, user: str, password: str, script: str, timeout: float) -> str:
    """Run an ISQL script; its output, or RemoteStoreError with Virtuoso's first error line."""
    try:
        done = subprocess.run([ISQL, address, user, password, "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF"],
                              input=script, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RemoteStoreError(f"--bulk: isql-vt did not finish within {timeout:g} s") from None
    output = done.stdout + done.stderr
    if done.returncode != 0 or "*** Error" in output:
        error = next((line for line in output.splitlines() if "Error" in line), output.strip()[-300:])
        raise RemoteStoreError(f"--bulk: isql-vt at {address} failed: {error.strip()}")
    return output
