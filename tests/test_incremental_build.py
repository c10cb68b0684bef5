"""Incremental builds: a changed article is the only one mapped, validated and written again, its graph the
only one replaced in the store, and the release is identical to a build from scratch; a server started
while a build runs serves the last release."""
from __future__ import annotations

import json
import multiprocessing
import re
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from conftest import REPO, generate_corpus, run_kg
from kg.pipeline.build import FORMAT_TIMING
from kg.release.layout import DUMP_FORMATS

pytestmark = pytest.mark.slow  # real builds and processes, seconds each


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_corpus(tmp_path_factory.mktemp("incremental"), articles=ARTICLES)


ARTICLES = 12
FILES_PER_ARTICLE = 2 + 10  # graph and its predicates' kinds; 5 dump parts, plain and gzip


def cache_files(build_dir: Path) -> dict[str, int]:
    """Cache file (kind/article/name) → inode: a file rewritten or replaced gets a new inode."""
    cache = build_dir / "cache"
    return {p.relative_to(cache).as_posix(): p.stat().st_ino for p in cache.glob("*/*/*")}


def store_quads(release: Path) -> set:
    from pyoxigraph import Store
    return set(Store.read_only(str(release / "store")))


def test_one_changed_article_is_rebuilt_alone_and_the_release_matches_a_full_build(project, tmp_path):
    env = {"KG_PROJECT": str(project)}
    build_dir = tmp_path / "incremental"
    full_build = run_kg("build", "--build-dir", build_dir, "--timings", env=env)
    assert full_build.returncode == 0, full_build.stderr
    timings = json.loads(re.search(r"^timings: (.*)$", full_build.stdout, re.M).group(1))
    assert {f"{FORMAT_TIMING}{dump}" for dump in DUMP_FORMATS} <= timings.keys()
    assert all(timings[f"{FORMAT_TIMING}{dump}"] > 0 for dump in DUMP_FORMATS), timings
    before = cache_files(build_dir)
    assert len(before) == ARTICLES * FILES_PER_ARTICLE

    mapping = project / "seeds" / "articles" / "syn-000002" / "mapping.yaml"
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("Both sides would meet again",
                                                                   "Both sides would meet again soon"), encoding="utf-8")
    result = run_kg("build", "--build-dir", build_dir, "--timings", env=env)
    assert result.returncode == 0, result.stderr
    after = cache_files(build_dir)
    assert len(after) == ARTICLES * FILES_PER_ARTICLE
    kept = {name for name in after if before.get(name) == after[name]}
    assert len(kept) == (ARTICLES - 1) * FILES_PER_ARTICLE and not any("/syn-000002/" in name for name in kept)

    scratch = tmp_path / "scratch"
    assert run_kg("build", "--build-dir", scratch, env=env).returncode == 0
    incremental, full = (build_dir / "current").resolve(), (scratch / "current").resolve()
    assert incremental.name == full.name
    for dump in sorted((full / "dumps").iterdir()):
        assert (incremental / "dumps" / dump.name).read_bytes() == dump.read_bytes(), dump.name
    assert store_quads(incremental) == store_quads(full)


def test_the_store_of_a_small_change_is_the_previous_one_with_the_changed_graph_replaced(project, tmp_path):
    """Only the changed graph is read (the unchanged graphs' parts do not even exist here), and the store
    holds the previous quads with that graph's replaced."""
    import sqlite3

    from pyoxigraph import NamedNode, Quad, RdfFormat, Store, serialize

    from kg.release.layout import GRAPHS_FILE, UNION_NQUADS, Release
    from kg.release.writer import GraphParts, dump_part, write_graph_keys

    build_dir = tmp_path / "build"
    assert run_kg("build", "--build-dir", build_dir, env={"KG_PROJECT": str(project)}).returncode == 0
    previous = Release((build_dir / "current").resolve())
    before = store_quads(previous.path)
    graph_keys = dict(sqlite3.connect(previous.path / GRAPHS_FILE).execute("SELECT name, key FROM graphs"))
    assert len(graph_keys) == ARTICLES + 2
    changed = next(name for name in graph_keys if "syn-000003" in name)
    old_graph = {quad for quad in before if quad.graph_name.value == changed}
    dropped = min(old_graph, key=str)
    added = Quad(dropped.subject, dropped.predicate, NamedNode("https://example.org/replaced"), NamedNode(changed))
    new_graph = old_graph - {dropped} | {added}
    dump_part(tmp_path / "new", UNION_NQUADS).write_bytes(serialize(new_graph, format=RdfFormat.N_QUADS))
    graphs = [GraphParts(name, tmp_path / "absent", name.rsplit("/", 1)[-1], key)
              for name, key in graph_keys.items() if name != changed]
    graphs.append(GraphParts(changed, tmp_path, "new", "a new key"))
    write_graph_keys(tmp_path / "keys.sqlite", graphs)

    load_store_as_a_build_does(tmp_path / "store", graphs, tmp_path / "keys.sqlite", previous)
    assert set(Store.read_only(str(tmp_path / "store"))) == before - old_graph | new_graph


def test_a_fresh_store_is_loaded_a_segment_per_process_and_holds_every_graph_once(project, tmp_path):
    """A store loaded afresh gets the corpus in segments of about STORE_SEGMENT_BYTES, each loaded by a
    process of its own in slices of about BULK_LOAD_BYTES (the engine's memory grows with both), then is
    compacted. Loaded in three segments, the last one short, it holds exactly the quads of the release."""
    from pyoxigraph import RdfFormat, serialize

    from kg.release.layout import UNION_NQUADS
    from kg.release.writer import GraphParts, dump_part, write_graph_keys

    build_dir = tmp_path / "build"
    assert run_kg("build", "--build-dir", build_dir, env={"KG_PROJECT": str(project)}).returncode == 0
    quads = store_quads((build_dir / "current").resolve())
    graphs = []
    for index, name in enumerate(sorted({quad.graph_name.value for quad in quads})):
        part = dump_part(tmp_path / "parts" / str(index), UNION_NQUADS)
        part.parent.mkdir(exist_ok=True)
        part.write_bytes(serialize([q for q in quads if q.graph_name.value == name], format=RdfFormat.N_QUADS))
        graphs.append(GraphParts(name, tmp_path / "parts", str(index), name))
    assert len(graphs) == ARTICLES + 2  # and the entities and ontology graphs

    total = sum(dump_part(graph.stem, UNION_NQUADS).stat().st_size for graph in graphs)
    write_graph_keys(tmp_path / "keys.sqlite", graphs)
    works = load_store_as_a_build_does(tmp_path / "store", graphs, tmp_path / "keys.sqlite", None,
                                       total // 3 + 1, total // 6 + 1)
    assert works == ["_bulk_load"] * 3 + ["_compact"]
    assert store_quads(tmp_path) == quads


def load_store_as_a_build_does(path: Path, graphs: list, keys: Path, previous, segment_bytes: int | None = None,
                               slice_bytes: int | None = None) -> list[str]:
    """kg.release.writer.load_store run as `kg build` runs it: from a process that has opened no store (the store
    engine's background threads do not survive a fork, and this test process has opened stores), with
    STORE_SEGMENT_BYTES and BULK_LOAD_BYTES set when given. Returns the work it ran in processes apart."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_load_store_recording, path, graphs, keys, previous, segment_bytes, slice_bytes).result()


def _load_store_recording(path: Path, graphs: list, keys: Path, previous, segment_bytes: int | None,
                          slice_bytes: int | None) -> list[str]:
    import kg.release.writer
    from kg.parallel import child_forked_now

    kg.release.writer.STORE_SEGMENT_BYTES = segment_bytes or kg.release.writer.STORE_SEGMENT_BYTES
    kg.release.writer.BULK_LOAD_BYTES = slice_bytes or kg.release.writer.BULK_LOAD_BYTES
    works = []
    with child_forked_now() as apart:
        def recorded(work, *args):
            works.append(work.__name__)
            return apart(work, *args)
        kg.release.writer.load_store(path, lambda: graphs, keys, previous, recorded)
    return works


def test_the_validation_report_links_every_graph_without_memory_growing_with_them(tmp_path):
    """The report of a build links its root to every article graph. Canonical blank-node labels over
    20,000 such links took 52 MB; they are computed for the report alone, and the links go from the
    names, read one at a time, to the file."""
    code = (
        "import re, sys\n"
        "from kg.validate.shacl import conforming_result, write_report_turtle\n"
        "names = (f'https://example.org/graph/{i}' for i in range(200000))\n"
        "result = conforming_result()\n"
        "peak = lambda: int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) // 1024\n"
        "before = peak()\n"
        "write_report_turtle([([], result), (names, conforming_result())], sys.argv[1])\n"
        "print(peak() - before)\n"
    )
    report = tmp_path / "report.ttl"
    grown = int(subprocess.run([sys.executable, "-c", code, report], capture_output=True, text=True,
                               check=True, cwd=REPO).stdout)
    assert report.read_bytes().count(b"<https://example.org/graph/") == 200000
    assert grown < 6, f"{grown} MB"


def resident_mb(_: object = None) -> int:
    """This process's resident memory (VmRSS), in MB."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) // 1024


def test_work_in_a_child_forked_early_returns_its_result_raises_its_error_and_has_its_own_memory(tmp_path):
    """How the build loads its store and counts its statistics: in a process forked before the build
    read anything, which holds none of what the build took since."""
    import os

    from kg.parallel import child_forked_now

    with child_forked_now() as apart:
        ballast = bytes(range(256)) * (512 << 10)  # 128 MB, resident
        assert apart(os.getpid) != os.getpid()
        with pytest.raises(FileNotFoundError):
            apart((tmp_path / "missing").read_bytes)
        parent, child = resident_mb(), apart(resident_mb)
    assert child < parent - 100, (parent, child, len(ballast))


def test_a_worker_does_not_start_with_memory_its_parent_freed():
    """A forked worker counts every page resident in its parent. Memory the parent freed but C's
    allocator kept (the build frees much before it forks) is handed back before forking."""
    import ctypes

    from kg.parallel import in_workers

    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(64 << 10) for _ in range(1024)]  # 64 MB in blocks that malloc takes from its heap
    for block in blocks:
        ctypes.memset(block, 1, 64 << 10)
    for block in blocks[:-1]:  # the last one keeps free() from shrinking the heap by itself
        libc.free(block)
    parent = resident_mb()
    workers = in_workers(resident_mb, [1, 2])
    libc.free(blocks[-1])
    assert max(workers) < parent - 48, (parent, workers)


def test_input_files_are_hashed_in_path_order_and_a_linked_folder_is_a_seed_error(tmp_path):
    """A release's fingerprint hashes the input files in the order Paths sort, the order it always had:
    a folder's files before a sibling whose name extends the folder's. Linked files are read; a linked
    folder is refused with its name rather than followed or skipped."""
    import os

    from kg.pipeline.build import files_under
    from kg.seeds.reader import SeedError

    for name in ["a/b.txt", "a/b/c/d.txt", "a-b/c.txt", "a.txt", "ab", "A/z"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    os.symlink(tmp_path / "a.txt", tmp_path / "linked-file")
    listed = [name for name, _ in files_under(str(tmp_path), "")]
    assert listed == ["A/z", "a/b/c/d.txt", "a/b.txt", "a-b/c.txt", "a.txt", "ab", "linked-file"]
    assert listed == [path.relative_to(tmp_path).as_posix() for path in sorted(tmp_path.rglob("*")) if path.is_file()]
    os.symlink(tmp_path / "a", tmp_path / "a" / "b" / "linked-folder")
    with pytest.raises(SeedError, match=r"^inputs/a/b/linked-folder:1: a symbolic link to a folder"):
        list(files_under(str(tmp_path), "inputs/"))


def test_the_article_index_lists_folders_with_a_mapping_keyed_by_all_their_files(tmp_path):
    """The build lists its articles in a file, in name order: folders of the articles folder that hold a
    mapping. An article's key changes with any of its files, nested ones too, and with the shared inputs;
    files beside the article folders are not articles."""
    from kg.pipeline.build import ArticleCache, Project, read_inputs
    from kg.rdf.vocabulary import Iris

    project = Project(tmp_path / "project")
    for name in ["seeds/entities.yaml", "seeds/articles/b/mapping.yaml", "seeds/articles/b/notes/x.txt",
                 "seeds/articles/a/mapping.yaml", "seeds/articles/a/article.txt", "seeds/articles/draft/article.txt",
                 "seeds/articles/README", "shapes/s.ttl", "ontology/o.ttl"]:
        (project.root / name).parent.mkdir(parents=True, exist_ok=True)
        (project.root / name).write_text(name)

    def keys() -> dict[str, str]:
        inputs = read_inputs(project, Iris(), tmp_path / "index")
        return dict(ArticleCache(tmp_path / "build", project, inputs).articles())
    first = keys()
    assert list(first) == ["a", "b"]
    (project.articles / "b" / "notes" / "x.txt").write_text("changed")
    second = keys()
    assert second["a"] == first["a"] and second["b"] != first["b"]
    (project.shapes / "s.ttl").write_text("changed")
    assert all(keys()[article] != second[article] for article in second)


def test_an_article_removed_from_the_seeds_leaves_the_release_and_the_cache(project, tmp_path):
    import shutil

    build_dir = tmp_path / "build"
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    assert run_kg("build", "--build-dir", build_dir, env={"KG_PROJECT": str(copy)}).returncode == 0
    assert {"articles/syn-000005", "parts/syn-000005"} <= {"/".join(name.split("/")[:2]) for name in cache_files(build_dir)}
    shutil.rmtree(copy / "seeds" / "articles" / "syn-000005")
    assert run_kg("build", "--build-dir", build_dir, env={"KG_PROJECT": str(copy)}).returncode == 0
    release = (build_dir / "current").resolve()
    assert json.loads((release / "release.json").read_text(encoding="utf-8"))["article_count"] == ARTICLES - 1
    assert not any(quad.graph_name.value.endswith("/syn-000005") for quad in store_quads(release))
    assert b"syn-000005" not in (release / "dumps" / "graph.nq").read_bytes()
    left = cache_files(build_dir)
    assert len(left) == (ARTICLES - 1) * FILES_PER_ARTICLE and not any("/syn-000005/" in name for name in left)


@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_work_in_workers_draws_its_tasks_as_results_are_taken(cpus, monkeypatch):
    """A build hands a corpus's batches to the workers a few at a time: the tasks are not all drawn, nor
    all results held, before the first result comes back. Results come in task order, all of them."""
    import os

    from kg.parallel import in_workers

    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    drawn = []

    def tasks():
        for task in range(100):
            drawn.append(task)
            yield task
    results = in_workers(abs, tasks())
    assert next(results) == 0
    assert len(drawn) <= max(2 * cpus + 1, 3)
    assert list(results) == list(range(1, 100))


def test_a_server_started_during_a_build_serves_the_last_complete_release(project, tmp_path, kg_serve):
    """While another process holds the build lock (a build is running), `kg serve` does not wait for it
    nor build itself: it serves the last complete release at once."""
    import fcntl
    import os

    import httpx

    build_dir = tmp_path / "build"
    assert run_kg("build", "--build-dir", build_dir, env={"KG_PROJECT": str(project)}).returncode == 0
    served = (build_dir / "current").resolve().name
    mapping = project / "seeds" / "articles" / "syn-000004" / "mapping.yaml"
    mapping.write_text(mapping.read_text(encoding="utf-8") + "\n# edited while a build runs\n", encoding="utf-8")
    with (build_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # what a running `kg build` holds
        os.environ["KG_PROJECT"] = str(project)
        try:
            server = kg_serve("--build-dir", build_dir)
        finally:
            del os.environ["KG_PROJECT"]
        answer = httpx.get(f"{server.base_url}/dumps/", headers={"Accept": "application/json"})
        assert answer.json()["release"] == served
        assert (build_dir / "current").resolve().name == served
