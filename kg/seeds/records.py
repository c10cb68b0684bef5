"""The records the seeds stage produces, and the entity types and code lists they draw on.

`Registry` holds the shared entities; `ArticleMapping` holds one article with every quote grounded
as a `Span` (character offsets into its text) and every relative date resolved to a `TimeExpression`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kg.seeds.reader import SeedProblem

ACTOR_TYPES = frozenset(
    {"Person", "State", "Organization", "GovernmentOrganization", "InternationalOrganization", "NewsMedia"}
)
PLACE_TYPES = frozenset({"State", "City", "Region", "Facility"})
EVENT_TYPES = frozenset(
    {"Event", "Meeting", "Summit", "Dinner", "PressConference", "Speech", "NewsReport", "HistoricalEvent"}
)
ENTITY_TYPES = ACTOR_TYPES | PLACE_TYPES | EVENT_TYPES | {"Topic", "Office"}
ROLES = {"party": "Party", "host": "Host", "visitor": "Visitor", "speaker": "Speaker", "reporter": "Reporter",
         "performer": "Performer"}
STANCES = {"asserts": "Asserts", "denies": "Denies"}
EVALUATIONS = {"positive": "Positive", "negative": "Negative"}
# The kinds of evidence for a date (ontology: dipl:DateEvidence).
STATED, RESOLVED, INFERRED = "StatedDate", "ResolvedDate", "InferredDate"
OUTCOME_TYPES = {"no-agreement": "NoAgreement", "agreement-to-continue-talks": "AgreementToContinueTalks"}


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Span:
    """A span of an article's text: `text[begin:end] == anchor` (code points, end exclusive)."""

    begin: int
    end: int
    anchor: str


@dataclass(frozen=True)
class TimeExpression:
    """Words of the text that give a date, with the date they resolve to and how."""

    span: Span
    value: str  # ISO date (YYYY-MM-DD) or year (YYYY)
    precision: str  # "day" or "year"
    rule: str
    evidence: str = RESOLVED  # STATED, RESOLVED or INFERRED: see `dating_evidence`
    inference: str | None = None  # for an inferred date: why words outside the item's own date it


@dataclass(frozen=True)
class Entity:
    id: str
    type: str
    label: str
    aliases: tuple[str, ...]
    description: str | None
    wikidata: str | None
    source: SeedProblem  # file and line of the definition (message unused)
    country: str | None = None  # a place: the state it lies in
    state: str | None = None  # an organisation: the state it belongs to
    jurisdiction: str | None = None  # an office: the state or organisation it belongs to
    counterparts: tuple[str, ...] = ()  # an office: offices of other jurisdictions with the same function


@dataclass
class Registry:
    entities: dict[str, Entity]
    file: str

    def of_types(self, types: frozenset[str]) -> set[str]:
        return {entity.id for entity in self.entities.values() if entity.type in types}


@dataclass(frozen=True)
class Segment:
    """One line of the article, classified."""

    kind: str  # Paragraph, Heading, PhotoCaption, RelatedArticleLink, LinkMarker, CreditLine
    line: int
    span: Span
    credit: str | None = None


@dataclass(frozen=True)
class EntityMention:
    entity: str
    span: Span


@dataclass(frozen=True)
class Participation:
    actor: str
    role: str


@dataclass(frozen=True)
class Coding:
    """An act coded as GDELT codes it: the CAMEO code, the quad class and Goldstein score its table gives,
    the source actors and the target actors."""

    code: str
    quad_class: str  # a dipl:QuadClass local name, such as "VerbalCooperation"
    goldstein: str  # decimal, as the table writes it
    sources: tuple[str, ...]
    targets: tuple[str, ...]


@dataclass(frozen=True)
class CameoCode:
    """One row of the CAMEO table (ontology/cameo.ttl): the quad class and Goldstein score of a code."""

    quad_class: str
    goldstein: str


@dataclass(frozen=True)
class Stance:
    """A statement's stance on a claim, with the hedge and evaluation the speaker attaches to it."""

    claim: str
    stance: str  # "Asserts" or "Denies"
    evaluation: str | None = None  # "Positive" or "Negative"
    hedge: str | None = None  # the speaker's words, e.g. "probably"


@dataclass(frozen=True)
class Outcome:
    type: str
    label: str
    spans: tuple[Span, ...]


@dataclass
class Event:
    id: str
    type: str | None  # None: the event is defined in the registry
    label: str | None
    spans: list[Span]
    line: int
    cameo: str | None = None
    place: str | None = None
    date: TimeExpression | None = None
    start: TimeExpression | None = None
    end: TimeExpression | None = None
    participants: list[Participation] = field(default_factory=list)
    follows: list[str] = field(default_factory=list)
    part_of: str | None = None
    commemorates: str | None = None
    topics: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    hours_after: list[str] = field(default_factory=list)
    coding: Coding | None = None


@dataclass
class Statement:
    id: str
    speaker: str
    spans: list[Span]
    line: int
    on_behalf_of: str | None = None
    made_at: str | None = None
    audience: str | None = None
    date: TimeExpression | None = None
    quotations: list[Span] = field(default_factory=list)
    paraphrases: list[Span] = field(default_factory=list)
    stances: list[Stance] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    cameo: str | None = None
    coding: Coding | None = None
    cites: list[str] = field(default_factory=list)  # actors the speaker says the statement rests on


@dataclass
class Claim:
    id: str
    label: str
    spans: list[Span]
    line: int
    about: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    contradicts: list[str] = field(default_factory=list)
    coding: Coding | None = None  # the act the claim reports, coded
    sources: list[str] = field(default_factory=list)  # who carries out the act, when not coded
    targets: list[str] = field(default_factory=list)
    object: Span | None = None
    condition: Span | None = None
    reason: Span | None = None


@dataclass
class Proposal:
    id: str
    label: str
    proposer: str
    spans: list[Span]
    line: int
    offer: Span | None = None
    in_exchange_for: Span | None = None
    proposed_to: str | None = None
    proposed_at: str | None = None
    concerns: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    coding: Coding | None = None


@dataclass
class Position:
    id: str
    holder: str
    title: str
    of: str | None
    spans: list[Span]
    line: int
    office: str | None = None
    according_to: str | None = None  # the source whose words give the title, when not the article's own


@dataclass
class ArticleMapping:
    id: str
    text: str
    publisher: str
    url: str
    published: dt.date
    language: str
    photo_credit: str | None
    credit_line: str | None
    segments: list[Segment]
    mentions: list[EntityMention]
    events: list[Event]
    statements: list[Statement]
    claims: list[Claim]
    proposals: list[Proposal]
    positions: list[Position]
    mapping_file: str
    inputs_from: list[str] = field(default_factory=list)  # sources the credit line names ("agencies")

    def line_of(self, offset: int) -> int:
        """1-based line of the article text that contains `offset`."""
        return self.text.count("\n", 0, offset) + 1
