"""Turn mapping records into RDF quads: one named graph per article, one for the shared entities,
one for the ontology. IRIs are minted under one configurable base; no blank nodes, so output is
canonical once sorted.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from pyoxigraph import BlankNode, CanonicalizationAlgorithm, Dataset, Literal, NamedNode, Quad, RdfFormat, parse

from kg.rdf.vocabulary import (A, CAMEO, DIPL, ENTITIES_GRAPH, GAF, NIF, ONTOLOGY_GRAPH, PROV, RDFS, SCHEMA, SKOS, WD, Iris,
                               english, typed)
from kg.seeds.mapping import (ArticleMapping, Claim, Event, Position, Proposal, Registry, Span, Statement,
                        TimeExpression)
from kg.seeds.records import INFERRED, CameoCode, Coding

def ontology_quads(ontology_dir: Path, iris: Iris) -> list[Quad]:
    """The ontology and code lists (every `.ttl` in `ontology/`), in the ontology graph."""
    graph = iris.graph(ONTOLOGY_GRAPH)
    quads = []
    for path in sorted(ontology_dir.glob("*.ttl")):
        # Blank nodes (e.g. OWL lists) get stable skolem IRIs, numbered in parse order, so dumps stay canonical.
        skolems: dict[BlankNode, NamedNode] = {}

        def stable(term):
            if isinstance(term, BlankNode):
                return skolems.setdefault(term, NamedNode(f"{iris.base}.well-known/genid/{path.stem}-{len(skolems) + 1}"))
            return term

        quads.extend(Quad(stable(t.subject), t.predicate, stable(t.object), graph)
                     for t in parse(path=str(path), format=RdfFormat.TURTLE))
    return quads


def cameo_table(ontology: Iterable[Quad]) -> dict[str, CameoCode]:
    """The CAMEO table of the ontology (ontology/cameo.ttl): each code's quad class and Goldstein score."""
    by_concept: dict[str, dict[str, str]] = {}
    for quad in ontology:
        if quad.subject.value.startswith(CAMEO.iri):
            by_concept.setdefault(quad.subject.value, {})[quad.predicate.value] = quad.object.value
    table = {}
    for row in by_concept.values():
        if SKOS.notation.value in row:
            quad_class = row.get(DIPL.quadClass.value, "").removeprefix(DIPL.iri)
            table[row[SKOS.notation.value]] = CameoCode(quad_class, row.get(DIPL.goldsteinScale.value, ""))
    return table


# Registry links: entity field, ontology property, written both ways (a symmetric property).
REGISTRY_LINKS = (("country", "country", False), ("state", "belongsToState", False),
                  ("jurisdiction", "jurisdiction", False))


def registry_quads(registry: Registry, iris: Iris) -> list[Quad]:
    """The shared entities: type, labels, description, certain Wikidata links, the state a place lies in or an
    organisation belongs to, an office's jurisdiction and counterparts."""
    graph = iris.graph(ENTITIES_GRAPH)
    quads = []
    for entity in registry.entities.values():
        node = iris.entity(entity.id)
        quads.append(Quad(node, A, DIPL[entity.type], graph))
        quads.append(Quad(node, RDFS.label, english(entity.label), graph))
        quads.extend(Quad(node, SKOS.altLabel, english(alias), graph) for alias in entity.aliases)
        if entity.description:
            quads.append(Quad(node, SCHEMA.description, english(entity.description), graph))
        if entity.wikidata:
            item = WD[entity.wikidata]
            quads.append(Quad(node, SCHEMA.sameAs, item, graph))
            quads.append(Quad(node, SKOS.exactMatch, item, graph))
        for field_name, term, _ in REGISTRY_LINKS:
            if getattr(entity, field_name):
                quads.append(Quad(node, DIPL[term], iris.entity(getattr(entity, field_name)), graph))
        for other in entity.counterparts:
            # dipl:counterpart is symmetric: both directions, so queries need no reasoner.
            quads.append(Quad(node, DIPL.counterpart, iris.entity(other), graph))
            quads.append(Quad(iris.entity(other), DIPL.counterpart, node, graph))
    return quads


class ArticleGraph:
    """Builds the quads of one article's named graph."""

    def __init__(self, article: ArticleMapping, registry: Registry, iris: Iris):
        self.article = article
        self.registry = registry
        self.iris = iris
        self.graph = iris.article_graph(article.id)
        self.node = iris.article(article.id)
        self.quads: list[Quad] = []
        self.local_kinds = {e.id: "event" for e in article.events if e.id not in registry.entities}
        self.local_kinds |= {c.id: "claim" for c in article.claims}
        self.local_kinds |= {s.id: "statement" for s in article.statements}
        self.local_kinds |= {p.id: "proposal" for p in article.proposals}
        self.segment_lines = [(s.span.begin, s.span.end, s.line) for s in article.segments]

    def add(self, subject: NamedNode, predicate: NamedNode, obj) -> None:
        self.quads.append(Quad(subject, predicate, obj, self.graph))

    def ref(self, item_id: str) -> NamedNode:
        """The IRI of an id used in this article: a local item or a registry entity."""
        kind = self.local_kinds.get(item_id)
        return self.iris.local(self.article.id, kind, item_id) if kind else self.iris.entity(item_id)

    def span_node(self, span: Span, span_type: NamedNode) -> NamedNode:
        node = self.iris.span(self.article.id, span)
        self.add(node, A, span_type)
        self.add(node, NIF.beginIndex, typed(span.begin, "nonNegativeInteger"))
        self.add(node, NIF.endIndex, typed(span.end, "nonNegativeInteger"))
        self.add(node, NIF.anchorOf, Literal(span.anchor))
        self.add(node, DIPL.inArticle, self.node)
        return node

    def mention(self, span: Span) -> NamedNode:
        node = self.span_node(span, DIPL.Mention)
        line = self.article.line_of(span.begin)
        segment = next(s for s in self.article.segments if s.line == line)
        self.add(node, DIPL.inSegment, self.iris.span(self.article.id, segment.span))
        return node

    def denoted_by(self, subject: NamedNode, spans: Iterable[Span]) -> None:
        for span in spans:
            self.add(subject, GAF.denotedBy, self.mention(span))

    def date(self, subject: NamedNode, predicate: NamedNode, time: TimeExpression | None) -> None:
        """The date, its time expression, and how it was obtained (a dipl:Dating with its evidence)."""
        if time is None:
            return
        self.add(subject, predicate, typed(time.value, "date" if time.precision == "day" else "gYear"))
        expression = self.span_node(time.span, DIPL.TimeExpression)
        self.add(subject, DIPL.dateGroundedBy, expression)
        term = predicate.value.removeprefix(DIPL.iri)
        dating = self.iris.local(self.article.id, "dating", f"{subject.value.rsplit('/', 1)[1]}--{term}")
        self.add(subject, DIPL.dating, dating)
        self.add(dating, A, DIPL.Dating)
        self.add(dating, DIPL.datedProperty, predicate)
        self.add(dating, DIPL.dateGroundedBy, expression)
        self.add(dating, DIPL.dateEvidence, DIPL[time.evidence])
        if time.inference:
            self.add(dating, DIPL.inference, english(time.inference))
        self.add(expression, DIPL.resolvedDate, typed(time.value, "date" if time.precision == "day" else "gYear"))
        self.add(expression, DIPL.resolvedAgainst, typed(self.article.published.isoformat(), "date"))
        self.add(expression, DIPL.resolutionRule, Literal(time.rule))

    def label_of(self, item_id: str) -> str:
        return self.registry.entities[item_id].label

    def coded(self, node: NamedNode, coding: Coding | None) -> None:
        """A coded act: its CAMEO code, the quad class and Goldstein score of the code, source and target actors."""
        if coding is None:
            return
        self.add(node, DIPL.eventType, CAMEO[coding.code])
        if coding.quad_class:
            self.add(node, DIPL.quadClass, DIPL[coding.quad_class])
        if coding.goldstein:
            self.add(node, DIPL.goldsteinScale, typed(coding.goldstein, "decimal"))
        self.actors(node, coding.sources, coding.targets)

    def actors(self, node: NamedNode, sources: Iterable[str], targets: Iterable[str]) -> None:
        for actor in sources:
            self.add(node, DIPL.sourceActor, self.iris.entity(actor))
        for actor in targets:
            self.add(node, DIPL.targetActor, self.iris.entity(actor))

    def in_article_voice(self, node: NamedNode, source: str | None = None) -> None:
        """What the article states in its own voice rests on its publisher's word (or on `source`'s, whose
        words the article quotes)."""
        self.add(node, DIPL.accordingTo, self.iris.entity(source or self.article.publisher))

    # -- sections ------------------------------------------------------------------------------

    def describe_article(self) -> None:
        a, node = self.article, self.node
        self.add(node, A, SCHEMA.NewsArticle)
        self.add(node, A, NIF.Context)
        self.add(node, RDFS.label, english(f"{self.label_of(a.publisher)} news article of {a.published.isoformat()}"))
        self.add(node, SCHEMA.publisher, self.iris.entity(a.publisher))
        self.add(node, SCHEMA.datePublished, typed(a.published.isoformat(), "date"))
        self.add(node, SCHEMA.url, NamedNode(a.url))
        self.add(node, SCHEMA.inLanguage, Literal(a.language))
        self.add(node, NIF.isString, Literal(a.text))
        self.add(node, NIF.beginIndex, typed(0, "nonNegativeInteger"))
        self.add(node, NIF.endIndex, typed(len(a.text), "nonNegativeInteger"))
        if a.photo_credit:
            self.add(node, DIPL.photoCredit, self.iris.entity(a.photo_credit))
        if a.credit_line:
            self.add(node, SCHEMA.creditText, Literal(a.credit_line))
        for source in a.inputs_from:
            self.add(node, DIPL.withInputsFrom, self.iris.entity(source))
        for segment in a.segments:
            seg = self.span_node(segment.span, DIPL[segment.kind])
            self.add(seg, DIPL.lineNumber, typed(segment.line, "positiveInteger"))
            if segment.kind == "RelatedArticleLink":
                self.add(seg, SCHEMA.headline, english(segment.span.anchor))
            if segment.credit:
                self.add(seg, DIPL.credit, self.iris.entity(segment.credit))
        for mention in a.mentions:
            self.add(self.iris.entity(mention.entity), GAF.denotedBy, self.mention(mention.span))

    def event(self, event: Event) -> None:
        node = self.ref(event.id)
        if event.type:
            self.add(node, A, DIPL[event.type])
        if event.label:
            self.add(node, RDFS.label, english(event.label))
        self.denoted_by(node, event.spans)
        self.in_article_voice(node)
        self.coded(node, event.coding)
        if event.place:
            self.add(node, DIPL.place, self.iris.entity(event.place))
        self.date(node, DIPL.date, event.date)
        self.date(node, DIPL.startDate, event.start)
        self.date(node, DIPL.endDate, event.end)
        for participation in event.participants:
            actor = self.iris.entity(participation.actor)
            part = self.iris.local(self.article.id, "participation", f"{event.id}--{participation.actor}")
            self.add(node, DIPL.participant, actor)
            self.add(node, DIPL.participation, part)
            self.add(part, A, DIPL.Participation)
            self.add(part, DIPL.participantActor, actor)
            self.add(part, DIPL.participantRole, DIPL[participation.role])
            self.add(part, RDFS.label, english(f"{self.label_of(participation.actor)} as {participation.role.lower()} "
                                               f"in {event.label or self.label_of(event.id)}"))
        for previous in event.follows:
            self.add(node, DIPL.follows, self.ref(previous))
        for previous in event.hours_after:
            self.add(node, DIPL.hoursAfter, self.ref(previous))
            self.add(node, DIPL.follows, self.ref(previous))
        if event.part_of:
            self.add(node, DIPL.partOf, self.ref(event.part_of))
        if event.commemorates:
            self.add(node, DIPL.commemorates, self.ref(event.commemorates))
        for topic in event.topics:
            self.add(node, DIPL.topic, self.iris.entity(topic))
        for outcome in event.outcomes:
            out = self.iris.local(self.article.id, "outcome", f"{event.id}--{outcome.type}")
            self.add(node, DIPL.outcome, out)
            self.add(out, A, DIPL[outcome.type])
            self.add(out, RDFS.label, english(outcome.label))
            self.add(out, DIPL.outcomeOf, node)
            self.in_article_voice(out)
            self.denoted_by(out, outcome.spans)

    def statement(self, statement: Statement) -> None:
        node = self.ref(statement.id)
        self.add(node, A, DIPL.Statement)
        said = (statement.quotations or statement.paraphrases)[0].anchor.strip(' ,."')
        when = f" on {statement.date.value}" if statement.date else ""
        if statement.date and statement.date.evidence == INFERRED:
            when += " (date inferred)"  # an inferred date is never presented as stated
        self.add(node, RDFS.label, english(f"{self.label_of(statement.speaker)}{when}: {said}"))
        self.denoted_by(node, statement.spans)
        self.in_article_voice(node)  # that the statement was made is the article's word
        self.add(node, DIPL.speaker, self.iris.entity(statement.speaker))
        for source in statement.cites:
            self.add(node, DIPL.citesSource, self.iris.entity(source))
        if statement.on_behalf_of:
            self.add(node, DIPL.onBehalfOf, self.iris.entity(statement.on_behalf_of))
        if statement.made_at:
            self.add(node, DIPL.madeAt, self.ref(statement.made_at))
        if statement.audience:
            self.add(node, DIPL.audience, english(statement.audience))
        self.date(node, DIPL.date, statement.date)
        for span in statement.quotations:
            self.add(node, DIPL.quotation, self.mention(span))
        for span in statement.paraphrases:
            self.add(node, DIPL.paraphrase, self.mention(span))
        for stance in statement.stances:
            claim = self.ref(stance.claim)
            attribution = self.iris.local(self.article.id, "attribution", f"{statement.id}--{stance.claim}")
            self.add(node, DIPL[stance.stance.lower()], claim)
            self.add(claim, DIPL.attribution, attribution)
            self.add(attribution, A, DIPL.Attribution)
            self.add(attribution, PROV.agent, self.iris.entity(statement.speaker))
            self.add(attribution, DIPL.stance, DIPL[stance.stance])
            self.add(attribution, PROV.hadActivity, node)
            if stance.evaluation:
                self.add(attribution, DIPL.evaluation, DIPL[stance.evaluation])
            if stance.hedge:
                self.add(attribution, DIPL.hedge, english(stance.hedge))
        for topic in statement.topics:
            self.add(node, DIPL.topic, self.iris.entity(topic))
        self.coded(node, statement.coding)

    def claim(self, claim: Claim) -> None:
        node = self.ref(claim.id)
        self.add(node, A, DIPL.Claim)
        self.add(node, RDFS.label, english(claim.label))
        self.denoted_by(node, claim.spans)
        for about in claim.about:
            self.add(node, DIPL.about, self.ref(about))
        for topic in claim.topics:
            self.add(node, DIPL.topic, self.iris.entity(topic))
        for other in claim.contradicts:
            # dipl:contradicts is symmetric: write both directions so queries need no reasoner.
            self.add(node, DIPL.contradicts, self.ref(other))
            self.add(self.ref(other), DIPL.contradicts, node)
        self.coded(node, claim.coding)
        self.actors(node, claim.sources, claim.targets)
        for term, span in (("object", claim.object), ("condition", claim.condition), ("reason", claim.reason)):
            if span:
                self.add(node, DIPL[term], english(span.anchor))

    def proposal(self, proposal: Proposal) -> None:
        node = self.ref(proposal.id)
        self.add(node, A, DIPL.Proposal)
        self.add(node, A, DIPL.Claim)  # a proposal the article reports is a claim of its source
        self.add(node, RDFS.label, english(proposal.label))
        self.denoted_by(node, proposal.spans)
        self.add(node, DIPL.proposer, self.iris.entity(proposal.proposer))
        if proposal.proposed_to:
            self.add(node, DIPL.proposedTo, self.iris.entity(proposal.proposed_to))
        if proposal.proposed_at:
            self.add(node, DIPL.proposedAt, self.ref(proposal.proposed_at))
        if proposal.offer:
            self.add(node, DIPL.offer, english(proposal.offer.anchor))
            self.add(node, DIPL.object, english(proposal.offer.anchor))
        if proposal.in_exchange_for:
            self.add(node, DIPL.inExchangeFor, english(proposal.in_exchange_for.anchor))
            self.add(node, DIPL.condition, english(proposal.in_exchange_for.anchor))
        self.coded(node, proposal.coding)
        for concern in proposal.concerns:
            self.add(node, DIPL.concerns, self.iris.entity(concern))
        for topic in proposal.topics:
            self.add(node, DIPL.topic, self.iris.entity(topic))

    def position(self, position: Position) -> None:
        node = self.iris.local(self.article.id, "position", position.id)
        holder = self.iris.entity(position.holder)
        self.add(node, A, DIPL.PositionHeld)
        of = f", {self.label_of(position.of)}" if position.of else ""
        self.add(node, RDFS.label, english(f"{self.label_of(position.holder)}: {position.title}{of}"))
        self.add(node, DIPL.holder, holder)
        self.add(holder, DIPL.holdsPosition, node)
        self.add(node, DIPL.positionTitle, english(position.title))
        if position.of:
            self.add(node, DIPL.positionOf, self.iris.entity(position.of))
        if position.office:
            self.add(node, DIPL.office, self.iris.entity(position.office))
        self.in_article_voice(node, position.according_to)
        self.add(node, DIPL.statedAsOf, typed(self.article.published.isoformat(), "date"))
        self.denoted_by(node, position.spans)

    def build(self) -> list[Quad]:
        self.describe_article()
        for event in self.article.events:
            self.event(event)
        for statement in self.article.statements:
            self.statement(statement)
        for claim in self.article.claims:
            self.claim(claim)
        for proposal in self.article.proposals:
            self.proposal(proposal)
        for position in self.article.positions:
            self.position(position)
        return list(canonical(self.quads))


def article_quads(article: ArticleMapping, registry: Registry, iris: Iris) -> list[Quad]:
    """The quads of one article's named graph, de-duplicated and in canonical order."""
    return ArticleGraph(article, registry, iris).build()


def article_sources(article: ArticleMapping, registry: Registry, iris: Iris) -> dict[str, str]:
    """IRI → `file:line` of the mapping entry that produced it, so reports can point at the seed."""
    graph = ArticleGraph(article, registry, iris)
    sources = {graph.node.value: f"{article.mapping_file}:1"}
    for item in (*article.events, *article.statements, *article.claims, *article.proposals):
        sources[graph.ref(item.id).value] = f"{article.mapping_file}:{item.line}"
    for position in article.positions:
        sources[iris.local(article.id, "position", position.id).value] = f"{article.mapping_file}:{position.line}"
    return sources


def registry_sources(registry: Registry, iris: Iris) -> dict[str, str]:
    """Entity IRI → `file:line` of its entry in the registry."""
    return {iris.entity(e.id).value: f"{e.source.file}:{e.source.line}" for e in registry.entities.values()}


def quad_sort_key(quad: Quad) -> tuple[str, str, str, str]:
    return (str(quad.graph_name), str(quad.subject), str(quad.predicate), str(quad.object))


def canonical(quads: Iterable[Quad]) -> Iterator[Quad]:
    """De-duplicated quads in a canonical order, so the same input always serializes to the same bytes."""
    return iter(sorted(set(quads), key=quad_sort_key))


def stable_blank_nodes(quads: list[Quad]) -> list[Quad]:
    """Quads whose blank nodes have labels derived from the graph's shape, not from parser randomness.

    Without this a rebuild of the same input would give different bytes (blank nodes of the ontology's
    OWL lists, of SHACL reports). pyoxigraph's canonical labels are stable within its pinned minor version.
    """
    if not any(isinstance(term, BlankNode) for q in quads for term in (q.subject, q.object)):
        return quads
    dataset = Dataset(quads)
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return list(canonical(dataset))
