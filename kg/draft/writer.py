"""A `Draft` written as `mapping.yaml` in the seed format `kg build` reads. Every drafted item is
preceded by a `# drafted:` comment (the evidence) and `# unsure:` comments (what to check); a curator
deletes them once the item is checked. Items that need an entity the registry lacks are written
commented out, under the proposed registry entries, so the draft loads as it is."""
from __future__ import annotations

import json
import re

from kg.draft.drafter import Draft, Drafted, Span
from kg.seeds.grounding import find_all, inside_word

PLAIN = re.compile(r"^[A-Za-z0-9(][^:#\[\]{},\"'\n&*!|>%@`]*$")
YAML_WORDS = frozenset({"null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"})


def scalar(value: str) -> str:
    """A YAML scalar the seed reader reads back as exactly `value`: plain when safe, else double-quoted."""
    if (PLAIN.match(value) and value == value.strip() and value.lower() not in YAML_WORDS
            and not re.fullmatch(r"[\d.eE+-]+", value)):
        return value
    return json.dumps(value, ensure_ascii=False)


class MappingWriter:
    def __init__(self, draft: Draft):
        self.draft = draft
        self.text = draft.text
        self.out: list[str] = []
        written = [s for s in draft.statements if not self.statement_needs(s)]
        # The shapes: a denial answers a claim someone asserts, and a claim is someone's. A denial of a claim
        # no written statement asserts is left as a comment, and so is a claim no written statement takes up.
        self.asserted = {claim for s in written for claim, stance in s.stances if stance == "asserts"}
        self.attributed = {claim for s in written for claim, stance in s.stances
                           if stance == "asserts" or claim in self.asserted}

    def statement_needs(self, statement) -> set[str]:
        return {e for e in (statement.speaker, statement.on_behalf_of) if e in self.draft.candidates}

    # -- spans -----------------------------------------------------------------------------------
    def grounded(self, span: Span) -> bool:
        return span.end > span.begin and not inside_word(self.text, span.begin) and not inside_word(self.text, span.end)

    def occurrence(self, span: Span) -> int | None:
        offsets = find_all(self.text, self.text[span.begin:span.end])
        return offsets.index(span.begin) + 1 if len(offsets) > 1 else None

    def quote_fields(self, span: Span) -> list[str]:
        lines = [f"quote: {scalar(self.text[span.begin:span.end])}"]
        number = self.occurrence(span)
        if number:
            lines.append(f"occurrence: {number}")
        return lines

    def anywhere(self, span: Span) -> str:
        number = self.occurrence(span)
        words = scalar(self.text[span.begin:span.end])
        return f"{{quote: {words}" + (f", occurrence: {number}}}" if number else "}")

    def inside(self, span: Span, own: Span) -> str:
        """Words inside the item's own quote, or anywhere in the text when they repeat inside it."""
        words = self.text[span.begin:span.end]
        if own.begin <= span.begin and span.end <= own.end and len(find_all(self.text, words, own.begin, own.end)) == 1:
            return scalar(words)
        return self.anywhere(span)

    # -- output ----------------------------------------------------------------------------------
    def comments(self, item: Drafted, indent: str) -> list[str]:
        lines = [f"{indent}# drafted: {item.evidence}"]
        lines += [f"{indent}# unsure: {doubt}" for doubt in item.doubts]
        return lines

    def emit(self, lines: list[str], needs: set[str], why: str | None = None) -> None:
        """Emit an item; commented out when it names entities the registry lacks (or `why` says why)."""
        if needs or why:
            self.out.append(f"  # {why or 'needs registry entries first (proposed above): ' + ', '.join(sorted(needs))}")
            self.out.extend("#" + line for line in lines)
        else:
            self.out.extend(lines)

    def write(self) -> str:
        out = self.out
        out += ["# Drafted by `kg draft` from article.txt: no person has checked it yet.",
                "# Each drafted item follows a '# drafted:' comment (its evidence) and '# unsure:' comments (what to",
                "# check). Delete them once an item is checked; `kg draft` leaves a folder with a checked mapping alone.",
                ""]
        self.write_candidates()
        self.write_article()
        self.write_structure()
        self.write_mentions()
        self.write_dates()
        self.write_events()
        self.write_claims()
        self.write_statements()
        self.write_positions()
        return "\n".join(out) + "\n"

    def write_candidates(self) -> None:
        if not self.draft.candidates:
            return
        self.out.append("# Proposed registry entries (not in seeds/entities.yaml; no Wikidata QID: add one only where")
        self.out.append("# certain). Copy them to the registry once checked, then uncomment the items that need them.")
        for candidate in sorted(self.draft.candidates.values(), key=lambda c: c.begin):
            self.out += [f"#   - id: {candidate.id}", f"#     type: {candidate.type}",
                         f"#     label: {scalar(candidate.label)}",
                         f"#     # drafted: {candidate.evidence} (line {self.text.count(chr(10), 0, candidate.begin) + 1})"]
        self.out.append("")

    def write_article(self) -> None:
        draft = self.draft
        self.out += ["article:", f"  id: {draft.article_id}", "  text: article.txt"]
        self.out.append(f"  publisher: {draft.publisher}")
        self.out += [f"  url: {scalar(draft.url)}", f"  published: {draft.published.isoformat()}", "  language: en"]
        if draft.photo_credit:
            self.out.append(f"  photo_credit: {draft.photo_credit}  # drafted: the credit of every caption")
        if draft.credit_line:
            self.out.append(f"  credit_line: {scalar(draft.credit_line)}  # drafted: the credit line")
            if draft.inputs_from:
                self.out.append(f"  inputs_from: [{', '.join(draft.inputs_from)}]  # drafted: news media the credit "
                                "line names")
        if draft.headline:
            self.out.append(f"  # headline (given to kg new): {draft.headline}")
        self.out.append("")

    def write_structure(self) -> None:
        kinds = {"Heading": "headings", "PhotoCaption": "captions", "RelatedArticleLink": "related_links",
                 "LinkMarker": "link_markers", "CreditLine": "credit_lines"}
        lines_by_text: dict[str, int] = {}
        for kind in self.draft.lines:
            lines_by_text[kind.line.text] = lines_by_text.get(kind.line.text, 0) + 1
        self.out.append("structure:  # whole lines; every other line is a paragraph")
        for kind_name, key in kinds.items():
            items = [k for k in self.draft.lines if k.kind == kind_name]
            if not items:
                continue
            self.out.append(f"  {key}:")
            written: set[str] = set()
            for item in items:
                if item.line.text in written:
                    continue
                written.add(item.line.text)
                if lines_by_text[item.line.text] > 1 and kind_name != "LinkMarker":
                    self.out.append(f"    # unsure: line {item.line.number} occurs more than once; left out: "
                                    f"{item.line.text!r}")
                    continue
                self.out += self.comments(item, "    ")
                if kind_name == "PhotoCaption":
                    self.out.append(f"    - line: {scalar(item.line.text)}")
                    if item.credit:
                        self.out.append(f"      credit: {item.credit}")
                else:
                    self.out.append(f"    - {scalar(item.line.text)}")
        self.out.append("")

    def write_mentions(self) -> None:
        forms: dict[str, list[str]] = {}
        rules: dict[str, set[str]] = {}
        for mention in self.draft.mentions:
            if mention.entity in self.draft.candidates:
                continue
            forms.setdefault(mention.entity, [])
            if mention.form not in forms[mention.entity]:
                forms[mention.entity].append(mention.form)
            if mention.rule != "name or alias":
                rules.setdefault(mention.entity, set()).add(f"{mention.rule} {mention.form!r}")
        self.out.append("mentions:  # drafted: registry names and aliases found in the text, longest match first")
        for entity, entity_forms in forms.items():
            note = f"  # drafted: {'; '.join(sorted(rules[entity]))}" if entity in rules else ""
            self.out.append(f"  {entity}: [{', '.join(scalar(f) for f in entity_forms)}]{note}")
        self.out.append("")

    def write_dates(self) -> None:
        if not self.draft.dates:
            return
        self.out.append("# Time words found (the dates items use resolve by the same rules in kg build):")
        for date in self.draft.dates:
            line = self.text.count("\n", 0, date.begin) + 1
            reading = f"{date.value} ({date.rule})" if date.value else f"unresolved ({date.rule})"
            mark = "inferred: " if date.inferred else ""
            self.out.append(f"#   line {line}: {date.words!r} -> {mark}{reading}")
        self.out.append("")

    def write_events(self) -> None:
        if not self.draft.events:
            return
        self.out.append("events:")
        for event in self.draft.events:
            if not self.grounded(event.span):
                continue
            lines = self.comments(event, "  ")
            lines.append(f"  - id: {event.id}")
            lines += [f"    {line}" for line in self.quote_fields(event.span)]
            also = [s for s in event.also if self.grounded(s)]
            if also:
                lines.append("    also:")
                for span in also:
                    lines.append(f"      - {self.anywhere(span)}")
            if event.type:
                lines += [f"    type: {event.type}", f"    label: {scalar(event.label)}"]
            actors = [actor for actor, _ in event.participants if actor not in self.draft.candidates]
            if event.cameo and len(actors) >= 2:  # the shapes: a coded act has source and target actors
                lines += [f"    cameo: \"{event.cameo}\"  # unsure: from the event noun",
                          f"    source: {actors[0]}  # unsure: the first participant",
                          f"    target: {actors[1]}  # unsure: the second participant"]
            elif event.cameo:
                lines.append(f"    # unsure: cameo \"{event.cameo}\" once its source and target actors are known")
            if event.place and event.place not in self.draft.candidates:
                lines.append(f"    place: {event.place}")
            if event.date:
                lines.append(f"    date: {self.inside(Span(event.date.begin, event.date.end), event.span)}")
            participants = [(a, r) for a, r in event.participants if a not in self.draft.candidates]
            if participants:
                lines.append("    participants:")
                lines += [f"      - {{actor: {actor}, role: {role}}}" for actor, role in participants]
            left = sorted({a for a, _ in event.participants if a in self.draft.candidates})
            if left:
                lines.append(f"    # unsure: participants not in the registry yet: {', '.join(left)}")
            self.emit(lines, set())
            self.out.append("")

    def write_claims(self) -> None:
        if not self.draft.claims:
            return
        self.out.append("claims:")
        for claim in self.draft.claims:
            lines = self.comments(claim, "  ")
            lines += [f"  - id: {claim.id}", f"    label: {scalar(claim.label)}"]
            lines += [f"    {line}" for line in self.quote_fields(claim.span)]
            if claim.also:
                lines.append("    also:")
                lines += [f"      - {self.anywhere(span)}" for span in claim.also]
            self.emit(lines, set(), None if claim.id in self.attributed else
                      "no written statement asserts this claim yet (see the statements below): uncomment it with one")
            self.out.append("")

    def write_statements(self) -> None:
        if not self.draft.statements:
            return
        self.out.append("statements:")
        for statement in self.draft.statements:
            lines = self.comments(statement, "  ")
            lines += [f"  - id: {statement.id}", f"    speaker: {statement.speaker}"]
            if statement.on_behalf_of:
                lines.append(f"    on_behalf_of: {statement.on_behalf_of}")
            if statement.at:
                lines.append(f"    at: {statement.at}")
            if statement.audience:
                lines.append(f"    audience: {statement.audience}")
            lines += [f"    {line}" for line in self.quote_fields(statement.span)]
            if statement.when and statement.when_inferred:
                words = self.anywhere(Span(statement.when.begin, statement.when.end))[:-1]
                lines.append(f"    when: {words}, because: {scalar(statement.when_because)}}}"
                             f"  # unsure: inferred ({statement.when.value})")
            elif statement.when:
                lines.append(f"    when: {self.inside(Span(statement.when.begin, statement.when.end), statement.span)}")
            for key, spans in (("verbatim", statement.verbatim), ("paraphrase", statement.paraphrase)):
                if len(spans) == 1:
                    lines.append(f"    {key}: {self.inside(spans[0], statement.span)}")
                elif spans:
                    lines.append(f"    {key}:")
                    lines += [f"      - {self.inside(span, statement.span)}" for span in spans]
            stances = [(c, stance) for c, stance in statement.stances if stance == "asserts" or c in self.asserted]
            if stances:
                lines.append("    claims:")
                lines += [f"      - {{claim: {claim}, stance: {stance}}}" for claim, stance in stances]
            lines += [f"    # unsure: denies {claim}, which no statement here asserts (a denial answers an assertion): "
                      f"say who asserts it, then add {{claim: {claim}, stance: denies}}"
                      for claim, stance in statement.stances if (claim, stance) not in stances]
            if statement.cameo and statement.target and statement.target not in self.draft.candidates:
                lines.append(f"    cameo: \"{statement.cameo}\"  # unsure: from the verb {statement.verb!r}")
                lines.append(f"    target: {statement.target}  # unsure: the first other actor its words name")
            elif statement.cameo:  # the shapes: a coded act has a target actor
                lines.append(f"    # unsure: cameo \"{statement.cameo}\" (from the verb {statement.verb!r}) once a target "
                             "actor is known: add both 'cameo' and 'target'")
            self.emit(lines, self.statement_needs(statement))
            self.out.append("")

    def write_positions(self) -> None:
        if not self.draft.positions:
            return
        self.out.append("positions:")
        seen: set[tuple[str, str]] = set()
        for position in self.draft.positions:
            if (position.holder, position.title) in seen or not self.grounded(position.span):
                continue
            seen.add((position.holder, position.title))
            quote = ", ".join(self.quote_fields(position.span))
            lines = self.comments(position, "  ")
            where = f"office: {position.office}" if position.office else f"of: {position.of}"
            lines.append(f"  - {{holder: {position.holder}, title: {scalar(position.title)}, {where}, {quote}}}")
            self.emit(lines, {e for e in (position.holder, position.of) if e in self.draft.candidates})
        self.out.append("")


def write_mapping(draft: Draft) -> str:
    """The draft as the text of a `mapping.yaml`."""
    return MappingWriter(draft).write()
