"""Read seed files: YAML with the line of every value kept, so errors can say file and line.

All scalars are read as strings (YAML's implicit typing would turn `NO` into False or a bad date
into a crash); the mapping stage converts and checks them itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


# libyaml's parser is ~10× faster and keeps the same line marks; fall back where it is not compiled in.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class SeedProblem:
    """One thing wrong in a seed file, located at a line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class SeedError(Exception):
    """Seed input that cannot be built; carries every problem found, each with file and line."""

    def __init__(self, problems: list[SeedProblem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class Located:
    """A YAML value with the file and line it comes from."""

    __slots__ = ("value", "file", "line")

    def __init__(self, value: Any, file: str, line: int):
        self.value = value
        self.file = file
        self.line = line

    def problem(self, message: str) -> SeedProblem:
        return SeedProblem(self.file, self.line, message)

    def __repr__(self) -> str:
        return f"Located({self.value!r}, {self.file}:{self.line})"


def _locate(node: yaml.Node, file: str) -> Located:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        entries: dict[str, Located] = {}
        for key_node, value_node in node.value:
            key = _locate(key_node, file)
            if not isinstance(key.value, str):
                raise SeedError([key.problem("a mapping key must be a plain string")])
            if key.value in entries:
                raise SeedError([key.problem(f"duplicate key {key.value!r}")])
            entries[key.value] = _locate(value_node, file)
        return Located(entries, file, line)
    if isinstance(node, yaml.SequenceNode):
        return Located([_locate(item, file) for item in node.value], file, line)
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null" and node.value in ("", "~", "null"):
        return Located(None, file, line)
    return Located(str(node.value), file, line)


def load_yaml(path: Path, display_name: str) -> Located:
    """Parse a YAML seed file into Located values; a syntax error becomes a located SeedError."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise SeedError([SeedProblem(display_name, 1, f"not UTF-8 text ({error.reason})")]) from None
    except OSError as error:
        raise SeedError([SeedProblem(display_name, 1, f"cannot read file: {error.strerror}")]) from None
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        # A mark past the end (an unclosed bracket, a truncated file) points at the last line.
        line = min(mark.line + 1, text.count("\n") + 1) if mark else 1
        reason = error.problem or error.context or "invalid YAML"
        raise SeedError([SeedProblem(display_name, line, f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as error:
        raise SeedError([SeedProblem(display_name, 1, f"invalid YAML: {error}")]) from None
    if node is None:
        return Located(None, display_name, 1)
    return _locate(node, display_name)
