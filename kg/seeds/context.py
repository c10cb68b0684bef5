"""What the readers of one article's mapping share: its text (to ground quotes), the registry and
the ids defined so far (to check references), the publication date (to resolve dates), the problems."""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from kg.seeds.dates import parse_date_words
from kg.seeds.fields import Fields
from kg.seeds.grounding import Grounding
from kg.seeds.reader import Located, SeedProblem
from kg.seeds.records import (ACTOR_TYPES, INFERRED, PLACE_TYPES, RESOLVED, STATED, CameoCode, Coding, Registry, Span,
                              TimeExpression)
from kg.seeds.references import References

ABSOLUTE_RULE = "an absolute date in the text"  # the rule `parse_date_words` gives a date written out


class ArticleReader(Grounding, References):
    """Reads one article's mapping file against its text and the registry."""

    def __init__(self, text: str, registry: Registry, cameo_codes: Mapping[str, CameoCode] | Collection[str],
                 file: str, problems: list[SeedProblem]):
        Grounding.__init__(self, text, problems)
        References.__init__(self, registry, problems)
        self.cameo_codes = cameo_codes
        self.file = file
        self.published = dt.date(1970, 1, 1)
        self.actors = registry.of_types(ACTOR_TYPES)
        self.places = registry.of_types(PLACE_TYPES)
        self.topics = registry.of_types(frozenset({"Topic"}))

    def time_expression(self, value: Located | None, own: Span | None) -> TimeExpression | None:
        """The date the words give, with its evidence: stated or resolved when the words are inside the
        item's own quote; inferred when they are elsewhere, which needs `because` (why they date the item)."""
        if value is None:
            return None
        because = None
        if isinstance(value.value, dict) and "because" in value.value:
            reason = value.value["because"]
            because = reason.value if isinstance(reason.value, str) and reason.value.strip() else None
            if because is None:
                self.problems.append(reason.problem("'because' must be a non-empty text"))
            value = Located({k: v for k, v in value.value.items() if k != "because"}, value.file, value.line)
        span = self.sub_span(value, own)
        if span is None:
            return None
        resolved = parse_date_words(span.anchor, self.published)
        if isinstance(resolved, str):
            self.problems.append(value.problem(resolved))
            return None
        inside = own is not None and own.begin <= span.begin and span.end <= own.end
        if inside:
            if because:
                self.problems.append(value.problem(
                    "'because' is for a date inferred from words outside the item's quote; these words are inside it"))
            evidence = STATED if resolved[2] == ABSOLUTE_RULE else RESOLVED
            return TimeExpression(span, *resolved, evidence=evidence)
        if not because:
            self.problems.append(value.problem(
                f"the date words {span.anchor!r} are outside the item's quote, so the date is inferred: "
                "say why they date this item with 'because: ...'"))
            return None
        return TimeExpression(span, *resolved, evidence=INFERRED, inference=because)

    def cameo(self, fields: Fields) -> str | None:
        code = fields.text("cameo")
        if code and code not in self.cameo_codes:
            self.problems.append(fields.get("cameo").problem(
                f"unknown CAMEO code {code!r} (not in the published scheme ontology/cameo.ttl)"))
            return None
        return code

    def coding(self, fields: Fields, default_sources: list[str] | None = None) -> Coding | None:
        """The item's act coded as GDELT codes it: `cameo`, `source` (default: `default_sources`) and `target`
        actors; the quad class and Goldstein score come from the CAMEO table. None without a code."""
        code = self.cameo(fields)
        sources = self.refer_all(fields.items("source"), "the source actor of an act", self.actors)
        targets = self.refer_all(fields.items("target"), "the target actor of an act", self.actors)
        if code is None:
            if fields.get("cameo") is None and (sources or targets):
                where = fields.get("target") or fields.get("source")
                self.problems.append(where.problem(
                    "'source' and 'target' are the actors of a coded act: give its CAMEO code ('cameo') too"))
            return None
        row = self.cameo_codes.get(code) if isinstance(self.cameo_codes, Mapping) else None
        return Coding(code, row.quad_class if row else "", row.goldstein if row else "",
                      tuple(sources or default_sources or ()), tuple(targets))

    def choice(self, fields: Fields, key: str, options: dict[str, str], what: str) -> str | None:
        value = fields.text(key, required=True)
        if value is None:
            return None
        if value not in options:
            self.problems.append(fields.get(key).problem(
                f"unknown {what} {value!r} (known: {', '.join(options)})"))
            return None
        return options[value]
