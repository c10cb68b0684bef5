"""docs/modelling.md stays true: its recall table is the one the mapping gives (benchmarks/recall_table.py),
and every line of the article that states something is represented by some item of the mapping."""
from __future__ import annotations

from conftest import REPO, load_benchmark_module

FACT_LINES = {"Paragraph", "Heading", "PhotoCaption"}  # links, markers and the credit line ground no facts


def test_the_recall_table_in_the_doc_is_the_one_the_mapping_gives():
    recall = load_benchmark_module("recall_table.py")
    doc = (REPO / "docs" / "modelling.md").read_text(encoding="utf-8")
    table = recall.recall_table(recall.load_seed_article(REPO))
    assert recall.with_table(doc, table) == doc, "run benchmarks/recall_table.py to update docs/modelling.md"


def test_every_sentence_that_states_something_is_represented():
    recall = load_benchmark_module("recall_table.py")
    article = recall.load_seed_article(REPO)
    items = recall.item_spans(article)
    stating = [sentence for segment in article.segments if segment.kind in FACT_LINES
               for sentence in recall.sentences(segment.span)]
    bare = [sentence.anchor for sentence in stating
            if not any(s.begin < sentence.end and sentence.begin < s.end for _, spans in items for s in spans)]
    assert bare == []
    assert len(stating) == 39  # 36 lines, three of them with two sentences (25, 29, 47)
