"""Grounding quotes in the article text: each quote becomes a `Span` of character offsets, and must
occur exactly once (or name its occurrence) and start and end on word boundaries."""
from __future__ import annotations

from kg.seeds.fields import Fields
from kg.seeds.reader import Located, SeedProblem
from kg.seeds.records import Span
from kg.seeds.schema import object_keys


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


class Grounding:
    """Grounds the quotes of one article's mapping in its text; problems go to `problems`."""

    def __init__(self, text: str, problems: list[SeedProblem]):
        self.text = text
        self.problems = problems

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
                extra_fields = Fields(extra, "an extra mention", self.problems, object_keys("mapping", "extra-mention"))
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
            fields = Fields(value, "a span", self.problems, object_keys("mapping", "span"))
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
