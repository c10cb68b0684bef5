"""Shared fixtures: a real `kg serve` subprocess on a free 127.0.0.1 port, reached over real HTTP."""
from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
# The public conformance suites and schemas: CI clones the repo with shared/ beside it; KG_SHARED points elsewhere.
SHARED = Path(os.environ.get("KG_SHARED") or REPO.parent / "shared").resolve()
STARTUP_SECONDS = 60


@dataclass
class RunningServer:
    """A `kg serve` process started by a test, and where to reach it."""

    process: subprocess.Popen
    base_url: str  # http://127.0.0.1:PORT
    log_path: Path  # the server's stderr

    @property
    def sparql(self) -> str:
        return f"{self.base_url}/sparql"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_kg_serve(args: list[str], work_dir: Path) -> RunningServer:
    """Start `kg serve --port 0 ARGS` and return once /sparql answers; raise with its log if it does not."""
    log_path = work_dir / f"kg-serve-{time.monotonic_ns()}.log"
    command = [sys.executable, "-m", "kg.cli.main", "serve", "--host", "127.0.0.1", "--port", "0",
               "--cache-dir", str(work_dir / "store-cache"), *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=log)
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        base_url = _read_url(process, deadline)
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base_url}/sparql", timeout=5).status_code == 200:
                    return RunningServer(process, base_url, log_path)
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"kg serve did not become ready:\n{log_path.read_text(errors='replace')}")
    except BaseException:
        stop_kg_serve(process)
        raise


def stop_kg_serve(process: subprocess.Popen) -> None:
    """Stop a server started by start_kg_serve (its supervisor stops its workers), by PID."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout:
        process.stdout.close()


def _read_url(process: subprocess.Popen, deadline: float) -> str:
    line = b""
    while time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line += os.read(process.stdout.fileno(), 4096)
            match = re.search(rb"http://127\.0\.0\.1:(\d+)/sparql", line)
            if match:
                return f"http://127.0.0.1:{match.group(1).decode()}"
    raise RuntimeError(f"kg serve exited with {process.poll()} before listening")


@pytest.fixture(scope="session")
def kg_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., RunningServer]]:
    """Factory fixture: `kg_serve("--data", path, ...)` starts a server, stopped at the end of the session."""
    work_dir = tmp_path_factory.mktemp("kg-serve")
    started: list[RunningServer] = []

    def start(*args: str | os.PathLike) -> RunningServer:
        server = start_kg_serve([str(arg) for arg in args], work_dir)
        started.append(server)
        return server

    yield start
    for server in started:
        stop_kg_serve(server.process)


@pytest.fixture(scope="session")
def protocol_suite_dir() -> Path:
    """The W3C SPARQL 1.1 Protocol suite in ../shared (required: CI provides it, so fail if absent)."""
    suite = SHARED / "conformance" / "sparql11-protocol"
    require_shared(suite / "manifest.ttl", "the W3C protocol suite")
    return suite


def require_shared(path: Path, what: str) -> None:
    """Fail (never skip) when a file of the shared conformance material is missing, saying where to put it."""
    if not path.is_file():
        pytest.fail(f"{what} not found: expected {path} (the shared/ folder beside the clone, or set KG_SHARED)")


@pytest.fixture(scope="session")
def protocol_dataset(protocol_suite_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """protocol-dataset.nq built by the suite's own runner, in a scratch folder (shared/ is read-only)."""
    work = tmp_path_factory.mktemp("protocol-suite")
    for data in protocol_suite_dir.glob("data*.nt"):
        (work / data.name).write_bytes(data.read_bytes())
    subprocess.run([sys.executable, str(protocol_suite_dir / "run.py"), "--make-dataset", str(work)],
                   check=True, capture_output=True)
    return work / "protocol-dataset.nq"


@pytest.fixture(scope="session")
def protocol_server(kg_serve: Callable[..., RunningServer], protocol_dataset: Path) -> RunningServer:
    """`kg serve --data protocol-dataset.nq`: data1..3 as named graphs, default settings."""
    return kg_serve("--data", protocol_dataset)


def run_kg(*args: str | os.PathLike, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the real `kg` command line; returns the completed process with text output."""
    return subprocess.run([sys.executable, "-m", "kg.cli.main", *(str(a) for a in args)], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=600)


@pytest.fixture(scope="session")
def built_release(tmp_path_factory: pytest.TempPathFactory):
    """The seed corpus built by `kg build` into a scratch build folder; returns the kg.release.writer.Release."""
    from kg.release.layout import current_release

    build_dir = tmp_path_factory.mktemp("build")
    result = run_kg("build", "--build-dir", build_dir)
    assert result.returncode == 0, result.stderr
    release = current_release(build_dir)
    assert release is not None
    return release


@pytest.fixture(scope="session")
def release_store(built_release):
    """The built release's store, opened read-only (as the server opens it)."""
    from pyoxigraph import Store

    return Store.read_only(str(built_release.store_path))


@pytest.fixture(scope="session")
def release_server(kg_serve: Callable[..., RunningServer], built_release) -> RunningServer:
    """`kg serve --build-dir` over the built release: /sparql plus dumps, VoID and resource pages."""
    return kg_serve("--build-dir", built_release.path.parent.parent, "--workers", "1")


@pytest.fixture(scope="session")
def published_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's inputs with one good release already published in its build folder."""
    project = tmp_path_factory.mktemp("project")
    for folder in ("ontology", "seeds", "shapes"):
        shutil.copytree(REPO / folder, project / folder)
    result = run_kg("build", "--build-dir", project / "build", env={"KG_PROJECT": str(project)})
    assert result.returncode == 0, result.stderr
    return project


def snapshot(build_dir: Path) -> dict[str, bytes]:
    """Every file of the published release, and where `current` points."""
    current = build_dir / "current"
    files = {str(current.readlink()): b""}
    files.update({str(p.relative_to(current.resolve())): p.read_bytes()
                  for p in sorted(current.resolve().rglob("*")) if p.is_file()})
    return files


def break_and_build(project: Path, tmp_path: Path, file: str, old: str, new: str) -> tuple[str, int]:
    """Copy the project, replace `old` (which must occur once) by `new` in `file`, run `kg build` on it.

    Returns stderr and the 1-based line where the replacement starts.
    """
    broken = tmp_path / "project"
    shutil.copytree(project, broken, symlinks=True)
    path = broken / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"test setup: {old!r} must occur once in {file}"
    line = text[:text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    before = snapshot(broken / "build")
    result = run_kg("build", "--build-dir", broken / "build", env={"KG_PROJECT": str(broken)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "nothing was published" in result.stderr
    assert snapshot(broken / "build") == before, "the published release changed"
    return result.stderr, line
