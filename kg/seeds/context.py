"""What the readers of one article's mapping share: its text (to ground quotes), the registry and
the ids defined so far (to check references), the publication date (to resolve dates), the problems."""
from __future__ import annotations

import datetime as dt

from kg.seeds.dates import parse_date_words
from kg.seeds.fields import Fields
from kg.seeds.grounding import Grounding
from kg.seeds.reader import Located, SeedProblem
from kg.seeds.records import ACTOR_TYPES, PLACE_TYPES, Registry, Span, TimeExpression
from kg.seeds.references import References


class ArticleReader(Grounding, References):
    """Reads one article's mapping file against its text and the registry."""

    def __init__(self, text: str, registry: Registry, cameo_codes: set[str], file: str,
                 problems: list[SeedProblem]):
        Grounding.__init__(self, text, problems)
        References.__init__(self, registry, problems)
        self.cameo_codes = cameo_codes
        self.file = file
        self.published = dt.date(1970, 1, 1)
        self.actors = registry.of_types(ACTOR_TYPES)
        self.places = registry.of_types(PLACE_TYPES)
        self.topics = registry.of_types(frozenset({"Topic"}))

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
