"""The seed format's reference as JSON Schema (kg/seeds/schema): the schemas are valid and document every key,
every seed file of the project conforms (the seeds, the benchmark mappings, the fixtures, the synthetic corpus,
a fresh `kg new` draft), each kind of departure gets a message located at the offending line, and the loader
checks the schema first, with its key lists and enumerations taken from (or equal to) the schema's."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema_rs
import pytest
import yaml
from conftest import REPO, generate_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from kg.seeds.reader import SeedError, load_yaml
from kg.seeds.schema import (
    SCHEMAS,
    load_schema,
    object_keys,
    plain,
    schema_file,
    schema_problems,
)

SEED_ARTICLE = REPO / "seeds" / "articles" / "cgtn-2019-03-01-hanoi-summit"
MAPPINGS = sorted([*REPO.glob("seeds/articles/*/mapping.yaml"), *REPO.glob("benchmarks/draft/articles/*/mapping.yaml"),
                   *REPO.glob("tests/fixtures/*/mapping.yaml")])
REGISTRIES = [REPO / "seeds" / "entities.yaml", REPO / "benchmarks" / "draft" / "extra-entities.yaml"]


def problems_of(path: Path, name: str) -> list[str]:
    return [str(problem) for problem in schema_problems(load_yaml(path, path.name), name)]


def problems_in(tmp_path: Path, text: str, name: str = "mapping") -> list[str]:
    path = tmp_path / ("entities.yaml" if name == "entities" else "mapping.yaml")
    path.write_text(text, encoding="utf-8")
    return problems_of(path, name)


# --- the schemas themselves ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SCHEMAS)
def test_the_schemas_are_valid_json_schema_2020_12(name):
    schema = json.loads(schema_file(name).read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    jsonschema_rs.Draft202012Validator(schema)  # the fast path compiles it too


def subschemas(node, where=()):
    """Every (place, subschema) of a schema: the root, each definition, each property, nested."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from subschemas(value, where + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from subschemas(value, where + (index,))


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_key_and_definition_has_a_title_and_a_description(name):
    """The schema is the reference: every property, every definition and the root say what they are."""
    schema = load_schema(name)
    documented = [()] + [("$defs", key) for key in schema["$defs"]]
    for where, node in subschemas(schema):
        if where and where[-1] == "properties":
            documented += [where + (key,) for key in node]
    undocumented = []
    for where in documented:
        node = schema
        for step in where:
            node = node[step]
        if not (node.get("title") and node.get("description")):
            undocumented.append("/".join(map(str, where)))
    assert not undocumented, undocumented
    assert len(documented) > (60 if name == "mapping" else 10)


def test_objects_refuse_unknown_keys():
    """additionalProperties is false on every object with fixed keys (the loader refuses unknown keys)."""
    for name in SCHEMAS:
        for where, node in subschemas(load_schema(name)):
            if "properties" in node:
                assert node.get("additionalProperties") is False, (name, where)


# --- every seed file of the project conforms -----------------------------------------------------------------

@pytest.mark.parametrize("path", MAPPINGS, ids=[p.relative_to(REPO).parent.as_posix() for p in MAPPINGS])
def test_every_mapping_of_the_project_conforms(path):
    assert problems_of(path, "mapping") == []


@pytest.mark.parametrize("path", REGISTRIES, ids=[p.relative_to(REPO).as_posix() for p in REGISTRIES])
def test_every_registry_of_the_project_conforms(path):
    assert problems_of(path, "entities") == []


def test_the_mappings_cover_the_benchmarks_and_fixtures():
    folders = {p.relative_to(REPO).parts[0] for p in MAPPINGS}
    assert {"seeds", "benchmarks", "tests"} <= folders and len(MAPPINGS) >= 5


def test_the_synthetic_corpus_conforms(tmp_path):
    project = generate_corpus(tmp_path / "corpus", articles=4)
    assert problems_of(project / "seeds" / "entities.yaml", "entities") == []
    mappings = sorted((project / "seeds" / "articles").glob("*/mapping.yaml"))
    assert len(mappings) == 4
    for path in mappings:
        assert problems_of(path, "mapping") == [], path


@pytest.mark.parametrize("text", [SEED_ARTICLE / "article.txt",
                                  *sorted(REPO.glob("benchmarks/draft/articles/*/article.txt"))],
                         ids=lambda p: p.parent.name)
def test_a_freshly_drafted_mapping_conforms(tmp_path, text):
    from kg.cli.main import main

    seeds = tmp_path / "seeds"
    (seeds / "articles").mkdir(parents=True)
    (seeds / "entities.yaml").write_bytes((REPO / "seeds" / "entities.yaml").read_bytes())
    main(["new", "fresh-draft", "--text", str(text), "--url", "https://example.org/a", "--published", "2019-03-01",
          "--publisher", "cgtn", "--seeds", str(seeds)])
    mapping = seeds / "articles" / "fresh-draft" / "mapping.yaml"
    assert "# drafted:" in mapping.read_text(encoding="utf-8")
    assert problems_of(mapping, "mapping") == []


# --- each kind of departure: a message at the offending line ----------------------------------------------------

ARTICLE = """article:
  id: a-1
  publisher: cgtn
  url: https://example.org/a
  published: 2019-03-01
  language: en
"""
STATEMENT = """statements:
  - id: s-1
    speaker: kcna
    quote: He said so
    verbatim: said so
"""

# (what is wrong, the document, the line the message is at, the message)
CASES = {
    "unknown key": (STATEMENT.replace("verbatim:", "audiense: reporters\n    verbatim:"), 11,
                    "unknown key 'audiense' in a statement (allowed: also, at, audience,"),
    "unknown section": ("statement:\n  - id: s-1\n", 8, "unknown key 'statement' in the mapping (allowed: article,"),
    "missing key": (STATEMENT.replace("    speaker: kcna\n", ""), 8, "a statement is missing 'speaker'"),
    "missing section": (None, 1, "the mapping is missing 'article'"),
    "one of two keys": (STATEMENT.replace("    verbatim: said so\n", ""), 8,
                        "a statement needs 'verbatim' or 'paraphrase'"),
    "not a mapping": ("events:\n  - just words\n", 8, "an event must be a mapping of keys to values"),
    "not a list": ("events:\n  id: e-1\n", 8, "'events' must be a list, not a mapping"),
    "not an id": (STATEMENT.replace("speaker: kcna", "speaker: [kcna, cgtn]"), 9, "'speaker' must be an id, not a list"),
    "list item of the wrong kind": (STATEMENT + "    topics: [sanctions, {a: b}]\n", 12,
                                    "item 2 of 'topics' must be an id, not a mapping"),
    "empty list item": ("structure:\n  captions:\n    - A caption\n    -\n", 10,
                        "item 2 of 'captions' must be a caption, not empty"),
    "empty text": (STATEMENT.replace("quote: He said so", 'quote: "  "'), 10, "'quote' must be a non-empty text"),
    "malformed id": (STATEMENT.replace("id: s-1", "id: S_1"), 8,
                     "invalid id 'S_1': use lowercase letters, digits and hyphens"),
    "malformed id as a key": ("mentions:\n  Kim: [Kim]\n", 8, "invalid id 'Kim'"),
    "malformed CAMEO code": (STATEMENT + '    cameo: "13a"\n', 12, "invalid CAMEO code '13a'"),
    "malformed occurrence": (STATEMENT + "    occurrence: first\n", 12, "'occurrence' must be a number from 1 up, not 'first'"),
    "malformed date": (None, 5, "invalid date '2019-3-1': expected an ISO date YYYY-MM-DD"),
    "malformed URL": (None, 4, "invalid URL 'example.org/a'"),
    "malformed language tag": (None, 6, "invalid language tag 'English'"),
    "unknown value of an enumeration": (STATEMENT + "    claims: [{claim: c-1, stance: claims}]\n", 12,
                                        "unknown stance 'claims' (known: asserts, denies)"),
    "enumeration given a list": (STATEMENT + "    claims: [{claim: c-1, stance: [asserts]}]\n", 12,
                                 "'stance' must be one of asserts, denies, not a list"),
    "unknown key in a span": (STATEMENT.replace("verbatim: said so", "verbatim: {words: said, inn: He said so}"), 11,
                              "unknown key 'inn' in a span (allowed: in, occurrence, quote, words)"),
    "span without words": (STATEMENT.replace("verbatim: said so", "verbatim: {in: He said so}"), 11,
                           "a span needs 'words' or 'quote'"),
}
ARTICLE_BREAKS = {"missing section": ("", ""), "malformed date": ("2019-03-01", "2019-3-1"),
                  "malformed URL": ("https://example.org/a", "example.org/a"), "malformed language tag": ("en\n", "English\n")}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_kind_of_departure_gets_a_located_message(tmp_path, case):
    body, line, message = CASES[case]
    if body is None:
        old, new = ARTICLE_BREAKS[case]
        text = ARTICLE.replace(old, new) if old else "events: []\n"
    else:
        text = ARTICLE + body
    problems = problems_in(tmp_path, text)
    assert any(problem.startswith(f"mapping.yaml:{line}: {message}") for problem in problems), problems


@pytest.mark.parametrize("case, old, new, line, message", [
    ("unknown entity type", "type: State", "type: Country", 3, "unknown type 'Country' (known: City,"),
    ("malformed Wikidata id", "wikidata: Q423", "wikidata: 423", 5,
     "malformed Wikidata id '423': expected Q followed by digits, e.g. Q22686"),
    ("missing label", "    label: North Korea\n", "", 2, "an entity is missing 'label'"),
    ("unknown key", "wikidata: Q423", "wikidata: Q423\n    website: https://example.org", 6,
     "unknown key 'website' in an entity (allowed: aliases, counterparts, country, description, id, jurisdiction,"),
    ("not a list", "    aliases: [DPRK]\n", "    aliases: {short: DPRK}\n", 4,
     "'aliases' must be a text or a list of texts, not a mapping"),
])
def test_registry_departures_get_located_messages(tmp_path, case, old, new, line, message):
    text = "entities:\n  - id: north-korea\n    type: State\n    aliases: [DPRK]\n    wikidata: Q423\n    label: North Korea\n"
    assert text.count(old) == 1
    problems = problems_in(tmp_path, text.replace(old, new), "entities")
    assert any(problem.startswith(f"entities.yaml:{line}: {message}") for problem in problems), problems


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    text = ARTICLE.replace("language: en", "language: English") + STATEMENT.replace("speaker: kcna", "spaeker: kcna")
    problems = problems_in(tmp_path, text)
    assert len(problems) == 3, problems  # the language, the unknown key, the missing speaker
    assert {int(problem.split(":")[1]) for problem in problems} == {6, 8, 9}


def test_an_empty_value_counts_as_left_out(tmp_path):
    """The loader reads `key:` with nothing as no key: an optional one is fine, a required one missing."""
    assert problems_in(tmp_path, ARTICLE + "positions:\nstructure:\n") == []
    problems = problems_in(tmp_path, ARTICLE + STATEMENT.replace("speaker: kcna", "speaker:"))
    assert problems == ["mapping.yaml:8: a statement is missing 'speaker'"]


# --- the fast path and jsonschema agree ------------------------------------------------------------------------

# A mapping with every kind of item, of a size that keeps a hundred examples quick.
MAPPING_TREE = yaml.safe_load((REPO / "benchmarks" / "draft" / "articles" / "wire-2019-06-15-seoul-talks" / "mapping.yaml")
                              .read_text(encoding="utf-8"))


def value_paths(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from value_paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield prefix + (index,)
            yield from value_paths(value, prefix + (index,))


PATHS = list(value_paths(MAPPING_TREE))
REFERENCE = Draft202012Validator(load_schema("mapping"))  # as written, references and all
FAST = jsonschema_rs.Draft202012Validator(load_schema("mapping"))
VALUES = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["", " ", "x", "Banquet", "asserts", "a-b", "A_B"]),
                   st.lists(st.sampled_from(["x", "a-b", ""]), max_size=2),
                   st.dictionaries(st.sampled_from(["quote", "words", "in", "id", "zz"]), st.sampled_from(["x", ""]),
                                   max_size=2))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_file_the_fast_path_accepts_is_one_jsonschema_accepts(tmp_path, data):
    """jsonschema-rs decides whether a file conforms; jsonschema explains why not: they must agree."""
    tree = copy.deepcopy(MAPPING_TREE)
    path = data.draw(st.sampled_from(PATHS))
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(VALUES)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False), encoding="utf-8")
    located = load_yaml(mapping, "mapping.yaml")
    slow = list(REFERENCE.iter_errors(plain(located)))
    assert FAST.is_valid(plain(located)) == (not slow)
    problems = schema_problems(located, "mapping")
    assert bool(problems) == bool(slow)
    line_count = mapping.read_text(encoding="utf-8").count("\n") + 1
    assert all(1 <= problem.line <= line_count and problem.message for problem in problems)


# --- the loader checks the schema, and shares its key lists and enumerations -----------------------------------

def test_enumerations_and_patterns_agree_with_the_loader():
    from kg.seeds.article import LANGUAGE_PATTERN
    from kg.seeds.fields import ID_PATTERN
    from kg.seeds.records import (
        ENTITY_TYPES,
        EVALUATIONS,
        EVENT_TYPES,
        OUTCOME_TYPES,
        ROLES,
        STANCES,
    )
    from kg.seeds.registry import QID_PATTERN

    mapping, entities = load_schema("mapping")["$defs"], load_schema("entities")["$defs"]
    assert mapping["participant"]["properties"]["role"]["enum"] == list(ROLES)
    assert mapping["stance"]["properties"]["stance"]["enum"] == list(STANCES)
    assert mapping["stance"]["properties"]["evaluation"]["enum"] == list(EVALUATIONS)
    assert mapping["outcome"]["properties"]["type"]["enum"] == list(OUTCOME_TYPES)
    assert mapping["event"]["properties"]["type"]["enum"] == sorted(EVENT_TYPES)
    assert entities["entity"]["properties"]["type"]["enum"] == sorted(ENTITY_TYPES)
    assert mapping["id"]["pattern"] == entities["id"]["pattern"] == ID_PATTERN.pattern
    assert entities["wikidata"]["pattern"] == QID_PATTERN.pattern
    assert mapping["language"]["pattern"] == LANGUAGE_PATTERN.pattern


def test_the_loaders_key_lists_are_the_schemas():
    from kg.seeds.article import ARTICLE_KEYS, MAPPING_KEYS
    from kg.seeds.sections import SECTIONS

    assert MAPPING_KEYS == object_keys("mapping")
    assert ARTICLE_KEYS == object_keys("mapping", "article")
    definitions = {"events": "event", "claims": "claim", "statements": "statement", "proposals": "proposal",
                   "positions": "position"}
    for section in SECTIONS:
        assert section.keys == object_keys("mapping", definitions[section.name]), section.name


def seed_problems(article: Path) -> str:
    from kg.seeds.mapping import load_article, seed_registry

    registry = seed_registry(REPO / "seeds", REPO)
    codes = set(re.findall(r'skos:notation "(\d+)"', (REPO / "ontology" / "cameo.ttl").read_text(encoding="utf-8")))
    try:
        load_article(article, registry, codes, article.parent)
    except SeedError as error:
        return str(error)
    return ""


def test_the_loader_checks_the_schema_first(tmp_path):
    """A file that departs from the schema is reported by the schema's messages alone: the meaning (here a quote
    not in the text) is checked once the form is right."""
    folder = tmp_path / "article"
    folder.mkdir()
    (folder / "article.txt").write_bytes((SEED_ARTICLE / "article.txt").read_bytes())
    mapping = (SEED_ARTICLE / "mapping.yaml").read_text(encoding="utf-8")
    broken = mapping.replace("  - id: yongbyon-offer\n", "  - id: yongbyon-offer\n    colour: red\n", 1)
    broken = broken.replace("quote: Pompeo told a news conference", "quote: Pompeo told a press conference", 1)
    (folder / "mapping.yaml").write_text(broken, encoding="utf-8")
    line = broken[:broken.index("    colour: red")].count("\n") + 1
    report = seed_problems(folder)
    assert report == (f"article/mapping.yaml:{line}: unknown key 'colour' in a proposal (allowed: also, at, cameo, "
                      "concerns, id, in_exchange_for, label, occurrence, offer, proposer, quote, target, to, topics)")
    (folder / "mapping.yaml").write_text(broken.replace("    colour: red\n", ""), encoding="utf-8")
    assert "quote not found in the article text: 'Pompeo told a press conference" in seed_problems(folder)


def test_the_registry_loader_checks_the_schema_first(tmp_path):
    from kg.seeds.mapping import load_registry

    path = tmp_path / "entities.yaml"
    registry = "entities:\n  - id: x\n    type: State\n    label: X\n    country: atlantis\n"
    path.write_text(registry + "    website: https://example.org\n", encoding="utf-8")
    with pytest.raises(SeedError) as raised:
        load_registry(path, "entities.yaml")
    assert [str(p) for p in raised.value.problems] == [
        ("entities.yaml:6: unknown key 'website' in an entity (allowed: aliases, counterparts, country, description, "
         "id, jurisdiction, label, state, type, wikidata)")]
    path.write_text(registry, encoding="utf-8")  # the form right, the meaning is checked
    with pytest.raises(SeedError, match="entities.yaml:5: 'country' is only for City, Facility, Region entities"):
        load_registry(path, "entities.yaml")


def test_the_docs_link_the_schemas():
    docs = (REPO / "docs" / "seeds.md").read_text(encoding="utf-8")
    assert "## Reference: JSON Schema" in docs
    for name in SCHEMAS.values():
        link = f"../kg/seeds/schema/{name}"
        assert f"]({link})" in docs and (REPO / "docs" / link).resolve().is_file()
