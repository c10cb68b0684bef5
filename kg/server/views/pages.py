"""What the HTML pages show, read from the store: one function per kind of page, each returning the
context its template renders. They run in a query thread (see kg.sparql.executor), never on the event loop.

Values are shown with labels, never raw IRIs; every grounded mention is shown in its sentence with
the exact span highlighted, and links point to this server's pages for our own IRIs.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from markupsafe import Markup, escape
from pyoxigraph import BlankNode, Literal, NamedNode, Store, Variable

from kg.rdf.vocabulary import DESCRIPTION_PREFIXES, PREFIXES
from kg.server.views.site import ONTOLOGY_IRI, Site

DIPL = PREFIXES["dipl"]
RDF_TYPE = NamedNode(PREFIXES["rdf"] + "type")
RDFS_LABEL = NamedNode(PREFIXES["rdfs"] + "label")
SKOS = PREFIXES["skos"]
NIF = PREFIXES["nif"]
GAF_DENOTED_BY = NamedNode(PREFIXES["gaf"] + "denotedBy")
LABEL_PROPERTIES = [RDFS_LABEL, NamedNode(SKOS + "prefLabel"), NamedNode(NIF + "anchorOf")]
DESCRIPTION_PROPERTIES = [NamedNode(PREFIXES["schema"] + "description"), NamedNode(SKOS + "definition"),
                          NamedNode(PREFIXES["rdfs"] + "comment")]
WIKIDATA = PREFIXES["wd"]
# Properties shown in their own section rather than in the facts table.
SHOWN_APART = {RDF_TYPE, RDFS_LABEL, GAF_DENOTED_BY, NamedNode(NIF + "isString"), *DESCRIPTION_PROPERTIES}
# How a span of the text is tied to what it grounds.
GROUNDING = {PREFIXES["gaf"] + "denotedBy": "mention", DIPL + "quotation": "quotation",
             DIPL + "paraphrase": "paraphrase", DIPL + "dateGroundedBy": "date"}
# A sentence ends at . ! ? (maybe closing a quote) before a capital, unless the dot ends an
# abbreviation such as "U.S." or "Mr.".
SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’)]))\s+(?=[\"“A-Z])")
ABBREVIATION = re.compile(r"(?:\b[A-Z]\.(?:[A-Z]\.)*|\b(?:Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Prof)\.)[\"”’)]?$")
MAX_INCOMING = 200
MAX_MENTIONS = 25  # spans shown in their sentence on a page; the count says how many there are
MAX_LISTED = 50  # statements, claims, events ... listed on a page; the rest are a /browse link away
SCHEMA = PREFIXES["schema"]
PROV = PREFIXES["prov"]
# Facts for machines (offsets, line numbers): folded away under "Technical details".
TECHNICAL = {NamedNode(NIF + "beginIndex"), NamedNode(NIF + "endIndex"), NamedNode(DIPL + "lineNumber"),
             NamedNode(DIPL + "inSegment")}
# Links shown as sentences ("took part as party in ...", "asserts ... in ..."), not in the tables.
# Incoming: a person's page says "said ...", "took part as ... in ...", "asserts ... in ..." instead.
INCOMING_AS_SENTENCES = {NamedNode(DIPL + name) for name in ("speaker", "participantActor", "holder", "participant",
                                                             "attribution")} | \
    {NamedNode(PROV + "agent"), NamedNode(PROV + "hadActivity")}
# Outgoing: shown as positions held, participants, and who asserts or denies a claim.
OUTGOING_AS_SENTENCES = {NamedNode(DIPL + name) for name in ("holdsPosition", "participation", "attribution")}
# A subject's statements but those shown apart and counted (mentions, positions, participations,
# attributions): a busy entity has tens of thousands; the store leaves them out, in Rust.
OUTGOING = ("SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o FILTER(?p NOT IN ("
            + ", ".join(f"<{p.value}>" for p in sorted({GAF_DENOTED_BY, *OUTGOING_AS_SENTENCES}, key=str)) + ")) }")
# Names people read for the properties of other vocabularies (the ontology labels its own terms).
PROPERTY_LABELS = {{**PREFIXES, **DESCRIPTION_PREFIXES}[prefix] + name: label for prefix, name, label in (
    ("rdf", "type", "type"), ("rdfs", "label", "name"), ("rdfs", "comment", "comment"),
    ("rdfs", "subClassOf", "subclass of"), ("rdfs", "subPropertyOf", "subproperty of"), ("rdfs", "domain", "domain"),
    ("rdfs", "range", "range"), ("owl", "inverseOf", "inverse of"), ("owl", "versionIRI", "version IRI"),
    ("owl", "versionInfo", "version"), ("owl", "oneOf", "one of"), ("owl", "sameAs", "same as"),
    ("skos", "prefLabel", "preferred name"), ("skos", "altLabel", "also known as"), ("skos", "definition", "definition"),
    ("skos", "exactMatch", "exact match"), ("skos", "closeMatch", "close match"), ("skos", "relatedMatch", "related match"),
    ("skos", "broader", "broader concept"), ("skos", "inScheme", "in scheme"), ("skos", "notation", "code"),
    ("skos", "topConceptOf", "top concept of"), ("skos", "hasTopConcept", "top concepts"),
    ("dcterms", "license", "licence"), ("dcterms", "creator", "creator"), ("dcterms", "modified", "modified"),
    ("dcterms", "title", "title"), ("dcterms", "source", "source"), ("schema", "sameAs", "same as"),
    ("schema", "publisher", "publisher"), ("schema", "datePublished", "date published"), ("schema", "url", "URL"),
    ("schema", "inLanguage", "language"), ("schema", "creditText", "credit"), ("schema", "headline", "headline"),
    ("schema", "description", "description"), ("prov", "agent", "agent"), ("prov", "hadActivity", "in statement"),
    ("nif", "anchorOf", "text"), ("nif", "beginIndex", "first character"), ("nif", "endIndex", "end character"),
    ("nif", "isString", "full text"), ("gaf", "denotedBy", "mentioned in"), ("dcterms", "description", "description"),
    ("dcterms", "issued", "issued"), ("dcterms", "publisher", "publisher"), ("dcterms", "rights", "rights"),
    ("dcat", "version", "release"), ("dcat", "distribution", "distributions"), ("void", "triples", "triples"),
    ("void", "entities", "typed resources"), ("void", "classes", "classes"), ("void", "properties", "properties"),
    ("void", "distinctSubjects", "distinct subjects"), ("void", "distinctObjects", "distinct objects"),
    ("void", "vocabulary", "vocabularies used"), ("void", "dataDump", "dumps"), ("void", "sparqlEndpoint", "SPARQL endpoint"),
    ("void", "uriSpace", "IRI space"), ("void", "feature", "formats"), ("void", "exampleResource", "example resource"),
    ("void", "subset", "named graphs"), ("void", "classPartition", "class partitions"),
    ("void", "propertyPartition", "property partitions"),
)}


@dataclass
class Value:
    """One object of a statement, ready to show: text, link (if any), and language or datatype note."""

    text: str
    href: str | None = None
    note: str = ""


@dataclass
class Reader:
    """Store lookups for one page, with a label cache."""

    store: Store
    site: Site
    labels: dict[str, str] = field(default_factory=dict)
    outgoing: dict[str, list] = field(default_factory=dict)  # subject -> its (predicate, object) pairs

    def objects(self, subject, predicate: NamedNode | None = None) -> list:
        """The distinct objects of `subject` (with their predicates when `predicate` is None), in store order.

        A subject's statements (but those OUTGOING leaves out: mentions and the links shown as sentences,
        read apart) are read once per page: the header, facts and technical details each go through them."""
        if predicate is not None:
            return list(dict.fromkeys(q.object for q in self.store.quads_for_pattern(subject, predicate, None, None)))
        key = str(subject)
        if key not in self.outgoing:
            if isinstance(subject, NamedNode):
                rows = self.store.query(OUTGOING, substitutions={Variable("s"): subject}, use_default_graph_as_union=True)
                pairs = ((row["p"], row["o"]) for row in rows)
            else:
                pairs = ((q.predicate, q.object) for q in self.store.quads_for_pattern(subject, None, None, None))
            self.outgoing[key] = list(dict.fromkeys(pairs))
        return self.outgoing[key]

    def subjects(self, predicate: NamedNode | None, obj) -> list:
        """The distinct subjects pointing at `obj` (with their predicates when `predicate` is None), in store order."""
        quads = self.store.quads_for_pattern(None, predicate, obj, None)
        return list(dict.fromkeys((q.subject, q.predicate) if predicate is None else q.subject for q in quads))

    def subjects_iter(self, obj) -> Iterator[tuple]:
        """(subject, predicate) pointing at `obj`, distinct, lazily: a popular entity has many."""
        seen = set()
        for quad in self.store.quads_for_pattern(None, None, obj, None):
            key = (quad.subject, quad.predicate)
            if key not in seen:
                seen.add(key)
                yield key

    def first(self, subject, predicate: NamedNode):
        return next(iter(self.objects(subject, predicate)), None)

    def exists(self, node: NamedNode) -> bool:
        return any(True for _ in self.store.quads_for_pattern(node, None, None, None)) or \
            any(True for _ in self.store.quads_for_pattern(None, None, node, None))

    def label(self, node) -> str:
        if isinstance(node, Literal):
            return node.value
        key = str(node)
        if key not in self.labels:
            text = None
            for predicate in LABEL_PROPERTIES:
                values = self.objects(node, predicate)
                english = [v for v in values if isinstance(v, Literal) and v.language in ("en", None)]
                if english or values:
                    text = (english or values)[0].value
                    break
            if text is None and isinstance(node, NamedNode):
                text = PROPERTY_LABELS.get(node.value) or shown_iri(node.value)
            self.labels[key] = text or local_name(key)
        return self.labels[key]

    def value(self, node) -> Value:
        if isinstance(node, NamedNode):
            return Value(self.label(node), self.site.href(node.value))
        if isinstance(node, BlankNode):
            return Value(self.label(node))
        note = node.language or (local_name(node.datatype.value) if node.datatype.value != PREFIXES["xsd"] + "string" else "")
        return Value(node.value, note=note)

    def number(self, node, predicate: str) -> int:
        value = self.first(node, NamedNode(NIF + predicate))
        return int(value.value) if value is not None else 0

    # -- sections shared by the pages ------------------------------------------------------------

    def header(self, node: NamedNode) -> dict:
        types = [t for t in self.objects(node, RDF_TYPE) if isinstance(t, NamedNode)]
        descriptions = [d.value for p in DESCRIPTION_PROPERTIES for d in self.objects(node, p)
                        if isinstance(d, Literal)]
        wikidata = sorted({o.value for p, o in self.objects(node) if isinstance(o, NamedNode)
                           and o.value.startswith(WIKIDATA)})
        return {"iri": node.value, "label": self.label(node), "types": [self.value(t) for t in types],
                "type_iris": {t.value for t in types}, "descriptions": descriptions, "wikidata": wikidata}

    def facts(self, node: NamedNode, skip: set | None = None, only: set | None = None) -> list[tuple[Value, list[Value]]]:
        """Outgoing statements grouped by property, properties by label (only those in `only`, when given)."""
        grouped: dict[NamedNode, list[Value]] = {}
        for predicate, obj in self.objects(node):
            if predicate in SHOWN_APART or (skip and predicate in skip) or (only is not None and predicate not in only):
                continue
            grouped.setdefault(predicate, []).append(self.value(obj))
        return sorted(((self.value(p), values) for p, values in grouped.items()), key=lambda item: item[0].text)

    def incoming(self, node: NamedNode, skip: set | None = None) -> list[tuple[Value, list[Value]]]:
        """Incoming links grouped by property, spans of the text left out (they are shown as mentions)."""
        grouped: dict[NamedNode, list[Value]] = {}
        for subject, predicate in islice(self.subjects_iter(node), MAX_INCOMING):
            if (isinstance(subject, NamedNode) and "#char=" in subject.value) or (skip and predicate in skip):
                continue
            grouped.setdefault(predicate, []).append(self.value(subject))
        return sorted(((self.value(p), values) for p, values in grouped.items()), key=lambda item: item[0].text)

    def mentions(self, node: NamedNode, predicate: NamedNode = GAF_DENOTED_BY, most: int = MAX_MENTIONS) -> list[dict]:
        """Each span grounding `node` (the first `most`): its sentence with the span highlighted, and a
        link into the article."""
        out = []
        for span in islice(self.store.quads_for_pattern(node, predicate, None, None), most):
            out.append(self.span_in_context(span.object))
        return sorted(out, key=lambda m: (m["article"], m["begin"]))

    def count(self, subject=None, predicate: NamedNode | None = None, obj=None) -> int:
        """How many distinct statements match, counted by the store (no Python object per statement)."""
        pattern = " ".join(f"<{term.value}>" if term is not None else name
                           for term, name in ((subject, "?s"), (predicate, "?p"), (obj, "?o")))
        rows = self.store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}", use_default_graph_as_union=True)
        return int(next(iter(rows))["n"].value)

    def date_of(self, node) -> str:
        for name in ("date", "startDate"):
            value = self.first(node, NamedNode(DIPL + name))
            if isinstance(value, Literal):
                return value.value
        return ""

    def span_in_context(self, span: NamedNode) -> dict:
        begin, end = self.number(span, "beginIndex"), self.number(span, "endIndex")
        segment = self.first(span, NamedNode(DIPL + "inSegment"))
        article = self.first(span, NamedNode(DIPL + "inArticle"))
        if segment is None:
            text, offset = self.label(span), begin
        else:
            text, offset = self.label(segment), self.number(segment, "beginIndex")
        local_begin, local_end = begin - offset, end - offset
        start, stop = sentence_bounds(text, local_begin, local_end)
        sentence = (escape(text[start:local_begin]) + Markup('<mark class="mention">')
                    + escape(text[local_begin:local_end]) + Markup("</mark>") + escape(text[local_end:stop]))
        return {"sentence": sentence, "begin": begin, "end": end, "anchor": text[local_begin:local_end],
                "article": article.value if article else "", "href": self.site.href(span.value),
                "article_label": self.label(article) if article else ""}


def sentence_bounds(text: str, begin: int, end: int) -> tuple[int, int]:
    """The start and end of the sentence(s) of `text` that contain [begin, end)."""
    start, stop = 0, len(text)
    for match in SENTENCE_END.finditer(text):
        if ABBREVIATION.search(text, 0, match.start()):
            continue
        if match.end() <= begin:
            start = match.end()
        elif match.start() >= end:
            stop = match.start()
            break
    return start, stop


def distinct(items) -> Iterator:
    """The items once each, lazily (the same statement may be in several graphs)."""
    seen = set()
    for item in items:
        if item not in seen:
            seen.add(item)
            yield item


def local_name(iri: str) -> str:
    return re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri


def shown_iri(iri: str) -> str:
    """An IRI without a label as people can read it: a prefixed name (`wd:Q1`) where a known prefix
    fits, else the whole IRI (a licence, a version IRI), never a bare last segment such as "4.0"."""
    for prefix, namespace in {**PREFIXES, **DESCRIPTION_PREFIXES}.items():
        rest = iri[len(namespace):]
        if iri.startswith(namespace) and rest and re.fullmatch(r"[A-Za-z_][\w-]*", rest):
            return f"{prefix}:{rest}"
    return iri


# -- pages -----------------------------------------------------------------------------------------

def resource_page(store: Store, site: Site, iri: str) -> dict | None:
    """The context of any resource's page (entity, event, statement, claim, …), None when unknown."""
    reader = Reader(store, site)
    node = NamedNode(iri)
    if not reader.exists(node):
        return None
    header = reader.header(node)
    types = header["type_iris"]
    page = {**header, "facts": reader.facts(node, skip=TECHNICAL | OUTGOING_AS_SENTENCES),
            "technical": reader.facts(node, only=TECHNICAL),
            "incoming": reader.incoming(node, skip=INCOMING_AS_SENTENCES),
            "mentions": reader.mentions(node), "mention_count": reader.count(node, GAF_DENOTED_BY),
            "template": "resource.html", "activity": activity(reader, node)}
    if DIPL + "Statement" in types:
        page["quotations"] = reader.mentions(node, NamedNode(DIPL + "quotation")) + \
            reader.mentions(node, NamedNode(DIPL + "paraphrase"))
        page["claims_made"] = claims_made(reader, node)
    if any(reader.objects(node, NamedNode(DIPL + "participation"))):
        page["participants"] = participants(reader, node)
    if DIPL + "Claim" in types:
        page["attributions"] = attributions(reader, node)
    if PREFIXES["schema"] + "NewsArticle" in types:
        page.update(article_text(reader, node), template="article.html", headline=headline(reader, node),
                    contents=article_contents(reader, node))
    return page


def activity(reader: Reader, node: NamedNode) -> dict:
    """What an actor did, as sentences: events taken part in (with the role), positions held, statements
    made, and claims asserted or denied (in which statement); each list cut at MAX_LISTED, with its count."""
    out: dict = {}
    took_part = []
    for participation in islice(distinct(q.subject for q in reader.store.quads_for_pattern(
            None, NamedNode(DIPL + "participantActor"), node, None)), MAX_LISTED):
        event = next(iter(reader.subjects(NamedNode(DIPL + "participation"), participation)), None)
        role = reader.first(participation, NamedNode(DIPL + "participantRole"))
        if event is not None:
            took_part.append({"event": reader.value(event), "role": reader.label(role) if role else "",
                              "date": reader.date_of(event)})
    if took_part:
        out["took_part"] = sorted(took_part, key=lambda t: (t["date"] or "9999", t["event"].text))
    positions = []
    for position in islice(distinct(q.object for q in reader.store.quads_for_pattern(
            node, NamedNode(DIPL + "holdsPosition"), None, None)), MAX_LISTED):
        title = reader.first(position, NamedNode(DIPL + "positionTitle"))
        of = reader.first(position, NamedNode(DIPL + "positionOf"))
        positions.append({"title": title.value if title else reader.label(position),
                          "of": reader.value(of) if of else None, "href": reader.site.href(position.value)})
    if positions:
        out["positions"] = positions
    said = [{"statement": said_by(reader.value(statement), reader.label(node)), "date": reader.date_of(statement)}
            for statement in islice((q.subject for q in reader.store.quads_for_pattern(None, NamedNode(DIPL + "speaker"),
                                                                                     node, None)), MAX_LISTED)]
    if said:
        out["said"] = sorted(said, key=lambda s: (s["date"] or "9999", s["statement"].text))
        out["said_count"] = reader.count(None, NamedNode(DIPL + "speaker"), node)
    claimed = []
    for attribution in islice((q.subject for q in reader.store.quads_for_pattern(None, NamedNode(PROV + "agent"), node, None)),
                              MAX_LISTED):
        claim = next(iter(reader.subjects(NamedNode(DIPL + "attribution"), attribution)), None)
        stance = reader.first(attribution, NamedNode(DIPL + "stance"))
        statement = reader.first(attribution, NamedNode(PROV + "hadActivity"))
        if claim is not None:
            claimed.append({"claim": reader.value(claim), "stance": reader.label(stance) if stance else "says",
                            "statement": said_by(reader.value(statement), reader.label(node)) if statement else None,
                            "date": reader.date_of(statement) if statement else ""})
    if claimed:
        out["claimed"] = sorted(claimed, key=lambda c: (c["stance"], c["date"] or "9999", c["claim"].text))
        out["claimed_count"] = reader.count(None, NamedNode(PROV + "agent"), node)
        out["stances"] = {stance: sum(1 for c in claimed if c["stance"] == stance) for stance in
                          sorted({c["stance"] for c in claimed})}
    if out:
        out["id"] = node.value[len(reader.site.base + "entity/"):] if node.value.startswith(reader.site.base + "entity/") else None
    return out


def said_by(statement: Value, speaker: str) -> Value:
    """A statement's name on its speaker's page, without the "<speaker> on <date>: " its label starts with."""
    lead, colon, words = statement.text.partition(": ")
    if colon and lead.startswith(speaker) and words:
        return Value(f"“{words}”", statement.href, statement.note)
    return statement


def claims_made(reader: Reader, statement: NamedNode) -> list[dict]:
    """The claims a statement asserts or denies, with who does."""
    out = []
    for attribution in reader.subjects(NamedNode(PROV + "hadActivity"), statement)[:MAX_LISTED]:
        claim = next(iter(reader.subjects(NamedNode(DIPL + "attribution"), attribution)), None)
        agent = reader.first(attribution, NamedNode(PROV + "agent"))
        stance = reader.first(attribution, NamedNode(DIPL + "stance"))
        if claim is not None:
            out.append({"claim": reader.value(claim), "agent": reader.value(agent) if agent else None,
                        "stance": reader.label(stance) if stance else "says"})
    return sorted(out, key=lambda c: (c["stance"], c["claim"].text))


def headline(reader: Reader, article: NamedNode) -> str:
    """The article's headline: its schema:headline when the seed gives one, else its first heading."""
    given = reader.first(article, NamedNode(SCHEMA + "headline"))
    if isinstance(given, Literal):
        return given.value
    first_heading, first_line = "", None
    graph = article_graph(reader.site, article)
    for quad in reader.store.quads_for_pattern(None, RDF_TYPE, NamedNode(DIPL + "Heading"), graph):
        segment = quad.subject
        if reader.first(segment, NamedNode(DIPL + "inArticle")) != article:
            continue
        line = reader.first(segment, NamedNode(DIPL + "lineNumber"))
        number = int(line.value) if isinstance(line, Literal) else 0
        if first_line is None or number < first_line:
            first_line, first_heading = number, reader.label(segment)
    return first_heading


def article_graph(site: Site, article: NamedNode) -> NamedNode:
    """The named graph holding an article's facts (`{base}graph/article/<id>` for `{base}article/<id>`)."""
    return NamedNode(f"{site.base}graph/article/{article.value[len(f'{site.base}article/'):]}")


ARTICLE_KINDS = [("Events", "Event"), ("Statements", "Statement"), ("Claims", "Claim"), ("Proposals", "Proposal")]


def article_contents(reader: Reader, article: NamedNode) -> list[dict]:
    """The events, statements, claims and proposals of an article's graph, by date then name (each list
    cut at MAX_LISTED, with a link to the full listing)."""
    site = reader.site
    name = article.value[len(f"{site.base}article/"):]
    graph = article_graph(site, article)
    sections = []
    for title, class_name in ARTICLE_KINDS:
        classes = [NamedNode(DIPL + class_name)] + [
            q.subject for q in reader.store.quads_for_pattern(None, NamedNode(PREFIXES["rdfs"] + "subClassOf"),
                                                              NamedNode(DIPL + class_name), None)]
        items: dict = {}
        for cls in classes:
            for quad in reader.store.quads_for_pattern(None, RDF_TYPE, cls, graph):
                if class_name == "Event" and any(True for _ in reader.store.quads_for_pattern(
                        quad.subject, RDF_TYPE, NamedNode(DIPL + "Statement"), graph)):
                    continue  # statements are events too, listed on their own
                items.setdefault(quad.subject, None)
        if not items:
            continue
        listed = sorted(((reader.date_of(item), reader.value(item)) for item in list(items)[:MAX_LISTED]),
                        key=lambda pair: (pair[0] or "9999", pair[1].text))
        sections.append({"title": title, "count": len(items), "entries": listed,
                         "browse": f"/browse?type={class_name}&article={name}"})
    return sections


def participants(reader: Reader, event: NamedNode) -> list[dict]:
    out = []
    for participation in reader.objects(event, NamedNode(DIPL + "participation")):
        actor = reader.first(participation, NamedNode(DIPL + "participantActor"))
        role = reader.first(participation, NamedNode(DIPL + "participantRole"))
        if actor is not None:
            out.append({"actor": reader.value(actor), "role": reader.value(role) if role else None})
    return sorted(out, key=lambda p: p["actor"].text)


def attributions(reader: Reader, claim: NamedNode) -> list[dict]:
    """Who asserts or denies the claim, in which statement, with its quotes and date."""
    out = []
    for attribution in reader.objects(claim, NamedNode(DIPL + "attribution")):
        agent = reader.first(attribution, NamedNode(PREFIXES["prov"] + "agent"))
        stance = reader.first(attribution, NamedNode(DIPL + "stance"))
        statement = reader.first(attribution, NamedNode(PREFIXES["prov"] + "hadActivity"))
        date = reader.first(statement, NamedNode(DIPL + "date")) if statement else None
        quotes = reader.mentions(statement, NamedNode(DIPL + "quotation")) if statement else []
        quotes += reader.mentions(statement, NamedNode(DIPL + "paraphrase")) if statement else []
        out.append({"agent": reader.value(agent) if agent else None,
                    "stance": local_name(stance.value) if stance else "",
                    "statement": reader.value(statement) if statement else None,
                    "date": date.value if date else "", "quotes": quotes})
    return sorted(out, key=lambda a: (a["stance"], a["agent"].text if a["agent"] else ""))


SEGMENT_TAGS = {"Heading": "h2", "Paragraph": "p", "PhotoCaption": "p", "CreditLine": "p",
                "RelatedArticleLink": "p", "LinkMarker": "p"}
@dataclass
class HighlightedSpan:
    """A grounded span of the article text and what it grounds."""

    begin: int
    end: int
    targets: list[tuple[str, str]] = field(default_factory=list)  # (relation, resource IRI)

    @property
    def key(self) -> str:
        return f"{self.begin},{self.end}"


def article_text(reader: Reader, article: NamedNode) -> dict:
    """The article's full text, segment by segment, with every grounded span highlighted and linked."""
    text = reader.first(article, NamedNode(NIF + "isString"))
    text = text.value if text is not None else ""
    # Read from the article's own graph by pattern: a join over the union graph took tens of milliseconds.
    graph = article_graph(reader.site, article)
    spans: dict[tuple[int, int], HighlightedSpan] = {}
    offsets: dict[NamedNode, tuple[int, int]] = {}
    for relation, kind in GROUNDING.items():
        for quad in reader.store.quads_for_pattern(None, NamedNode(relation), None, graph):
            node = quad.object
            if not isinstance(node, NamedNode):
                continue
            if node not in offsets:
                offsets[node] = (reader.number(node, "beginIndex"), reader.number(node, "endIndex"))
            span = spans.setdefault(offsets[node], HighlightedSpan(*offsets[node]))
            target = (kind, quad.subject.value)
            if target not in span.targets:
                span.targets.append(target)
    for span in spans.values():
        span.targets.sort()
    rows = []
    for kind, tag in SEGMENT_TAGS.items():
        for quad in reader.store.quads_for_pattern(None, RDF_TYPE, NamedNode(DIPL + kind), graph):
            line = reader.first(quad.subject, NamedNode(DIPL + "lineNumber"))
            if isinstance(line, Literal):
                rows.append((int(line.value), kind, reader.number(quad.subject, "beginIndex"),
                             reader.number(quad.subject, "endIndex")))
    segments = []
    for line, kind, begin, end in sorted(rows):
        inside = [s for s in spans.values() if begin <= s.begin and s.end <= end]
        segments.append({"tag": SEGMENT_TAGS[kind], "kind": kind, "line": line,
                         "html": highlight(reader, text, begin, end, inside)})
    return {"segments": segments, "span_count": len(spans)}


def _primary(span: HighlightedSpan, base: str) -> str:
    """The resource a span links to: an entity it names first, else what it grounds."""
    order = {"mention": 0, "date": 1, "quotation": 2, "paraphrase": 3}
    return min(span.targets, key=lambda t: (order[t[0]], not t[1].startswith(f"{base}entity/"), t[1]))[1]


def highlight(reader: Reader, text: str, begin: int, end: int, spans: list[HighlightedSpan]) -> Markup:
    """Text[begin:end] as HTML: each span a `<mark>` (nested where spans nest), each piece of text
    linked to the innermost span covering it. Overlapping spans are closed and re-opened as needed."""
    cuts = sorted({begin, end, *(s.begin for s in spans), *(s.end for s in spans)})
    ordered = sorted(spans, key=lambda s: (s.begin, -s.end))
    html: list[str] = []
    opened: list[HighlightedSpan] = []
    started: set[str] = set()
    for left, right in zip(cuts, cuts[1:]):
        covering = [s for s in ordered if s.begin <= left and right <= s.end]
        keep = 0
        while keep < len(opened) and keep < len(covering) and opened[keep] is covering[keep]:
            keep += 1
        html.extend("</mark>" for _ in opened[keep:])
        for span in covering[keep:]:
            html.append(open_mark(reader, span, first=span.key not in started))
            started.add(span.key)
        opened = covering
        piece = escape(text[left:right])
        href = reader.site.href(_primary(covering[-1], reader.site.base)) if covering else None
        if href and piece.strip():  # a link around white space alone has no name for screen readers
            html.append(f'<a href="{escape(href)}">{piece}</a>')
        else:
            html.append(str(piece))
    html.extend("</mark>" for _ in opened)
    return Markup("".join(html))


def open_mark(reader: Reader, span: HighlightedSpan, first: bool) -> str:
    kinds = sorted({relation for relation, _ in span.targets})
    title = "; ".join(f"{relation}: {reader.label(NamedNode(iri))}" for relation, iri in span.targets)
    ident = f' id="char={span.key}"' if first else ""
    return (f'<mark class="mention {" ".join(kinds)}"{ident} data-char="{span.key}" '
            f'title="{escape(title)}">')


ONTOLOGY_KINDS = [("Classes", PREFIXES["owl"] + "Class"), ("Object properties", PREFIXES["owl"] + "ObjectProperty"),
                  ("Datatype properties", PREFIXES["owl"] + "DatatypeProperty")]


def ontology_page(store: Store, site: Site) -> dict:
    """Every class and property of the ontology: label, definition, domain/range, alignments."""
    reader = Reader(store, site)
    ontology = NamedNode(ONTOLOGY_IRI)
    sections = []
    listed: set[str] = set()
    for title, kind in ONTOLOGY_KINDS:
        terms = []
        for term in reader.subjects(RDF_TYPE, NamedNode(kind)):
            if not isinstance(term, NamedNode) or not term.value.startswith(DIPL) or term.value in listed:
                continue
            listed.add(term.value)
            header = reader.header(term)
            terms.append({**header, "id": term.value[len(DIPL):], "facts": reader.facts(term)})
        sections.append({"title": title, "terms": sorted(terms, key=lambda t: t["id"].lower())})
    return {**reader.header(ontology), "facts": reader.facts(ontology), "sections": sections,
            "template": "ontology.html"}


HOME_ARTICLES = 10  # articles named on the home page; the rest are a link to the listing away


def home_page(store: Store, site: Site) -> dict:
    """The dataset at a glance, the same size at any corpus size: its numbers, the kinds of things in it
    with their counts (from the release's description, linking to /browse), and a few articles."""
    reader = Reader(store, site)
    article_class = NamedNode(PREFIXES["schema"] + "NewsArticle")
    articles = []
    for quad in store.quads_for_pattern(None, RDF_TYPE, article_class, None):
        if len(articles) == HOME_ARTICLES:
            break
        if isinstance(quad.subject, NamedNode) and quad.subject.value.startswith(site.base):
            articles.append(reader.value(quad.subject))
    return {"articles": articles, "article_count": site.class_counts.get(article_class.value, len(articles)),
            "statistics": site.statistics}
