"""Which project (ontology/, shapes/, queries/, seeds/) a `kg` command works on, wherever it is run.

In order: `kg --project DIR` (which sets `$KG_PROJECT` for the whole command), `$KG_PROJECT`, the
current folder when it is a project, else the source tree the installed `kg` package comes from
(an editable install, as `make serve` makes), else the ontology, shapes and queries a wheel carries
(kg/project_files/, copied there by setup.py), so that `kg validate file.ttl` or `kg export` work
from any folder. A project folder is one holding `shapes/` with SHACL files.
"""
from __future__ import annotations

import os
from pathlib import Path

import kg
from kg.pipeline.build import Project

PROJECT_VARIABLE = "KG_PROJECT"


def is_project(folder: Path) -> bool:
    """Whether `folder` holds a project's shapes (the one input every command needs)."""
    return any((folder / "shapes").glob("*.ttl"))


def find_project() -> Project:
    """The project the command works on (see the module docstring)."""
    explicit = os.environ.get(PROJECT_VARIABLE)
    if explicit:
        return Project(Path(explicit).resolve())
    here = Path.cwd().resolve()
    if is_project(here):
        return Project(here)
    source = Path(kg.__file__).resolve().parents[1]
    if is_project(source):
        return Project(source)
    packaged = Path(kg.__file__).resolve().parent / "project_files"
    if is_project(packaged):
        return Project(packaged)
    return Project(here)


def default_build_dir() -> Path:
    """Where releases are written and read when `--build-dir` is not given: the project's build/."""
    return find_project().root / "build"
