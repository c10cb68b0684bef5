"""Turn seed files into checked, text-grounded mapping records.

Input: the shared entity registry (`seeds/entities.yaml`) and one folder per article
(`seeds/articles/<id>/article.txt` + `mapping.yaml`). Output: `Registry` and `ArticleMapping`
records in which every quote has become a `Span` (character offsets into the article text) and
every relative date a resolved `TimeExpression`. Every problem is reported with file and line,
all of them at once, as a `SeedError`.
"""
from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from kg.seeds.reader import Located, SeedError, SeedProblem, load_yaml

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
QID_PATTERN = re.compile(r"^Q[1-9][0-9]*$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")

ACTOR_TYPES = frozenset(
    {"Person", "State", "Organization", "GovernmentOrganization", "InternationalOrganization", "NewsMedia"}
)
PLACE_TYPES = frozenset({"State", "City", "Region", "Facility"})
EVENT_TYPES = frozenset(
    {"Event", "Meeting", "Summit", "Dinner", "PressConference", "Speech", "NewsReport", "HistoricalEvent"}
)
ENTITY_TYPES = ACTOR_TYPES | PLACE_TYPES | EVENT_TYPES | {"Topic"}
ROLES = {"party": "Party", "host": "Host", "visitor": "Visitor", "speaker": "Speaker", "reporter": "Reporter"}
STANCES = {"asserts": "Asserts", "denies": "Denies"}
OUTCOME_TYPES = {"no-agreement": "NoAgreement", "agreement-to-continue-talks": "AgreementToContinueTalks"}
WEEKDAYS = {name.lower(): index for index, name in enumerate(calendar.day_name)}
MONTHS = {name.lower(): index for index, name in enumerate(calendar.month_name) if name}


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Span:
    """A span of an article's text: `text[begin:end] == anchor` (code points, end exclusive)."""

    begin: int
    end: int
    anchor: str


@dataclass(frozen=True)
class TimeExpression:
    """Words of the text that give a date, with the date they resolve to and how."""

    span: Span
    value: str  # ISO date (YYYY-MM-DD) or year (YYYY)
    precision: str  # "day" or "year"
    rule: str


@dataclass(frozen=True)
class Entity:
    id: str
    type: str
    label: str
    aliases: tuple[str, ...]
    description: str | None
    wikidata: str | None
    source: SeedProblem  # file and line of the definition (message unused)


@dataclass
class Registry:
    entities: dict[str, Entity]
    file: str

    def of_types(self, types: frozenset[str]) -> set[str]:
        return {entity.id for entity in self.entities.values() if entity.type in types}


@dataclass(frozen=True)
class Segment:
    """One line of the article, classified."""

    kind: str  # Paragraph, Heading, PhotoCaption, RelatedArticleLink, LinkMarker, CreditLine
    line: int
    span: Span
    credit: str | None = None


@dataclass(frozen=True)
class EntityMention:
    entity: str
    span: Span


@dataclass(frozen=True)
class Participation:
    actor: str
    role: str


@dataclass(frozen=True)
class Outcome:
    type: str
    label: str
    spans: tuple[Span, ...]


@dataclass
class Event:
    id: str
    type: str | None  # None: the event is defined in the registry
    label: str | None
    spans: list[Span]
    line: int
    cameo: str | None = None
    place: str | None = None
    date: TimeExpression | None = None
    start: TimeExpression | None = None
    end: TimeExpression | None = None
    participants: list[Participation] = field(default_factory=list)
    follows: list[str] = field(default_factory=list)
    part_of: str | None = None
    commemorates: str | None = None
    topics: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass
class Statement:
    id: str
    speaker: str
    spans: list[Span]
    line: int
    on_behalf_of: str | None = None
    made_at: str | None = None
    audience: str | None = None
    date: TimeExpression | None = None
    quotations: list[Span] = field(default_factory=list)
    paraphrases: list[Span] = field(default_factory=list)
    stances: list[tuple[str, str]] = field(default_factory=list)  # (claim id, stance)
    topics: list[str] = field(default_factory=list)
    cameo: str | None = None


@dataclass
class Claim:
    id: str
    label: str
    spans: list[Span]
    line: int
    about: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    contradicts: list[str] = field(default_factory=list)


@dataclass
class Proposal:
    id: str
    label: str
    proposer: str
    spans: list[Span]
    line: int
    offer: Span | None = None
    in_exchange_for: Span | None = None
    proposed_to: str | None = None
    proposed_at: str | None = None
    concerns: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)


@dataclass
class Position:
    id: str
    holder: str
    title: str
    of: str | None
    spans: list[Span]
    line: int


@dataclass
class ArticleMapping:
    id: str
    text: str
    publisher: str
    url: str
    published: dt.date
    language: str
    photo_credit: str | None
    credit_line: str | None
    segments: list[Segment]
    mentions: list[EntityMention]
    events: list[Event]
    statements: list[Statement]
    claims: list[Claim]
    proposals: list[Proposal]
    positions: list[Position]
    mapping_file: str

    def line_of(self, offset: int) -> int:
        """1-based line of the article text that contains `offset`."""
        return self.text.count("\n", 0, offset) + 1


# ---------------------------------------------------------------------------------------------
# Reading YAML fields with located problems


class Fields:
    """The keys of one YAML mapping, read with type checks; problems are collected, not raised."""

    def __init__(self, node: Located, what: str, problems: list[SeedProblem], allowed: set[str]):
        self.node = node
        self.what = what
        self.problems = problems
        self.values: dict[str, Located] = node.value if isinstance(node.value, dict) else {}
        if not isinstance(node.value, dict):
            problems.append(node.problem(f"{what} must be a mapping of keys to values"))
        for key, value in self.values.items():
            if key not in allowed:
                problems.append(value.problem(f"unknown key {key!r} in {what} (allowed: {', '.join(sorted(allowed))})"))

    @property
    def line(self) -> int:
        return self.node.line

    def problem(self, message: str) -> None:
        self.problems.append(self.node.problem(message))

    def get(self, key: str) -> Located | None:
        value = self.values.get(key)
        return None if value is None or value.value is None else value

    def text(self, key: str, required: bool = False) -> str | None:
        value = self.get(key)
        if value is None:
            if required:
                self.problem(f"{self.what} is missing {key!r}")
            return None
        if not isinstance(value.value, str) or not value.value.strip():
            self.problems.append(value.problem(f"{key!r} must be a non-empty text"))
            return None
        return value.value

    def items(self, key: str) -> list[Located]:
        """A list value; a single value is accepted as a list of one."""
        value = self.get(key)
        if value is None:
            return []
        return value.value if isinstance(value.value, list) else [value]


def check_id(value: Located, problems: list[SeedProblem]) -> str | None:
    if not isinstance(value.value, str) or not ID_PATTERN.match(value.value):
        problems.append(value.problem(f"invalid id {value.value!r}: use lowercase letters, digits and hyphens"))
        return None
    return value.value


# ---------------------------------------------------------------------------------------------
# The registry


def load_registry(path: Path, display_name: str) -> Registry:
    """Load and check the shared entity registry."""
    problems: list[SeedProblem] = []
    root = load_yaml(path, display_name)
    top = Fields(root, "the registry", problems, {"entities"})
    entities: dict[str, Entity] = {}
    for node in top.items("entities"):
        fields = Fields(node, "an entity", problems, {"id", "type", "label", "aliases", "description", "wikidata"})
        id_value = fields.get("id")
        entity_id = check_id(id_value, problems) if id_value else fields.problem("an entity is missing 'id'")
        entity_type = fields.text("type", required=True)
        if entity_type and entity_type not in ENTITY_TYPES:
            problems.append(fields.get("type").problem(
                f"unknown type {entity_type!r} (known: {', '.join(sorted(ENTITY_TYPES))})"))
            entity_type = None
        label = fields.text("label", required=True)
        wikidata = fields.text("wikidata")
        if wikidata and not QID_PATTERN.match(wikidata):
            problems.append(fields.get("wikidata").problem(
                f"malformed Wikidata id {wikidata!r}: expected Q followed by digits, e.g. Q22686"))
            wikidata = None
        aliases = tuple(alias.value for alias in fields.items("aliases") if isinstance(alias.value, str))
        if not entity_id:
            continue
        if entity_id in entities:
            first = entities[entity_id].source.line
            problems.append(id_value.problem(f"duplicate id {entity_id!r} (first defined at line {first})"))
            continue
        if entity_type and label:
            entities[entity_id] = Entity(entity_id, entity_type, label, aliases, fields.text("description"),
                                         wikidata, node.problem(""))
    if problems:
        raise SeedError(problems)
    return Registry(entities, display_name)


# ---------------------------------------------------------------------------------------------
# Grounding quotes in the text


def find_all(text: str, quote: str, begin: int = 0, end: int | None = None) -> list[int]:
    """Every start offset of `quote` in `text[begin:end]` (overlapping occurrences included)."""
    end = len(text) if end is None else end
    offsets, position = [], text.find(quote, begin, end)
    while position != -1:
        offsets.append(position)
        position = text.find(quote, position + 1, end)
    return offsets


def inside_word(text: str, offset: int) -> bool:
    """Whether `offset` falls between two letters or digits (a quote cut there is a typo)."""
    return 0 < offset < len(text) and text[offset - 1].isalnum() and text[offset].isalnum()


def parse_date_words(words: str, published: dt.date) -> tuple[str, str, str] | str:
    """Resolve time words to (value, precision, rule), or return why they cannot be resolved."""
    phrase = words.strip().lower()
    phrase = phrase[3:] if phrase.startswith("on ") else phrase
    if phrase in WEEKDAYS:
        days_back = (published.weekday() - WEEKDAYS[phrase]) % 7
        resolved = published - dt.timedelta(days=days_back)
        return (resolved.isoformat(), "day",
                f"the latest {phrase.capitalize()} on or before the publication date")
    if phrase == "last year":
        return str(published.year - 1), "year", "the year before the publication date"
    if phrase in ("today", "this day"):
        return published.isoformat(), "day", "the publication date"
    if phrase == "yesterday":
        return (published - dt.timedelta(days=1)).isoformat(), "day", "the day before the publication date"
    match = re.fullmatch(r"([a-z]+) (\d{1,2}), (\d{4})", phrase)
    if match and match.group(1) in MONTHS:
        try:
            resolved = dt.date(int(match.group(3)), MONTHS[match.group(1)], int(match.group(2)))
        except ValueError as error:
            return f"invalid date {words!r}: {error}"
        return resolved.isoformat(), "day", "an absolute date in the text"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", phrase):
        try:
            return dt.date.fromisoformat(phrase).isoformat(), "day", "an absolute date in the text"
        except ValueError as error:
            return f"invalid date {words!r}: {error}"
    return (f"cannot resolve the time expression {words!r}: use a weekday, 'last year', 'yesterday', "
            f"'Month D, YYYY' or YYYY-MM-DD")


class ArticleReader:
    """Reads one article's mapping file against its text and the registry."""

    def __init__(self, text: str, registry: Registry, cameo_codes: set[str], file: str):
        self.text = text
        self.registry = registry
        self.cameo_codes = cameo_codes
        self.file = file
        self.problems: list[SeedProblem] = []
        self.published = dt.date(1970, 1, 1)
        # id -> (section, line) of every article-local definition
        self.defined: dict[str, tuple[str, int]] = {}
        # (value, what it is used as, allowed ids or the name of a set known only at the end)
        self.references: list[tuple[Located, str, set[str] | str]] = []

    # -- grounding -----------------------------------------------------------------------------

    def ground(self, quote: Located, occurrence: Located | None, within: Span | None = None) -> Span | None:
        """The span of `quote` (the n-th occurrence if given) in the text, or in `within`."""
        if not isinstance(quote.value, str) or not quote.value:
            self.problems.append(quote.problem("a quote must be a non-empty text"))
            return None
        begin, end = (within.begin, within.end) if within else (0, len(self.text))
        offsets = find_all(self.text, quote.value, begin, end)
        where = f"in the quote {within.anchor!r}" if within else "in the article text"
        if not offsets:
            self.problems.append(quote.problem(f"quote not found {where}: {quote.value!r}"))
            return None
        if occurrence is None:
            if len(offsets) > 1:
                self.problems.append(quote.problem(
                    f"quote is ambiguous: {quote.value!r} occurs {len(offsets)} times {where}; "
                    f"add 'occurrence: N' (1 to {len(offsets)})"))
                return None
            index = 0
        else:
            try:
                index = int(occurrence.value) - 1
            except (TypeError, ValueError):
                index = -1
            if not 0 <= index < len(offsets):
                self.problems.append(occurrence.problem(
                    f"occurrence must be a number from 1 to {len(offsets)} for {quote.value!r}"))
                return None
        start, end = offsets[index], offsets[index] + len(quote.value)
        if inside_word(self.text, start) or inside_word(self.text, end):
            self.problems.append(quote.problem(
                f"quote starts or ends in the middle of a word: {self.text[max(start - 5, 0):end + 5]!r}"))
            return None
        return Span(start, end, quote.value)

    def anchors(self, fields: Fields) -> list[Span]:
        """The item's own span (`quote`, `occurrence`) followed by its extra mentions (`also`)."""
        quote = fields.get("quote")
        if quote is None:
            fields.problem(f"{fields.what} is missing 'quote' (the exact text it comes from)")
            return []
        spans = [self.ground(quote, fields.get("occurrence"))]
        for extra in fields.items("also"):
            if isinstance(extra.value, dict):
                extra_fields = Fields(extra, "an extra mention", self.problems, {"quote", "occurrence"})
                quote_value = extra_fields.get("quote")
                if quote_value is None:
                    extra_fields.problem("an extra mention is missing 'quote'")
                    continue
                spans.append(self.ground(quote_value, extra_fields.get("occurrence")))
            else:
                spans.append(self.ground(extra, None))
        return [span for span in spans if span is not None] if spans[0] is not None else []

    def sub_span(self, value: Located, own: Span | None) -> Span | None:
        """Words inside the item's own span (a text), inside another quote (`{words, in, occurrence}`),
        or anywhere in the text (`{quote, occurrence}`)."""
        if isinstance(value.value, dict):
            fields = Fields(value, "a span", self.problems, {"words", "in", "quote", "occurrence"})
            if fields.get("quote") is not None:
                return self.ground(fields.get("quote"), fields.get("occurrence"))
            words = fields.get("words")
            if words is None:
                fields.problem("a span needs 'words' (inside 'in' or the item's quote) or 'quote'")
                return None
            context = fields.get("in")
            within = self.ground(context, fields.get("occurrence")) if context else own
            if within is None:
                return None
            return self.ground(words, None, within)
        if own is None:
            return None
        return self.ground(value, None, own)

    def time_expression(self, value: Located | None, own: Span | None) -> TimeExpression | None:
        if value is None:
            return None
        span = self.sub_span(value, own)
        if span is None:
            return None
        resolved = parse_date_words(span.anchor, self.published)
        if isinstance(resolved, str):
            self.problems.append(value.problem(resolved))
            return None
        return TimeExpression(span, *resolved)

    # -- ids and references --------------------------------------------------------------------

    def define(self, fields: Fields, section: str, registry_ok: bool = False) -> str | None:
        value = fields.get("id")
        if value is None:
            fields.problem(f"{fields.what} is missing 'id'")
            return None
        item_id = check_id(value, self.problems)
        if item_id is None:
            return None
        if item_id in self.defined:
            first_section, first_line = self.defined[item_id]
            self.problems.append(value.problem(
                f"duplicate id {item_id!r} (first defined in {first_section} at line {first_line})"))
            return None
        if item_id in self.registry.entities and not registry_ok:
            self.problems.append(value.problem(
                f"duplicate id {item_id!r}: the registry already defines it ({self.registry.file})"))
            return None
        self.defined[item_id] = (section, value.line)
        return item_id

    def refer(self, value: Located | None, kind: str, allowed: set[str] | str) -> str | None:
        """Record a reference to check once every local id is known; returns the id."""
        if value is None:
            return None
        if not isinstance(value.value, str):
            self.problems.append(value.problem(f"{kind} must be an id"))
            return None
        self.references.append((value, kind, allowed))
        return value.value

    def refer_all(self, values: list[Located], kind: str, allowed: set[str] | str) -> list[str]:
        return [ref for ref in (self.refer(value, kind, allowed) for value in values) if ref]

    def check_references(self, local: dict[str, set[str]]) -> None:
        """Check every reference once all local ids are known; named sets come from `local`."""
        for value, kind, allowed in self.references:
            ref = value.value
            allowed = local[allowed] if isinstance(allowed, str) else allowed
            if ref in allowed:
                continue
            if ref in self.registry.entities:
                entity = self.registry.entities[ref]
                self.problems.append(value.problem(f"{ref!r} is a {entity.type}, which cannot be {kind}"))
            elif any(ref in ids for ids in local.values()):
                section = next(name for name, ids in local.items() if ref in ids)
                self.problems.append(value.problem(f"{ref!r} is one of the {section}, which cannot be {kind}"))
            else:
                self.problems.append(value.problem(f"undefined id {ref!r} (used as {kind})"))

    def cameo(self, fields: Fields) -> str | None:
        code = fields.text("cameo")
        if code and code not in self.cameo_codes:
            self.problems.append(fields.get("cameo").problem(
                f"unknown CAMEO code {code!r} (not in the published scheme ontology/cameo.ttl)"))
            return None
        return code

    def choice(self, fields: Fields, key: str, options: dict[str, str], what: str) -> str | None:
        value = fields.text(key, required=True)
        if value is None:
            return None
        if value not in options:
            self.problems.append(fields.get(key).problem(
                f"unknown {what} {value!r} (known: {', '.join(options)})"))
            return None
        return options[value]


# ---------------------------------------------------------------------------------------------
# The article


def read_structure(reader: ArticleReader, node: Located | None) -> list[Segment]:
    """Classify every line: those the mapping lists by kind, the rest are paragraphs."""
    lines: list[Span] = []
    offset = 0
    for line in reader.text.split("\n"):
        lines.append(Span(offset, offset + len(line), line))
        offset += len(line) + 1
    kinds: dict[int, tuple[str, str | None]] = {}
    if node is not None:
        fields = Fields(node, "structure", reader.problems,
                        {"headings", "captions", "related_links", "link_markers", "credit_lines"})
        listed = [("headings", "Heading"), ("captions", "PhotoCaption"), ("related_links", "RelatedArticleLink"),
                  ("link_markers", "LinkMarker"), ("credit_lines", "CreditLine")]
        for key, kind in listed:
            for item in fields.items(key):
                credit = None
                if isinstance(item.value, dict):
                    item_fields = Fields(item, "a caption", reader.problems, {"line", "credit"})
                    credit = reader.refer(item_fields.get("credit"), "a photo credit",
                                          reader.registry.of_types(ACTOR_TYPES))
                    item = item_fields.get("line") or item_fields.problem("a caption is missing 'line'")
                    if item is None:
                        continue
                matches = [number for number, span in enumerate(lines) if span.anchor == item.value]
                if not matches:
                    reader.problems.append(item.problem(f"not a whole line of the article text: {item.value!r}"))
                elif len(matches) > 1 and kind != "LinkMarker":
                    reader.problems.append(item.problem(f"line {item.value!r} occurs {len(matches)} times"))
                for number in matches:
                    kinds[number] = (kind, credit)
    return [Segment(kinds.get(number, ("Paragraph", None))[0], number + 1, span, kinds.get(number, (None, None))[1])
            for number, span in enumerate(lines) if span.anchor.strip()]


def read_mentions(reader: ArticleReader, node: Located | None) -> list[EntityMention]:
    """Every whole-word occurrence of each entity's listed forms; the longest match wins."""
    if node is None:
        return []
    if not isinstance(node.value, dict):
        reader.problems.append(node.problem("mentions must map entity ids to lists of forms"))
        return []
    candidates: list[tuple[int, int, str]] = []
    for entity_id, forms in node.value.items():
        if entity_id not in reader.registry.entities:
            reader.problems.append(forms.problem(f"undefined entity id {entity_id!r} in mentions"))
            continue
        for form in forms.value if isinstance(forms.value, list) else [forms]:
            if not isinstance(form.value, str) or not form.value:
                reader.problems.append(form.problem("a mention form must be a non-empty text"))
                continue
            pattern = re.compile(r"(?<![\w])" + re.escape(form.value) + r"(?![\w])")
            found = [(m.start(), m.end(), entity_id) for m in pattern.finditer(reader.text)]
            if not found:
                reader.problems.append(form.problem(f"mention form not found in the article text: {form.value!r}"))
            candidates.extend(found)
    mentions: list[EntityMention] = []
    taken_until = -1
    for begin, end, entity_id in sorted(candidates, key=lambda c: (c[0], -(c[1] - c[0]))):
        if begin >= taken_until:
            mentions.append(EntityMention(entity_id, Span(begin, end, reader.text[begin:end])))
            taken_until = end
        elif end > taken_until:
            reader.problems.append(node.problem(
                f"mention forms overlap without one containing the other at offset {begin}: "
                f"{reader.text[begin:end]!r}"))
    return mentions


def load_article(folder: Path, registry: Registry, cameo_codes: set[str], root: Path) -> ArticleMapping:
    """Load one article folder (`article.txt`, `mapping.yaml`) into a checked, grounded mapping."""
    mapping_path = folder / "mapping.yaml"
    file = mapping_path.relative_to(root).as_posix() if mapping_path.is_relative_to(root) else str(mapping_path)
    root_node = load_yaml(mapping_path, file)
    problems: list[SeedProblem] = []
    top = Fields(root_node, "the mapping", problems,
                 {"article", "structure", "mentions", "events", "statements", "claims", "proposals", "positions"})
    meta = Fields(top.get("article") or root_node, "the 'article' section", problems,
                  {"id", "text", "publisher", "url", "published", "language", "photo_credit", "credit_line"})
    if top.get("article") is None:
        top.problem("the mapping is missing the 'article' section")
        raise SeedError(problems)
    text_name = meta.text("text") or "article.txt"
    text_path = folder / text_name
    try:
        text = text_path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(SeedProblem(file, meta.line, f"cannot read the article text {text_name!r}: {error}"))
        raise SeedError(problems) from None

    reader = ArticleReader(text, registry, cameo_codes, file)
    reader.problems = problems
    actors = registry.of_types(ACTOR_TYPES)
    places = registry.of_types(PLACE_TYPES)
    topics = registry.of_types(frozenset({"Topic"}))

    article_id = check_id(meta.get("id"), problems) if meta.get("id") else meta.problem("'article' is missing 'id'")
    publisher = reader.refer(meta.get("publisher"), "a publisher", registry.of_types(frozenset({"NewsMedia"})))
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
    photo_credit = reader.refer(meta.get("photo_credit"), "a photo credit", actors)
    credit_line = meta.text("credit_line")
    if credit_line and not find_all(text, credit_line):
        problems.append(meta.get("credit_line").problem(f"credit line not found in the article text: {credit_line!r}"))

    segments = read_structure(reader, top.get("structure"))
    mentions = read_mentions(reader, top.get("mentions"))

    events: list[Event] = []
    for node in top.items("events"):
        fields = Fields(node, "an event", problems,
                        {"id", "type", "label", "quote", "occurrence", "also", "cameo", "place", "date", "start",
                         "end", "participants", "follows", "part_of", "commemorates", "topics", "outcomes"})
        event_id = reader.define(fields, "events", registry_ok=True)
        in_registry = event_id in registry.entities
        event_type = fields.text("type")
        if event_type and event_type not in EVENT_TYPES:
            problems.append(fields.get("type").problem(
                f"unknown event type {event_type!r} (known: {', '.join(sorted(EVENT_TYPES))})"))
        if in_registry and registry.entities[event_id].type not in EVENT_TYPES:
            problems.append(fields.get("id").problem(f"{event_id!r} is a {registry.entities[event_id].type} "
                                                     "in the registry, not an event"))
        if in_registry and event_type:
            problems.append(fields.get("type").problem(
                f"{event_id!r} is typed in the registry; remove 'type' here"))
        if not in_registry and not event_type:
            fields.problem(f"event {event_id!r} is missing 'type'")
        label = fields.text("label", required=not in_registry)
        spans = reader.anchors(fields)
        own = spans[0] if spans else None
        event = Event(event_id or "", None if in_registry else event_type, label, spans, fields.line,
                      cameo=reader.cameo(fields),
                      place=reader.refer(fields.get("place"), "a place", places),
                      date=reader.time_expression(fields.get("date"), own),
                      start=reader.time_expression(fields.get("start"), own),
                      end=reader.time_expression(fields.get("end"), own))
        for participant in fields.items("participants"):
            part = Fields(participant, "a participant", problems, {"actor", "role"})
            actor = reader.refer(part.get("actor"), "a participant", actors)
            if part.get("actor") is None:
                part.problem("a participant is missing 'actor'")
            role = reader.choice(part, "role", ROLES, "role")
            if actor and role:
                event.participants.append(Participation(actor, role))
        event.follows = reader.refer_all(fields.items("follows"), "an event it follows", "events")
        event.part_of = fields.get("part_of") and reader.refer(fields.get("part_of"), "an event", "events")
        event.commemorates = fields.get("commemorates") and reader.refer(fields.get("commemorates"), "an event", "events")
        event.topics = reader.refer_all(fields.items("topics"), "a topic", topics)
        for outcome in fields.items("outcomes"):
            outcome_fields = Fields(outcome, "an outcome", problems, {"type", "label", "quote", "occurrence", "also"})
            outcome_type = reader.choice(outcome_fields, "type", OUTCOME_TYPES, "outcome type")
            outcome_label = outcome_fields.text("label", required=True)
            outcome_spans = reader.anchors(outcome_fields)
            if outcome_type and outcome_label and outcome_spans:
                event.outcomes.append(Outcome(outcome_type, outcome_label, tuple(outcome_spans)))
        if event.date and (event.start or event.end):
            fields.problem("give either 'date' or 'start'/'end', not both")
        if event_id:
            events.append(event)

    claims: list[Claim] = []
    for node in top.items("claims"):
        fields = Fields(node, "a claim", problems,
                        {"id", "label", "quote", "occurrence", "also", "about", "topics", "contradicts"})
        claim = Claim(reader.define(fields, "claims") or "", fields.text("label", required=True) or "",
                      reader.anchors(fields), fields.line)
        claim.about = reader.refer_all(fields.items("about"), "what a claim is about", "about")
        claim.topics = reader.refer_all(fields.items("topics"), "a topic", topics)
        claim.contradicts = reader.refer_all(fields.items("contradicts"), "a contradicted claim", "claims")
        if claim.id:
            claims.append(claim)

    statements: list[Statement] = []
    for node in top.items("statements"):
        fields = Fields(node, "a statement", problems,
                        {"id", "speaker", "on_behalf_of", "at", "audience", "when", "quote", "occurrence", "also",
                         "verbatim", "paraphrase", "claims", "topics", "cameo"})
        statement_id = reader.define(fields, "statements")
        spans = reader.anchors(fields)
        own = spans[0] if spans else None
        speaker = reader.refer(fields.get("speaker"), "a speaker", actors)
        if fields.get("speaker") is None:
            fields.problem("a statement is missing 'speaker'")
        statement = Statement(statement_id or "", speaker or "", spans, fields.line,
                              on_behalf_of=reader.refer(fields.get("on_behalf_of"), "on whose behalf", actors),
                              made_at=fields.get("at") and reader.refer(fields.get("at"), "an occasion", "events"),
                              audience=fields.text("audience"),
                              date=reader.time_expression(fields.get("when"), own),
                              cameo=reader.cameo(fields))
        statement.quotations = [s for s in (reader.sub_span(v, own) for v in fields.items("verbatim")) if s]
        statement.paraphrases = [s for s in (reader.sub_span(v, own) for v in fields.items("paraphrase")) if s]
        if not fields.items("verbatim") and not fields.items("paraphrase"):
            fields.problem("a statement needs 'verbatim' and/or 'paraphrase' (what was said)")
        for stance_node in fields.items("claims"):
            stance_fields = Fields(stance_node, "a claim stance", problems, {"claim", "stance"})
            claim_ref = reader.refer(stance_fields.get("claim"), "a claim", "claims")
            if stance_fields.get("claim") is None:
                stance_fields.problem("a claim stance is missing 'claim'")
            stance = reader.choice(stance_fields, "stance", STANCES, "stance")
            if claim_ref and stance:
                statement.stances.append((claim_ref, stance))
        statement.topics = reader.refer_all(fields.items("topics"), "a topic", topics)
        if statement_id and speaker:
            statements.append(statement)

    proposals: list[Proposal] = []
    for node in top.items("proposals"):
        fields = Fields(node, "a proposal", problems,
                        {"id", "label", "proposer", "to", "at", "offer", "in_exchange_for", "quote", "occurrence",
                         "also", "concerns", "topics"})
        proposal_id = reader.define(fields, "proposals")
        spans = reader.anchors(fields)
        own = spans[0] if spans else None
        proposer = reader.refer(fields.get("proposer"), "a proposer", actors)
        if fields.get("proposer") is None:
            fields.problem("a proposal is missing 'proposer'")
        offer = fields.get("offer")
        exchange = fields.get("in_exchange_for")
        proposal = Proposal(proposal_id or "", fields.text("label", required=True) or "", proposer or "", spans,
                            fields.line,
                            offer=reader.sub_span(offer, own) if offer else fields.problem("a proposal needs 'offer'"),
                            in_exchange_for=reader.sub_span(exchange, own) if exchange else None,
                            proposed_to=reader.refer(fields.get("to"), "who a proposal is made to", actors),
                            proposed_at=fields.get("at") and reader.refer(fields.get("at"), "an event", "events"),
                            concerns=reader.refer_all(fields.items("concerns"), "what a proposal concerns",
                                                      set(registry.entities)),
                            topics=reader.refer_all(fields.items("topics"), "a topic", topics))
        if proposal_id and proposer:
            proposals.append(proposal)

    positions: list[Position] = []
    for node in top.items("positions"):
        fields = Fields(node, "a position", problems, {"holder", "title", "of", "quote", "occurrence", "also"})
        holder = reader.refer(fields.get("holder"), "a position holder", registry.of_types(frozenset({"Person"})))
        if fields.get("holder") is None:
            fields.problem("a position is missing 'holder'")
        title = fields.text("title", required=True)
        of = reader.refer(fields.get("of"), "the state or organization of a position", actors)
        spans = reader.anchors(fields)
        if holder and title:
            position_id = f"{holder}--{re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')}"
            if position_id in {p.id for p in positions}:
                fields.problem(f"duplicate position: {holder!r} as {title!r} is already mapped")
            else:
                positions.append(Position(position_id, holder, title, of, spans, fields.line))

    registry_events = registry.of_types(EVENT_TYPES)
    local = {"events": {e.id for e in events} | registry_events, "claims": {c.id for c in claims},
             "statements": {s.id for s in statements}, "proposals": {p.id for p in proposals}}
    local["about"] = local["events"] | local["proposals"]
    reader.check_references(local)
    for statement in statements:
        if statement.date is None and statement.made_at:
            occasion = next((e for e in events if e.id == statement.made_at), None)
            statement.date = occasion.date if occasion else None
    if problems:
        raise SeedError(problems)
    return ArticleMapping(article_id, text, publisher, url, reader.published, language, photo_credit, credit_line,
                          segments, mentions, events, statements, claims, proposals, positions, file)


ARTICLES_FOLDER = "articles"  # in the seeds folder: one folder per article


def seed_registry(seeds: Path, root: Path) -> Registry:
    """Load and check the registry of a seeds folder (`entities.yaml`); problems name it relative to `root`."""
    path = seeds / "entities.yaml"
    return load_registry(path, path.relative_to(root).as_posix())


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
