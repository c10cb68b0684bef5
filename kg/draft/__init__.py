"""Draft a mapping from a new article's text (rules of English news prose plus the registry), write
it in the seed format, and score drafts against curated mappings.

- `text`: lines, quotations, sentences; `lexicon`: the conventions (verbs, titles, event nouns ...);
- `gazetteer`: registry mentions and new entity candidates; `dates`: time words, by the seed rules;
- `drafter`: statements with speakers, claims and stances, events, positions (`draft_article`);
- `writer`: the draft as `mapping.yaml` (`write_mapping`); `compare`: precision and recall per kind.
"""
