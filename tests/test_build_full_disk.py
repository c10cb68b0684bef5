"""`kg build` on a full disk: a failed build removes its staging folder and names the file and the system's
reason; the next build removes what a killed build left; failed retries do not fill the disk; the build cache
never keeps a partial entry.

The disk is simulated in the build's process (tests/full_disk.py), so the tests run anywhere, root or not.
Its capacity comes from a build of the same input with unlimited room (`sizes`), so a failure lands in the
stage a test names whatever the corpus's size.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO, generate_corpus, run_kg, snapshot

pytestmark = pytest.mark.slow  # real builds and processes, seconds each


NO_SPACE = os.strerror(errno.ENOSPC)  # "No space left on device"


def build_on_small_disk(project: Path, capacity: float = float("inf"), *options: str | os.PathLike
                        ) -> subprocess.CompletedProcess:
    """`kg build` of `project` with its build folder on a disk of `capacity` bytes (see tests/full_disk.py)."""
    return subprocess.run([sys.executable, str(REPO / "tests" / "full_disk.py"), "--capacity", str(capacity),
                           *map(str, options), "--", "build", "--build-dir", str(project / "build")],
                          cwd=REPO, env={**os.environ, "KG_PROJECT": str(project)}, capture_output=True, text=True,
                          timeout=600)


@dataclass(frozen=True)
class Sizes:
    """The build folder's size at points of a build with unlimited room (bytes: its files' sizes summed)."""

    start: int  # before the build
    cache_peak: int  # the most it held while the build filled the cache
    release_start: int  # when the build began to write the release
    peak: int  # the most it held
    release: str  # the release published
    checksums: str  # its SHA256SUMS

    @property
    def writing_the_release(self) -> int:
        """A capacity reached while the release is written: a quarter of the way through."""
        floor = max(self.cache_peak, self.release_start)
        return floor + (self.peak - floor) // 4

    @property
    def enough(self) -> int:
        """Room for one build and a margin, not for another staging folder."""
        return self.peak + (self.peak - max(self.cache_peak, self.release_start)) // 4


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic project with one release published and one article edited since: a build writes anew."""
    project = generate_corpus(tmp_path_factory.mktemp("full-disk") / "project", articles=3)
    result = run_kg("build", "--build-dir", project / "build", env={"KG_PROJECT": str(project)})
    assert result.returncode == 0, result.stderr
    edit_article(project)
    return project


def edit_article(project: Path, edited: bool = True) -> None:
    mapping = project / "seeds" / "articles" / "syn-000001" / "mapping.yaml"
    text = mapping.read_text(encoding="utf-8").removesuffix("\n# edited\n")
    mapping.write_text(text + "\n# edited\n" if edited else text, encoding="utf-8")


def copy_of(project: Path, destination: Path) -> Path:
    shutil.copytree(project, destination, symlinks=True)
    return destination


@pytest.fixture(scope="module")
def sizes(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Sizes:
    project = copy_of(published, tmp_path_factory.mktemp("sizes") / "project")
    record = project.parent / "writes"
    start = sum(path.lstat().st_size for path in (project / "build").rglob("*")
                if path.is_file() and not path.is_symlink())
    result = build_on_small_disk(project, float("inf"), "--record", record)
    assert result.returncode == 0, result.stderr
    writes = [(int(size), stage) for size, stage in (line.split() for line in record.read_text().splitlines())]
    first_release_write = next(index for index, (_, stage) in enumerate(writes) if stage == "release")
    release = (project / "build" / "current").resolve()
    return Sizes(start, max(size for size, _ in writes[:first_release_write]), writes[first_release_write][0],
                 max(size for size, _ in writes), release.name, (release / "dumps" / "SHA256SUMS").read_text())


def leftovers(build_dir: Path) -> list[str]:
    """What builds write under a temporary name, found anywhere in the build folder."""
    return sorted(str(path.relative_to(build_dir)) for path in build_dir.rglob("*")
                  if path.name.startswith((".staging-", ".current-")) or path.name.endswith(".tmp"))


def last_line(stderr: str) -> str:
    """The build's last word, after its progress lines ("kg build: building ...", "kg build:   stage: 1.2 s")."""
    *progress, last = stderr.rstrip("\n").split("\n")
    assert all(line.startswith("kg build: ") for line in progress), stderr
    return last


def assert_located_no_space(result: subprocess.CompletedProcess, build_dir: Path) -> str:
    """A build that failed for want of room: exit code 2, a message naming a file of the build folder and
    the system's reason, no traceback. Returns the file."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    found = re.fullmatch(r"kg build: (/\S+?): " + NO_SPACE + "; nothing was published", last_line(result.stderr))
    assert found, result.stderr
    assert found[1].startswith(str(build_dir) + os.sep), result.stderr
    return found[1]


def test_a_build_failing_on_a_full_disk_while_writing_the_release_leaves_no_staging_folder(published, sizes, tmp_path):
    project = copy_of(published, tmp_path / "project")
    build_dir = project / "build"
    before = snapshot(build_dir)
    path = assert_located_no_space(build_on_small_disk(project, sizes.writing_the_release), build_dir)
    assert path.startswith(str(build_dir / "releases") + os.sep), "the failure was meant to be in the release"
    assert leftovers(build_dir) == []
    assert snapshot(build_dir) == before, "the served release changed"


def test_three_builds_failing_on_a_full_disk_then_one_with_room_succeeds_with_no_leftovers(published, sizes, tmp_path):
    """Each failed attempt gives its room back: once the disk has room for one build, the build succeeds."""
    project = copy_of(published, tmp_path / "project")
    build_dir = project / "build"
    before = snapshot(build_dir)
    for _ in range(3):
        assert_located_no_space(build_on_small_disk(project, sizes.writing_the_release), build_dir)
        assert leftovers(build_dir) == []
        assert snapshot(build_dir) == before
    result = build_on_small_disk(project, sizes.enough)
    assert result.returncode == 0, result.stderr
    assert (build_dir / "current").resolve().name == sizes.release
    assert leftovers(build_dir) == []


def test_an_interrupted_build_leaves_no_staging_folder(published, sizes, tmp_path):
    """Ctrl-C (KeyboardInterrupt) while the release is written: its staging folder goes too."""
    project = copy_of(published, tmp_path / "project")
    build_dir = project / "build"
    before = snapshot(build_dir)
    result = build_on_small_disk(project, sizes.writing_the_release, "--interrupt")
    assert result.returncode != 0 and result.stderr.rstrip().endswith("KeyboardInterrupt"), result.stderr
    assert leftovers(build_dir) == []
    assert snapshot(build_dir) == before


def test_a_full_disk_while_caching_articles_leaves_no_partial_cache_entry(published, sizes, tmp_path):
    """The failure lands in the article cache: no partial file is left, and the next build, with room,
    publishes the very release a build that never failed published."""
    project = copy_of(published, tmp_path / "project")
    build_dir = project / "build"
    before = snapshot(build_dir)
    result = build_on_small_disk(project, sizes.start + (sizes.cache_peak - sizes.start) // 2)
    path = assert_located_no_space(result, build_dir)
    assert path.startswith(str(build_dir / "cache") + os.sep), "the failure was meant to be in the cache"
    assert leftovers(build_dir) == []
    assert snapshot(build_dir) == before
    result = build_on_small_disk(project)
    assert result.returncode == 0, result.stderr
    release = (build_dir / "current").resolve()
    assert release.name == sizes.release
    assert (release / "dumps" / "SHA256SUMS").read_text() == sizes.checksums


def test_temporary_cache_files_a_killed_build_left_are_removed_by_the_next_build(published, sizes, tmp_path):
    """A worker killed while it wrote a cache file leaves it under its temporary name (`write_whole`): the next
    build removes it, and publishes what a build that never failed published."""
    project = copy_of(published, tmp_path / "project")
    build_dir = project / "build"
    for kind in ("articles", "parts"):
        for article in (build_dir / "cache" / kind).iterdir():
            kept = sorted(article.iterdir())[0]  # named after the article's key, as the next build keeps it
            kept.with_name(kept.name + ".tmp").write_bytes(b"half a file")
    assert len(leftovers(build_dir)) == 2 * 3
    result = build_on_small_disk(project)
    assert result.returncode == 0, result.stderr
    assert leftovers(build_dir) == []
    release = (build_dir / "current").resolve()
    assert (release.name, (release / "dumps" / "SHA256SUMS").read_text()) == (sizes.release, sizes.checksums)


def test_the_release_graph_index_on_a_full_disk_is_a_located_error(published, tmp_path):
    """SQLite's own "disk is full" (the release's graph index) is reported with the file, not a traceback."""
    project = copy_of(published, tmp_path / "project")
    build_dir = project / "build"
    before = snapshot(build_dir)
    result = build_on_small_disk(project, float("inf"), "--sqlite-full", build_dir / "releases")
    assert result.returncode == 2, result.stderr
    found = re.fullmatch(r"kg build: (/\S+): " + NO_SPACE + r" \(SQLite: database or disk is full\); nothing was "
                         r"published", last_line(result.stderr))
    assert found and found[1].startswith(str(build_dir / "releases") + os.sep), result.stderr
    assert found[1].endswith("graphs.sqlite"), result.stderr
    assert leftovers(build_dir) == []
    assert snapshot(build_dir) == before


# A build stopped for good with SIGKILL while it compacts the release's store (its staging folder full):
# nothing of it can clean up.
STALLED_BUILD = """
import sys, time
from pathlib import Path
import kg.release.writer
from kg.cli.main import main

def stall(path):
    Path(sys.argv[1]).touch()
    time.sleep(600)

kg.release.writer._compact = stall
sys.exit(main(["build", "--build-dir", sys.argv[2]]))
"""


def kill_a_build_part_way(project: Path) -> None:
    """Start `kg build`, SIGKILL it and its workers once its staging folder holds dumps and a store."""
    stalled = project.parent / "stalled"
    build = subprocess.Popen([sys.executable, "-c", STALLED_BUILD, str(stalled), str(project / "build")],
                             cwd=REPO, env={**os.environ, "KG_PROJECT": str(project)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not stalled.exists() and build.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stalled.exists(), build.stderr.read().decode() if build.poll() is not None else "no stall"
    finally:
        try:
            os.killpg(build.pid, signal.SIGKILL)  # its own session: the build and the workers it forked
        except ProcessLookupError:
            pass  # all ended already
        build.wait(30)
        build.stderr.close()
    staging = list((project / "build" / "releases").glob(".staging-*"))
    assert len(staging) == 1 and (staging[0] / "store").is_dir() and (staging[0] / "dumps").is_dir()


def test_a_killed_builds_staging_folder_is_removed_by_the_next_build_on_a_disk_with_room_for_one(
        published, sizes, tmp_path):
    """After a SIGKILL the disk has room for one build: the next build frees the killed one's and succeeds."""
    project = copy_of(published, tmp_path / "project")
    build_dir = project / "build"
    kill_a_build_part_way(project)
    result = build_on_small_disk(project, sizes.enough)
    assert result.returncode == 0, result.stderr
    assert (build_dir / "current").resolve().name == sizes.release
    assert leftovers(build_dir) == []


def test_a_killed_builds_staging_folder_is_removed_by_a_build_with_nothing_to_publish(published, tmp_path):
    """The input is set back after the killed build: the next build publishes nothing, and cleans up."""
    project = copy_of(published, tmp_path / "project")
    build_dir = project / "build"
    kill_a_build_part_way(project)
    edit_article(project, edited=False)
    before = snapshot(build_dir)
    result = build_on_small_disk(project)
    assert result.returncode == 0, result.stderr
    assert leftovers(build_dir) == []
    assert snapshot(build_dir) == before
