"""Reading the keys of one YAML mapping with type checks; every problem is collected with its line."""
from __future__ import annotations

import re

from kg.seeds.reader import Located, SeedProblem

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Fields:
    """The keys of one YAML mapping, read with type checks; problems are collected, not raised."""

    def __init__(self, node: Located, what: str, problems: list[SeedProblem], allowed: set[str]):
        self.node = node
        self.what = what
        self.problems = problems
        self.values: dict[str, Located] = node.value if isinstance(node.value, dict) else {}
        if not isinstance(node.value, dict):
            problems.append(node.problem(f"{what} must be a mapping of keys to values"))
        for key, value in self.values.items():
            if key not in allowed:
                problems.append(value.problem(f"unknown key {key!r} in {what} (allowed: {', '.join(sorted(allowed))})"))

    @property
    def line(self) -> int:
        return self.node.line

    def problem(self, message: str) -> None:
        self.problems.append(self.node.problem(message))

    def get(self, key: str) -> Located | None:
        value = self.values.get(key)
        return None if value is None or value.value is None else value

    def text(self, key: str, required: bool = False) -> str | None:
        value = self.get(key)
        if value is None:
            if required:
                self.problem(f"{self.what} is missing {key!r}")
            return None
        if not isinstance(value.value, str) or not value.value.strip():
            self.problems.append(value.problem(f"{key!r} must be a non-empty text"))
            return None
        return value.value

    def items(self, key: str) -> list[Located]:
        """A list value; a single value is accepted as a list of one."""
        value = self.get(key)
        if value is None:
            return []
        return value.value if isinstance(value.value, list) else [value]


def check_id(value: Located, problems: list[SeedProblem]) -> str | None:
    """The id if it is well formed (lowercase words joined by hyphens), else None and a problem."""
    if not isinstance(value.value, str) or not ID_PATTERN.match(value.value):
        problems.append(value.problem(f"invalid id {value.value!r}: use lowercase letters, digits and hyphens"))
        return None
    return value.value
