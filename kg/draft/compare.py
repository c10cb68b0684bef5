"""Score a draft against a curated mapping: precision and recall for each kind of item, with every
miss (curated, not drafted) and every false find (drafted, not curated) listed.

Items are matched by where they are in the text: two spans match when they overlap by at least half
of the shorter one (a drafted statement may take a sentence where the curator took a clause). A
statement's or claim's `also` spans count as its own. The curated mapping is read as plain YAML, so a
mapping whose entities are not in the registry yet can be scored too."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kg.draft.drafter import Draft, Span
from kg.seeds.dates import parse_date_words
from kg.seeds.grounding import find_all

KINDS = ("structure", "mentions", "forms", "statements", "quotations", "speakers", "dates", "item dates", "events", "claims", "stances")


@dataclass
class Score:
    kind: str
    curated: int = 0
    drafted: int = 0
    found: int = 0  # curated items the draft has
    correct: int = 0  # drafted items the curated mapping has
    misses: list[str] = field(default_factory=list)
    false_finds: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.correct / self.drafted if self.drafted else None

    @property
    def recall(self) -> float | None:
        return self.found / self.curated if self.curated else None


def overlaps(a: Span, b: Span) -> bool:
    shared = min(a.end, b.end) - max(a.begin, b.begin)
    return shared > 0 and shared * 2 >= min(a.end - a.begin, b.end - b.begin)


class Curated:
    """The curated mapping's items, each grounded to spans of the text."""

    def __init__(self, mapping: dict[str, Any], text: str):
        self.mapping, self.text = mapping, text
        published = (mapping.get("article") or {}).get("published")
        self.published = published if isinstance(published, dt.date) else dt.date.fromisoformat(str(published))

    def span(self, quote: str, occurrence: Any = None, begin: int = 0, end: int | None = None) -> Span | None:
        offsets = find_all(self.text, str(quote), begin, end)
        if not offsets:
            return None
        index = int(occurrence) - 1 if occurrence else 0
        start = offsets[min(index, len(offsets) - 1)]
        return Span(start, start + len(str(quote)))

    def spans(self, item: dict) -> list[Span]:
        found = [self.span(item["quote"], item.get("occurrence"))] if "quote" in item else []
        for extra in item.get("also") or []:
            found.append(self.span(extra["quote"], extra.get("occurrence")) if isinstance(extra, dict)
                         else self.span(extra))
        return [s for s in found if s]

    def inner(self, value: Any, own: Span | None) -> Span | None:
        """Words inside the item's quote, `{words, in}` or `{quote}` (the seed format's sub-spans)."""
        if isinstance(value, dict):
            if "quote" in value:
                return self.span(value["quote"], value.get("occurrence"))
            context = self.span(value["in"], value.get("occurrence")) if "in" in value else own
            return self.span(value["words"], None, context.begin, context.end) if context else None
        return self.span(value, None, own.begin, own.end) if own else None

    def items(self, section: str) -> list[dict]:
        return [item for item in self.mapping.get(section) or [] if isinstance(item, dict)]

    def date(self, value: Any, own: Span | None) -> tuple[int, str] | None:
        span = self.inner(value, own)
        if span is None:
            return None
        resolved = parse_date_words(self.text[span.begin:span.end], self.published)
        return (span.begin, resolved[0]) if isinstance(resolved, tuple) else None


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def describe(text: str, span: Span, extra: str = "") -> str:
    words = text[span.begin:span.end]
    words = words if len(words) <= 90 else words[:87] + "..."
    return f"line {line_of(text, span.begin)}: {extra}{words!r}"


def score_sets(kind: str, curated: set, drafted: set, show) -> Score:
    score = Score(kind, len(curated), len(drafted), len(curated & drafted), len(curated & drafted))
    score.misses = [show(item) for item in sorted(curated - drafted, key=str)]
    score.false_finds = [show(item) for item in sorted(drafted - curated, key=str)]
    return score


def matched_pairs(pairs: dict[int, list[int]]) -> int:
    """The size of a maximum one-to-one matching (augmenting paths; the lists are short)."""
    owner: dict[int, int] = {}

    def augment(curated: int, seen: set[int]) -> bool:
        for drafted in pairs[curated]:
            if drafted not in seen:
                seen.add(drafted)
                if drafted not in owner or augment(owner[drafted], seen):
                    owner[drafted] = curated
                    return True
        return False

    return sum(augment(curated, set()) for curated in pairs)


def score_spans(kind: str, text: str, curated: list[tuple[list[Span], str, Any]],
                drafted: list[tuple[list[Span], str, Any]], same=lambda a, b: True) -> Score:
    """Items with spans. A drafted item is correct when it overlaps a curated item (and `same` holds),
    so a curated statement the draft splits in two counts both halves correct; recall counts a
    one-to-one matching, so one drafted item is never credited for two curated ones."""
    def matches(d, c) -> bool:
        return same(d[2], c[2]) and any(overlaps(a, b) for a in d[0] for b in c[0])

    pairs = {i: [j for j, d in enumerate(drafted) if matches(d, c)] for i, c in enumerate(curated)}
    score = Score(kind, len(curated), len(drafted), matched_pairs(pairs))
    owner_free = {i for i, js in pairs.items() if not js}
    score.misses = [describe(text, curated[i][0][0], curated[i][1]) for i in sorted(owner_free)]
    if score.found < len(curated) - len(owner_free):
        score.misses.append(f"{len(curated) - len(owner_free) - score.found} more: overlapped only by drafted "
                            "items credited to other curated items")
    for item in drafted:
        if any(matches(item, c) for c in curated):
            score.correct += 1
        else:
            score.false_finds.append(describe(text, item[0][0], item[1]))
    return score


def loader_mentions(text: str, forms: dict[str, list[str]]) -> list[tuple[int, int, str]]:
    """The mentions the seed loader derives from a mapping's forms: every whole-word occurrence,
    the longest first where they overlap (as kg.seeds.structure.read_mentions)."""
    found = [(m.start(), m.end(), entity) for entity, entity_forms in forms.items() for form in entity_forms
             for m in re.finditer(r"(?<![\w])" + re.escape(form) + r"(?![\w])", text)]
    kept, taken_until = [], -1
    for begin, end, entity in sorted(found, key=lambda c: (c[0], -(c[1] - c[0]))):
        if begin >= taken_until:
            kept.append((begin, end, entity))
            taken_until = end
    return kept


def compare(draft: Draft, mapping: dict[str, Any]) -> list[Score]:
    """Score `draft` against a curated mapping (parsed YAML) of the same text."""
    text = draft.text
    curated = Curated(mapping, text)
    scores: list[Score] = []

    structure = mapping.get("structure") or {}
    keys = {"headings": "Heading", "captions": "PhotoCaption", "related_links": "RelatedArticleLink",
            "link_markers": "LinkMarker", "credit_lines": "CreditLine"}
    curated_lines = {(kind, (item["line"] if isinstance(item, dict) else str(item)))
                     for key, kind in keys.items() for item in structure.get(key) or []}
    drafted_lines = {(k.kind, k.line.text) for k in draft.lines if k.kind != "Paragraph"}
    scores.append(score_sets("structure", curated_lines, drafted_lines, lambda item: f"{item[0]}: {item[1]!r}"))

    curated_forms = {entity: [str(f) for f in (forms if isinstance(forms, list) else [forms])]
                     for entity, forms in (mapping.get("mentions") or {}).items()}
    drafted_forms: dict[str, list[str]] = {}
    for mention in draft.mentions:
        if mention.entity not in draft.candidates and mention.form not in drafted_forms.get(mention.entity, []):
            drafted_forms.setdefault(mention.entity, []).append(mention.form)
    scores.append(score_spans(
        "mentions", text, [([Span(b, e)], f"{entity}: ", entity) for b, e, entity in loader_mentions(text, curated_forms)],
        [([Span(b, e)], f"{entity}: ", entity) for b, e, entity in loader_mentions(text, drafted_forms)],
        same=lambda d, c: d == c))
    scores.append(score_sets("forms", {(e, f) for e, fs in curated_forms.items() for f in fs},
                             {(e, f) for e, fs in drafted_forms.items() for f in fs},
                             lambda item: f"{item[0]}: {item[1]!r}"))

    statements = [(curated.spans(item), f"{item.get('speaker')}: ", item) for item in curated.items("statements")]
    statements = [s for s in statements if s[0]]
    drafted_statements = [([s.span], f"{s.speaker}: ", s) for s in draft.statements]
    scores.append(score_spans("statements", text, statements, drafted_statements))
    quotations = []
    for spans, who, item in statements:
        values = item.get("verbatim")
        for value in values if isinstance(values, list) else ([values] if values else []):
            span = curated.inner(value, spans[0])
            if span:
                quotations.append(([span], who, item))
    drafted_quotations = [([span], f"{s.speaker}: ", s) for s in draft.statements for span in s.verbatim]
    scores.append(score_spans("quotations", text, quotations, drafted_quotations))
    speakers = score_spans("speakers", text, statements, drafted_statements,
                           same=lambda d, c: d.speaker == c.get("speaker"))
    scores.append(speakers)

    curated_dates: set[tuple[int, str]] = set()
    for section, keys_ in (("events", ("date", "start", "end")), ("statements", ("when",))):
        for item in curated.items(section):
            own = curated.spans(item)
            for key in keys_:
                if item.get(key) is not None:
                    found = curated.date(item[key], own[0] if own else None)
                    if found:
                        curated_dates.add(found)
    drafted_dates = {(d.begin, d.value) for d in
                     [s.when for s in draft.statements if s.when] +
                     [e.date for e in draft.events if e.date]}
    def show_date(item):
        return f"line {line_of(text, item[0])}: {text[item[0]:item[0] + 20].split(',')[0]!r} -> {item[1]}"
    # dates: the time words the curated mapping dates anything by, found and resolved to the same day
    # (recall); precision: of the drafter's readings of those words, the share that resolve the same
    found_dates = {(d.begin, d.value) for d in draft.dates if not d.inferred}
    read = {item for item in found_dates if item[0] in {begin for begin, _ in curated_dates}}
    dates = Score("dates", len(curated_dates), len(read), len(curated_dates & found_dates), len(read & curated_dates))
    dates.misses = [show_date(item) for item in sorted(curated_dates - found_dates)]
    dates.false_finds = [show_date(item) for item in sorted(read - curated_dates)]
    scores.append(dates)
    scores.append(score_sets("item dates", curated_dates, drafted_dates, show_date))

    events = [(curated.spans(item), f"{item.get('id')}: ", item.get("id")) for item in curated.items("events")]
    registry_events = {e.id for e in draft.events if e.type is None}

    def same_event(drafted_id: str, curated_id: str) -> bool:
        """A registry event matches only itself; the draft's own events match by place in the text."""
        return drafted_id == curated_id or (drafted_id not in registry_events and curated_id not in registry_events
                                            and not curated_mentioned_event(mapping, curated_id))
    scores.append(score_spans("events", text, [e for e in events if e[0]],
                              [([e.span, *e.also], f"{e.id}: ", e.id) for e in draft.events], same=same_event))

    # a proposal is a claim (what a source says was offered), and statements take stances on it
    claims = [(curated.spans(item), f"{item.get('id')}: ", item) for item in curated.items("claims") + curated.items("proposals")]
    claims = [c for c in claims if c[0]]
    drafted_claims = [([c.span, *c.also], f"{c.id}: ", c) for c in draft.claims]
    scores.append(score_spans("claims", text, claims, drafted_claims))

    curated_stances = {(item.get("speaker"), stance.get("claim"), stance.get("stance"))
                       for item in curated.items("statements") for stance in item.get("claims") or []
                       if isinstance(stance, dict)}
    by_draft_claim = {c.id: {item["id"] for spans, _, item in claims
                             if any(overlaps(a, b) for a in [c.span, *c.also] for b in spans)}
                      for c in draft.claims}
    stance = Score("stances", len(curated_stances), 0)
    found: set[tuple] = set()
    for statement in draft.statements:
        for claim_id, position in statement.stances:
            stance.drafted += 1
            hits = {(statement.speaker, c, position) for c in by_draft_claim.get(claim_id, ())} & curated_stances
            if hits:
                stance.correct += 1
                found |= hits
            else:
                stance.false_finds.append(f"{statement.speaker} {position} {claim_id}")
    stance.found = len(found)
    stance.misses = [f"{s} {p} {c}" for s, c, p in sorted(curated_stances - found, key=str)]
    scores.append(stance)
    return scores


def curated_mentioned_event(mapping: dict[str, Any], event_id: str) -> bool:
    """Whether a curated event is one the curated mapping gives no type: a registry event."""
    return any(item.get("id") == event_id and "type" not in item for item in mapping.get("events") or []
               if isinstance(item, dict))


def read_curated(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def format_scores(scores: list[Score], details: bool = True) -> str:
    """A table of precision and recall per kind, then every miss and false find."""
    def number(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    lines = [f"{'kind':<11} {'curated':>7} {'drafted':>7} {'precision':>9} {'recall':>6}"]
    for score in scores:
        lines.append(f"{score.kind:<11} {score.curated:>7} {score.drafted:>7} {number(score.precision):>9} "
                     f"{number(score.recall):>6}")
    if details:
        for score in scores:
            for what, items in (("missed", score.misses), ("false find", score.false_finds)):
                lines += [f"{score.kind} {what}: {item}" for item in items]
    return "\n".join(lines) + "\n"
