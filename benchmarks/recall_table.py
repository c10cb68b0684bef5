"""The recall table of docs/modelling.md: every sentence of the seed article and the items of its mapping that
represent it, generated from the mapping so that it stays true (tests/test_modelling_doc.py checks the doc).

    .venv/bin/python benchmarks/recall_table.py          # rewrite the table in docs/modelling.md
    .venv/bin/python benchmarks/recall_table.py --check  # exit 1 if the doc's table is out of date
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from kg.rdf.graphs import cameo_table, ontology_quads
from kg.rdf.vocabulary import Iris
from kg.seeds.mapping import ArticleMapping, Span, load_article, seed_registry

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = "cgtn-2019-03-01-hanoi-summit"
DOC = ROOT / "docs" / "modelling.md"
START, END = "<!-- recall-table:start -->", "<!-- recall-table:end -->"
SENTENCE_END = re.compile(r'[.!?]["”]?(?=\s+["“]?[A-Z])')  # a stop, maybe a closing quote, then a new sentence
ABBREVIATION = re.compile(r"\b(?:U\.S|[A-Z])\.$")  # "U.S. President": not the end of a sentence


def load_seed_article(root: Path = ROOT) -> ArticleMapping:
    registry = seed_registry(root / "seeds", root)
    codes = cameo_table(ontology_quads(root / "ontology", Iris()))
    return load_article(root / "seeds" / "articles" / ARTICLE, registry, codes, root)


def item_spans(article: ArticleMapping) -> list[tuple[str, list[Span]]]:
    """(item name, every span that denotes it or says what it says), for each item of the mapping."""
    items: list[tuple[str, list[Span]]] = []
    for event in article.events:
        items.append((f"event `{event.id}`", list(event.spans)))
        items.extend((f"outcome `{event.id}--{outcome.type}`", list(outcome.spans)) for outcome in event.outcomes)
    for statement in article.statements:
        items.append((f"statement `{statement.id}`", [*statement.spans, *statement.quotations, *statement.paraphrases]))
    items.extend((f"claim `{claim.id}`", list(claim.spans)) for claim in article.claims)
    items.extend((f"proposal `{proposal.id}`", list(proposal.spans)) for proposal in article.proposals)
    items.extend((f"position `{position.id}`", list(position.spans)) for position in article.positions)
    return items


def sentences(span: Span) -> list[Span]:
    """The sentences of one line of the text (a heading or caption is one)."""
    found, start = [], 0
    for stop in SENTENCE_END.finditer(span.anchor):
        if ABBREVIATION.search(span.anchor[start:stop.start() + 1]):
            continue
        found.append((start, stop.end()))
        start = stop.end() + len(span.anchor[stop.end():]) - len(span.anchor[stop.end():].lstrip())
    found.append((start, len(span.anchor)))
    return [Span(span.begin + b, span.begin + e, span.anchor[b:e]) for b, e in found if span.anchor[b:e].strip()]


def recall_table(article: ArticleMapping) -> str:
    """A Markdown table, a row per sentence (line.n when a line has several): the kind of line, its first words,
    the items whose spans overlap it and the entities it mentions."""
    items = item_spans(article)
    rows = ["| sentence | kind | text | items | entities |", "|---|---|---|---|---|"]
    for segment in article.segments:
        parts = sentences(segment.span)
        for number, sentence in enumerate(parts, 1):
            begin, end = sentence.begin, sentence.end
            inside = [name for name, spans in items if any(s.begin < end and begin < s.end for s in spans)]
            entities = sorted({m.entity for m in article.mentions if begin <= m.span.begin < end})
            words = sentence.anchor if len(sentence.anchor) <= 60 else sentence.anchor[:57] + "..."
            where = f"{segment.line}.{number}" if len(parts) > 1 else str(segment.line)
            rows.append(f"| {where} | {segment.kind} | {words.replace('|', '/')} | "
                        f"{', '.join(inside) or '—'} | {', '.join(entities) or '—'} |")
    return "\n".join(rows) + "\n"


def with_table(doc: str, table: str) -> str:
    """The document with the text between the markers replaced by the table."""
    head, _, rest = doc.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table}{END}{tail}"


def main(argv: list[str]) -> int:
    doc = DOC.read_text(encoding="utf-8")
    updated = with_table(doc, recall_table(load_seed_article()))
    if "--check" in argv:
        if updated != doc:
            print(f"{DOC.relative_to(ROOT)}: the recall table is out of date; run {Path(__file__).relative_to(ROOT)}",
                  file=sys.stderr)
            return 1
        return 0
    DOC.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
