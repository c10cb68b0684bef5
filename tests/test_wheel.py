"""`pip install .` gives a `kg` that works outside the repository: the wheel carries the pages' JavaScript
(from npm, never from git) and the project's ontology, shapes and queries (setup.py)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow  # builds a wheel (setuptools in an isolated environment)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(out)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    return next(out.glob("diplomacy_kg-*.whl"))


def test_the_wheel_carries_the_browser_libraries_and_the_project_files(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.startswith("kg/static/vendor/") and name.endswith(".js") for name in names)
    for folder in ("ontology", "shapes", "queries"):
        shipped = {Path(name).name for name in names if name.startswith(f"kg/project_files/{folder}/")}
        assert shipped == {path.name for path in (REPO / folder).iterdir() if path.is_file()}, folder


def test_kg_validate_from_the_wheel_works_in_any_folder(wheel: Path, tmp_path: Path) -> None:
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "bad.ttl").write_text("@prefix dipl: <https://w3id.org/diplomacy-kg/ontology#> .\n"
                                       "<https://example.org/s> a dipl:Statement .\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", "import kg, sys; from kg.cli.main import main; "
                             "assert kg.__file__.startswith(sys.argv[1]), kg.__file__; sys.exit(main(sys.argv[2:]))",
                             str(unpacked), "validate", "bad.ttl"],
                            cwd=elsewhere, env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "A statement needs exactly one speaker" in result.stdout + result.stderr
