"""The seed format's reference, as JSON Schema (2020-12), and the loader's first check against it.

`mapping.schema.json` describes an article's `mapping.yaml`, `entities.schema.json` the registry
`seeds/entities.yaml`: every key with its title and description, which keys are required, the types,
the id and code patterns, the enumerations. The loader checks a file's form against its schema first
(`check_against_schema`), every problem located at the line of the offending YAML node; the meaning
(quotes in the text, ids defined, dates that exist) is checked after, once the form is right.

The schema is validated against the data as the loader reads it (`kg.seeds.reader`): every scalar a
text, a key with an empty value left out. Messages are built from the schema itself: an object's
`title` names it ("a statement"), an enumeration's `title` names its values ("stance"), a pattern's
definition name picks the explanation (`PATTERN_MESSAGES`).
"""
from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from kg.seeds.reader import Located, SeedError, SeedProblem

SCHEMAS = {"mapping": "mapping.schema.json", "entities": "entities.schema.json"}

# What a value that fails a definition's pattern should look like, by the definition's name in `$defs`.
PATTERN_MESSAGES = {
    "id": "invalid id {value!r}: use lowercase letters, digits and hyphens",
    "text": "{label} must be a non-empty text",
    "wikidata": "malformed Wikidata id {value!r}: expected Q followed by digits, e.g. Q22686",
    "cameo": "invalid CAMEO code {value!r}: expected two to four digits, quoted (e.g. \"046\")",
    "date": "invalid date {value!r}: expected an ISO date YYYY-MM-DD",
    "url": "invalid URL {value!r}: expected http:// or https:// and no spaces",
    "language": "invalid language tag {value!r}: expected a BCP 47 tag such as en or zh-Hans",
    "occurrence": "{label} must be a number from 1 up, not {value!r}",
}
JSON_TYPES = {str: "string", dict: "object", list: "array", type(None): "null", bool: "boolean", int: "integer"}
KINDS = {"string": "a text", "object": "a mapping", "array": "a list", "null": "empty", "boolean": "a boolean",
         "integer": "a number"}


def schema_file(name: str) -> Path:
    """The path of a schema file ("mapping" or "entities"), for docs and editors."""
    return Path(str(resources.files(__package__) / SCHEMAS[name]))


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema "mapping" or "entities", parsed."""
    return json.loads((resources.files(__package__) / SCHEMAS[name]).read_text(encoding="utf-8"))


@cache
def _explainer(name: str) -> tuple[Draft202012Validator, dict[int, str]]:
    """jsonschema's validator of schema `name`, and the `$defs` name of each definition by object identity (an
    error carries the subschema that failed, which for a reference is the definition itself)."""
    schema = load_schema(name)
    return Draft202012Validator(schema), {id(value): key for key, value in schema["$defs"].items()}


@cache
def _fast_validator(name: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(load_schema(name))


def _resolve(name: str, subschema: dict[str, Any]) -> dict[str, Any]:
    """A subschema with its local `$ref` chain followed (only `#/$defs/...` references are used)."""
    while "$ref" in subschema and "type" not in subschema and "anyOf" not in subschema:
        subschema = load_schema(name)["$defs"][subschema["$ref"].removeprefix("#/$defs/")]
    return subschema


@cache
def object_keys(name: str, definition: str | None = None) -> frozenset[str]:
    """The keys an object of schema `name` may have: the root's (`definition` None) or a `$defs` entry's
    (for a definition that is a text or an object, the object's). The loader's key checks read them here."""
    subschema = load_schema(name) if definition is None else load_schema(name)["$defs"][definition]
    pending = [subschema]
    while pending:
        current = _resolve(name, pending.pop(0))
        if "properties" in current:
            return frozenset(current["properties"])
        pending.extend(current.get("anyOf", []))
    raise KeyError(f"{definition!r} of the {name} schema is not an object")


def plain(node: Located) -> Any:
    """The data of a Located tree, as the schema sees it: a key with an empty value is left out (the loader
    reads it as absent)."""
    if isinstance(node.value, dict):
        return {key: plain(value) for key, value in node.value.items() if value.value is not None}
    if isinstance(node.value, list):
        return [plain(item) for item in node.value]
    return node.value


def _node_at(root: Located, path: list[Any]) -> Located:
    node = root
    for step in path:
        node = node.value[step]
    return node


def _label(path: list[Any], root_title: str) -> str:
    """How a message names the value at `path`: its key, or its place in a list."""
    if not path:
        return root_title
    if isinstance(path[-1], int):
        parent = next((step for step in reversed(path) if isinstance(step, str)), None)
        return f"item {path[-1] + 1} of {parent!r}" if parent else f"item {path[-1] + 1}"
    return repr(path[-1])


def _kind(value: Any) -> str:
    return KINDS.get(JSON_TYPES.get(type(value), ""), type(value).__name__)


def _admits(name: str, subschema: dict[str, Any], value: Any) -> bool:
    """Whether `subschema`'s type (through references and alternatives) admits the JSON type of `value`."""
    subschema = _resolve(name, subschema)
    if "type" in subschema:
        types = subschema["type"] if isinstance(subschema["type"], list) else [subschema["type"]]
        return JSON_TYPES.get(type(value)) in types
    if "anyOf" in subschema:
        return any(_admits(name, branch, value) for branch in subschema["anyOf"])
    return True


def _pattern_template(name: str, subschema: dict[str, Any]) -> str:
    """The message for a value that fails `subschema`'s pattern: its definition's, or that of the definition
    with the same pattern (a text or a list of texts fails as a text does)."""
    definition = _explainer(name)[1].get(id(subschema), "")
    if definition in PATTERN_MESSAGES:
        return PATTERN_MESSAGES[definition]
    definitions = load_schema(name)["$defs"]
    return next((message for key, message in PATTERN_MESSAGES.items()
                 if key in definitions and definitions[key].get("pattern") == subschema.get("pattern")),
                "{label} is malformed: {value!r}")


def _messages(name: str, error: ValidationError) -> list[tuple[list[Any], str]]:
    """(path of the node to locate it at, message) for one validation error."""
    path = list(error.absolute_path)
    schema, value = error.schema, error.instance
    title = schema.get("title", "")
    label = _label(path, load_schema(name)["title"])
    keyword = error.validator
    if "propertyNames" in error.absolute_schema_path:  # a key, located at its value
        return [(path + [value], _pattern_template(name, schema).format(value=value, label=repr(value)))]
    if keyword == "type":
        expected = error.validator_value
        if expected == "object":
            return [(path, f"{title} must be a mapping of keys to values")]
        if expected == "array":
            return [(path, f"{label} must be a list, not {_kind(value)}")]
        return [(path, f"{label} must be {title or expected}, not {_kind(value)}")]
    if keyword == "enum":
        known = ", ".join(error.validator_value)
        if isinstance(value, str):
            return [(path, f"unknown {title} {value!r} (known: {known})")]
        return [(path, f"{label} must be one of {known}, not {_kind(value)}")]
    if keyword in ("pattern", "minimum"):
        return [(path, _pattern_template(name, schema).format(value=value, label=label))]
    if keyword == "required":
        return [(path, f"{title} is missing {key!r}") for key in error.validator_value if key not in value]
    if keyword == "additionalProperties":
        allowed = ", ".join(sorted(schema.get("properties", {})))
        return [(path + [key], f"unknown key {key!r} in {title} (allowed: {allowed})")
                for key in value if key not in schema.get("properties", {})]
    if keyword in ("anyOf", "oneOf"):
        branches = error.validator_value
        if all(set(branch) == {"required"} for branch in branches):
            needed = " or ".join(repr(key) for branch in branches for key in branch["required"])
            return [(path, f"{title} needs {needed}")]
        for index, branch in enumerate(branches):
            if _admits(name, branch, value):
                return [message for sub in error.context if sub.relative_schema_path[0] == index
                        for message in _messages(name, sub)]
        return [(path, f"{label} must be {title or 'of another kind'}, not {_kind(value)}")]
    return [(path, f"{label}: {error.message}")]


def schema_problems(root: Located, name: str) -> list[SeedProblem]:
    """Every way the file read into `root` departs from schema `name`, each located at the offending node.
    jsonschema-rs, much faster, tells whether the file conforms (a build checks every article); jsonschema, whose
    errors carry the subschemas the messages are made from, explains a file that does not."""
    data = plain(root)
    if _fast_validator(name).is_valid(data):
        return []
    problems = []
    for error in _explainer(name)[0].iter_errors(data):
        for path, message in _messages(name, error):
            problems.append(_node_at(root, path).problem(message))
    return problems


def check_against_schema(root: Located, name: str) -> None:
    """Raise a SeedError with every schema problem of the file read into `root`, if it has any."""
    problems = schema_problems(root, name)
    if problems:
        raise SeedError(problems)
