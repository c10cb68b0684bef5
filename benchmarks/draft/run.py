"""The drafter's benchmark: quality against curated mappings, and speed.

Quality: the seed article (against its curated mapping as committed, `git show HEAD:...`) and the
articles of benchmarks/draft/articles/ (written for this benchmark in our own words: wire copy, a
feature with nested and running quotes, a short brief), each drafted with the registry alone and
scored by `kg.draft.compare` (precision and recall per kind of item).

Speed: the seed article (7 KB) drafted `--repeat` times (median), and synthetic articles of
benchmarks/corpus.py drafted in batches of `--sizes` (seconds per batch and per article: linear
when the per-article time stays flat).

    .venv/bin/python benchmarks/draft/run.py [--check] [--details] [--synthetic 100] [--sizes 10 100 1000] [--out RESULTS.md]
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from kg.draft.compare import compare, format_scores
from kg.draft.drafter import draft_article
from kg.draft.writer import write_mapping
from kg.seeds.article import load_article
from kg.seeds.reader import SeedError
from kg.seeds.registry import load_registry

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SEED_ARTICLE = "seeds/articles/cgtn-2019-03-01-hanoi-summit"
TARGETS = {"statements": (0.95, 0.95), "quotations": (0.95, 0.95), "speakers": (0.95, 0.95),
           "mentions": (0.95, 0.95), "dates": (None, 1.0), "events": (None, 0.8), "claims": (None, 0.7),
           "stances": (None, 0.7)}


def committed(path: str) -> tuple[str, str]:
    """A file as committed (HEAD) and the commit: the curated mapping, not someone's edit in progress."""
    text = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    commit = subprocess.run(["git", "log", "-1", "--format=%h", "--", path], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout.strip()
    return text, commit


def benchmark_articles() -> list[tuple[str, str, dict]]:
    """(name, text, curated mapping) of every scored article."""
    seed_mapping, commit = committed(f"{SEED_ARTICLE}/mapping.yaml")
    articles = [(f"seed article (curated mapping at {commit})",
                 (REPO / SEED_ARTICLE / "article.txt").read_text(encoding="utf-8"), yaml.safe_load(seed_mapping))]
    for folder in sorted((HERE / "articles").iterdir()):
        articles.append((folder.name, (folder / "article.txt").read_text(encoding="utf-8"),
                         yaml.safe_load((folder / "mapping.yaml").read_text(encoding="utf-8"))))
    return articles


def draft_of(text: str, mapping: dict, registry):
    meta = mapping["article"]
    return draft_article(text, registry, article_id=str(meta["id"]), url=str(meta["url"]),
                         published=dt.date.fromisoformat(str(meta["published"])), publisher=meta.get("publisher"))


def cameo_codes() -> set[str]:
    import re
    return set(re.findall(r'skos:notation "(\d+)"', (REPO / "ontology" / "cameo.ttl").read_text(encoding="utf-8")))


def check_curated(registry_path: Path) -> list[str]:
    """Load every benchmark article's curated mapping with the seed loader, against the registry plus
    extra-entities.yaml; and each draft, against the registry alone. Returns the problems."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        extended = yaml.safe_load(registry_path.read_text(encoding="utf-8"))
        extended["entities"] += yaml.safe_load((HERE / "extra-entities.yaml").read_text(encoding="utf-8"))["entities"]
        (root / "entities.yaml").write_text(yaml.safe_dump(extended, allow_unicode=True), encoding="utf-8")
        full = load_registry(root / "entities.yaml", "entities.yaml")
        plain = load_registry(registry_path, "entities.yaml")
        for folder in sorted((HERE / "articles").iterdir()):
            for registry, mapping_text, what in ((full, (folder / "mapping.yaml").read_text(encoding="utf-8"), "curated"),
                                                 (plain, None, "draft")):
                target = root / what / folder.name
                target.mkdir(parents=True)
                (target / "article.txt").write_bytes((folder / "article.txt").read_bytes())
                if mapping_text is None:
                    mapping = yaml.safe_load((folder / "mapping.yaml").read_text(encoding="utf-8"))
                    mapping_text = write_mapping(draft_of((folder / "article.txt").read_text(encoding="utf-8"),
                                                          mapping, plain))
                (target / "mapping.yaml").write_text(mapping_text, encoding="utf-8")
                try:
                    load_article(target, registry, cameo_codes(), root)
                except SeedError as error:
                    problems += [f"{what} {folder.name}: {problem}" for problem in error.problems]
    return problems


def quality(registry, details: bool) -> tuple[str, dict]:
    rows, totals, report = [], {}, []
    for name, text, mapping in benchmark_articles():
        scores = compare(draft_of(text, mapping, registry), mapping)
        report.append(f"### {name}\n\n```\n{format_scores(scores, details)}```\n")
        for score in scores:
            total = totals.setdefault(score.kind, [0, 0, 0, 0])
            for index, value in enumerate((score.curated, score.drafted, score.found, score.correct)):
                total[index] += value
            rows.append((name.split(" (")[0], score))
    return "\n".join(report), totals


def number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(totals: dict, articles: list[tuple[str, str, dict]], registry) -> str:
    """One table: per kind, precision/recall for each article and all together, and the target."""
    per_article = {}
    for name, text, mapping in articles:
        per_article[name.split(" (")[0]] = {s.kind: s for s in compare(draft_of(text, mapping, registry), mapping)}
    names = list(per_article)
    lines = ["| kind | " + " | ".join(names) + " | all: curated / drafted | all: P | all: R | target P / R |",
             "|---|" + "---|" * len(names) + "---|---|---|---|"]
    for kind, (curated, drafted, found, correct) in totals.items():
        cells = []
        for name in names:
            score = per_article[name][kind]
            cells.append(f"{number(score.precision)} / {number(score.recall)}")
        target = TARGETS.get(kind)
        target_text = "" if target is None else f"{number(target[0]) if target[0] else '-'} / {number(target[1])}"
        lines.append(f"| {kind} | " + " | ".join(cells) +
                     f" | {curated} / {drafted} | {number(correct / drafted if drafted else None)} | "
                     f"{number(found / curated if curated else None)} | {target_text} |")
    return "\n".join(lines) + "\n"


def load_corpus_module():
    spec = importlib.util.spec_from_file_location("benchmarks_corpus", REPO / "benchmarks" / "corpus.py")
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def speed(registry, repeat: int, sizes: list[int]) -> str:
    text = (REPO / SEED_ARTICLE / "article.txt").read_text(encoding="utf-8")
    mapping = yaml.safe_load(committed(f"{SEED_ARTICLE}/mapping.yaml")[0])
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        write_mapping(draft_of(text, mapping, registry))
        times.append(time.perf_counter() - start)
    summary = (f"The seed article ({len(text.encode('utf-8')):,} bytes), drafted and written {repeat} times: "
               f"median {statistics.median(times) * 1000:.1f} ms, min {min(times) * 1000:.1f} ms, "
               f"max {max(times) * 1000:.1f} ms.")
    lines = [summary, "",
             "| synthetic articles | bytes (mean) | seconds | ms per article |", "|---|---|---|---|"]
    corpus = load_corpus_module()
    with tempfile.TemporaryDirectory() as scratch:
        project = corpus.generate_corpus(Path(scratch) / "corpus", max(sizes))
        synthetic_registry = load_registry(project / "seeds" / "entities.yaml", "entities.yaml")
        folders = sorted((project / "seeds" / "articles").iterdir())
        loaded = [((f / "article.txt").read_text(encoding="utf-8"),
                   yaml.safe_load((f / "mapping.yaml").read_text(encoding="utf-8"))) for f in folders]
        for size in sizes:
            batch = loaded[:size]
            start = time.perf_counter()
            for article_text, article_mapping in batch:
                write_mapping(draft_of(article_text, article_mapping, synthetic_registry))
            seconds = time.perf_counter() - start
            mean_bytes = sum(len(t.encode("utf-8")) for t, _ in batch) / len(batch)
            lines.append(f"| {size:,} | {mean_bytes:,.0f} | {seconds:.2f} | {seconds / size * 1000:.2f} |")
    return "\n".join(lines) + "\n"


def synthetic_quality(count: int) -> str:
    """Drafts of generated articles scored against their generated mappings: template prose, so a check
    of the rules at scale, not of quality on real writing."""
    corpus = load_corpus_module()
    totals: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        project = corpus.generate_corpus(Path(scratch) / "corpus", count)
        registry = load_registry(project / "seeds" / "entities.yaml", "entities.yaml")
        for folder in sorted((project / "seeds" / "articles").iterdir()):
            mapping = yaml.safe_load((folder / "mapping.yaml").read_text(encoding="utf-8"))
            scores = compare(draft_of((folder / "article.txt").read_text(encoding="utf-8"), mapping, registry), mapping)
            for score in scores:
                total = totals.setdefault(score.kind, [0, 0, 0, 0])
                for index, value in enumerate((score.curated, score.drafted, score.found, score.correct)):
                    total[index] += value
    lines = ["| kind | generated | drafted | P | R |", "|---|---|---|---|---|"]
    for kind, (curated, drafted, found, correct) in totals.items():
        lines.append(f"| {kind} | {curated} | {drafted} | {number(correct / drafted if drafted else None)} | "
                     f"{number(found / curated if curated else None)} |")
    return "\n".join(lines) + "\n"


def machine() -> str:
    cpus = os.cpu_count()
    load = os.getloadavg()
    return (f"{platform.system()} {platform.machine()}, {cpus} CPUs (shared), Python {platform.python_version()}; "
            f"load average at the end {load[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="also load every curated mapping and draft with the seed loader")
    parser.add_argument("--details", action="store_true", help="list every miss and false find per article")
    parser.add_argument("--repeat", type=int, default=20, help="drafts of the seed article timed (default 20)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 100, 1000], help="synthetic batch sizes")
    parser.add_argument("--synthetic", type=int, default=0, help="also score drafts of N generated articles")
    parser.add_argument("--out", type=Path, help="write the report (Markdown) here")
    args = parser.parse_args()
    registry_path = REPO / "seeds" / "entities.yaml"
    registry = load_registry(registry_path, "seeds/entities.yaml")
    sections = []
    if args.check:
        problems = check_curated(registry_path)
        print("\n".join(problems) if problems else "curated mappings and drafts load: no problem")
        if problems:
            sys.exit(1)
    report, totals = quality(registry, args.details)
    sections.append("## Quality\n\n" + table(totals, benchmark_articles(), registry))
    if args.synthetic:
        sections.append(f"## {args.synthetic} generated articles (benchmarks/corpus.py), against their generated "
                        "mappings\n\n" + synthetic_quality(args.synthetic))
    if args.details:
        sections.append("## Every miss and false find\n\n" + report)
    if args.sizes or args.repeat:
        sections.append("## Speed\n\n" + speed(registry, args.repeat, args.sizes))
    sections.append(f"Machine: {machine()}.\n")
    text = "\n".join(sections)
    print(text)
    if args.out:  # the text above the Quality heading (method, reading of the figures) is kept
        kept = args.out.read_text(encoding="utf-8").split("\n## Quality\n")[0] + "\n" if args.out.is_file() else ""
        args.out.write_text(kept + text, encoding="utf-8")


if __name__ == "__main__":
    main()
