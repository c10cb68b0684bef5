"""`kg new` and `kg draft`: a new article folder with its text byte for byte and a drafted mapping
that loads; a redraft that never overwrites a curator's mapping; `--compare`; and a real `kg build`
of drafted articles (grounding and the SHACL gate)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import REPO, run_kg

from kg.cli.main import main

SEED_TEXT = REPO / "seeds" / "articles" / "cgtn-2019-03-01-hanoi-summit" / "article.txt"
BENCHMARK = REPO / "benchmarks" / "draft" / "articles"


@pytest.fixture()
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    (folder / "articles").mkdir(parents=True)
    shutil.copyfile(REPO / "seeds" / "entities.yaml", folder / "entities.yaml")
    return folder


def kg_new(seeds: Path, article_id: str, text: Path, *extra: str) -> int:
    return main(["new", article_id, "--text", str(text), "--url", "https://example.org/a", "--published",
                 "2019-03-01", "--publisher", "cgtn", "--seeds", str(seeds), *extra])


def test_kg_new_copies_the_text_byte_for_byte_and_drafts_a_mapping_that_loads(seeds, tmp_path, capsys):
    text = tmp_path / "in.txt"
    text.write_bytes("Reyes said on Thursday that the caf\u00e9 talks were over.\r\nNo more.\r\n".encode("utf-8"))
    assert kg_new(seeds, "cafe-talks", text) == 0  # 0: the draft loads (kg new checks it with the seed loader)
    folder = seeds / "articles" / "cafe-talks"
    assert (folder / "article.txt").read_bytes() == text.read_bytes()
    mapping = (folder / "mapping.yaml").read_text(encoding="utf-8")
    assert mapping.startswith("# Drafted by `kg draft`") and "# drafted:" in mapping
    assert "drafted" in capsys.readouterr().out


def test_kg_new_refuses_an_existing_folder_an_unknown_publisher_and_text_that_is_not_utf8(seeds, tmp_path, capsys):
    assert kg_new(seeds, "hanoi", SEED_TEXT) == 0
    assert kg_new(seeds, "hanoi", SEED_TEXT) == 1
    assert "exists already" in capsys.readouterr().err
    assert main(["new", "other", "--text", str(SEED_TEXT), "--url", "https://example.org/a", "--published",
                 "2019-03-01", "--publisher", "nobody", "--seeds", str(seeds)]) == 1
    assert "not a NewsMedia entity" in capsys.readouterr().err
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\u00e9".encode("latin-1"))
    assert kg_new(seeds, "latin", latin) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_kg_draft_redrafts_a_draft_but_not_a_curated_mapping(seeds, capsys):
    assert kg_new(seeds, "hanoi", SEED_TEXT) == 0
    folder = seeds / "articles" / "hanoi"
    first = (folder / "mapping.yaml").read_text(encoding="utf-8")
    (folder / "mapping.yaml").write_text(first.replace("# Drafted by", "# Redrafted by"), encoding="utf-8")
    assert main(["draft", str(folder)]) == 1  # a person has taken it over
    assert "taken over" in capsys.readouterr().err
    (folder / "mapping.yaml").write_text(first, encoding="utf-8")
    assert main(["draft", str(folder)]) == 0
    assert (folder / "mapping.yaml").read_text(encoding="utf-8") == first  # the drafter is deterministic


def test_kg_draft_compare_prints_precision_and_recall_per_kind_and_every_miss(capsys):
    folder = BENCHMARK / "brief-2019-07-01-un-envoy"
    assert main(["draft", str(folder), "--compare", str(folder / "mapping.yaml"), "--seeds", str(REPO / "seeds")]) == 0
    out = capsys.readouterr().out
    for kind in ("structure", "mentions", "statements", "quotations", "speakers", "dates", "events", "claims",
                 "stances"):
        assert f"\n{kind} " in out
    assert (folder / "mapping.yaml").read_text(encoding="utf-8").startswith("# Curated")  # --compare writes nothing


@pytest.mark.slow
def test_drafted_articles_pass_kg_build(tmp_path):
    """The drafts of the seed article and the benchmark articles, built by the real `kg build`: every
    quote grounds, every reference resolves, the graph passes the SHACL gate."""
    project = tmp_path / "project"
    for folder in ("ontology", "shapes"):
        shutil.copytree(REPO / folder, project / folder)
    seeds = project / "seeds"
    (seeds / "articles").mkdir(parents=True)
    shutil.copyfile(REPO / "seeds" / "entities.yaml", seeds / "entities.yaml")
    texts = {"hanoi-draft": SEED_TEXT, **{f.name: f / "article.txt" for f in BENCHMARK.iterdir()}}
    for article_id, text in texts.items():
        result = run_kg("new", article_id, "--text", text, "--url", "https://example.org/a", "--published",
                        "2019-03-01", "--publisher", "cgtn", "--seeds", seeds)
        assert result.returncode == 0, result.stderr
    result = run_kg("build", "--build-dir", tmp_path / "build", cwd=project, env={"KG_PROJECT": str(project)})
    assert result.returncode == 0, result.stderr
    assert f"from {len(texts)} article(s), conforms to the shapes" in result.stdout
