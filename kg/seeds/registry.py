"""The shared entity registry (`seeds/entities.yaml`): every entity the articles may refer to."""
from __future__ import annotations

import re
from pathlib import Path

from kg.seeds.fields import Fields, check_id
from kg.seeds.reader import SeedError, SeedProblem, load_yaml
from kg.seeds.reader import Located
from kg.seeds.records import ACTOR_TYPES, ENTITY_TYPES, PLACE_TYPES, Entity, Registry
from kg.seeds.schema import check_against_schema, object_keys

QID_PATTERN = re.compile(r"^Q[1-9][0-9]*$")
ORGANIZATION_TYPES = ACTOR_TYPES - {"Person", "State"}
# Links between registry entities: key, the types that may have it, the types it may point to, what it is.
LINKS = (("country", PLACE_TYPES - {"State"}, frozenset({"State"}), "the state a place lies in"),
         ("state", ORGANIZATION_TYPES, frozenset({"State"}), "the state an organisation belongs to"),
         ("jurisdiction", frozenset({"Office"}), ACTOR_TYPES, "the jurisdiction of an office"),
         ("counterparts", frozenset({"Office"}), frozenset({"Office"}), "a counterpart office"))


def check_links(entities: dict[str, Entity], links: list[tuple[str, str, Located]], problems: list[SeedProblem]) -> None:
    """Each link between entities goes from a type that may have it to an entity of a type it may point to."""
    rules = {key: (sources, targets, what) for key, sources, targets, what in LINKS}
    for entity_id, key, value in links:
        sources, targets, what = rules[key]
        if entities[entity_id].type not in sources:
            problems.append(value.problem(f"{key!r} is only for {', '.join(sorted(sources))} entities"))
        elif value.value not in entities:
            problems.append(value.problem(f"undefined id {value.value!r} (used as {what})"))
        elif entities[value.value].type not in targets:
            problems.append(value.problem(f"{value.value!r} is a {entities[value.value].type}, which cannot be {what}"))


def load_registry(path: Path, display_name: str) -> Registry:
    """Load and check the shared entity registry."""
    problems: list[SeedProblem] = []
    root = load_yaml(path, display_name)
    check_against_schema(root, "entities")  # the form first; the meaning once the form is right
    top = Fields(root, "the registry", problems, object_keys("entities"))
    entities: dict[str, Entity] = {}
    links: list[tuple[str, str, Located]] = []
    for node in top.items("entities"):
        fields = Fields(node, "an entity", problems, object_keys("entities", "entity"))
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
            linked = {key: fields.text(key) for key in ("country", "state", "jurisdiction")}
            counterparts = tuple(v.value for v in fields.items("counterparts") if isinstance(v.value, str))
            entities[entity_id] = Entity(entity_id, entity_type, label, aliases, fields.text("description"),
                                         wikidata, node.problem(""), counterparts=counterparts, **linked)
            links.extend((entity_id, key, fields.get(key)) for key in linked if fields.get(key) is not None)
            links.extend((entity_id, "counterparts", value) for value in fields.items("counterparts"))
    check_links(entities, links, problems)
    if problems:
        raise SeedError(problems)
    return Registry(entities, display_name)


def seed_registry(seeds: Path, root: Path) -> Registry:
    """Load and check the registry of a seeds folder (`entities.yaml`); problems name it relative to `root`."""
    path = seeds / "entities.yaml"
    return load_registry(path, path.relative_to(root).as_posix())
