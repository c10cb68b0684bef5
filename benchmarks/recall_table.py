"""The recall table of docs/modelling.md: every line of the seed article and the items of its mapping that
represent it, generated from the mapping so that it stays true (tests/test_modelling_doc.py checks the doc).

    .venv/bin/python benchmarks/recall_table.py          # rewrite the table in docs/modelling.md
    .venv/bin/python benchmarks/recall_table.py --check  # exit 1 if the doc's table is out of date
"""
from __future__ import annotations

import sys
from pathlib import Path

from kg.rdf.graphs import cameo_table, ontology_quads
from kg.rdf.vocabulary import Iris
from kg.seeds.mapping import ArticleMapping, Span, load_article, seed_registry

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = "cgtn-2019-03-01-hanoi-summit"
DOC = ROOT / "docs" / "modelling.md"
START, END = "<!-- recall-table:start -->", "<!-- recall-table:end -->"


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


def recall_table(article: ArticleMapping) -> str:
    """A Markdown table: line, kind of line, its first words, the items and entities its words ground."""
    items = item_spans(article)
    rows = ["| line | kind | text | items | entities |", "|---|---|---|---|---|"]
    for segment in article.segments:
        begin, end = segment.span.begin, segment.span.end
        inside = [name for name, spans in items if any(s.begin < end and begin < s.end for s in spans)]
        entities = sorted({m.entity for m in article.mentions if begin <= m.span.begin < end})
        words = segment.span.anchor if len(segment.span.anchor) <= 60 else segment.span.anchor[:57] + "..."
        rows.append(f"| {segment.line} | {segment.kind} | {words.replace('|', '/')} | "
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
