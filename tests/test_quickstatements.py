"""`kg export quickstatements`: strict V1 syntax, and every exported statement backed by the graph."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pyoxigraph import Store

from conftest import REPO, run_kg
from kg.integrations.quickstatements import quoted, time_value

SANDBOX = "Q4115189"  # the Wikidata sandbox item: stands in for a summit item in the fixture below
ITEM = r"Q[1-9][0-9]*"
TIME = re.compile(r"^\+(\d{4})-(\d{2})-(\d{2})T00:00:00Z/(9|10|11)$")
STRING = re.compile(r'^"([^\s|](?:[^\t|\n]*[^\s|])?)"$')  # quoted, trimmed, no separators
MONOLINGUAL = re.compile(r'^([a-z]{2,3}(?:-[a-z0-9]+)*):"([^\t|\n]+)"$')
ITEM_VALUED = {"P710", "P1344", "P276", "P361", "P39"}
TIME_VALUED = {"P585", "P580", "P582"}
REFERENCE_KINDS = {"S854": "string", "S577": "time", "S813": "time", "S1683": "monolingual"}


def check_time(value: str) -> tuple[str, int]:
    found = TIME.match(value)
    assert found, f"not a V1 time with explicit precision: {value!r}"
    year, month, day, precision = found.group(1), int(found.group(2)), int(found.group(3)), int(found.group(4))
    assert month <= 12 and day <= 31
    assert month or precision <= 9, "month 00 needs year precision"
    assert day or precision <= 10, "day 00 needs month precision or coarser"
    assert month and day or precision < 11
    return f"{year}-{found.group(2)}-{found.group(3)}", precision


def parse_line(line: str) -> dict:
    """Parse one V1 statement line strictly; returns item, property, value and reference pairs."""
    columns = line.split("\t")
    assert all(c == c.strip() and c for c in columns), f"empty or padded column in {line!r}"
    assert len(columns) >= 3 and len(columns) % 2 == 1, f"unpaired qualifier/reference column in {line!r}"
    item, prop, value, *pairs = columns
    assert re.fullmatch(ITEM, item), item
    assert re.fullmatch(r"P[1-9][0-9]*", prop), prop
    if prop in ITEM_VALUED:
        assert re.fullmatch(ITEM, value), value
    elif prop in TIME_VALUED:
        check_time(value)
    else:
        pytest.fail(f"unexpected property {prop}")
    keys = pairs[0::2]
    references = dict(zip(keys, pairs[1::2]))
    assert all(re.fullmatch(r"S[1-9][0-9]*", k) for k in keys), f"only reference pairs expected: {keys}"
    assert len(references) == len(keys), "a reference key repeats"
    assert list(keys[:3]) == ["S854", "S577", "S813"], "one reference: URL, publication date, retrieved"
    for key, kind in REFERENCE_KINDS.items():
        if key not in references:
            continue
        if kind == "string":
            assert STRING.match(references[key]), references[key]
        elif kind == "time":
            assert check_time(references[key])[1] == 11
        else:
            assert MONOLINGUAL.match(references[key]), references[key]
    return {"item": item, "property": prop, "value": value, "references": references}


@pytest.fixture(scope="module")
def seed_export(built_release) -> tuple[str, str]:
    result = run_kg("export", "quickstatements", "--build-dir", built_release.path.parents[1])
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


@pytest.fixture(scope="module")
def linked_summit_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project where the Hanoi summit has a (sandbox) QID, built: its build folder."""
    project = tmp_path_factory.mktemp("project")
    for folder in ("ontology", "seeds", "shapes"):
        shutil.copytree(REPO / folder, project / folder)
    registry = project / "seeds" / "entities.yaml"
    text = registry.read_text(encoding="utf-8")
    anchor = "  - id: hanoi-summit\n    type: Summit\n"
    assert anchor in text
    registry.write_text(text.replace(anchor, f"{anchor}    wikidata: {SANDBOX}\n"), encoding="utf-8")
    build_dir = project / "build"
    result = run_kg("build", "--build-dir", build_dir, env={"KG_PROJECT": str(project)})
    assert result.returncode == 0, result.stderr
    return build_dir


@pytest.fixture(scope="module")
def linked_export(linked_summit_release: Path) -> list[dict]:
    result = run_kg("export", "quickstatements", "--build-dir", linked_summit_release, "--retrieved", "2024-05-01")
    assert result.returncode == 0, result.stderr
    return [parse_line(line) for line in result.stdout.splitlines()]


def test_the_seed_export_is_strict_v1(seed_export):
    batch, summary = seed_export
    assert batch.endswith("\n") and "\r" not in batch
    statements = [parse_line(line) for line in batch.splitlines()]
    # The seed links people and offices but no event: only positions held can be proposed.
    assert {(s["item"], s["property"], s["value"]) for s in statements} == {
        ("Q22686", "P39", "Q11696"), ("Q473239", "P39", "Q14213"), ("Q311440", "P39", "Q81066")}
    guterres = next(s for s in statements if s["item"] == "Q311440")
    assert guterres["references"]["S1683"] == 'en:"UN Secretary-General Antonio Guterres"'
    assert guterres["references"]["S577"] == "+2019-03-01T00:00:00Z/11"


def test_what_cannot_be_expressed_is_summarized_on_stderr(seed_export):
    _, summary = seed_export
    assert summary.startswith("3 statement(s) proposed for review;")
    assert "P710 participant / P1344 participant in: the event has no Wikidata item" in summary
    assert "Kim Jong Un (Q56226) took part in 2019 North Korea–United States Hanoi Summit" in summary
    assert "2019 North Korea–United States Hanoi Summit place Hanoi (Q1858)" in summary
    assert "Kim Jong Un (Q56226) holds the position 'Chairman'" in summary
    assert "Wikidata has no property for what a party said or offered" in summary


def test_the_export_is_deterministic(seed_export, built_release):
    again = run_kg("export", "quickstatements", "--build-dir", built_release.path.parents[1])
    assert (again.stdout, again.stderr) == seed_export


def test_a_linked_event_gets_participants_place_and_dates(linked_export):
    triples = {(s["item"], s["property"], s["value"]) for s in linked_export}
    for participant in ("Q22686", "Q56226", "Q30", "Q423"):
        assert (SANDBOX, "P710", participant) in triples
    # The inverse only on people's items, not on states.
    assert {(i, v) for i, p, v in triples if p == "P1344"} == {("Q22686", SANDBOX), ("Q56226", SANDBOX)}
    assert (SANDBOX, "P276", "Q1858") in triples
    assert (SANDBOX, "P580", "+2019-02-27T00:00:00Z/11") in triples
    assert (SANDBOX, "P582", "+2019-02-28T00:00:00Z/11") in triples
    assert all(s["references"]["S813"] == "+2024-05-01T00:00:00Z/11" for s in linked_export)


def test_every_statement_is_backed_by_the_graph(linked_export, linked_summit_release):
    from kg.release.layout import current_release

    store = Store.read_only(str(current_release(linked_summit_release).store_path))
    entity = {row["q"].value.rsplit("/", 1)[1]: row["e"].value for row in store.query(
        "SELECT ?e ?q WHERE { GRAPH ?g { ?e <http://schema.org/sameAs> ?q } }")}
    dipl = "https://w3id.org/diplomacy-kg/ontology#"
    for statement in linked_export:
        item, prop, value, refs = statement["item"], statement["property"], statement["value"], statement["references"]
        url = STRING.match(refs["S854"]).group(1)
        patterns = {
            "P710": f"<{entity[item]}> <{dipl}participant> <{entity.get(value)}>",
            "P1344": f"<{entity.get(value)}> <{dipl}participant> <{entity[item]}>",
            "P276": f"<{entity[item]}> <{dipl}place> <{entity.get(value)}>",
            "P361": f"<{entity[item]}> <{dipl}partOf> <{entity.get(value)}>",
        }
        if prop in patterns:
            where = patterns[prop]
        elif prop == "P39":
            # The office is an item of the registry that links this QID; the position is of that office.
            where = f"?p <{dipl}holder> <{entity[item]}> ; <{dipl}office> <{entity[value]}>"
        else:
            term = {"P585": "date", "P580": "startDate", "P582": "endDate"}[prop]
            day, _ = check_time(value)
            where = f"<{entity[item]}> <{dipl}{term}> ?d FILTER(STR(?d) = \"{day}\")"
        where += f" . ?article <http://schema.org/url> <{url}>"
        assert store.query(f"ASK {{ GRAPH ?g {{ {where} }} }}"), statement
        if "S1683" in refs:
            language, words = MONOLINGUAL.match(refs["S1683"]).groups()
            # The quotation is the article's own words, verbatim, in the article's language.
            assert store.query(f"ASK {{ GRAPH ?g {{ ?a <http://schema.org/url> <{url}> ; "
                               f"<http://schema.org/inLanguage> \"{language}\" ; "
                               f"<http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#isString> ?text "
                               f"FILTER(CONTAINS(?text, {quoted_sparql(words)})) }} }}"), words


def quoted_sparql(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_values_that_v1_cannot_carry_are_refused():
    assert quoted("Kim Jong Un") == '"Kim Jong Un"'
    for bad in ("tab\there", "pipe | here", "line\nbreak", " padded", "", "x" * 401):
        with pytest.raises(ValueError):
            quoted(bad)
    assert time_value("2019-02-28") == "+2019-02-28T00:00:00Z/11"
    assert time_value("2018") == "+2018-00-00T00:00:00Z/9"
    with pytest.raises(ValueError):
        time_value("Thursday")


def test_no_release_is_a_clear_error(tmp_path):
    result = run_kg("export", "quickstatements", "--build-dir", tmp_path)
    assert result.returncode == 1 and "run `kg build` first" in result.stderr


def test_p39_comes_from_the_registrys_office_items(seed_export, tmp_path):
    """The office QIDs live in the seed registry, not in code: unlinking an office there removes its P39."""
    from kg.integrations.quickstatements import export_quickstatements
    from kg.release.layout import current_release
    import datetime

    batch, _ = seed_export
    assert ("Q473239", "P39", "Q14213") in {(s["item"], s["property"], s["value"])
                                            for s in map(parse_line, batch.splitlines())}
    project = tmp_path / "project"
    for folder in ("ontology", "seeds", "shapes"):
        shutil.copytree(REPO / folder, project / folder)
    registry = project / "seeds" / "entities.yaml"
    text = registry.read_text(encoding="utf-8")
    linked = "    jurisdiction: united-states\n    wikidata: Q14213\n"
    assert linked in text
    registry.write_text(text.replace(linked, "    jurisdiction: united-states\n"), encoding="utf-8")
    result = run_kg("build", "--build-dir", project / "build", env={"KG_PROJECT": str(project)})
    assert result.returncode == 0, result.stderr
    store = Store.read_only(str(current_release(project / "build").store_path))
    export = export_quickstatements(store, datetime.date(2024, 5, 1))
    assert not any(c.property == "P39" and c.value == "Q14213" for c in export.commands)
    assert any("Mike Pompeo (Q473239) holds the position 'Secretary of State'" in u.fact for u in export.unexpressed)
