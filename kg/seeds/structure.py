"""The article text itself: what each line is (paragraph, heading, caption...) and where the
registry's entities are mentioned."""
from __future__ import annotations

import re

from kg.seeds.context import ArticleReader
from kg.seeds.fields import Fields
from kg.seeds.reader import Located
from kg.seeds.records import EntityMention, Segment, Span
from kg.seeds.schema import object_keys


def read_structure(reader: ArticleReader, node: Located | None) -> list[Segment]:
    """Classify every line: those the mapping lists by kind, the rest are paragraphs."""
    lines: list[Span] = []
    offset = 0
    for line in reader.text.split("\n"):
        lines.append(Span(offset, offset + len(line), line))
        offset += len(line) + 1
    kinds: dict[int, tuple[str, str | None]] = {}
    if node is not None:
        fields = Fields(node, "structure", reader.problems, object_keys("mapping", "structure"))
        listed = [("headings", "Heading"), ("captions", "PhotoCaption"), ("related_links", "RelatedArticleLink"),
                  ("link_markers", "LinkMarker"), ("credit_lines", "CreditLine")]
        for key, kind in listed:
            for item in fields.items(key):
                credit = None
                if isinstance(item.value, dict):
                    item_fields = Fields(item, "a caption", reader.problems, object_keys("mapping", "caption"))
                    credit = reader.refer(item_fields.get("credit"), "a photo credit", reader.actors)
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
