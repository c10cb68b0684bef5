"""QuickStatements V1 export: the referenced statements the published graph supports about Wikidata items.

Reads the release store only (never the seeds). A statement is proposed when both ends are
Wikidata items the graph links with certainty (`schema:sameAs wd:Q…` on registry entities) or a
value Wikidata can hold (a day or a year):

- P710 participant on an event item, and P1344 participant in (its inverse) on a person's item;
- P276 location, P585 point in time, P580 start time, P582 end time, P361 part of, on event items;
- P39 position held, when the position's office (`dipl:office`, an item of the seed registry) has a Wikidata item.

Every statement carries one reference: S854 the article's URL, S577 its publication date, S813
retrieved (see `retrieved_date`), and S1683 the article's own words that ground the fact (the
`gaf:denotedBy` mention, verbatim, tagged with the article's language). Times are day precision
(`/11`) for xsd:date and year precision (`/9`) for xsd:gYear. Whatever is about a linked item and
cannot be expressed (an event without an item, an office without one, what someone said…) is
returned in `Export.unexpressed`, with the reason, for the summary on stderr.

The output is a proposal for human review: QuickStatements runs edits under the reviewer's account.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from pyoxigraph import Store

from kg.rdf.vocabulary import PREFIXES

WD = PREFIXES["wd"]
MAX_STRING = 400  # Wikibase's limit for string and monolingual text values
UNSAFE_IN_VALUE = re.compile(r"[\t\r\n|]")  # column separators of V1 (QuickStatements 3 splits on every |)
ITEM = re.compile(r"^Q[1-9][0-9]*$")

# Event properties whose dipl: term is skos:exactMatch to the Wikidata property (ontology/diplomacy.ttl).
EVENT_ITEM_PROPERTIES = {"place": "P276", "partOf": "P361"}
EVENT_TIME_PROPERTIES = {"date": "P585", "startDate": "P580", "endDate": "P582"}

QUERY_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


@dataclass(frozen=True)
class Command:
    """One V1 statement command: item, property, value, qualifiers and one reference."""

    item: str
    property: str
    value: str
    qualifiers: tuple[tuple[str, str], ...] = ()
    reference: tuple[tuple[str, str], ...] = ()

    def v1(self) -> str:
        """The TAB-separated V1 line."""
        parts = [self.item, self.property, self.value]
        for key, value in (*self.qualifiers, *self.reference):
            parts += [key, value]
        return "\t".join(parts)


@dataclass(frozen=True)
class Unexpressed:
    """A fact about a linked item that the export cannot propose, and why."""

    fact: str
    reason: str


@dataclass
class Export:
    commands: list[Command] = field(default_factory=list)
    unexpressed: list[Unexpressed] = field(default_factory=list)

    def text(self) -> str:
        """The batch: one command per line, in a stable order."""
        return "".join(f"{command.v1()}\n" for command in self.commands)

    def summary(self) -> str:
        """What was proposed and, grouped by reason, every fact that was not."""
        lines = [f"{len(self.commands)} statement(s) proposed for review; "
                 f"{len(self.unexpressed)} fact(s) about linked items cannot be expressed:"]
        by_reason: dict[str, list[str]] = defaultdict(list)
        for item in self.unexpressed:
            by_reason[item.reason].append(item.fact)
        for reason in sorted(by_reason):
            lines.append(f"- {reason} ({len(by_reason[reason])}):")
            lines.extend(f"    {fact}" for fact in sorted(by_reason[reason]))
        return "\n".join(lines) + "\n"


def quoted(text: str) -> str:
    """A V1 string value. V1 has no escapes, so a value with a separator cannot be written."""
    if UNSAFE_IN_VALUE.search(text) or len(text) > MAX_STRING or text != text.strip() or not text:
        raise ValueError(f"not expressible as a QuickStatements V1 string: {text!r}")
    return f'"{text}"'


def monolingual(text: str, language: str) -> str:
    return f"{language}:{quoted(text)}"


def time_value(lexical: str) -> str:
    """xsd:date "2019-02-28" -> +2019-02-28T00:00:00Z/11; xsd:gYear "2018" -> +2018-00-00T00:00:00Z/9."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", lexical):
        return f"+{lexical}T00:00:00Z/11"
    if re.fullmatch(r"\d{4}", lexical):
        return f"+{lexical}-00-00T00:00:00Z/9"
    raise ValueError(f"not a day or a year: {lexical!r}")


@dataclass(frozen=True)
class Article:
    url: str
    published: str
    language: str


class GraphFacts:
    """The store's labels, QIDs, types, articles and groundings, read once."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.labels = {r["s"].value: r["label"].value for r in self.select(
            "SELECT ?s (MIN(STR(?l)) AS ?label) WHERE { GRAPH ?g { ?s rdfs:label ?l } } GROUP BY ?s")}
        self.qids: dict[str, str] = {}
        for row in self.select("SELECT DISTINCT ?s ?wd WHERE { GRAPH ?g { ?s schema:sameAs ?wd } "
                               f"FILTER(STRSTARTS(STR(?wd), \"{WD}\")) }}"):
            qid = row["wd"].value[len(WD):]
            if ITEM.match(qid):
                # Two different QIDs on one entity would be a contradiction: link neither.
                self.qids[row["s"].value] = qid if self.qids.get(row["s"].value, qid) == qid else ""
        self.qids = {iri: qid for iri, qid in self.qids.items() if qid}
        self.persons = {r["s"].value for r in self.select("SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s a dipl:Person } }")}
        self.articles = {r["g"].value: Article(r["url"].value, r["published"].value,
                                               r["lang"].value if r["lang"] else "en")
                         for r in self.select("""SELECT ?g ?url ?published ?lang WHERE { GRAPH ?g {
                             ?a a schema:NewsArticle ; schema:url ?url ; schema:datePublished ?published .
                             OPTIONAL { ?a schema:inLanguage ?lang } } }""")}
        # The first mention (by offset) of each resource in each article graph.
        self.grounding: dict[tuple[str, str], str] = {}
        for row in self.select("""SELECT ?g ?s ?anchor WHERE { GRAPH ?g {
                ?s gaf:denotedBy ?m . ?m nif:beginIndex ?b ; nif:anchorOf ?anchor } } ORDER BY ?g ?s ?b"""):
            self.grounding.setdefault((row["g"].value, row["s"].value), row["anchor"].value)

    def select(self, query: str):
        return self.store.query(QUERY_PREFIXES + query)

    def name(self, iri: str) -> str:
        label = self.labels.get(iri, iri.rsplit("/", 1)[-1])
        return f"{label} ({self.qids[iri]})" if iri in self.qids else label


def retrieved_date(store: Store) -> date:
    """The default S813: the release's issue date (dcterms:issued of the dataset description), else
    the newest article's publication date. Deterministic: the same release always exports the same batch."""
    for row in store.query(QUERY_PREFIXES + """SELECT (MAX(?d) AS ?day) WHERE {
            GRAPH ?g { ?dataset dcterms:issued ?d } FILTER(DATATYPE(?d) = xsd:date) }"""):
        if row["day"]:
            return date.fromisoformat(row["day"].value)
    days = [row["d"].value for row in store.query(QUERY_PREFIXES + """SELECT ?d WHERE {
            GRAPH ?g { ?a a schema:NewsArticle ; schema:datePublished ?d } }""")]
    if not days:
        raise ValueError("the store has no articles: nothing to export")
    return date.fromisoformat(max(days)[:10])


def export_quickstatements(store: Store, retrieved: date) -> Export:
    """The QuickStatements batch for the graph in `store`, referenced with `retrieved` as S813."""
    facts = GraphFacts(store)
    builder = _Builder(facts, retrieved)
    builder.participations()
    builder.event_values()
    builder.positions()
    builder.speech_acts()
    commands = sorted(set(builder.commands), key=lambda c: (c.item, c.property, c.value, c.reference))
    unexpressed = sorted(set(builder.unexpressed), key=lambda u: (u.reason, u.fact))
    return Export(commands, unexpressed)


class _Builder:
    def __init__(self, facts: GraphFacts, retrieved: date) -> None:
        self.facts = facts
        self.retrieved = f"+{retrieved.isoformat()}T00:00:00Z/11"
        self.commands: list[Command] = []
        self.unexpressed: list[Unexpressed] = []

    def reference(self, graph: str, grounding: str | None) -> tuple[tuple[str, str], ...]:
        article = self.facts.articles[graph]
        pairs = [("S854", quoted(article.url)), ("S577", time_value(article.published[:10])),
                 ("S813", self.retrieved)]
        if grounding:
            try:
                pairs.append(("S1683", monolingual(grounding, article.language)))
            except ValueError:
                self.unexpressed.append(Unexpressed(f"quotation {grounding[:60]!r}…",
                                                    "S1683 quotation left out: too long or contains a separator"))
        return tuple(pairs)

    def propose(self, graph: str, item: str, prop: str, value: str, grounding: str | None) -> None:
        if graph in self.facts.articles:
            self.commands.append(Command(item, prop, value, (), self.reference(graph, grounding)))

    def lack(self, fact: str, reason: str) -> None:
        self.unexpressed.append(Unexpressed(fact, reason))

    def participations(self) -> None:
        f = self.facts
        for row in f.select("""SELECT DISTINCT ?g ?event ?actor ?role WHERE { GRAPH ?g {
                ?event dipl:participation ?p . ?p dipl:participantActor ?actor .
                OPTIONAL { ?p dipl:participantRole ?role } } }"""):
            graph, event, actor = row["g"].value, row["event"].value, row["actor"].value
            if event not in f.qids and actor not in f.qids:
                continue
            fact = f"{f.name(actor)} took part in {f.name(event)}"
            if event not in f.qids:
                self.lack(fact, "P710 participant / P1344 participant in: the event has no Wikidata item")
                continue
            if actor not in f.qids:
                self.lack(fact, "P710 participant: the participant has no Wikidata item")
                continue
            grounding = f.grounding.get((graph, event))
            self.propose(graph, f.qids[event], "P710", f.qids[actor], grounding)
            if actor in f.persons:
                self.propose(graph, f.qids[actor], "P1344", f.qids[event], grounding)
            if row["role"]:
                self.lack(f"{fact}, as {f.name(row['role'].value)}",
                          "P3831 object has role qualifier left out: the role has no Wikidata item")

    def event_values(self) -> None:
        f = self.facts
        for row in f.select("""SELECT DISTINCT ?g ?event ?property ?value ?expression WHERE { GRAPH ?g {
                VALUES ?property { dipl:place dipl:partOf dipl:date dipl:startDate dipl:endDate }
                ?event ?property ?value .
                OPTIONAL { ?event dipl:dateGroundedBy ?expression } } }"""):
            graph, event, value = row["g"].value, row["event"].value, row["value"].value
            term = row["property"].value[len(PREFIXES["dipl"]):]
            if term in EVENT_ITEM_PROPERTIES:
                if event not in f.qids and value not in f.qids:
                    continue
                prop = EVENT_ITEM_PROPERTIES[term]
                fact = f"{f.name(event)} {term} {f.name(value)}"
                if event not in f.qids or value not in f.qids:
                    self.lack(fact, f"{prop}: {'the event' if event not in f.qids else 'the value'} has no Wikidata item")
                    continue
                self.propose(graph, f.qids[event], prop, f.qids[value], f.grounding.get((graph, event)))
            elif event in f.qids:
                # A date quotation only when the article's words give the year, not "Thursday".
                expression = row["expression"].value if row["expression"] else None
                words = f.grounding.get((graph, expression)) if expression else None
                words = words if words and re.search(r"\b\d{4}\b", words) else None
                self.propose(graph, f.qids[event], EVENT_TIME_PROPERTIES[term], time_value(value), words)

    def positions(self) -> None:
        f = self.facts
        # Offices are registry items (entities graph); their QIDs are only those the registry links with certainty.
        for row in f.select("""SELECT DISTINCT ?g ?position ?holder ?title ?of ?office WHERE { GRAPH ?g {
                ?position dipl:holder ?holder ; dipl:positionTitle ?title .
                OPTIONAL { ?position dipl:positionOf ?of } OPTIONAL { ?position dipl:office ?office } } }"""):
            graph, holder, title = row["g"].value, row["holder"].value, row["title"].value
            if holder not in f.qids:
                continue
            of = row["of"].value if row["of"] else None
            fact = f"{f.name(holder)} holds the position {title!r}" + (f" of {f.name(of)}" if of else "")
            office = f.qids.get(row["office"].value) if row["office"] else None
            if office is None:
                self.lack(fact, "P39 position held: no Wikidata item is known for the office")
                continue
            self.propose(graph, f.qids[holder], "P39", office, f.grounding.get((graph, row["position"].value)))

    def speech_acts(self) -> None:
        f = self.facts
        for row in f.select("""SELECT DISTINCT ?g ?statement ?actor WHERE { GRAPH ?g {
                VALUES (?kind ?role) { (dipl:Statement dipl:speaker) (dipl:Statement dipl:onBehalfOf)
                                       (dipl:Proposal dipl:proposer) (dipl:Proposal dipl:proposedTo) }
                ?statement a ?kind ; ?role ?actor } }"""):
            actor = row["actor"].value
            if actor in f.qids:
                self.lack(f"{f.name(actor)}: {f.name(row['statement'].value)}",
                          "statements and proposals: Wikidata has no property for what a party said or offered")
