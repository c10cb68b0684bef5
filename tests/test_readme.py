"""The README a newcomer reads first: short (under 12,000 bytes, the rest lives in docs/), and every file it links to
or shows exists in the repository."""
from __future__ import annotations

import re

from conftest import REPO

README = REPO / "README.md"


def test_the_readme_stays_under_twelve_thousand_bytes():
    assert README.stat().st_size < 12_000


def test_every_relative_link_and_picture_of_the_readme_exists():
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text(encoding="utf-8"))
    local = [target for target in targets if "://" not in target]
    assert local, "the README links to docs/ and benchmarks/"
    assert [target for target in local if not (REPO / target).exists()] == []
