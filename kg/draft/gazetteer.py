"""Names in the text: mentions of registry entities (names, aliases, demonyms, capitals standing for
governments, a multiword place's head noun on later reference), longest match first as the seed
loader reads them, and new entity candidates (titled persons, organisations, places) never given a QID."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from kg.draft import lexicon
from kg.seeds.records import ACTOR_TYPES, EVENT_TYPES, PLACE_TYPES, Registry

DRAFTED_AS_EVENTS = EVENT_TYPES - {"HistoricalEvent"}  # a historical event is referred to, not reported
MENTIONED_TYPES = ACTOR_TYPES | PLACE_TYPES | {"Topic", "HistoricalEvent"}
NAME_WORD = r"[A-Z][\w'\u2019.-]*[\w.]|[A-Z]"
NAME = rf"(?:{NAME_WORD})(?:\s(?:{NAME_WORD})){{0,3}}"


@dataclass
class Mention:
    """One occurrence of a name, of a registry entity or of a candidate."""

    begin: int
    end: int
    entity: str
    form: str
    rule: str  # name or alias, demonym, capital for government, head noun, candidate


@dataclass
class Candidate:
    """A new entity the text names that the registry lacks: proposed, never given a QID."""

    id: str
    type: str
    label: str
    begin: int
    end: int
    evidence: str
    forms: set[str] = field(default_factory=set)


def slug(words: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", words.lower().replace("'s", "")).strip("-")


class Gazetteer:
    """The registry's names as forms of the text, with the rule that makes each a mention."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self.forms: dict[str, tuple[str, str]] = {}  # form -> (entity id, rule)
        state_by_name: dict[str, str] = {}
        for entity in registry.entities.values():
            if entity.type not in MENTIONED_TYPES:
                continue  # registry events are drafted as events, offices as positions
            for form in (entity.label, *entity.aliases):
                self.forms.setdefault(form, (entity.id, "name or alias"))
                if re.fullmatch(r"(?:[A-Z]\.){2,}", form):  # "U.S." also written "U.S"
                    self.forms.setdefault(form[:-1], (entity.id, "abbreviation without its final stop"))
                if entity.type == "State":
                    state_by_name[form] = entity.id
        for state_name, demonyms in lexicon.DEMONYMS.items():
            if state_name in state_by_name:
                for demonym in demonyms:
                    self.forms.setdefault(demonym, (state_by_name[state_name], "demonym"))
        for capital, state_name in lexicon.CAPITALS.items():
            if state_name in state_by_name:
                self.forms.setdefault(capital, (state_by_name[state_name], "capital for government"))
        self.pattern = self._compile(self.forms)
        # registry events are found by name too, as events ('the Geneva summit')
        self.event_forms = {form: e.id for e in registry.entities.values() if e.type in DRAFTED_AS_EVENTS
                            for form in (e.label, *e.aliases)}
        self.event_pattern = self._compile(self.event_forms) if self.event_forms else None

    @staticmethod
    def _compile(forms) -> re.Pattern:
        """One alternation, longest first: at each place the longest form matches."""
        ordered = sorted(forms, key=lambda form: (-len(form), form))
        return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(form) for form in ordered) + r")(?!\w)")

    def find(self, text: str) -> list[Mention]:
        """Registry mentions, longest first at each place, none overlapping; then head nouns on later
        reference ('the peninsula' after 'Korean Peninsula')."""
        if not self.forms:
            return []
        mentions = [Mention(m.start(), m.end(), *self.forms[m.group()][:1], m.group(), self.forms[m.group()][1])
                    for m in self.pattern.finditer(text)]
        heads: dict[str, str] = {}
        for mention in mentions:
            words = mention.form.split()
            entity = self.registry.entities[mention.entity]
            if len(words) > 1 and entity.type in {"Region", "Facility", "Organization", "GovernmentOrganization"} \
                    and words[-1][0].isupper() and words[-1].isalpha():
                heads.setdefault(words[-1].lower(), mention.entity)
        taken = {form.lower() for form in self.forms}
        for head, entity_id in heads.items():
            if head in taken or not re.search(rf"\bthe {head}\b", text):
                continue
            for match in re.finditer(rf"(?<!\w){head}(?!\w)", text):
                if not any(m.begin <= match.start() < m.end for m in mentions):
                    mentions.append(Mention(match.start(), match.end(), entity_id, head, "head noun on later reference"))
        return sorted(mentions, key=lambda m: m.begin)


_GAZETTEERS: list[tuple[Registry, Gazetteer]] = []  # the last few registries' gazetteers (compiling one costs)


def gazetteer_of(registry: Registry) -> Gazetteer:
    """The gazetteer of a registry, built once per registry object (a corpus drafts with one registry)."""
    for known, gazetteer in _GAZETTEERS:
        if known is registry:
            return gazetteer
    gazetteer = Gazetteer(registry)
    _GAZETTEERS[:] = [(registry, gazetteer), *_GAZETTEERS[:3]]
    return gazetteer


def is_actor(registry: Registry, entity_id: str, candidates: dict[str, Candidate]) -> bool:
    if entity_id in candidates:
        return candidates[entity_id].type in ACTOR_TYPES
    return registry.entities[entity_id].type in ACTOR_TYPES


def is_person(registry: Registry, entity_id: str, candidates: dict[str, Candidate]) -> bool:
    if entity_id in candidates:
        return candidates[entity_id].type == "Person"
    return entity_id in registry.entities and registry.entities[entity_id].type == "Person"


# Titles as written before a name: capitalised ("Foreign Minister") or not ("spokesperson"); names stay capitalised.
TITLE_PATTERN = "|".join(sorted({re.escape(form) for t in lexicon.TITLES for form in (t, t.lower())}, key=len, reverse=True))
GIVEN_FAMILY = r"[A-Z][a-z]+(?:-[a-z]+)? [A-Z][a-z]+(?:-[a-z]+)?"
TITLED_NAME = re.compile(rf"(?<![\w])(?:{TITLE_PATTERN})\s+({NAME})")
NAME_TITLE_APPOSITION = re.compile(rf"({NAME}),\s+(?:the|a|an)\s+(?:[\w-]+\s+)?(?:{TITLE_PATTERN})\b")
NAME_DESCRIPTION = re.compile(rf"({NAME}),\s+(?:a|an)\s+(?:[a-z][\w-]*\s+){{0,3}}(?:at|of|for|with|from|in)\b")
NAME_SUBJECT = re.compile(rf"(?<![\w.'] )(?<![Tt]he )({GIVEN_FAMILY})\s+(?:[a-z]+s|has|had|was|is)\b")
NAME_ACCORDING = re.compile(rf"\b[Aa]ccording to ({NAME})")
ORGANISATION = re.compile(rf"(?:the\s+)?((?:{NAME_WORD})(?:\s(?:{NAME_WORD}|of|for|and)){{0,5}}\s"
                          rf"(?:{'|'.join(lexicon.ORGANISATION_HEADS)}))\b")
PLACE = re.compile(rf"(?<![Aa]ccording )\b(?:in|to|from|near)\s+({NAME})(?=,\s(?:{NAME})|[.,;]|\s(?:on|last|this|for)\b)")


def find_candidates(text: str, masked_text: str, mentions: list[Mention], registry: Registry,
                    reporting_verbs: str) -> dict[str, Candidate]:
    """Names the registry lacks: a titled person ('Foreign Minister Jane Doe'), a named speaker
    ('Jane Doe said', 'said Jane Doe'), an organisation ('... Ministry'), a place ('in Oslo, Norway').
    The texts of quotations are left out (masked)."""
    covered = [(m.begin, m.end) for m in mentions]
    found: dict[str, Candidate] = {}
    registry_ids = set(registry.entities)

    def free(begin: int, end: int, containing: bool = False) -> bool:
        """No name is there yet; `containing`: a longer name may hold registry names ('Chinese Foreign Ministry')."""
        return not any(b < end and begin < e and not (containing and begin <= b and e <= end and e - b < end - begin)
                       for b, e in covered)

    def propose(begin: int, end: int, kind: str, evidence: str) -> None:
        words = text[begin:end].split()
        while words and words[0].rstrip(".,") in lexicon.NOT_NAMES:
            begin += len(words.pop(0)) + 1
        if not words or not free(begin, begin + len(" ".join(words)), containing=kind != "Person"):
            return
        label = " ".join(words).rstrip(".,")
        if len(label) < 3 or (kind == "Person" and len(words) < 2) or "\u2591" in label:
            return
        candidate_id = slug(label)
        if candidate_id in registry_ids or candidate_id in found or not candidate_id:
            return
        found[candidate_id] = Candidate(candidate_id, kind, label, begin, begin + len(label), evidence, {label})
        covered.append((begin, begin + len(label)))

    for match in TITLED_NAME.finditer(masked_text):
        if match.group(1)[0].isupper():
            propose(match.start(1), match.end(1), "Person", f"a title of office before a name: {match.group()!r}")
    for match in NAME_TITLE_APPOSITION.finditer(masked_text):
        propose(match.start(1), match.end(1), "Person", f"a name with a title in apposition: {match.group()!r}")
    for match in NAME_DESCRIPTION.finditer(masked_text):
        propose(match.start(1), match.end(1), "Person", f"a name with a description in apposition: {match.group()!r}")
    for match in NAME_SUBJECT.finditer(masked_text):
        if not any(head in match.group(1) for head in lexicon.ORGANISATION_HEADS):
            propose(match.start(1), match.end(1), "Person", f"a two-word name as the subject of a verb: {match.group()!r}")
    for match in NAME_ACCORDING.finditer(masked_text):
        propose(match.start(1), match.end(1), "Person", f"a name after 'according to': {match.group()!r}")
    for match in re.finditer(rf"(?:\b(?:{reporting_verbs})\s+({NAME}))|(?:({NAME})\s+(?:{reporting_verbs})\b)",
                             masked_text):
        group = 1 if match.group(1) else 2
        propose(match.start(group), match.end(group), "Person", f"a name beside a reporting verb: {match.group()!r}")
    for match in ORGANISATION.finditer(masked_text):
        propose(match.start(1), match.end(1), "Organization", f"a name ending in an organisation word: {match.group(1)!r}")
    for match in PLACE.finditer(masked_text):
        propose(match.start(1), match.end(1), "City", f"a place after a preposition: {match.group()!r}")
    # Later references: a person's surname alone ("Doe said").
    for candidate in list(found.values()):
        if candidate.type == "Person":  # the family name, last in most names, first in Korean and Chinese ones
            candidate.forms.add(candidate.label.split()[-1])
            if "-" in candidate.label.split()[-1] or len(candidate.label.split()[0]) <= 4:
                candidate.forms.add(candidate.label.split()[0])
    return found


def candidate_mentions(text: str, candidates: dict[str, Candidate], mentions: list[Mention]) -> list[Mention]:
    """Occurrences of the candidates' forms that no registry mention covers."""
    forms = {form: c.id for c in candidates.values() for form in sorted(c.forms)}
    if not forms:
        return []
    found = []
    for match in Gazetteer._compile(forms).finditer(text):  # the longest first, as for registry names
        if not any(m.begin < match.end() and match.start() < m.end for m in mentions):
            found.append(Mention(match.start(), match.end(), forms[match.group()], match.group(), "candidate"))
    return found
