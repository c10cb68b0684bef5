"""`kg new` (a new article folder with a drafted mapping) and `kg draft` (redraft, or score a draft
against a curated mapping)."""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from kg.draft.drafter import Draft

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2
DRAFT_HEADER = "# Drafted by `kg draft`"  # the first line of a mapping no person has taken over yet


def default_seeds() -> Path:
    from kg.cli.project import find_project

    return find_project().seeds


def load_registry(seeds: Path):
    from kg.seeds.registry import load_registry as load

    path = seeds / "entities.yaml"
    if not path.is_file():
        path = default_seeds() / "entities.yaml"
    return load(path, str(path))


def draft_folder(folder: Path, registry, meta: dict) -> Draft:
    from kg.draft.drafter import draft_article

    text = (folder / "article.txt").read_bytes().decode("utf-8")
    return draft_article(text, registry, article_id=str(meta["id"]), url=str(meta["url"]),
                         published=dt.date.fromisoformat(str(meta["published"])), publisher=meta.get("publisher"),
                         headline=meta.get("headline"))


def check_draft(folder: Path, seeds: Path) -> list[str]:
    """The seed loader's problems with the drafted mapping (grounding, references, dates), if any."""
    import re

    from kg.cli.project import find_project
    from kg.seeds.article import load_article
    from kg.seeds.reader import SeedError

    registry = load_registry(seeds)
    codes = set(re.findall(r'skos:notation "(\d+)"', (find_project().ontology / "cameo.ttl").read_text("utf-8")))
    try:
        load_article(folder, registry, codes, folder.parent)
    except SeedError as error:
        return [str(problem) for problem in error.problems]
    return []


def write_draft(folder: Path, draft) -> None:
    from kg.draft.writer import write_mapping

    (folder / "mapping.yaml").write_text(write_mapping(draft), encoding="utf-8")


def run_new(args: argparse.Namespace) -> int:
    from kg.seeds.fields import ID_PATTERN
    from kg.seeds.reader import SeedError

    seeds = args.seeds or default_seeds()
    if not ID_PATTERN.match(args.id):
        print(f"kg new: {args.id!r} is not an id: lower-case words joined by hyphens", file=sys.stderr)
        return EXIT_FAILED
    try:
        registry = load_registry(seeds)
        data = args.text.read_bytes()
        data.decode("utf-8")
    except SeedError as error:
        print(f"kg new: the registry has problems:\n{error}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:
        print(f"kg new: cannot read {args.text}: {error.strerror or error}", file=sys.stderr)
        return EXIT_UNREADABLE
    except UnicodeDecodeError as error:
        print(f"kg new: {args.text} is not UTF-8 text ({error.reason} at byte {error.start})", file=sys.stderr)
        return EXIT_UNREADABLE
    publisher = registry.entities.get(args.publisher)
    if publisher is None or publisher.type != "NewsMedia":
        outlets = sorted(e.id for e in registry.entities.values() if e.type == "NewsMedia")
        print(f"kg new: the publisher {args.publisher!r} is not a NewsMedia entity of the registry; add it first "
              f"(known: {', '.join(outlets)})", file=sys.stderr)
        return EXIT_FAILED
    folder = seeds / "articles" / args.id
    if folder.exists():
        print(f"kg new: {folder} exists already; `kg draft {folder}` redrafts it", file=sys.stderr)
        return EXIT_FAILED
    folder.mkdir(parents=True)
    shutil.copyfile(args.text, folder / "article.txt")  # byte-identical: every offset counts on it
    meta = {"id": args.id, "url": args.url, "published": args.published.isoformat(), "publisher": args.publisher,
            "headline": args.headline}
    draft = draft_folder(folder, registry, meta)
    write_draft(folder, draft)
    return report(folder, draft, seeds)


def report(folder: Path, draft, seeds: Path) -> int:
    problems = check_draft(folder, seeds)
    print(f"{folder / 'mapping.yaml'}: drafted {len(draft.statements)} statement(s), {len(draft.claims)} claim(s), "
          f"{len(draft.events)} event(s), {len({m.entity for m in draft.mentions})} entities mentioned, "
          f"{len(draft.candidates)} new entity candidate(s) proposed; every item is marked '# drafted:'")
    if problems:
        print("kg draft: the draft does not load (a drafter bug; please report it):", file=sys.stderr)
        print("\n".join(problems), file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def run_draft(args: argparse.Namespace) -> int:
    from kg.draft.compare import compare, format_scores, read_curated
    from kg.seeds.reader import SeedError

    folder = args.folder
    mapping_path = folder / "mapping.yaml"
    try:
        meta = (yaml.safe_load(mapping_path.read_text(encoding="utf-8")) or {}).get("article") or {}
        current = mapping_path.read_text(encoding="utf-8")
        registry = load_registry(args.seeds or folder.parent.parent)
        draft = draft_folder(folder, registry, meta)
        curated = read_curated(args.compare) if args.compare else None
    except SeedError as error:
        print(f"kg draft: the registry has problems:\n{error}", file=sys.stderr)
        return EXIT_FAILED
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        print(f"kg draft: cannot read {folder}: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    except (KeyError, ValueError) as error:
        print(f"kg draft: {mapping_path} needs an 'article' section with id, url and published (ISO date): {error}",
              file=sys.stderr)
        return EXIT_FAILED
    if curated is not None:
        sys.stdout.write(format_scores(compare(draft, curated), details=not args.summary))
        return EXIT_OK
    if not current.startswith(DRAFT_HEADER) and not args.force:
        print(f"kg draft: {mapping_path} has been taken over by a person (no '{DRAFT_HEADER}' first line); "
              "redraft it with --force, or score a draft against it with --compare", file=sys.stderr)
        return EXIT_FAILED
    write_draft(folder, draft)
    return report(folder, draft, args.seeds or folder.parent.parent)


def add_commands(commands) -> None:
    """Register `kg new` and `kg draft` on the `kg` command's subparsers."""
    new = commands.add_parser("new", help="create an article folder: its text and a drafted mapping.yaml")
    new.add_argument("id", help="the article's id: lower-case words joined by hyphens")
    new.add_argument("--text", type=Path, required=True, help="the article text (UTF-8), copied byte for byte")
    new.add_argument("--url", required=True, help="where the article was published")
    new.add_argument("--published", type=dt.date.fromisoformat, required=True, metavar="YYYY-MM-DD",
                     help="the publication date: relative dates resolve against it")
    new.add_argument("--publisher", required=True, help="the publisher's id, a NewsMedia entity of the registry")
    new.add_argument("--headline", help="the headline, when the text has it as its first line")
    new.add_argument("--seeds", type=Path, help="the seeds folder (default: the project's seeds/)")
    new.set_defaults(run=run_new)

    draft = commands.add_parser("draft", help="redraft an article's mapping.yaml, or score a draft with --compare")
    draft.add_argument("folder", type=Path, help="the article folder (article.txt and mapping.yaml)")
    draft.add_argument("--compare", type=Path, metavar="CURATED.yaml",
                       help="score the draft against this curated mapping (precision, recall, every miss and "
                            "false find); writes nothing")
    draft.add_argument("--summary", action="store_true", help="with --compare: only the table")
    draft.add_argument("--force", action="store_true", help="redraft a mapping a person has taken over")
    draft.add_argument("--seeds", type=Path, help="the seeds folder of the registry (default: two folders up)")
    draft.set_defaults(run=run_draft)
