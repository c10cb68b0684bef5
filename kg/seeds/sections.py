"""The item sections of a mapping file (events, claims, statements, proposals, positions): one
reader per section, all driven by one loop (`read_section`) over the table `SECTIONS`."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from kg.seeds.context import ArticleReader
from kg.seeds.fields import Fields
from kg.seeds.records import (
    EVALUATIONS,
    EVENT_TYPES,
    OUTCOME_TYPES,
    ROLES,
    STANCES,
    Claim,
    Event,
    Outcome,
    Participation,
    Position,
    Proposal,
    Stance,
    Statement,
)
from kg.seeds.schema import object_keys


def keys(definition: str) -> frozenset[str]:
    """The keys an object of the mapping.yaml schema (kg/seeds/schema) may have."""
    return object_keys("mapping", definition)


def read_event(reader: ArticleReader, fields: Fields, earlier: list[Event]) -> Event | None:
    """An event: defined here, or typed in the registry (then only its article-side facts are here)."""
    registry, problems = reader.registry, reader.problems
    event_id = reader.define(fields, "events", registry_ok=True)
    in_registry = event_id in registry.entities
    event_type = fields.text("type")
    if event_type and event_type not in EVENT_TYPES:
        problems.append(fields.get("type").problem(
            f"unknown event type {event_type!r} (known: {', '.join(sorted(EVENT_TYPES))})"))
    if in_registry and registry.entities[event_id].type not in EVENT_TYPES:
        problems.append(fields.get("id").problem(f"{event_id!r} is a {registry.entities[event_id].type} "
                                                 "in the registry, not an event"))
    if in_registry and event_type:
        problems.append(fields.get("type").problem(
            f"{event_id!r} is typed in the registry; remove 'type' here"))
    if not in_registry and not event_type:
        fields.problem(f"event {event_id!r} is missing 'type'")
    label = fields.text("label", required=not in_registry)
    spans = reader.anchors(fields)
    own = spans[0] if spans else None
    event = Event(event_id or "", None if in_registry else event_type, label, spans, fields.line,
                  place=reader.refer(fields.get("place"), "a place", reader.places),
                  date=reader.time_expression(fields.get("date"), own),
                  start=reader.time_expression(fields.get("start"), own),
                  end=reader.time_expression(fields.get("end"), own))
    for participant in fields.items("participants"):
        part = Fields(participant, "a participant", problems, keys("participant"))
        actor = reader.refer_required(part, "actor", "a participant", reader.actors)
        role = reader.choice(part, "role", ROLES, "role")
        if actor and role:
            event.participants.append(Participation(actor, role))
    event.follows = reader.refer_all(fields.items("follows"), "an event it follows", "events")
    event.part_of = fields.get("part_of") and reader.refer(fields.get("part_of"), "an event", "events")
    event.commemorates = fields.get("commemorates") and reader.refer(fields.get("commemorates"), "an event", "events")
    event.topics = reader.refer_all(fields.items("topics"), "a topic", reader.topics)
    event.hours_after = reader.refer_all(fields.items("hours_after"), "an event it comes hours after", "events")
    event.coding = reader.coding(fields)
    event.cameo = event.coding.code if event.coding else None
    for outcome in fields.items("outcomes"):
        outcome_fields = Fields(outcome, "an outcome", problems, keys("outcome"))
        outcome_type = reader.choice(outcome_fields, "type", OUTCOME_TYPES, "outcome type")
        outcome_label = outcome_fields.text("label", required=True)
        outcome_spans = reader.anchors(outcome_fields)
        if outcome_type and outcome_label and outcome_spans:
            event.outcomes.append(Outcome(outcome_type, outcome_label, tuple(outcome_spans)))
    if event.date and (event.start or event.end):
        fields.problem("give either 'date' or 'start'/'end', not both")
    return event if event_id else None


def read_claim(reader: ArticleReader, fields: Fields, earlier: list[Claim]) -> Claim | None:
    """A claim that statements assert or deny; with structure where it has some: who does what (`source`,
    `cameo`, `object`), to whom (`target`), on which condition and for which reason."""
    claim = Claim(reader.define(fields, "claims") or "", fields.text("label", required=True) or "",
                  reader.anchors(fields), fields.line)
    own = claim.spans[0] if claim.spans else None
    claim.about = reader.refer_all(fields.items("about"), "what a claim is about", "about")
    claim.topics = reader.refer_all(fields.items("topics"), "a topic", reader.topics)
    claim.contradicts = reader.refer_all(fields.items("contradicts"), "a contradicted claim", "claims")
    if fields.get("cameo") is not None:
        claim.coding = reader.coding(fields)
    else:
        claim.sources = reader.refer_all(fields.items("source"), "the source actor of an act", reader.actors)
        claim.targets = reader.refer_all(fields.items("target"), "the target actor of an act", reader.actors)
    claim.object, claim.condition, claim.reason = (
        reader.sub_span(fields.get(key), own) if fields.get(key) else None for key in ("object", "condition", "reason"))
    return claim if claim.id else None


def read_statement(reader: ArticleReader, fields: Fields, earlier: list[Statement]) -> Statement | None:
    """A statement: who said it, the words quoted or paraphrased, the claims it takes a stance on."""
    statement_id = reader.define(fields, "statements")
    spans = reader.anchors(fields)
    own = spans[0] if spans else None
    speaker = reader.refer_required(fields, "speaker", "a speaker", reader.actors)
    on_behalf_of = reader.refer(fields.get("on_behalf_of"), "on whose behalf", reader.actors)
    statement = Statement(statement_id or "", speaker or "", spans, fields.line,
                          on_behalf_of=on_behalf_of,
                          made_at=fields.get("at") and reader.refer(fields.get("at"), "an occasion", "events"),
                          audience=fields.text("audience"),
                          date=reader.time_expression(fields.get("when"), own),
                          coding=reader.coding(fields, [on_behalf_of or speaker] if speaker else None),
                          cites=reader.refer_all(fields.items("cites"), "a source the speaker cites", reader.actors))
    statement.cameo = statement.coding.code if statement.coding else None
    statement.quotations = [s for s in (reader.sub_span(v, own) for v in fields.items("verbatim")) if s]
    statement.paraphrases = [s for s in (reader.sub_span(v, own) for v in fields.items("paraphrase")) if s]
    if not fields.items("verbatim") and not fields.items("paraphrase"):
        fields.problem("a statement needs 'verbatim' and/or 'paraphrase' (what was said)")
    said = [reader.text[span.begin:span.end] for span in spans]
    for stance_node in fields.items("claims"):
        stance_fields = Fields(stance_node, "a claim stance", reader.problems, keys("stance"))
        claim_ref = reader.refer_required(stance_fields, "claim", "a claim", "claims or proposals")
        stance = reader.choice(stance_fields, "stance", STANCES, "stance")
        evaluation = (reader.choice(stance_fields, "evaluation", EVALUATIONS, "evaluation")
                      if stance_fields.get("evaluation") else None)
        hedge = stance_fields.text("hedge")
        if hedge and said and not any(hedge in words for words in said):
            reader.problems.append(stance_fields.get("hedge").problem(
                f"hedge not found in the statement's quotes: {hedge!r} (a hedge is the speaker's words)"))
        if claim_ref and stance:
            statement.stances.append(Stance(claim_ref, stance, evaluation, hedge))
    statement.topics = reader.refer_all(fields.items("topics"), "a topic", reader.topics)
    return statement if statement_id and speaker else None


def read_proposal(reader: ArticleReader, fields: Fields, earlier: list[Proposal]) -> Proposal | None:
    """A proposal: who offers what to whom, possibly in exchange for something."""
    proposal_id = reader.define(fields, "proposals")
    spans = reader.anchors(fields)
    own = spans[0] if spans else None
    proposer = reader.refer_required(fields, "proposer", "a proposer", reader.actors)
    offer = fields.get("offer")
    exchange = fields.get("in_exchange_for")
    proposal = Proposal(proposal_id or "", fields.text("label", required=True) or "", proposer or "", spans,
                        fields.line,
                        offer=reader.sub_span(offer, own) if offer else fields.problem("a proposal needs 'offer'"),
                        in_exchange_for=reader.sub_span(exchange, own) if exchange else None,
                        proposed_to=reader.refer(fields.get("to"), "who a proposal is made to", reader.actors),
                        proposed_at=fields.get("at") and reader.refer(fields.get("at"), "an event", "events"),
                        concerns=reader.refer_all(fields.items("concerns"), "what a proposal concerns",
                                                  set(reader.registry.entities)),
                        topics=reader.refer_all(fields.items("topics"), "a topic", reader.topics))
    if proposer and fields.get("cameo") is not None:
        proposal.coding = reader.coding(fields, [proposer])
        if proposal.coding and not proposal.coding.targets and proposal.proposed_to:
            proposal.coding = replace(proposal.coding, targets=(proposal.proposed_to,))
    return proposal if proposal_id and proposer else None


def read_position(reader: ArticleReader, fields: Fields, earlier: list[Position]) -> Position | None:
    """A position a person holds (a title, of a state or organization, an office of the registry); its id
    derives from holder and title. With an `office`, `of` defaults to the office's jurisdiction."""
    holder = reader.refer_required(fields, "holder", "a position holder",
                                   reader.registry.of_types(frozenset({"Person"})))
    title = fields.text("title", required=True)
    of = reader.refer(fields.get("of"), "the state or organization of a position", reader.actors)
    office = reader.refer(fields.get("office"), "an office", reader.registry.of_types(frozenset({"Office"})))
    if office and office in reader.registry.entities:
        jurisdiction = reader.registry.entities[office].jurisdiction
        if of and jurisdiction and of != jurisdiction:
            reader.problems.append(fields.get("of").problem(
                f"{of!r} is not the jurisdiction of the office {office!r} ({jurisdiction!r}): leave 'of' out"))
        of = of or jurisdiction
    spans = reader.anchors(fields)
    if not (holder and title):
        return None
    position_id = f"{holder}--{re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')}"
    if position_id in {p.id for p in earlier}:
        fields.problem(f"duplicate position: {holder!r} as {title!r} is already mapped")
        return None
    according_to = reader.refer(fields.get("according_to"), "the source of a position's title", reader.actors)
    return Position(position_id, holder, title, of, spans, fields.line, office, according_to)


@dataclass(frozen=True)
class Section:
    """One list of items in a mapping file: its key, what an item is called in messages, the keys an
    item may have, and the reader that turns an item into a record (None: left out, problems said)."""

    name: str
    what: str
    keys: frozenset[str]
    read: Callable[[ArticleReader, Fields, list[Any]], Any | None]


# In this order: a duplicate id is reported against its first definition in this order.
SECTIONS = (
    Section("events", "an event", keys("event"), read_event),
    Section("claims", "a claim", keys("claim"), read_claim),
    Section("statements", "a statement", keys("statement"), read_statement),
    Section("proposals", "a proposal", keys("proposal"), read_proposal),
    Section("positions", "a position", keys("position"), read_position),
)


def read_section(reader: ArticleReader, top: Fields, section: Section) -> list[Any]:
    """Every item of `section` read into a record, in file order; items with problems are left out."""
    records: list[Any] = []
    for node in top.items(section.name):
        record = section.read(reader, Fields(node, section.what, reader.problems, section.keys), records)
        if record is not None:
            records.append(record)
    return records
