"""Fuzzing the seed loader: any corruption of a mapping gives located errors, never a crash.

Random edits of the real mapping (text-level: deleted, duplicated or truncated lines, inserted
characters; structure-level: values replaced by other kinds of values, keys dropped, quotes shifted)
must either load or raise SeedError whose every problem names the mapping file and a line in it.
The last test runs the real `kg build` on a few corruptions: exit 1, no traceback, nothing published.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, run_kg
from kg.seeds.mapping import load_article, load_registry
from kg.seeds.reader import SeedError

ARTICLE = REPO / "seeds" / "articles" / "cgtn-2019-03-01-hanoi-summit"
MAPPING_TEXT = (ARTICLE / "mapping.yaml").read_text(encoding="utf-8")
MAPPING_LINES = MAPPING_TEXT.split("\n")
REGISTRY = load_registry(REPO / "seeds" / "entities.yaml", "seeds/entities.yaml")
CAMEO = set(re.findall(r'skos:notation "(\d+)"', (REPO / "ontology" / "cameo.ttl").read_text(encoding="utf-8")))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def load(tmp_path: Path, mapping: str) -> None:
    """Load a corrupted copy of the article; only SeedError with located problems may escape."""
    folder = tmp_path / "cgtn-2019-03-01-hanoi-summit"
    folder.mkdir(exist_ok=True)
    shutil.copy(ARTICLE / "article.txt", folder / "article.txt")
    (folder / "mapping.yaml").write_text(mapping, encoding="utf-8")
    try:
        load_article(folder, REGISTRY, CAMEO, tmp_path)
    except SeedError as error:
        assert error.problems
        line_count = mapping.count("\n") + 1
        for problem in error.problems:
            assert problem.file == "cgtn-2019-03-01-hanoi-summit/mapping.yaml"
            assert 1 <= problem.line <= line_count, problem
            assert problem.message


line_index = st.integers(min_value=0, max_value=len(MAPPING_LINES) - 1)


@FUZZ
@given(st.data())
def test_text_corruptions_give_located_errors(tmp_path, data):
    lines = list(MAPPING_LINES)
    edit = data.draw(st.sampled_from(["delete", "duplicate", "truncate", "insert", "swap"]))
    index = data.draw(line_index)
    if edit == "delete":
        del lines[index]
    elif edit == "duplicate":
        lines.insert(index, lines[index])
    elif edit == "truncate":
        lines = lines[:index]
    elif edit == "insert":
        column = data.draw(st.integers(0, len(lines[index])))
        junk = data.draw(st.text(alphabet=":-[]{}'\"#&*!|> \t\\x0", min_size=1, max_size=4))
        lines[index] = lines[index][:column] + junk + lines[index][column:]
    else:
        other = data.draw(line_index)
        lines[index], lines[other] = lines[other], lines[index]
    load(tmp_path, "\n".join(lines))


def paths(node, prefix=()):
    """Every path to a value inside a parsed YAML tree."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, prefix + (index,))


TREE = yaml.safe_load(MAPPING_TEXT)
ALL_PATHS = [p for p in paths(TREE) if p]
REPLACEMENTS = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.text(max_size=20),
                         st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5),
                                                                                    st.text(max_size=5), max_size=2))


@FUZZ
@given(st.data())
def test_structure_corruptions_give_located_errors(tmp_path, data):
    import copy

    tree = copy.deepcopy(TREE)
    path = data.draw(st.sampled_from(ALL_PATHS))
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    edit = data.draw(st.sampled_from(["replace", "drop", "shift"]))
    if edit == "drop":
        del parent[path[-1]]
    elif edit == "shift" and isinstance(parent[path[-1]], str) and len(parent[path[-1]]) > 2:
        parent[path[-1]] = parent[path[-1]][1:] + " "  # a quote shifted by one character
    else:
        parent[path[-1]] = data.draw(REPLACEMENTS)
    load(tmp_path, yaml.safe_dump(tree, allow_unicode=True, sort_keys=False))


@pytest.mark.parametrize("corruption", [
    lambda text: text.replace("events:", "events: [", 1),                   # bad YAML
    lambda text: text.replace("speaker: kcna", "speaker: [kcna, cgtn]", 1),  # wrong type
    lambda text: text.replace("  publisher: cgtn\n", "", 1),                 # missing key
    lambda text: text.replace("quote: Chairman Kim,", "quote: hairman Kim ,", 1),  # shifted quote
    lambda text: text[: len(text) // 2],                                    # truncated file
], ids=["bad-yaml", "wrong-type", "missing-key", "shifted-quote", "truncated"])
def test_kg_build_on_a_corrupted_mapping_fails_cleanly(tmp_path, corruption):
    project = tmp_path / "project"
    for folder in ("ontology", "seeds", "shapes"):
        shutil.copytree(REPO / folder, project / folder)
    mapping = project / "seeds" / "articles" / ARTICLE.name / "mapping.yaml"
    broken = corruption(MAPPING_TEXT)
    assert broken != MAPPING_TEXT
    mapping.write_text(broken, encoding="utf-8")
    result = run_kg("build", "--build-dir", project / "build", env={"KG_PROJECT": str(project)})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert re.search(r"^seeds/articles/cgtn-2019-03-01-hanoi-summit/mapping\.yaml:\d+: ", result.stderr, re.M)
    assert not (project / "build" / "current").exists()
