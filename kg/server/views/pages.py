"""What the HTML pages show, read from the store: one function per kind of page, each returning the
context its template renders. They run in a query thread (see kg.sparql.executor), never on the event loop.

Values are shown with labels, never raw IRIs; every grounded mention is shown in its sentence with
the exact span highlighted, and links point to this server's pages for our own IRIs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

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

    def objects(self, subject, predicate: NamedNode | None = None) -> list:
        """The distinct objects of `subject` (with their predicates when `predicate` is None), in store order."""
        quads = self.store.quads_for_pattern(subject, predicate, None, None)
        return list(dict.fromkeys((q.predicate, q.object) if predicate is None else q.object for q in quads))

    def subjects(self, predicate: NamedNode | None, obj) -> list:
        """The distinct subjects pointing at `obj` (with their predicates when `predicate` is None), in store order."""
        quads = self.store.quads_for_pattern(None, predicate, obj, None)
        return list(dict.fromkeys((q.subject, q.predicate) if predicate is None else q.subject for q in quads))

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

    def facts(self, node: NamedNode, skip: set | None = None) -> list[tuple[Value, list[Value]]]:
        """Outgoing statements grouped by property, properties by label."""
        grouped: dict[NamedNode, list[Value]] = {}
        for predicate, obj in self.objects(node):
            if predicate in SHOWN_APART or (skip and predicate in skip):
                continue
            grouped.setdefault(predicate, []).append(self.value(obj))
        return sorted(((self.value(p), values) for p, values in grouped.items()), key=lambda item: item[0].text)

    def incoming(self, node: NamedNode) -> list[tuple[Value, list[Value]]]:
        """Incoming links grouped by property, spans of the text left out (they are shown as mentions)."""
        grouped: dict[NamedNode, list[Value]] = {}
        for subject, predicate in self.subjects(None, node)[:MAX_INCOMING]:
            if isinstance(subject, NamedNode) and "#char=" in subject.value:
                continue
            grouped.setdefault(predicate, []).append(self.value(subject))
        return sorted(((self.value(p), values) for p, values in grouped.items()), key=lambda item: item[0].text)

    def mentions(self, node: NamedNode, predicate: NamedNode = GAF_DENOTED_BY) -> list[dict]:
        """Each span grounding `node`: its sentence with the span highlighted, and a link into the article."""
        out = []
        for span in self.objects(node, predicate):
            out.append(self.span_in_context(span))
        return sorted(out, key=lambda m: (m["article"], m["begin"]))

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
    page = {**header, "facts": reader.facts(node), "incoming": reader.incoming(node),
            "mentions": reader.mentions(node), "template": "resource.html"}
    if DIPL + "Statement" in types:
        page["quotations"] = reader.mentions(node, NamedNode(DIPL + "quotation")) + \
            reader.mentions(node, NamedNode(DIPL + "paraphrase"))
    if any(reader.objects(node, NamedNode(DIPL + "participation"))):
        page["participants"] = participants(reader, node)
    if DIPL + "Claim" in types:
        page["attributions"] = attributions(reader, node)
    if PREFIXES["schema"] + "NewsArticle" in types:
        page.update(article_text(reader, node), template="article.html")
    return page


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
ARTICLE_SPANS = """
PREFIX dipl: <https://w3id.org/diplomacy-kg/ontology#>
PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
SELECT ?article ?span ?begin ?end ?resource ?relation WHERE {
  ?span dipl:inArticle ?article ; nif:beginIndex ?begin ; nif:endIndex ?end .
  ?resource ?relation ?span .
  VALUES ?relation { <http://groundedannotationframework.org/gaf#denotedBy> dipl:quotation dipl:paraphrase
                     dipl:dateGroundedBy }
}"""
ARTICLE_SEGMENTS = """
PREFIX dipl: <https://w3id.org/diplomacy-kg/ontology#>
PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
SELECT ?article ?begin ?end ?kind ?line WHERE {
  ?segment dipl:inArticle ?article ; dipl:lineNumber ?line ; nif:beginIndex ?begin ; nif:endIndex ?end ; a ?kind .
} ORDER BY ?line"""


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
    spans: dict[tuple[int, int], HighlightedSpan] = {}
    for row in reader.store.query(ARTICLE_SPANS, substitutions={Variable("article"): article}, use_default_graph_as_union=True):
        begin, end = int(row["begin"].value), int(row["end"].value)
        span = spans.setdefault((begin, end), HighlightedSpan(begin, end))
        target = (GROUNDING[row["relation"].value], row["resource"].value)
        if target not in span.targets:
            span.targets.append(target)
    segments = []
    for row in reader.store.query(ARTICLE_SEGMENTS, substitutions={Variable("article"): article}, use_default_graph_as_union=True):
        kind = local_name(row["kind"].value)
        if kind not in SEGMENT_TAGS:
            continue
        begin, end = int(row["begin"].value), int(row["end"].value)
        inside = [s for s in spans.values() if begin <= s.begin and s.end <= end]
        segments.append({"tag": SEGMENT_TAGS[kind], "kind": kind, "line": int(row["line"].value),
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
        if href:
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
