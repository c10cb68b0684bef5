"""Atomic publishing: a failed, killed or concurrent build never leaves a mix of old and new releases."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyoxigraph import Store

from conftest import REPO, generate_corpus, run_kg

pytestmark = pytest.mark.slow  # real builds and processes, seconds each


def assert_whole(release: Path) -> None:
    """Every file the release lists is there with its checksum, and its store holds its quads."""
    import json

    manifest = json.loads((release / "release.json").read_text(encoding="utf-8"))
    for line in (release / "dumps" / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((release / "dumps" / name).read_bytes()).hexdigest() == digest, name
    store = Store.read_only(str(release / "store"))
    count = int(next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")))["n"].value)
    assert count == manifest["quads"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic project with one release published."""
    project = generate_corpus(tmp_path_factory.mktemp("corpus"), articles=8)
    result = run_kg("build", "--build-dir", project / "build", env={"KG_PROJECT": str(project)})
    assert result.returncode == 0, result.stderr
    return project


def start_build(project: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kg.cli.main", "build", "--build-dir", str(project / "build")],
                            cwd=REPO, env={**os.environ, "KG_PROJECT": str(project)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def processes_in_group(group: int) -> list[int]:
    """The processes of a process group, from /proc (field 5 of stat, after the command name)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) == group:
            found.append(int(stat.parent.name))
    return found


def changed_copy(corpus: Path, destination: Path) -> Path:
    """A copy of the project (with its published build) whose input differs, so a build publishes anew."""
    shutil.copytree(corpus, destination, symlinks=True)
    mapping = destination / "seeds" / "articles" / "syn-000003" / "mapping.yaml"
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("Both sides would meet again",
                                                                   "Both sides will meet again"), encoding="utf-8")
    return destination


@pytest.fixture(scope="module")
def build_seconds(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> float:
    """How long a build of the changed corpus takes here, to kill later builds part-way."""
    project = changed_copy(corpus, tmp_path_factory.mktemp("timing") / "project")
    began = time.monotonic()
    build = start_build(project)
    assert build.wait(600) == 0, build.stderr.read().decode()
    return time.monotonic() - began


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.8, 0.95])
def test_a_build_killed_at_any_point_leaves_a_whole_release(corpus, build_seconds, tmp_path, fraction):
    """Kill `kg build` part-way: its worker processes end with it, `current` is the old release or the new
    one, whole, and the next build cleans up."""
    from kg.pipeline.build import Project, read_inputs
    from kg.rdf.vocabulary import Iris

    project = changed_copy(corpus, tmp_path / "project")
    before = (project / "build" / "current").resolve()
    build = start_build(project)
    time.sleep(build_seconds * fraction)
    os.kill(build.pid, signal.SIGKILL)
    build.wait(30)
    deadline = time.monotonic() + 10
    while processes_in_group(build.pid) and time.monotonic() < deadline:  # its workers end with it
        time.sleep(0.1)
    left = processes_in_group(build.pid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "worker processes outlived the killed build"
    after = (project / "build" / "current").resolve()
    assert after.name in (before.name, read_inputs(Project(project), Iris(), tmp_path / "index").fingerprint)
    assert_whole(after)
    if fraction == 0.5:
        result = run_kg("build", "--build-dir", project / "build", env={"KG_PROJECT": str(project)})
        assert result.returncode == 0, result.stderr
        assert_whole((project / "build" / "current").resolve())
        assert not list((project / "build" / "releases").glob(".staging-*"))


def test_readers_see_one_whole_release_while_releases_are_swapped(corpus, tmp_path):
    """A reader resolving `current` again and again while two inputs are published in turn sees whole releases."""
    project = changed_copy(corpus, tmp_path / "project")
    original = (corpus / "seeds" / "articles" / "syn-000003" / "mapping.yaml").read_text(encoding="utf-8")
    changed = (project / "seeds" / "articles" / "syn-000003" / "mapping.yaml").read_text(encoding="utf-8")
    seen: set[str] = set()
    for round_number in range(3):
        (project / "seeds" / "articles" / "syn-000003" / "mapping.yaml").write_text(
            changed if round_number % 2 == 0 else original + "\n# edited\n", encoding="utf-8")
        build = start_build(project)
        while build.poll() is None:
            release = (project / "build" / "current").resolve()
            assert_whole(release)
            seen.add(release.name)
        assert build.returncode == 0, build.stderr.read().decode()
    assert len(seen) >= 2


def test_a_failed_build_leaves_the_served_release_unchanged(corpus, tmp_path, kg_serve):
    """Break a seed, build: the build fails and the running server keeps answering from the old release."""
    project = changed_copy(corpus, tmp_path / "project")
    run_kg("build", "--build-dir", project / "build", env={"KG_PROJECT": str(project)})
    release = (project / "build" / "current").resolve()
    server = kg_serve("--data", release / "dumps" / "graph.nq")
    import httpx

    def count() -> str:
        return httpx.get(server.sparql, params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                         headers={"Accept": "text/csv"}).text

    before = count()
    mapping = project / "seeds" / "articles" / "syn-000004" / "mapping.yaml"
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("stance: denies", "stance: disputes"),
                       encoding="utf-8")
    result = run_kg("build", "--build-dir", project / "build", env={"KG_PROJECT": str(project)})
    assert result.returncode == 1 and "unknown stance 'disputes'" in result.stderr
    assert (project / "build" / "current").resolve() == release
    assert_whole(release)
    assert count() == before
