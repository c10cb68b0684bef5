"""`kg serve` without --data: it builds the release when missing or stale, then serves it."""
from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from conftest import REPO, start_kg_serve, stop_kg_serve

pytestmark = pytest.mark.slow  # real builds and processes, seconds each

LABEL = ("SELECT ?label { <https://w3id.org/diplomacy-kg/entity/donald-trump> "
         "<http://www.w3.org/2000/01/rdf-schema#label> ?label }")


def label_served(server) -> list[str]:
    response = httpx.get(server.sparql, params={"query": LABEL}, headers={"accept": "text/csv"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.text.split("\r\n")[1:-1]


def test_serve_builds_a_missing_release_and_rebuilds_a_stale_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    for folder in ("ontology", "seeds", "shapes", "queries"):
        shutil.copytree(REPO / folder, project / folder)
    monkeypatch.setenv("KG_PROJECT", str(project))
    build_dir = tmp_path / "build"
    args = ["--build-dir", str(build_dir), "--workers", "1"]

    server = start_kg_serve(args, tmp_path)
    try:
        assert label_served(server) == ["Donald Trump"]
        first = (build_dir / "current").resolve()
        assert (first / "release.json").is_file()
        assert httpx.get(f"{server.base_url}/queries/statements", params={"format": "csv"}).status_code == 200
    finally:
        stop_kg_serve(server.process)

    entities = project / "seeds" / "entities.yaml"
    entities.write_text(entities.read_text(encoding="utf-8").replace("label: Donald Trump", "label: Donald J. Trump", 1),
                        encoding="utf-8")
    server = start_kg_serve(args, tmp_path)
    try:
        assert label_served(server) == ["Donald J. Trump"]
        assert (build_dir / "current").resolve() != first
    finally:
        stop_kg_serve(server.process)
