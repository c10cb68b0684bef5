"""One article folder (`article.txt` + `mapping.yaml`) read into a checked, text-grounded
`ArticleMapping`: the 'article' metadata, the text's structure and mentions, then each item section,
then the references between items, checked once every id is known."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from pathlib import Path

from kg.seeds.context import ArticleReader
from kg.seeds.fields import Fields, check_id
from kg.seeds.grounding import find_all
from kg.seeds.reader import SeedError, SeedProblem, load_yaml
from kg.seeds.records import EVENT_TYPES, INFERRED, ArticleMapping, Event, Registry, Statement
from kg.seeds.schema import check_against_schema, object_keys
from kg.seeds.sections import SECTIONS, read_section
from kg.seeds.structure import read_mentions, read_structure

LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
MAPPING_KEYS = object_keys("mapping")  # the keys of the mapping.yaml schema (kg/seeds/schema)
ARTICLE_KEYS = object_keys("mapping", "article")


@dataclass(frozen=True)
class ArticleMetadata:
    """The 'article' section, checked (None where a value is missing or wrong)."""

    id: str | None
    publisher: str | None
    url: str | None
    language: str | None
    photo_credit: str | None
    credit_line: str | None
    inputs_from: list[str]


def read_text(folder: Path, meta: Fields, file: str, problems: list[SeedProblem]) -> str:
    """The article text named by 'text' (default `article.txt`); unreadable text stops the load."""
    text_name = meta.text("text") or "article.txt"
    try:
        return (folder / text_name).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(SeedProblem(file, meta.line, f"cannot read the article text {text_name!r}: {error}"))
        raise SeedError(problems) from None


def read_metadata(reader: ArticleReader, meta: Fields) -> ArticleMetadata:
    """Check the 'article' section; sets `reader.published`, which relative dates resolve against."""
    problems = reader.problems
    article_id = check_id(meta.get("id"), problems) if meta.get("id") else meta.problem("'article' is missing 'id'")
    publisher = reader.refer(meta.get("publisher"), "a publisher", reader.registry.of_types(frozenset({"NewsMedia"})))
    if publisher is None and meta.get("publisher") is None:
        meta.problem("'article' is missing 'publisher'")
    url = meta.text("url", required=True)
    if url and not re.match(r"^https?://\S+$", url):
        problems.append(meta.get("url").problem(f"invalid URL {url!r}"))
    published_text = meta.text("published", required=True)
    if published_text:
        try:
            reader.published = dt.date.fromisoformat(published_text)
        except ValueError:
            problems.append(meta.get("published").problem(
                f"invalid date {published_text!r}: expected an ISO date YYYY-MM-DD that exists"))
    language = meta.text("language", required=True)
    if language and not LANGUAGE_PATTERN.match(language):
        problems.append(meta.get("language").problem(f"invalid language tag {language!r}"))
    photo_credit = reader.refer(meta.get("photo_credit"), "a photo credit", reader.actors)
    credit_line = meta.text("credit_line")
    if credit_line and not find_all(reader.text, credit_line):
        problems.append(meta.get("credit_line").problem(f"credit line not found in the article text: {credit_line!r}"))
    inputs_from = reader.refer_all(meta.items("inputs_from"), "a source the article has inputs from", reader.actors)
    if inputs_from and not credit_line:
        meta.problem("'inputs_from' names the sources of the credit line: give the 'credit_line' too")
    return ArticleMetadata(article_id, publisher, url, language, photo_credit, credit_line, inputs_from)


def check_item_references(reader: ArticleReader, items: dict[str, list]) -> None:
    """Check every reference now that all ids are known; registry events count as events."""
    local = {"events": {e.id for e in items["events"]} | reader.registry.of_types(EVENT_TYPES),
             "claims": {c.id for c in items["claims"]}, "statements": {s.id for s in items["statements"]},
             "proposals": {p.id for p in items["proposals"]}}
    local["about"] = local["events"] | local["proposals"]
    local["claims or proposals"] = local["claims"] | local["proposals"]
    reader.check_references(local)


def date_from_occasion(statements: list[Statement], events: list[Event]) -> None:
    """A statement without its own date takes the date of the event it was made at: an inferred date."""
    for statement in statements:
        if statement.date is None and statement.made_at:
            occasion = next((e for e in events if e.id == statement.made_at), None)
            if occasion and occasion.date:
                statement.date = replace(occasion.date, evidence=INFERRED,
                                         inference=f"made at {occasion.label or occasion.id}, which the text dates")


def load_article(folder: Path, registry: Registry, cameo_codes: set[str], root: Path) -> ArticleMapping:
    """Load one article folder (`article.txt`, `mapping.yaml`) into a checked, grounded mapping."""
    mapping_path = folder / "mapping.yaml"
    file = mapping_path.relative_to(root).as_posix() if mapping_path.is_relative_to(root) else str(mapping_path)
    root_node = load_yaml(mapping_path, file)
    check_against_schema(root_node, "mapping")  # the form first; the meaning once the form is right
    problems: list[SeedProblem] = []
    top = Fields(root_node, "the mapping", problems, MAPPING_KEYS)
    meta = Fields(top.get("article") or root_node, "the 'article' section", problems, ARTICLE_KEYS)
    if top.get("article") is None:
        top.problem("the mapping is missing the 'article' section")
        raise SeedError(problems)
    reader = ArticleReader(read_text(folder, meta, file, problems), registry, cameo_codes, file, problems)
    metadata = read_metadata(reader, meta)
    segments = read_structure(reader, top.get("structure"))
    mentions = read_mentions(reader, top.get("mentions"))
    items = {section.name: read_section(reader, top, section) for section in SECTIONS}
    check_item_references(reader, items)
    date_from_occasion(items["statements"], items["events"])
    if problems:
        raise SeedError(problems)
    return ArticleMapping(metadata.id, reader.text, metadata.publisher, metadata.url, reader.published,
                          metadata.language, metadata.photo_credit, metadata.credit_line, segments, mentions,
                          items["events"], items["statements"], items["claims"], items["proposals"],
                          items["positions"], file, metadata.inputs_from)
