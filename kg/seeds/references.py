"""Ids defined in one article's mapping and references to them, checked once every id is known
(an item may refer to one defined further down)."""
from __future__ import annotations

from kg.seeds.fields import Fields, check_id
from kg.seeds.reader import Located, SeedProblem
from kg.seeds.records import Registry


class References:
    """The article-local ids and the references to check against them and the registry."""

    def __init__(self, registry: Registry, problems: list[SeedProblem]):
        self.registry = registry
        self.problems = problems
        # id -> (section, line) of every article-local definition
        self.defined: dict[str, tuple[str, int]] = {}
        # (value, what it is used as, allowed ids or the name of a set known only at the end)
        self.references: list[tuple[Located, str, set[str] | str]] = []

    def define(self, fields: Fields, section: str, registry_ok: bool = False) -> str | None:
        value = fields.get("id")
        if value is None:
            fields.problem(f"{fields.what} is missing 'id'")
            return None
        item_id = check_id(value, self.problems)
        if item_id is None:
            return None
        if item_id in self.defined:
            first_section, first_line = self.defined[item_id]
            self.problems.append(value.problem(
                f"duplicate id {item_id!r} (first defined in {first_section} at line {first_line})"))
            return None
        if item_id in self.registry.entities and not registry_ok:
            self.problems.append(value.problem(
                f"duplicate id {item_id!r}: the registry already defines it ({self.registry.file})"))
            return None
        self.defined[item_id] = (section, value.line)
        return item_id

    def refer(self, value: Located | None, kind: str, allowed: set[str] | str) -> str | None:
        """Record a reference to check once every local id is known; returns the id."""
        if value is None:
            return None
        if not isinstance(value.value, str):
            self.problems.append(value.problem(f"{kind} must be an id"))
            return None
        self.references.append((value, kind, allowed))
        return value.value

    def refer_required(self, fields: Fields, key: str, kind: str, allowed: set[str] | str) -> str | None:
        """`refer` for a key the item must have: a missing key is a problem too."""
        ref = self.refer(fields.get(key), kind, allowed)
        if fields.get(key) is None:
            fields.problem(f"{fields.what} is missing {key!r}")
        return ref

    def refer_all(self, values: list[Located], kind: str, allowed: set[str] | str) -> list[str]:
        return [ref for ref in (self.refer(value, kind, allowed) for value in values) if ref]

    def check_references(self, local: dict[str, set[str]]) -> None:
        """Check every reference once all local ids are known; named sets come from `local`."""
        for value, kind, allowed in self.references:
            ref = value.value
            allowed = local[allowed] if isinstance(allowed, str) else allowed
            if ref in allowed:
                continue
            if ref in self.registry.entities:
                entity = self.registry.entities[ref]
                self.problems.append(value.problem(f"{ref!r} is a {entity.type}, which cannot be {kind}"))
            elif any(ref in ids for ids in local.values()):
                section = next(name for name, ids in local.items() if ref in ids)
                self.problems.append(value.problem(f"{ref!r} is one of the {section}, which cannot be {kind}"))
            else:
                self.problems.append(value.problem(f"undefined id {ref!r} (used as {kind})"))
