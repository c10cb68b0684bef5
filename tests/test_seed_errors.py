"""Bad seed input: the seed loader names the file, the line and what is wrong (checked in process, case by
case); `kg build` then exits non-zero and publishes nothing (checked end to end, once per kind of input)."""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import REPO, break_and_build, run_kg, snapshot

ARTICLE = "cgtn-2019-03-01-hanoi-summit"
MAPPING = f"seeds/articles/{ARTICLE}/mapping.yaml"
REGISTRY = "seeds/entities.yaml"


CASES = {
    "quote not in the text": (
        MAPPING, "quote: Pompeo told a news conference on Friday during a short stop in Manila",
        "quote: Pompeo told a press conference on Friday during a short stop in Manila",
        "quote not found in the article text: 'Pompeo told a press conference"),
    "ambiguous quote": (
        MAPPING, "quote: U.S. President Donald Trump, occurrence: 1}", "quote: Donald Trump}",
        "quote is ambiguous: 'Donald Trump' occurs 2 times in the article text; add 'occurrence: N' (1 to 2)"),
    "occurrence out of range": (
        MAPPING, "quote: U.S. President Donald Trump, occurrence: 1}", "quote: U.S. President Donald Trump, occurrence: 3}",
        "occurrence must be a number from 1 to 1 for 'U.S. President Donald Trump'"),
    "undefined id": (
        MAPPING, "speaker: wang-yi\n    at: wang-yi-ri-kil-song-meeting\n    quote: Chinese State",
        "speaker: wang-yii\n    at: wang-yi-ri-kil-song-meeting\n    quote: Chinese State",
        "undefined id 'wang-yii' (used as a speaker)"),
    "reference of the wrong kind": (
        MAPPING, "place: manila", "place: mike-pompeo",
        "'mike-pompeo' is a Person, which cannot be a place"),
    "duplicate id": (
        MAPPING, "  - id: leaders-built-trust", "  - id: talks-in-deep-water-zone",
        "duplicate id 'talks-in-deep-water-zone' (first defined in claims at line"),
    "invalid publication date": (
        MAPPING, "published: 2019-03-01", "published: 2019-02-30",
        "invalid date '2019-02-30': expected an ISO date YYYY-MM-DD that exists"),
    "unknown event type": (
        MAPPING, "type: Dinner", "type: Banquet", "unknown event type 'Banquet'"),
    "unknown stance": (
        MAPPING, "{claim: dprk-position-will-not-change, stance: asserts}",
        "{claim: dprk-position-will-not-change, stance: claims}", "unknown stance 'claims' (known: asserts, denies)"),
    "unknown role": (
        MAPPING, "{actor: china, role: host}", "{actor: china, role: caterer}", "unknown role 'caterer'"),
    "unknown CAMEO code": (
        MAPPING, 'cameo: "017"', 'cameo: "999"', "unknown CAMEO code '999'"),
    "malformed Wikidata id": (
        REGISTRY, "wikidata: Q22686", "wikidata: 22686",
        "malformed Wikidata id '22686': expected Q followed by digits"),
    "unknown entity type": (
        REGISTRY, "type: Facility", "type: Building", "unknown type 'Building'"),
    "unknown key (a typo)": (
        MAPPING, "    audience: reporters\n    quote: Ri told", "    audiense: reporters\n    quote: Ri told",
        "unknown key 'audiense' in a statement"),
    "invalid YAML": (
        MAPPING, "  - id: yongbyon-offer\n", "  - id: [yongbyon-offer\n", "invalid YAML"),
    "date from another sentence without its reason": (
        MAPPING, "      words: Thursday\n      in: Kremlin spokesperson Dmitry Peskov said Thursday\n      because: the quote "
        "continues Peskov's Thursday remarks (\"But, at the same time, ...\")\n",
        "      words: Thursday\n      in: Kremlin spokesperson Dmitry Peskov said Thursday\n",
        "the date words 'Thursday' are outside the item's quote, so the date is inferred: say why"),
    "reason for a date that is the item's own": (
        MAPPING, "    when: Thursday\n    paraphrase: welcomed",
        "    when: {words: Thursday, because: it says so}\n    paraphrase: welcomed",
        "'because' is for a date inferred from words outside the item's quote"),
    "hedge that the speaker did not say": (
        MAPPING, "{claim: no-tangible-agreements-possible-yet, stance: asserts, hedge: probably}",
        "{claim: no-tangible-agreements-possible-yet, stance: asserts, hedge: perhaps}",
        "hedge not found in the statement's quotes: 'perhaps'"),
    "unknown evaluation": (
        MAPPING, "{claim: china-optimistic-about-talks, stance: asserts, evaluation: positive}",
        "{claim: china-optimistic-about-talks, stance: asserts, evaluation: glowing}", "unknown evaluation 'glowing'"),
    "actors of an uncoded act": (
        MAPPING, '    cameo: "039"   # Express intent to mediate: "vowed to help Kim and Trump reach" an agreement\n', "",
        "'source' and 'target' are the actors of a coded act: give its CAMEO code ('cameo') too"),
    "position of another jurisdiction than its office": (
        MAPPING, "title: Secretary of State, office: us-secretary-of-state,",
        "title: Secretary of State, office: us-secretary-of-state, of: china,",
        "'china' is not the jurisdiction of the office 'us-secretary-of-state'"),
    "a city in something that is not a state": (
        REGISTRY, "    country: vietnam\n", "    country: kcna\n",
        "'kcna' is a NewsMedia, which cannot be the state a place lies in"),
    "unresolvable time expression": (
        MAPPING, "when: Thursday\n    paraphrase: welcomed", "when: Moscow\n    paraphrase: welcomed",
        "cannot resolve the time expression 'Moscow'"),
}


def seed_problems(project: Path, article: str) -> str:
    """What the seed loader reports for the registry and one article of `project`, one problem a line, as
    `kg build` prints them (empty when the seeds are fine)."""
    from kg.pipeline.build import cameo_codes
    from kg.rdf.graphs import ontology_quads
    from kg.rdf.vocabulary import Iris
    from kg.seeds.mapping import load_article, seed_registry
    from kg.seeds.reader import SeedError

    try:
        registry = seed_registry(project / "seeds", project)
        codes = cameo_codes(ontology_quads(project / "ontology", Iris()))
        load_article(project / "seeds" / "articles" / article, registry, codes, project)
    except SeedError as error:
        return str(error)
    return ""


@pytest.fixture
def break_seeds(tmp_path: Path) -> Callable[[str, str, str], tuple[str, int]]:
    """`break_seeds(file, old, new)`: the loader's report on a copy of the seeds with `old` (which must occur
    once) replaced by `new` in `file`, and the 1-based line where the replacement starts."""
    for folder in ("ontology", "seeds"):
        shutil.copytree(REPO / folder, tmp_path / folder)

    def broken(file: str, old: str, new: str) -> tuple[str, int]:
        path = tmp_path / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"test setup: {old!r} must occur once in {file}"
        path.write_text(text.replace(old, new), encoding="utf-8")
        return seed_problems(tmp_path, ARTICLE), text[:text.index(old)].count("\n") + 1
    return broken


def assert_located(report: str, file: str, line: int, message: str) -> None:
    """`message` is reported at `file`, at the line of the broken entry (YAML errors may point a line or two further)."""
    assert message in report, report
    located = [row for row in report.splitlines() if message in row]
    assert any(row.startswith(f"{file}:") for row in located), report
    lines = {int(row.split(":")[1]) for row in located if row.startswith(f"{file}:")}
    assert any(line <= found <= line + 2 for found in lines), (line, report)


def test_the_seeds_as_committed_have_no_problem() -> None:
    assert seed_problems(REPO, ARTICLE) == ""


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_seed_input_gets_a_located_error(break_seeds, case):
    file, old, new, message = CASES[case]
    report, line = break_seeds(file, old, new)
    assert_located(report, file, line, message)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["quote not in the text", "malformed Wikidata id"])
def test_kg_build_reports_it_and_publishes_nothing(published_project, tmp_path, case):
    """End to end, for a broken article and a broken registry: `kg build` prints the located error, exits 1
    and leaves the published release as it was (break_and_build checks the last two)."""
    file, old, new, message = CASES[case]
    stderr, line = break_and_build(published_project, tmp_path, file, old, new)
    assert_located(stderr, file, line, message)


def test_the_article_text_must_match_the_quotes_it_is_mapped_with(break_seeds):
    """Editing the text without the mapping (here: one changed word) is caught at the quotes it breaks."""
    report, _ = break_seeds(f"seeds/articles/{ARTICLE}/article.txt", "Chinese State Councilor", "Chinese State Counselor")
    assert f"{MAPPING}:" in report and "quote not found in the article text: 'Chinese State Councilor" in report


@pytest.mark.parametrize("words, expected", [
    ("Thursday", ("2019-02-28", "day")), ("on Friday", ("2019-03-01", "day")), ("last year", ("2018", "year")),
    ("February 27, 2019", ("2019-02-27", "day")), ("February 30, 2019", "invalid date 'February 30, 2019'"),
    ("late-night", "cannot resolve the time expression 'late-night'"),
])
def test_time_expressions_resolve_against_the_publication_date(words, expected):
    import datetime as dt

    from kg.seeds.mapping import parse_date_words

    resolved = parse_date_words(words, dt.date(2019, 3, 1))
    if isinstance(expected, str):
        assert isinstance(resolved, str) and resolved.startswith(expected)
    else:
        assert resolved[:2] == expected


@pytest.mark.slow
def test_an_article_folder_linked_in_is_a_located_error(published_project, tmp_path):
    """An article folder that is a symbolic link is neither followed nor skipped without a word."""
    project = tmp_path / "project"
    shutil.copytree(published_project, project, symlinks=True)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(project / "seeds" / "articles" / "cgtn-2019-03-01-hanoi-summit", elsewhere)
    os.symlink(elsewhere, project / "seeds" / "articles" / "linked-article")
    before = snapshot(project / "build")
    result = run_kg("build", "--build-dir", project / "build", env={"KG_PROJECT": str(project)})
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "seeds/articles/linked-article:1: a symbolic link to a folder" in result.stderr
    assert snapshot(project / "build") == before
