"""The shared entity registry (`seeds/entities.yaml`): every entity the articles may refer to."""
from __future__ import annotations

import re
from pathlib import Path

from kg.seeds.fields import Fields, check_id
from kg.seeds.reader import SeedError, SeedProblem, load_yaml
from kg.seeds.records import ENTITY_TYPES, Entity, Registry

QID_PATTERN = re.compile(r"^Q[1-9][0-9]*$")


def load_registry(path: Path, display_name: str) -> Registry:
    """Load and check the shared entity registry."""
    problems: list[SeedProblem] = []
    root = load_yaml(path, display_name)
    top = Fields(root, "the registry", problems, {"entities"})
    entities: dict[str, Entity] = {}
    for node in top.items("entities"):
        fields = Fields(node, "an entity", problems, {"id", "type", "label", "aliases", "description", "wikidata"})
        id_value = fields.get("id")
        entity_id = check_id(id_value, problems) if id_value else fields.problem("an entity is missing 'id'")
        entity_type = fields.text("type", required=True)
        if entity_type and entity_type not in ENTITY_TYPES:
            problems.append(fields.get("type").problem(
                f"unknown type {entity_type!r} (known: {', '.join(sorted(ENTITY_TYPES))})"))
            entity_type = None
        label = fields.text("label", required=True)
        wikidata = fields.text("wikidata")
        if wikidata and not QID_PATTERN.match(wikidata):
            problems.append(fields.get("wikidata").problem(
                f"malformed Wikidata id {wikidata!r}: expected Q followed by digits, e.g. Q22686"))
            wikidata = None
        aliases = tuple(alias.value for alias in fields.items("aliases") if isinstance(alias.value, str))
        if not entity_id:
            continue
        if entity_id in entities:
            first = entities[entity_id].source.line
            problems.append(id_value.problem(f"duplicate id {entity_id!r} (first defined at line {first})"))
            continue
        if entity_type and label:
            entities[entity_id] = Entity(entity_id, entity_type, label, aliases, fields.text("description"),
                                         wikidata, node.problem(""))
    if problems:
        raise SeedError(problems)
    return Registry(entities, display_name)


def seed_registry(seeds: Path, root: Path) -> Registry:
    """Load and check the registry of a seeds folder (`entities.yaml`); problems name it relative to `root`."""
    path = seeds / "entities.yaml"
    return load_registry(path, path.relative_to(root).as_posix())
