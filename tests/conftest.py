"""Shared fixtures: the app in process (`release_app`), a real `kg serve` subprocess on a free 127.0.0.1
port reached over real HTTP (`kg_serve`), built releases, and the conformance material of ../shared.

Markers (pyproject.toml): `browser` (headless chromium), `conformance` (needs ../shared; added here to
every test that uses its material), `slow` (real servers, added here to every test using `kg_serve`,
and real builds taking seconds).
"""
from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
# The public conformance suites and schemas: CI clones the repo with shared/ beside it; KG_SHARED points elsewhere.
SHARED = Path(os.environ.get("KG_SHARED") or REPO.parent / "shared").resolve()
STARTUP_SECONDS = 60
# Fixtures that read ../shared: a test using one (directly or through another fixture) is a conformance test.
SHARED_FIXTURES = frozenset({"protocol_suite_dir", "reconciliation_schemas_dir"})
PROTOCOL_SUITE = SHARED / "conformance" / "sparql11-protocol"
RECONCILIATION_SCHEMAS = SHARED / "reconciliation-schemas" / "0.2" / "schemas"
SHARED_MATERIAL = (PROTOCOL_SUITE / "manifest.ttl", RECONCILIATION_SCHEMAS / "manifest.json")
OXIGRAPH = shutil.which("oxigraph") or str(REPO / ".venv" / "bin" / "oxigraph")


def running_under_ci() -> bool:
    """True when the environment variable CI says so (CI services set CI=true)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark every test needing ../shared as `conformance` and every real-server test as `slow`, as collected
    (so that `-m` selects by these marks too)."""
    fixtures = set(getattr(item, "fixturenames", ()))  # with the fixtures its fixtures use
    if SHARED_FIXTURES & fixtures:
        item.add_marker(pytest.mark.conformance)
    if "kg_serve" in fixtures:  # a real server: seconds to start, and its tests are about real processes
        item.add_marker(pytest.mark.slow)


@pytest.hookimpl(trylast=True)  # after `-m` and `-k` have deselected what the run does not want
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without ../shared, deselect the conformance tests, or stop the run under CI.

    On a plain clone the material is absent, so those tests cannot run: they are left out with one
    message (see pytest_terminal_summary) rather than failing one by one. Under CI they are required.
    """
    needing = [item for item in items if item.get_closest_marker("conformance")]
    if not needing or all(path.is_file() for path in SHARED_MATERIAL):
        return
    if running_under_ci():
        message = (f"{len(needing)} conformance tests need the shared conformance material, not found at "
                   f"{SHARED}: {HOW_TO_GET_SHARED} (CI is set, so they are required)")
        if not hasattr(config, "workeroutput"):
            pytest.exit(message, returncode=1)
        for item in needing:  # a pytest-xdist worker cannot stop the run: each of these tests fails with the message
            item.stash[_SHARED_REQUIRED] = message
        return
    config.stash[_MISSING_SHARED] = len(needing)
    if hasattr(config, "workeroutput"):  # a pytest-xdist worker: the controller prints the summary
        config.workeroutput[_MISSING_SHARED_KEY] = len(needing)
    config.hook.pytest_deselected(items=needing)
    items[:] = [item for item in items if not item.get_closest_marker("conformance")]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a conformance test that CI requires but whose material is missing (see above)."""
    if _SHARED_REQUIRED in item.stash:
        pytest.fail(item.stash[_SHARED_REQUIRED], pytrace=False)


HOW_TO_GET_SHARED = "put the shared/ folder beside the clone, or set KG_SHARED=/path/to/shared"
_MISSING_SHARED = pytest.StashKey[int]()
_MISSING_SHARED_KEY = "conformance tests not run"
_SHARED_REQUIRED = pytest.StashKey[str]()


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: defined only when the run has workers (make test)
def pytest_testnodedown(node, error) -> None:
    """Under pytest-xdist the workers collect, so carry their count of tests left out to the controller's summary."""
    missing = getattr(node, "workeroutput", {}).get(_MISSING_SHARED_KEY, 0)
    node.config.stash[_MISSING_SHARED] = max(node.config.stash.get(_MISSING_SHARED, 0), missing)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Say loudly, once, which tests were not run for want of ../shared, and how to get it."""
    missing = config.stash.get(_MISSING_SHARED, 0)
    if missing:
        terminalreporter.section("conformance tests NOT RUN", sep="!", yellow=True, bold=True)
        terminalreporter.line(f"{missing} conformance tests (W3C SPARQL protocol suite, reconciliation API schemas) "
                              f"were not run: the shared conformance material is not at {SHARED}.", yellow=True)
        terminalreporter.line(f"To run them, {HOW_TO_GET_SHARED}.", yellow=True)


def load_benchmark_module(relative_path: str) -> ModuleType:
    """Import a module of benchmarks/ by its path (e.g. "corpus.py"), without putting benchmarks/ on sys.path."""
    path = REPO / "benchmarks" / relative_path
    name = "benchmarks_" + relative_path.removesuffix(".py").replace("/", "_")
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules[name]


def generate_corpus(out: Path, articles: int, seed: int = 7) -> Path:
    """The benchmark's synthetic project (benchmarks/corpus.py): `articles` generated articles in `out`."""
    return load_benchmark_module("corpus.py").generate_corpus(out, articles=articles, seed=seed)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    require_shared(PROTOCOL_SUITE / "manifest.ttl", "the W3C protocol suite")
    return PROTOCOL_SUITE


@pytest.fixture(scope="session")
def reconciliation_schemas_dir() -> Path:
    """The W3C Reconciliation API 0.2 JSON Schemas in ../shared (required, like the protocol suite)."""
    require_shared(RECONCILIATION_SCHEMAS / "manifest.json", "the reconciliation API schemas")
    return RECONCILIATION_SCHEMAS


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


def reconcile_when_ready(server: RunningServer, batch: str, attempts: int = 60) -> httpx.Response:
    """POST a reconciliation batch to a real server, waiting as its 503 + Retry-After asks while it reads its
    entities' names (once per worker process, longer than a request may wait on a loaded machine)."""
    for _ in range(attempts):
        response = httpx.post(f"{server.base_url}/reconcile", data={"queries": batch}, timeout=60)
        if response.status_code != 503 or "Retry-After" not in response.headers:
            return response
        time.sleep(1)
    return response


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


IN_PROCESS_URL = "http://127.0.0.1:8000"  # the public URL the in-process app is told it is reached at


class InProcessClient:
    """Synchronous HTTP requests to the app a worker serves (`front_door(create_app(...))`), in process.

    Through httpx.ASGITransport on one event loop of its own: no socket, no subprocess, no worker.
    Paths are relative to IN_PROCESS_URL (`client.get("/sparql", params=...)`).
    """

    def __init__(self, store_path: Path, **settings) -> None:
        from kg.server.app import create_app, front_door
        from kg.server.settings import ServerSettings

        self.store_path = store_path
        self.settings = ServerSettings(public_url=IN_PROCESS_URL, queries=str(REPO / "queries"), workers=1, **settings)
        self.app = front_door(create_app(store_path, self.settings))
        self.base_url = IN_PROCESS_URL
        self.sparql = f"{IN_PROCESS_URL}/sparql"
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False, client=("127.0.0.1", 40000))
        self._client = httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_URL)

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs) -> httpx.Response:
        return self.request("HEAD", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def options(self, url: str, **kwargs) -> httpx.Response:
        return self.request("OPTIONS", url, **kwargs)

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


@pytest.fixture(scope="session")
def release_app(built_release) -> Iterator[InProcessClient]:
    """The built release served in process (as `kg serve --build-dir`): /sparql, dumps, VoID, pages, /reconcile.

    Session-scoped: the app starts a pool of query threads once.
    """
    client = InProcessClient(built_release.store_path, release=str(built_release.path))
    yield client
    client.close()


@pytest.fixture(scope="session")
def protocol_app(protocol_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessClient]:
    """protocol-dataset.nq served in process (as `kg serve --data` with default settings, as protocol_server)."""
    from kg.sparql.stores import load_data_store

    client = InProcessClient(load_data_store([protocol_dataset], tmp_path_factory.mktemp("protocol-store")))
    yield client
    client.close()


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


# -- the shapes and the seed graph they validate (tests/test_shapes.py, test_shacl_core.py, test_validate_engines.py)


@pytest.fixture(scope="session")
def shapes():
    """The project's shapes (shapes/), loaded for the compiled engine (kg.validate.shacl.Shapes)."""
    from kg.validate.shacl import load_shapes

    return load_shapes(REPO / "shapes")


@pytest.fixture(scope="session")
def seed_quads(built_release) -> list:
    """The quads of the built seed release (its graph.nq dump)."""
    from pyoxigraph import RdfFormat, parse

    return list(parse(path=str(built_release.dumps / "graph.nq"), format=RdfFormat.N_QUADS))


@pytest.fixture(scope="session")
def article_unit(seed_quads, shapes) -> list:
    """The seed article's graph with the shared triples it needs (default-graph quads): what the gate
    validates for it."""
    from pyoxigraph import DefaultGraph, Quad

    from kg.validate.shacl import Gate

    graph = "https://w3id.org/diplomacy-kg/graph/article/cgtn-2019-03-01-hanoi-summit"
    article = [q.triple for q in seed_quads if q.graph_name.value == graph]
    shared = [q.triple for q in seed_quads if q.graph_name.value != graph]
    unit = article + Gate(shapes, shared).context.needed_by(article)
    return [Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in dict.fromkeys(unit)]


@pytest.fixture(scope="session")
def break_result(shapes, article_unit) -> Callable:
    """`break_result(broken, engine)`: the ValidationResult of the engine ("compiled" or "pyshacl") on the
    seed article's unit broken by `broken` (tests/shape_breaks.py), against the shapes the break is about.
    Memoized for the session, so that the tests of both engines over the breaks compute each once."""
    from kg.validate.engines import ENGINES
    from shape_breaks import broken_triples, shape_iri, shapes_for

    results: dict = {}

    def result(broken, engine: str):
        if (broken, engine) not in results:
            results[broken, engine] = ENGINES[engine].validate(broken_triples(article_unit, broken),
                                                               shapes_for(shapes, shape_iri(broken.shape)))
        return results[broken, engine]
    return result


CHROMIUM = "/usr/bin/chromium"  # Debian's, never a downloaded browser (make test installs it when root)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """A headless chromium driven by Playwright, for one test module."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


VIRTUOSO_TIME_LIMIT = 10  # seconds: the store's own MaxQueryExecutionTime, above kg serve's in the tests


def start_virtuoso(folder: Path):
    """A private OpenLink Virtuoso 7 (benchmarks/virtuoso/server.py) with its database in `folder`: free HTTP and
    ISQL ports, administrator dba/dba on 127.0.0.1. Fails (never skips) when Debian's virtuoso-opensource is
    missing: make test installs it when root."""
    launcher = load_benchmark_module("virtuoso/server.py")
    reason = launcher.missing()
    if reason:
        pytest.fail(f"the Virtuoso tests need Debian's virtuoso-opensource ({reason}); "
                    "run them with make test as root, or leave them out with -m 'not virtuoso'")
    return launcher.start_virtuoso(folder, max_seconds=VIRTUOSO_TIME_LIMIT)


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A Virtuoso (start_virtuoso) shared by the session's tests; stopped by its PID afterwards."""
    server = start_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def own_virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A Virtuoso (start_virtuoso) of the test module's own: for a module whose store must hold exactly what it
    loads, whatever other modules load or change in theirs; stopped by its PID afterwards."""
    server = start_virtuoso(tmp_path_factory.mktemp("own-virtuoso"))
    yield server
    server.stop()
