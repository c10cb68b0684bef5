"""An in-memory index of the registry entities for name matching (the reconciliation service's core).

Built once per server process from the read-only store (`EntityIndex.from_store`), then queried
without touching the store again. Matching is what a careful person would accept:

- names are compared after folding case, accents and punctuation (`normalize`), and also with the
  spaces removed (`compact`), so "Kim Jong-un", "KIM JONG UN" and "Kim Jongun" are one name, as are
  "Antonio Guterres" / "António Guterres" and "U.S." / "US";
- the label and its spelling variants are exact matches (score 100); an alias that is a full name or
  an acronym ("Michael Pompeo", "DPRK") scores 95; a one-word alias that is a surname or a metonym
  ("Trump", "Washington" for the United States) scores 80, because a spreadsheet cell "Washington"
  is not near-certainly the country; a Wikidata QID, the entity id or its IRI is an exact match;
- anything else is a fuzzy candidate scored below 85 from the string similarity of the closest name;
- a candidate is a `match` only when it scores at least 95 and no other candidate does.

Scaling: at ~30k entities (10,000 articles) the index holds a few names per entity, an inverted
index token -> names and a trigram index over the distinct tokens (not over every name), so a fuzzy
query looks at the names sharing a similar token, not at the whole registry.
"""
from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from pyoxigraph import Literal, NamedNode, Store

from kg.rdf.vocabulary import PREFIXES

DIPL = PREFIXES["dipl"]
WIKIDATA_ENTITY = PREFIXES["wd"]
ENTITIES_GRAPH_SUFFIX = "graph/entities"
RDF_TYPE = PREFIXES["rdf"] + "type"
RDFS_LABEL = PREFIXES["rdfs"] + "label"
SKOS_ALT_LABEL = PREFIXES["skos"] + "altLabel"
SCHEMA_DESCRIPTION = PREFIXES["schema"] + "description"
SCHEMA_SAME_AS = PREFIXES["schema"] + "sameAs"

EXACT, VARIANT, STRONG_ALIAS, REORDERED, WEAK_ALIAS, FUZZY_CEILING = 100, 100, 95, 95, 80, 85
CONTAINED_PENALTY = 15  # a known name inside a longer query: likely, never certain
MATCH_THRESHOLD = 95
QID = re.compile(r"^(?:wd:|https?://www\.wikidata\.org/(?:entity|wiki)/)?(Q[1-9][0-9]*)$", re.IGNORECASE)
DATE_PROPERTIES = ("date", "startDate", "endDate")


def normalize(text: str) -> str:
    """Fold case, accents, punctuation and possessives: "Kim Jong-un" -> "kim jong un", "People's" -> "people"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"['\u2019]s\b", "", text)  # possessive: "Pompeo's news conference"
    text = re.sub(r"['\u2018\u2019`\u00b4]", "", text)
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def compact(text: str) -> str:
    """The normalized name without spaces: "Moon Jae In" and "Moon Jae-in" -> "moonjaein"."""
    return normalize(text).replace(" ", "")


def qid_in(text: str) -> str | None:
    """The QID a query names ("Q56226", "wd:Q56226", a Wikidata entity or page URL), or None."""
    found = QID.match(text.strip())
    return found.group(1).upper() if found else None


def _trigrams(token: str) -> set[str]:
    padded = f"  {token} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


@dataclass
class IndexedEntity:
    """What the service knows about one registry entity."""

    id: str
    iri: str
    label: str
    types: list[str] = field(default_factory=list)  # ontology class local names, most specific first
    aliases: list[str] = field(default_factory=list)
    description: str | None = None
    qid: str | None = None
    positions: list[str] = field(default_factory=list)  # "Secretary of State, United States"
    events: list[tuple[str, str | None, str]] = field(default_factory=list)  # (IRI, registry id or None, label)
    participants: list[tuple[str, str | None, str]] = field(default_factory=list)  # of an event: (IRI, id, label)
    places: list[tuple[str, str | None, str]] = field(default_factory=list)  # where an event happened: (IRI, id, label)
    dates: dict[str, list[str]] = field(default_factory=dict)  # date/startDate/endDate -> ISO values


@dataclass(frozen=True)
class Candidate:
    entity: IndexedEntity
    score: float
    match: bool = False


@dataclass(frozen=True)
class OntologyClass:
    id: str  # local name in the ontology namespace
    name: str
    broader: tuple[str, ...]


class EntityIndex:
    """Registry entities with their names, types and facts, indexed for matching and suggest."""

    def __init__(self, base: str, entities: list[IndexedEntity], classes: dict[str, OntologyClass]) -> None:
        self.base = base
        self.entities = sorted(entities, key=lambda e: e.id)
        self.by_id = {e.id: e for e in self.entities}
        self.classes = classes
        self.by_qid: dict[str, list[IndexedEntity]] = defaultdict(list)
        self.exact: dict[str, list[tuple[IndexedEntity, float]]] = defaultdict(list)  # compact name -> (entity, score)
        self.reordered: dict[str, list[IndexedEntity]] = defaultdict(list)  # sorted label tokens -> entities
        self.names: list[tuple[IndexedEntity, str, float]] = []  # (entity, compact name, its exact score)
        self.names_by_token: dict[str, set[int]] = defaultdict(set)
        self.tokens_by_trigram: dict[str, set[str]] = defaultdict(set)
        prefixes: set[tuple[str, int, str]] = set()
        for entity in self.entities:
            if entity.qid:
                self.by_qid[entity.qid].append(entity)
            self._add_names(entity)
            prefixes |= _prefix_keys(entity)
        # (folded name or word, rank, entity id), sorted: the names starting with a prefix are one bisect away.
        self.prefix_keys = sorted(prefixes)
        self.by_label = sorted(self.entities, key=lambda e: e.label.casefold())

    def _add_names(self, entity: IndexedEntity) -> None:
        label_key = compact(entity.label)
        self.reordered[" ".join(sorted(normalize(entity.label).split()))].append(entity)
        scores = {label_key: EXACT}
        for alias in entity.aliases:
            key = compact(alias)
            if not key:
                continue
            if key == label_key:
                score = VARIANT
            elif len(normalize(alias).split()) > 1 or (alias.isupper() and len(key) > 1):
                score = STRONG_ALIAS
            else:
                score = WEAK_ALIAS  # a surname or a metonym: one word is not near-certain
            scores[key] = max(score, scores.get(key, 0))
        positions = {}
        for key, score in scores.items():
            self.exact[key].append((entity, score))
            positions[key] = len(self.names)
            self.names.append((entity, key, score))
        for name in [entity.label, *entity.aliases]:
            for token in normalize(name).split():
                self.names_by_token[token].add(positions[compact(name)])
                for gram in _trigrams(token):
                    self.tokens_by_trigram[gram].add(token)

    # -- matching -------------------------------------------------------------------------

    def identify(self, text: str) -> IndexedEntity | None:
        """The entity a query names by id, IRI or (unique) QID."""
        text = text.strip()
        if text.startswith(f"{self.base}entity/"):
            text = text[len(f"{self.base}entity/"):]
        if text in self.by_id:
            return self.by_id[text]
        qid = qid_in(text)
        if qid and len(self.by_qid.get(qid, ())) == 1:
            return self.by_qid[qid][0]
        return None

    def search(self, text: str, types: list[str] | None = None, keep=lambda entity: True,
               limit: int = 10) -> list[Candidate]:
        """Candidates for a name, best first; `types` filters by class (with subclasses), `keep` by facts."""
        allowed = self._type_filter(types)
        scores: dict[str, float] = {}

        def offer(entity: IndexedEntity, score: float) -> None:
            if allowed(entity) and keep(entity) and score > scores.get(entity.id, -1):
                scores[entity.id] = score

        named = self.identify(text)
        if named:
            offer(named, EXACT)
        for entity in self.by_qid.get(qid_in(text) or "", ()):
            offer(entity, EXACT)
        key = compact(text)
        for entity, score in self.exact.get(key, ()):
            offer(entity, score)
        for entity in self.reordered.get(" ".join(sorted(normalize(text).split())), ()):
            offer(entity, REORDERED)
        query_tokens = set(normalize(text).split())
        for position in self._similar_names(query_tokens):
            entity, name, exact_score = self.names[position]
            if name == key:
                continue  # scored above as an exact name
            if len(name) > 2 and any(tokens <= query_tokens and 2 * len(tokens) >= len(query_tokens)
                                     for tokens in self._name_tokens(position)):
                offer(entity, exact_score - CONTAINED_PENALTY)  # "President Donald Trump"
            ratio = SequenceMatcher(None, key, name, autojunk=False).ratio()
            offer(entity, round(FUZZY_CEILING * ratio, 1))
        ranked = sorted(scores.items(), key=lambda item: (-item[1], self.by_id[item[0]].label))
        ranked = [(entity_id, score) for entity_id, score in ranked if score >= 40][:limit]
        certain = [entity_id for entity_id, score in ranked if score >= MATCH_THRESHOLD]
        return [Candidate(self.by_id[entity_id], score, match=len(certain) == 1 and certain[0] == entity_id)
                for entity_id, score in ranked]

    def by_prefix(self, prefix: str) -> list[tuple[int, IndexedEntity]]:
        """(rank, entity) for the entities a typed prefix begins: 1 the label, 2 an alias, 3 a word of a
        name or a name without its spaces; each entity once, at its best rank."""
        wanted = normalize(prefix)
        if not wanted:
            return [(1, entity) for entity in self.by_label]
        best: dict[str, int] = {}
        for key in (wanted, wanted.replace(" ", "")):
            start = bisect_left(self.prefix_keys, (key,))
            for name, rank, entity_id in self.prefix_keys[start:]:
                if not name.startswith(key):
                    break
                if rank < best.get(entity_id, 4):
                    best[entity_id] = rank
        return [(rank, self.by_id[entity_id]) for entity_id, rank in best.items()]

    def _name_tokens(self, position: int) -> list[set[str]]:
        """The token sets of the spellings behind one indexed name ("U.N." and "UN" for "un")."""
        entity, name, _ = self.names[position]
        return [set(normalize(n).split()) for n in [entity.label, *entity.aliases] if compact(n) == name]

    def _similar_names(self, query_tokens: set[str], most: int = 200) -> list[int]:
        """Names sharing a token similar to a query token (trigram overlap), most shared first."""
        shared: dict[int, int] = defaultdict(int)
        for token in query_tokens:
            grams = _trigrams(token)
            counts: dict[str, int] = defaultdict(int)
            for gram in grams:
                for similar in self.tokens_by_trigram.get(gram, ()):
                    counts[similar] += 1
            for similar, count in counts.items():
                if count / len(grams | _trigrams(similar)) >= 0.4:
                    for position in self.names_by_token[similar]:
                        shared[position] += 1
        return sorted(shared, key=lambda p: -shared[p])[:most]

    def with_facts(self, keep, types: list[str] | None = None, limit: int = 10) -> list[IndexedEntity]:
        """Entities of the types that satisfy `keep` (queries with property constraints only)."""
        allowed = self._type_filter(types)
        return [e for e in self.entities if allowed(e) and keep(e)][:limit]

    def _type_filter(self, types: list[str] | None):
        if not types:
            return lambda entity: True
        wanted = {self.class_id(t) for t in types}
        return lambda entity: bool(wanted & self.type_closure(entity))

    # -- types ----------------------------------------------------------------------------

    def class_id(self, type_id: str) -> str:
        """A type as a client may write it ("Person", "dipl:Person", the full IRI) -> "Person"."""
        for prefix in (DIPL, "dipl:"):
            if type_id.startswith(prefix):
                return type_id[len(prefix):]
        return type_id

    def type_closure(self, entity: IndexedEntity) -> set[str]:
        seen, todo = set(), list(entity.types)
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(self.classes[current].broader if current in self.classes else ())
        return seen

    def used_classes(self) -> list[OntologyClass]:
        """The classes that entities have, with their ancestors: what type suggest offers."""
        used = set().union(*(self.type_closure(e) for e in self.entities)) if self.entities else set()
        return [self.classes[c] for c in sorted(used) if c in self.classes]

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def from_store(cls, store: Store) -> EntityIndex:
        """Read the registry graph, the ontology's classes and the entities' facts from article graphs."""
        entities_graph = next((g for g in store.named_graphs() if isinstance(g, NamedNode)
                               and g.value.endswith(ENTITIES_GRAPH_SUFFIX)), None)
        if entities_graph is None:
            return cls("", [], {})
        base = entities_graph.value[:-len(ENTITIES_GRAPH_SUFFIX)]
        prefix = f"{base}entity/"
        entities: dict[str, IndexedEntity] = {}
        facts: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for quad in store.quads_for_pattern(None, None, None, entities_graph):
            if isinstance(quad.subject, NamedNode) and quad.subject.value.startswith(prefix):
                facts[quad.subject.value][quad.predicate.value].append(quad.object)
        for iri, values in facts.items():
            labels = [o.value for o in values.get(RDFS_LABEL, []) if isinstance(o, Literal)]
            if not labels:
                continue
            types = [o.value[len(DIPL):] for o in values.get(RDF_TYPE, []) if o.value.startswith(DIPL)]
            qids = sorted({o.value[len(WIKIDATA_ENTITY):] for o in values.get(SCHEMA_SAME_AS, [])
                           if o.value.startswith(WIKIDATA_ENTITY)})
            descriptions = [o.value for o in values.get(SCHEMA_DESCRIPTION, [])]
            entity_id = iri[len(prefix):]
            entities[iri] = IndexedEntity(
                id=entity_id, iri=iri, label=sorted(labels)[0], types=sorted(types),
                aliases=sorted({o.value for o in values.get(SKOS_ALT_LABEL, [])} | set(sorted(labels)[1:])),
                description=descriptions[0] if descriptions else None, qid=qids[0] if len(qids) == 1 else None)
        _add_article_facts(store, entities, prefix)
        return cls(base, list(entities.values()), _classes(store))


def _prefix_keys(entity: IndexedEntity) -> set[tuple[str, int, str]]:
    """What a typed prefix may begin, for one entity: its folded label (rank 1), aliases (2), and each word of
    its names and each name without spaces (3)."""
    names = [normalize(entity.label), *(normalize(a) for a in entity.aliases)]
    keys = {(names[0], 1, entity.id)} | {(n, 2, entity.id) for n in names[1:]}
    keys |= {(word, 3, entity.id) for n in names for word in n.split()}
    keys |= {(n.replace(" ", ""), 3, entity.id) for n in names}
    return keys


QUERY_PREFIXES = f"PREFIX dipl: <{DIPL}>\nPREFIX rdfs: <{PREFIXES['rdfs']}>\n"


def _add_article_facts(store: Store, entities: dict[str, IndexedEntity], prefix: str) -> None:
    """Positions held, events taken part in, and of events their participants, places and dates, from
    every article graph. Read by pattern from each registry entity, so the cost follows the registry's
    links, not the size of every article graph (SPARQL joins over all of them took a minute at 10,000
    articles)."""
    participant, place, holder = (NamedNode(DIPL + name) for name in ("participant", "place", "holder"))
    title, of = NamedNode(DIPL + "positionTitle"), NamedNode(DIPL + "positionOf")
    label = NamedNode(RDFS_LABEL)

    def values(subject, predicate) -> list:
        return [q.object for q in store.quads_for_pattern(subject, predicate, None, None)]

    def linked(iris: set[str]) -> list[tuple[str, str | None, str]]:
        """(IRI, registry id or None, name) of linked resources, in IRI order."""
        out = []
        for iri in sorted(iris):
            known = entities.get(iri)
            names = sorted(v.value for v in values(NamedNode(iri), label)) if known is None else [known.label]
            out.append((iri, known.id if known else None, names[0] if names else iri))
        return out

    for iri, entity in entities.items():
        node = NamedNode(iri)
        entity.events = linked({q.subject.value for q in store.quads_for_pattern(None, participant, node, None)})
        entity.participants = linked({v.value for v in values(node, participant) if isinstance(v, NamedNode)})
        entity.places = linked({v.value for v in values(node, place) if isinstance(v, NamedNode)})
        positions = set()
        for position in {q.subject for q in store.quads_for_pattern(None, holder, node, None)}:
            office = next((entities[v.value] for v in values(position, of) if v.value in entities), None)
            positions |= {f"{t.value}, {office.label}" if office else t.value for t in values(position, title)}
        entity.positions = sorted(positions)
        for name in DATE_PROPERTIES:
            found = sorted({v.value for v in values(node, NamedNode(DIPL + name)) if isinstance(v, Literal)})
            if found:
                entity.dates[name] = found


def _classes(store: Store) -> dict[str, OntologyClass]:
    rows = store.query(QUERY_PREFIXES + f"""
        SELECT ?class (SAMPLE(?name) AS ?label) (GROUP_CONCAT(DISTINCT STR(?super)) AS ?supers) WHERE {{
          GRAPH ?g {{ ?class a <http://www.w3.org/2002/07/owl#Class> ; rdfs:label ?name .
                      OPTIONAL {{ ?class rdfs:subClassOf ?super . FILTER(STRSTARTS(STR(?super), "{DIPL}")) }} }}
          FILTER(STRSTARTS(STR(?class), "{DIPL}"))
        }} GROUP BY ?class""")
    classes = {}
    for row in rows:
        class_id = row["class"].value[len(DIPL):]
        name = row["label"].value
        supers = row["supers"].value.split() if row["supers"] else []
        broader = tuple(sorted(s[len(DIPL):] for s in supers))
        classes[class_id] = OntologyClass(class_id, name[:1].upper() + name[1:], broader)
    return classes
