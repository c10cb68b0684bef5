"""Turn seed files into checked, text-grounded mapping records: the seeds stage's public names.

Input: the shared entity registry (`seeds/entities.yaml`) and one folder per article
(`seeds/articles/<id>/article.txt` + `mapping.yaml`). Output: `Registry` and `ArticleMapping`
records in which every quote has become a `Span` (character offsets into the article text) and
every relative date a resolved `TimeExpression`. Every problem is reported with file and line,
all of them at once, as a `SeedError`.

The data flow, one module a step:
- `reader`: YAML with the line of every value (`Located`);
- `schema`: the form of each file, checked first against its JSON Schema (`schema/*.schema.json`, the format's
  reference); the steps below check the meaning;
- `fields`: the keys of one YAML mapping, type-checked (`Fields`, `check_id`);
- `registry`: the shared entities (`load_registry`, `seed_registry`);
- `article`: one article (`load_article`): its metadata and text, then
  - `structure`: what each line of the text is, and where entities are mentioned;
  - `sections`: one reader per item section (events, claims, statements, proposals, positions),
    sharing `context.ArticleReader`, which grounds quotes (`grounding`), resolves dates (`dates`)
    and checks ids and references (`references`);
- `corpus`: the registry and the list of articles of a seeds folder (`load_corpus`);
- `records`: the records all of these produce.
"""
from __future__ import annotations

from kg.seeds.article import load_article
from kg.seeds.corpus import ARTICLES_FOLDER, load_corpus
from kg.seeds.dates import parse_date_words
from kg.seeds.records import (
                              ArticleMapping,
                              Claim,
                              Entity,
                              EntityMention,
                              Event,
                              Outcome,
                              Participation,
                              Position,
                              Proposal,
                              Registry,
                              Segment,
                              Span,
                              Statement,
                              TimeExpression,
)
from kg.seeds.registry import load_registry, seed_registry

__all__ = ["ARTICLES_FOLDER", "ArticleMapping", "Claim", "Entity", "EntityMention", "Event", "Outcome",
           "Participation", "Position", "Proposal", "Registry", "Segment", "Span", "Statement", "TimeExpression",
           "load_article", "load_corpus", "load_registry", "parse_date_words", "seed_registry"]
