"""The `kg` command for people: its version, progress while it builds, and the project found from
anywhere (`--project`, `$KG_PROJECT`, or the source tree kg is installed from)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import REPO, run_kg

SUMMIT = """@prefix dipl: <https://w3id.org/diplomacy-kg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://example.org/summit> a dipl:Summit ; rdfs:label "A summit"@en ; dipl:participant "somebody" .
"""


def test_version():
    from kg import __version__

    result = run_kg("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_validate_works_outside_the_repository_with_subclass_targeted_shapes(tmp_path):
    """A dipl:Summit is a dipl:Event only through the ontology: the Event shapes reach it by default."""
    data = tmp_path / "summit.ttl"
    data.write_text(SUMMIT, encoding="utf-8")
    result = run_kg("validate", data, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "A participant must be an actor" in result.stdout
    alone = run_kg("validate", "--no-ontology", data, cwd=tmp_path)
    assert "A participant must be an actor" not in alone.stdout


def test_validate_refuses_an_empty_file(tmp_path):
    empty = tmp_path / "empty.ttl"
    empty.write_text("", encoding="utf-8")
    result = run_kg("validate", empty, cwd=tmp_path)
    assert result.returncode == 2 and "no triples" in result.stderr


def test_validate_says_where_shapes_are_looked_for_when_the_project_has_none(tmp_path):
    data = tmp_path / "summit.ttl"
    data.write_text(SUMMIT, encoding="utf-8")
    result = run_kg("--project", tmp_path, "validate", data, cwd=tmp_path)
    assert result.returncode == 2 and "--project" in result.stderr and str(tmp_path) in result.stderr


@pytest.mark.slow
def test_build_and_export_with_project_from_another_folder_say_what_they_do(tmp_path):
    project = tmp_path / "project"
    for folder in ("ontology", "seeds", "shapes", "queries"):
        shutil.copytree(REPO / folder, project / folder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    built = run_kg("--project", project, "build", cwd=elsewhere)
    assert built.returncode == 0, built.stderr
    assert (project / "build" / "current").exists() and not (elsewhere / "build").exists()
    articles = sum(1 for _ in (project / "seeds" / "articles").glob("*/mapping.yaml"))
    assert f"building {articles} article(s) of {project}" in built.stderr
    assert "mapping and validation:" in built.stderr  # each stage as it ends
    exported = run_kg("export", "quickstatements", cwd=elsewhere, env={"KG_PROJECT": str(project)})
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip()


def test_the_source_tree_is_found_from_any_folder(tmp_path, monkeypatch):
    from kg.cli.project import find_project

    monkeypatch.delenv("KG_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert find_project().root == Path(REPO).resolve()
    monkeypatch.setenv("KG_PROJECT", str(tmp_path))
    assert find_project().root == tmp_path.resolve()
