"""A seeds folder: the registry (`entities.yaml`) and one folder per article under `articles/`."""
from __future__ import annotations

import os
from pathlib import Path

from kg.seeds.records import Registry
from kg.seeds.registry import seed_registry

ARTICLES_FOLDER = "articles"  # in the seeds folder: one folder per article


def load_corpus(seeds: Path, root: Path) -> tuple[Registry, list[str]]:
    """Load the registry and list the articles: the names of the folders in `seeds / ARTICLES_FOLDER`
    that hold a mapping, sorted. Articles are loaded one by one (`load_article`)."""
    registry = seed_registry(seeds, root)
    folder = seeds / ARTICLES_FOLDER
    if not folder.is_dir():
        return registry, []
    with os.scandir(folder) as entries:
        articles = sorted(entry.name for entry in entries if os.path.isfile(os.path.join(entry.path, "mapping.yaml")))
    return registry, articles
