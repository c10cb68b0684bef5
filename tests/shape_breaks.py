"""The deliberately broken graphs the shapes tests use (BREAKS), and helpers to apply them.

Each Break is a SPARQL Update on the seed article's unit (its graph with the shared triples it needs)
that breaks one constraint of one shape; tests/test_shapes.py checks every constraint has one, and the
engine tests check the compiled engine and pyshacl report each alike.
"""
from __future__ import annotations

from dataclasses import dataclass

import rdflib
from pyoxigraph import Quad, Store, Triple
from rdflib.namespace import RDF, SH

from kg.validate.shacl import Shapes
from kg.validate.sparql_constraints import split_sparql_constraints


BASE = "https://w3id.org/diplomacy-kg/"
A = f"{BASE}article/cgtn-2019-03-01-hanoi-summit"
SHAPES_NS = "https://w3id.org/diplomacy-kg/shapes#"
PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#", "skos": "http://www.w3.org/2004/02/skos/core#",
    "schema": "http://schema.org/", "prov": "http://www.w3.org/ns/prov#",
    "nif": "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#",
    "gaf": "http://groundedannotationframework.org/gaf#", "wd": "http://www.wikidata.org/entity/",
    "dipl": "https://w3id.org/diplomacy-kg/ontology#", "cameo": f"{BASE}cameo/", "e": f"{BASE}entity/",
    "ev": f"{A}/event/", "st": f"{A}/statement/", "cl": f"{A}/claim/", "pr": f"{A}/proposal/",
    "pos": f"{A}/position/", "out": f"{A}/outcome/", "part": f"{A}/participation/", "att": f"{A}/attribution/",
}
SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items()) + f"PREFIX a: <{A}>\n"


def span(begin: int, end: int) -> str:
    return f"<{A}#char={begin},{end}>"


def delete(node: str, predicate: str) -> str:
    return f"DELETE WHERE {{ {node} {predicate} ?old }}"


def add(node: str, predicate: str, value: str) -> str:
    return f"INSERT DATA {{ {node} {predicate} {value} }}"


def replace(node: str, predicate: str, value: str) -> str:
    return (f"DELETE {{ {node} {predicate} ?old }} INSERT {{ {node} {predicate} {value} }} "
            f"WHERE {{ {node} {predicate} ?old }}")


def remove_node(node: str) -> str:
    return f"DELETE WHERE {{ {node} ?p ?o }} ; DELETE WHERE {{ ?s ?p {node} }}"


@dataclass(frozen=True)
class Break:
    """A copy of the graph broken for one constraint of one shape, and the node it must be reported on."""

    shape: str  # local name in dshapes:
    constraint: str  # a constraint parameter (maxCount) or a SPARQL constraint (dshapes:SpanAnchor)
    node: str  # the resource the violation is about, prefixed (see PREFIXES) or <IRI>
    update: str  # SPARQL Update on the graph of the article and the shared triples it needs

    @property
    def id(self) -> str:
        return f"{self.shape}.{self.constraint.removeprefix('dshapes:')}"


TRUMP, DUJARRIC_POSITION = "e:donald-trump", "pos:stephane-dujarric--spokesperson"
THURSDAY = span(4937, 4945)  # a time expression: "Thursday" (Peskov)
DUJARRIC_MENTION = span(5839, 5856)  # a mention of Stephane Dujarric in the line 5709-5886
CAPTION = span(2342, 2479)  # a photo caption credited to VCG
RELATED = span(2578, 2620)  # a "Read more:" link
SUMMIT_PARTY = "part:hanoi-summit--kim-jong-un"
POMPEO_ATTRIBUTION = "att:pompeo-rejects-dprk-claims--dprk-asked-for-partial-sanctions-relief"
NO_AGREEMENT = "out:hanoi-summit--NoAgreement"
TRUMP_STATEMENT = "st:trump-productive-but-no-signing"  # a coded statement (013)
PESKOV_POSITIVE = "att:peskov-negotiation-not-interrupted--negotiation-process-not-interrupted"  # "certainly positive"
PESKOV_HEDGED = "att:peskov-no-tangible-agreements--no-tangible-agreements-possible-yet"  # "probably"
INFERRED_DATING = f"<{A}/dating/peskov-no-tangible-agreements--date>"
SECRETARY_OF_STATE = "e:us-secretary-of-state"
POMPEO_POSITION = "pos:mike-pompeo--secretary-of-state"

BREAKS = [
    # -- the article ------------------------------------------------------------------------
    Break("ArticleShape", "class", "a:", "DELETE DATA { a: rdf:type nif:Context }"),
    Break("Article-publisher", "minCount", "a:", delete("a:", "schema:publisher")),
    Break("Article-publisher", "maxCount", "a:", add("a:", "schema:publisher", "e:kcna")),
    Break("Article-publisher", "class", "a:", replace("a:", "schema:publisher", TRUMP)),
    Break("Article-datePublished", "minCount", "a:", delete("a:", "schema:datePublished")),
    Break("Article-datePublished", "maxCount", "a:", add("a:", "schema:datePublished", '"2019-03-02"^^xsd:date')),
    Break("Article-datePublished", "datatype", "a:", replace("a:", "schema:datePublished", '"1 March 2019"')),
    Break("Article-url", "minCount", "a:", delete("a:", "schema:url")),
    Break("Article-url", "maxCount", "a:", add("a:", "schema:url", "<https://news.cgtn.com/other>")),
    Break("Article-url", "nodeKind", "a:", replace("a:", "schema:url", '"https://news.cgtn.com/news"')),
    Break("Article-url", "pattern", "a:", replace("a:", "schema:url", "<ftp://news.cgtn.com/news>")),
    Break("Article-inLanguage", "minCount", "a:", delete("a:", "schema:inLanguage")),
    Break("Article-inLanguage", "maxCount", "a:", add("a:", "schema:inLanguage", '"zh"')),
    Break("Article-inLanguage", "datatype", "a:", replace("a:", "schema:inLanguage", '"en"@en')),
    Break("Article-inLanguage", "pattern", "a:", replace("a:", "schema:inLanguage", '"English"')),
    Break("Article-text", "minCount", "a:", delete("a:", "nif:isString")),
    Break("Article-text", "maxCount", "a:", add("a:", "nif:isString", '"Another text"')),
    Break("Article-text", "datatype", "a:",
          "DELETE { a: nif:isString ?t } INSERT { a: nif:isString ?tagged } "
          "WHERE { a: nif:isString ?t BIND (STRLANG(?t, 'en') AS ?tagged) }"),
    Break("Article-text", "minLength", "a:", replace("a:", "nif:isString", '""')),
    Break("Article-beginIndex", "minCount", "a:", delete("a:", "nif:beginIndex")),
    Break("Article-beginIndex", "maxCount", "a:", add("a:", "nif:beginIndex", '"1"^^xsd:nonNegativeInteger')),
    Break("Article-beginIndex", "hasValue", "a:", replace("a:", "nif:beginIndex", '"1"^^xsd:nonNegativeInteger')),
    Break("Article-endIndex", "minCount", "a:", delete("a:", "nif:endIndex")),
    Break("Article-endIndex", "maxCount", "a:", add("a:", "nif:endIndex", '"7182"^^xsd:nonNegativeInteger')),
    Break("Article-endIndex", "datatype", "a:", replace("a:", "nif:endIndex", '"7181"^^xsd:integer')),
    Break("Article-photoCredit", "maxCount", "a:", add("a:", "dipl:photoCredit", "e:cgtn")),
    Break("Article-photoCredit", "class", "a:", replace("a:", "dipl:photoCredit", "e:hanoi")),
    Break("Article-creditText", "maxCount", "a:", add("a:", "schema:creditText", '"(With inputs from Xinhua)"')),
    Break("Article-creditText", "datatype", "a:",
          replace("a:", "schema:creditText", '"(With inputs from agencies)"@en')),
    Break("ArticleTextLengthShape", "dshapes:ArticleTextLength", "a:",
          replace("a:", "nif:endIndex", '"7000"^^xsd:nonNegativeInteger')),
    # -- spans -------------------------------------------------------------------------------
    Break("SpanInTextShape", "dshapes:SpanInText", THURSDAY,
          replace(THURSDAY, "nif:endIndex", '"99999"^^xsd:nonNegativeInteger')),
    Break("SpanAnchorShape", "dshapes:SpanAnchor", THURSDAY,
          replace(THURSDAY, "nif:beginIndex", '"4936"^^xsd:nonNegativeInteger') + " ; "
          + replace(THURSDAY, "nif:endIndex", '"4944"^^xsd:nonNegativeInteger')),
    Break("MentionInSegmentShape", "dshapes:MentionInSegment", DUJARRIC_MENTION,
          replace(DUJARRIC_MENTION, "dipl:inSegment", CAPTION)),
    Break("TextSpan-beginIndex", "minCount", THURSDAY, delete(THURSDAY, "nif:beginIndex")),
    Break("TextSpan-beginIndex", "maxCount", THURSDAY,
          add(THURSDAY, "nif:beginIndex", '"4938"^^xsd:nonNegativeInteger')),
    Break("TextSpan-beginIndex", "datatype", THURSDAY, replace(THURSDAY, "nif:beginIndex", '"-4937"^^xsd:integer')),
    Break("TextSpan-endIndex", "minCount", THURSDAY, delete(THURSDAY, "nif:endIndex")),
    Break("TextSpan-endIndex", "maxCount", THURSDAY, add(THURSDAY, "nif:endIndex", '"4946"^^xsd:nonNegativeInteger')),
    Break("TextSpan-endIndex", "datatype", THURSDAY, replace(THURSDAY, "nif:endIndex", '"4945"')),
    Break("TextSpan-order", "lessThan", THURSDAY,
          replace(THURSDAY, "nif:beginIndex", '"4945"^^xsd:nonNegativeInteger')),
    Break("TextSpan-anchorOf", "minCount", THURSDAY, delete(THURSDAY, "nif:anchorOf")),
    Break("TextSpan-anchorOf", "maxCount", THURSDAY, add(THURSDAY, "nif:anchorOf", '"thursday"')),
    Break("TextSpan-anchorOf", "datatype", THURSDAY, replace(THURSDAY, "nif:anchorOf", '"Thursday"@en')),
    Break("TextSpan-anchorOf", "minLength", THURSDAY, replace(THURSDAY, "nif:anchorOf", '""')),
    Break("TextSpan-inArticle", "minCount", THURSDAY, delete(THURSDAY, "dipl:inArticle")),
    Break("TextSpan-inArticle", "maxCount", THURSDAY, add(THURSDAY, "dipl:inArticle", f"<{A}-copy>")),
    Break("TextSpan-inArticle", "class", THURSDAY, replace(THURSDAY, "dipl:inArticle", "e:cgtn")),
    Break("Mention-inSegment", "minCount", DUJARRIC_MENTION, delete(DUJARRIC_MENTION, "dipl:inSegment")),
    Break("Mention-inSegment", "maxCount", DUJARRIC_MENTION, add(DUJARRIC_MENTION, "dipl:inSegment", CAPTION)),
    Break("Mention-inSegment", "class", DUJARRIC_MENTION, replace(DUJARRIC_MENTION, "dipl:inSegment", "a:")),
    Break("Segment-lineNumber", "minCount", CAPTION, delete(CAPTION, "dipl:lineNumber")),
    Break("Segment-lineNumber", "maxCount", CAPTION, add(CAPTION, "dipl:lineNumber", '"17"^^xsd:positiveInteger')),
    Break("Segment-lineNumber", "datatype", CAPTION, replace(CAPTION, "dipl:lineNumber", '"0"^^xsd:positiveInteger')),
    Break("Segment-credit", "maxCount", CAPTION, add(CAPTION, "dipl:credit", "e:cgtn")),
    Break("Segment-credit", "class", CAPTION, replace(CAPTION, "dipl:credit", "e:hanoi")),
    Break("RelatedArticleLink-headline", "minCount", RELATED, delete(RELATED, "schema:headline")),
    Break("RelatedArticleLink-headline", "maxCount", RELATED, add(RELATED, "schema:headline", '"Another title"@en')),
    Break("RelatedArticleLink-headline", "datatype", RELATED,
          replace(RELATED, "schema:headline", "\"How Trump's 'victory' became Kim's triumph\"")),
    Break("TimeExpression-resolvedDate", "minCount", THURSDAY, delete(THURSDAY, "dipl:resolvedDate")),
    Break("TimeExpression-resolvedDate", "maxCount", THURSDAY,
          add(THURSDAY, "dipl:resolvedDate", '"2019-02-21"^^xsd:date')),
    Break("TimeExpression-resolvedDate", "or", THURSDAY,
          replace(THURSDAY, "dipl:resolvedDate", '"2019-02-30"^^xsd:date')),
    Break("TimeExpression-resolvedAgainst", "minCount", THURSDAY, delete(THURSDAY, "dipl:resolvedAgainst")),
    Break("TimeExpression-resolvedAgainst", "maxCount", THURSDAY,
          add(THURSDAY, "dipl:resolvedAgainst", '"2019-03-01"^^xsd:dateTime')),
    Break("TimeExpression-resolvedAgainst", "datatype", THURSDAY,
          replace(THURSDAY, "dipl:resolvedAgainst", '"2019-03-01"')),
    Break("TimeExpression-publicationDate", "equals", THURSDAY,
          replace(THURSDAY, "dipl:resolvedAgainst", '"2019-02-01"^^xsd:date')),
    Break("TimeExpression-resolutionRule", "minCount", THURSDAY, delete(THURSDAY, "dipl:resolutionRule")),
    Break("TimeExpression-resolutionRule", "maxCount", THURSDAY, add(THURSDAY, "dipl:resolutionRule", '"guessed"')),
    Break("TimeExpression-resolutionRule", "datatype", THURSDAY,
          replace(THURSDAY, "dipl:resolutionRule", '"latest Thursday"@en')),
    Break("TimeExpression-resolutionRule", "minLength", THURSDAY, replace(THURSDAY, "dipl:resolutionRule", '""')),
    # -- labels, entities, Wikidata links ----------------------------------------------------
    Break("Label-english", "qualifiedMinCount", TRUMP, replace(TRUMP, "rdfs:label", '"Donald Trump"@de')),
    Break("Label-oneLanguage", "uniqueLang", TRUMP, add(TRUMP, "rdfs:label", '"Donald J. Trump"@en')),
    Break("Label-tagged", "datatype", TRUMP, add(TRUMP, "rdfs:label", '"Donald Trump"')),
    Break("Label-tagged", "minLength", TRUMP, add(TRUMP, "rdfs:label", '""@de')),
    Break("Entity-altLabel", "datatype", TRUMP, add(TRUMP, "skos:altLabel", '"The Donald"')),
    Break("Entity-description", "datatype", TRUMP, replace(TRUMP, "schema:description", '"45th President"')),
    Break("Entity-description", "uniqueLang", TRUMP, add(TRUMP, "schema:description", '"American businessman"@en')),
    Break("Person-holdsPosition", "class", "e:wang-yi", add("e:wang-yi", "dipl:holdsPosition", "e:china")),
    Break("WikidataLink-sameAs", "maxCount", TRUMP, add(TRUMP, "schema:sameAs", "wd:Q5")),
    Break("WikidataLink-sameAs", "nodeKind", TRUMP,
          replace(TRUMP, "schema:sameAs", '"http://www.wikidata.org/entity/Q22686"')),
    Break("WikidataLink-sameAs", "pattern", TRUMP,
          replace(TRUMP, "schema:sameAs", "<https://www.wikidata.org/wiki/Q22686>")),
    Break("WikidataLink-exactMatch", "maxCount", TRUMP, add(TRUMP, "skos:exactMatch", "wd:Q5")),
    Break("WikidataLink-exactMatch", "nodeKind", TRUMP, replace(TRUMP, "skos:exactMatch", '"Q22686"')),
    Break("WikidataLink-exactMatch", "pattern", TRUMP, replace(TRUMP, "skos:exactMatch", "wd:Q22686x")),
    Break("WikidataLink-agree", "equals", TRUMP, replace(TRUMP, "skos:exactMatch", "wd:Q56226")),
    # -- positions held -------------------------------------------------------------------------
    Break("PositionHeld-holder", "minCount", DUJARRIC_POSITION, delete(DUJARRIC_POSITION, "dipl:holder")),
    Break("PositionHeld-holder", "maxCount", DUJARRIC_POSITION,
          add(DUJARRIC_POSITION, "dipl:holder", "e:antonio-guterres")),
    Break("PositionHeld-holder", "class", DUJARRIC_POSITION,
          replace(DUJARRIC_POSITION, "dipl:holder", "e:united-nations")),
    Break("PositionHeld-holdsPosition", "equals", DUJARRIC_POSITION,
          f"DELETE DATA {{ e:stephane-dujarric dipl:holdsPosition {DUJARRIC_POSITION} }}"),
    Break("PositionHeld-positionTitle", "minCount", DUJARRIC_POSITION, delete(DUJARRIC_POSITION, "dipl:positionTitle")),
    Break("PositionHeld-positionTitle", "maxCount", DUJARRIC_POSITION,
          add(DUJARRIC_POSITION, "dipl:positionTitle", '"Press officer"@en')),
    Break("PositionHeld-positionTitle", "datatype", DUJARRIC_POSITION,
          replace(DUJARRIC_POSITION, "dipl:positionTitle", '"Spokesperson"')),
    Break("PositionHeld-positionTitle", "languageIn", DUJARRIC_POSITION,
          replace(DUJARRIC_POSITION, "dipl:positionTitle", '"Porte-parole"@fr')),
    Break("PositionHeld-positionOf", "maxCount", DUJARRIC_POSITION,
          add(DUJARRIC_POSITION, "dipl:positionOf", "e:antonio-guterres")),
    Break("PositionHeld-positionOf", "class", DUJARRIC_POSITION,
          replace(DUJARRIC_POSITION, "dipl:positionOf", "e:hanoi")),
    Break("PositionHeld-statedAsOf", "minCount", DUJARRIC_POSITION, delete(DUJARRIC_POSITION, "dipl:statedAsOf")),
    Break("PositionHeld-statedAsOf", "maxCount", DUJARRIC_POSITION,
          add(DUJARRIC_POSITION, "dipl:statedAsOf", '"2019-03-02"^^xsd:date')),
    Break("PositionHeld-statedAsOf", "datatype", DUJARRIC_POSITION,
          replace(DUJARRIC_POSITION, "dipl:statedAsOf", '"2019-03-01"')),
    # -- grounding, topics, CAMEO --------------------------------------------------------------------
    Break("ReportedItem-denotedBy", "minCount", "cl:summit-was-courageous-diplomacy",
          delete("cl:summit-was-courageous-diplomacy", "gaf:denotedBy")),
    Break("ReportedEventShape", "or", "ev:kcna-report", delete("ev:kcna-report", "gaf:denotedBy")),
    Break("ReportedEventShape", "or", "st:peskov-no-tangible-agreements",
          delete("st:peskov-no-tangible-agreements", "gaf:denotedBy")),
    Break("Denotation-mention", "class", "ev:kcna-report", add("ev:kcna-report", "gaf:denotedBy", "a:")),
    Break("Topical-topic", "class", "ev:kcna-report", add("ev:kcna-report", "dipl:topic", TRUMP)),
    Break("CameoConcept-inScheme", "minCount", "cameo:051", delete("cameo:051", "skos:inScheme")),
    Break("CameoConcept-inScheme", "hasValue", "cameo:051",
          replace("cameo:051", "skos:inScheme", "<http://example.org/codes>")),
    Break("CameoConcept-notation", "minCount", "cameo:051", delete("cameo:051", "skos:notation")),
    Break("CameoConcept-notation", "maxCount", "cameo:051", add("cameo:051", "skos:notation", '"0510"')),
    Break("CameoConcept-notation", "datatype", "cameo:051", replace("cameo:051", "skos:notation", '"51"^^xsd:integer')),
    Break("CameoConcept-notation", "pattern", "cameo:051", replace("cameo:051", "skos:notation", '"05.1"')),
    Break("CameoConcept-prefLabel", "qualifiedMinCount", "cameo:051",
          replace("cameo:051", "skos:prefLabel", '"Faire l\'éloge"@fr')),
    Break("CameoConcept-prefLabel", "qualifiedMaxCount", "cameo:051",
          add("cameo:051", "skos:prefLabel", '"Praise"@en')),
    # -- events ---------------------------------------------------------------------------------
    Break("Event-participant", "class", "e:hanoi-summit", add("e:hanoi-summit", "dipl:participant", '"Kim Jong Un"')),
    Break("Event-participation", "class", "e:hanoi-summit", add("e:hanoi-summit", "dipl:participation", "e:hanoi")),
    Break("Event-participantsQualified", "equals", "e:hanoi-summit",
          "DELETE DATA { e:hanoi-summit dipl:participant e:kim-jong-un }"),
    Break("Event-place", "maxCount", "ev:hanoi-summit-dinner",
          add("ev:hanoi-summit-dinner", "dipl:place", "e:vietnam")),
    Break("Event-place", "class", "ev:hanoi-summit-dinner", replace("ev:hanoi-summit-dinner", "dipl:place", TRUMP)),
    Break("Event-date", "maxCount", "ev:hanoi-summit-dinner",
          add("ev:hanoi-summit-dinner", "dipl:date", '"2019-02-28"^^xsd:date')),
    Break("Event-date", "or", "ev:hanoi-summit-dinner",
          replace("ev:hanoi-summit-dinner", "dipl:date", '"2019-02-30"^^xsd:date')),
    Break("Event-date", "or", "ev:hanoi-summit-dinner",
          replace("ev:hanoi-summit-dinner", "dipl:date", '"February 27"')),
    Break("Event-startDate", "maxCount", "e:hanoi-summit",
          add("e:hanoi-summit", "dipl:startDate", '"2019-02-26"^^xsd:date')),
    Break("Event-startDate", "datatype", "e:hanoi-summit",
          replace("e:hanoi-summit", "dipl:startDate", '"2019"^^xsd:gYear')),
    Break("Event-startDate", "lessThanOrEquals", "e:hanoi-summit",
          replace("e:hanoi-summit", "dipl:startDate", '"2019-03-02"^^xsd:date')),
    Break("Event-endDate", "maxCount", "e:hanoi-summit",
          add("e:hanoi-summit", "dipl:endDate", '"2019-03-01"^^xsd:date')),
    Break("Event-endDate", "datatype", "e:hanoi-summit",
          replace("e:hanoi-summit", "dipl:endDate", '"2019-02-28T18:00:00"^^xsd:dateTime')),
    Break("Event-dateGroundedBy", "class", "ev:kcna-report", add("ev:kcna-report", "dipl:dateGroundedBy", "e:hanoi")),
    Break("Event-eventType", "maxCount", "st:guterres-courageous-diplomacy",
          add("st:guterres-courageous-diplomacy", "dipl:eventType", "cameo:010")),
    Break("Event-eventType", "node", "st:guterres-courageous-diplomacy",
          replace("st:guterres-courageous-diplomacy", "dipl:eventType", "cameo:999")),
    Break("Event-follows", "class", "ev:kcna-report", add("ev:kcna-report", "dipl:follows", "e:hanoi")),
    Break("Event-partOf", "class", "ev:hanoi-summit-dinner",
          replace("ev:hanoi-summit-dinner", "dipl:partOf", "e:hanoi")),
    Break("Event-commemorates", "class", "ev:moon-march-first-speech",
          replace("ev:moon-march-first-speech", "dipl:commemorates", "e:south-korea")),
    Break("Event-outcome", "class", "e:hanoi-summit", add("e:hanoi-summit", "dipl:outcome", "e:liaison-offices")),
    Break("EventTimeShape", "or", "e:hanoi-summit", add("e:hanoi-summit", "dipl:date", '"2019-02-27"^^xsd:date')),
    Break("Dated-dateGroundedBy", "minCount", "ev:kcna-report", delete("ev:kcna-report", "dipl:dateGroundedBy")),
    Break("Participation-actor", "minCount", SUMMIT_PARTY, delete(SUMMIT_PARTY, "dipl:participantActor")),
    Break("Participation-actor", "maxCount", SUMMIT_PARTY, add(SUMMIT_PARTY, "dipl:participantActor", TRUMP)),
    Break("Participation-actor", "class", SUMMIT_PARTY, replace(SUMMIT_PARTY, "dipl:participantActor", "e:hanoi")),
    Break("Participation-role", "minCount", SUMMIT_PARTY, delete(SUMMIT_PARTY, "dipl:participantRole")),
    Break("Participation-role", "maxCount", SUMMIT_PARTY, add(SUMMIT_PARTY, "dipl:participantRole", "dipl:Host")),
    Break("Participation-role", "in", SUMMIT_PARTY, replace(SUMMIT_PARTY, "dipl:participantRole", "dipl:Guest")),
    Break("Participation-event", "minCount", SUMMIT_PARTY,
          f"DELETE DATA {{ e:hanoi-summit dipl:participation {SUMMIT_PARTY} }}"),
    Break("Participation-event", "maxCount", SUMMIT_PARTY,
          add("ev:hanoi-summit-dinner", "dipl:participation", SUMMIT_PARTY)),
    Break("Outcome-outcomeOf", "minCount", NO_AGREEMENT, delete(NO_AGREEMENT, "dipl:outcomeOf")),
    Break("Outcome-outcomeOf", "maxCount", NO_AGREEMENT, add(NO_AGREEMENT, "dipl:outcomeOf", "ev:hanoi-summit-dinner")),
    Break("Outcome-outcomeOf", "class", NO_AGREEMENT, replace(NO_AGREEMENT, "dipl:outcomeOf", "e:hanoi")),
    Break("Outcome-inverse", "equals", NO_AGREEMENT, f"DELETE DATA {{ e:hanoi-summit dipl:outcome {NO_AGREEMENT} }}"),
    # -- statements -----------------------------------------------------------------------------
    Break("StatementShape", "or", "st:peskov-no-tangible-agreements",
          delete("st:peskov-no-tangible-agreements", "dipl:quotation") + " ; "
          + delete("st:peskov-no-tangible-agreements", "dipl:paraphrase")),
    Break("Statement-speaker", "minCount", "st:trump-productive-but-no-signing",
          delete("st:trump-productive-but-no-signing", "dipl:speaker")),
    Break("Statement-speaker", "maxCount", "st:trump-productive-but-no-signing",
          add("st:trump-productive-but-no-signing", "dipl:speaker", "e:mike-pompeo")),
    Break("Statement-speaker", "class", "st:trump-productive-but-no-signing",
          replace("st:trump-productive-but-no-signing", "dipl:speaker", '"Donald Trump"')),
    Break("Statement-onBehalfOf", "maxCount", "st:peskov-no-tangible-agreements",
          add("st:peskov-no-tangible-agreements", "dipl:onBehalfOf", "e:russia")),
    Break("Statement-onBehalfOf", "class", "st:peskov-no-tangible-agreements",
          replace("st:peskov-no-tangible-agreements", "dipl:onBehalfOf", "e:hanoi")),
    Break("Statement-onBehalfOf", "disjoint", "st:peskov-no-tangible-agreements",
          replace("st:peskov-no-tangible-agreements", "dipl:onBehalfOf", "e:dmitry-peskov")),
    Break("Statement-madeAt", "maxCount", "st:pompeo-anxious-to-return-to-table",
          add("st:pompeo-anxious-to-return-to-table", "dipl:madeAt", "ev:trump-press-conference")),
    Break("Statement-madeAt", "class", "st:pompeo-anxious-to-return-to-table",
          replace("st:pompeo-anxious-to-return-to-table", "dipl:madeAt", "e:manila")),
    Break("Statement-audience", "datatype", "st:peskov-no-tangible-agreements",
          replace("st:peskov-no-tangible-agreements", "dipl:audience", '"reporters"')),
    Break("Statement-quotation", "class", "st:peskov-no-tangible-agreements",
          add("st:peskov-no-tangible-agreements", "dipl:quotation", "a:")),
    Break("Statement-paraphrase", "class", "st:peskov-no-tangible-agreements",
          add("st:peskov-no-tangible-agreements", "dipl:paraphrase", '"it was not possible"')),
    Break("Statement-asserts", "class", "st:pompeo-rejects-dprk-claims",
          add("st:pompeo-rejects-dprk-claims", "dipl:asserts", "ev:kcna-report")),
    Break("Statement-denies", "class", "st:pompeo-rejects-dprk-claims",
          add("st:pompeo-rejects-dprk-claims", "dipl:denies", "cl:no-such-claim")),
    Break("DenialShape", "dshapes:DeniedClaimAsserted", "st:pompeo-rejects-dprk-claims",
          "DELETE WHERE { cl:dprk-asked-for-partial-sanctions-relief dipl:attribution ?a . "
          "?a dipl:stance dipl:Asserts ; ?p ?o }"),
    Break("StatementDateShape", "dshapes:StatementNotBeforeOccasion", "st:pompeo-anxious-to-return-to-table",
          replace("st:pompeo-anxious-to-return-to-table", "dipl:date", '"2019-02-20"^^xsd:date')),
    Break("SpokespersonShape", "dshapes:SpokespersonOnBehalfOf", "st:peskov-no-tangible-agreements",
          delete("st:peskov-no-tangible-agreements", "dipl:onBehalfOf")),
    Break("SpokespersonShape", "dshapes:SpokespersonOnBehalfOf", "st:dujarric-diplomats-clear-eyed",
          replace("st:dujarric-diplomats-clear-eyed", "dipl:onBehalfOf", "e:antonio-guterres")),
    Break("StanceShape", "dshapes:StanceRecorded", "st:pompeo-rejects-dprk-claims", remove_node(POMPEO_ATTRIBUTION)),
    Break("StanceShape", "dshapes:StanceRecorded", "st:pompeo-rejects-dprk-claims",
          "DELETE DATA { st:pompeo-rejects-dprk-claims dipl:denies cl:dprk-asked-for-partial-sanctions-relief }"),
    Break("StanceShape", "dshapes:StanceRecorded", "st:pompeo-rejects-dprk-claims",
          replace(POMPEO_ATTRIBUTION, "dipl:stance", "dipl:Asserts")),
    # -- claims and attributions ------------------------------------------------------------------
    Break("Claim-about", "or", "cl:yongbyon-offer-lacked-clarity",
          add("cl:yongbyon-offer-lacked-clarity", "dipl:about", "e:hanoi")),
    Break("Claim-contradicts", "class", "cl:dprk-asked-for-partial-sanctions-relief",
          "INSERT DATA { cl:dprk-asked-for-partial-sanctions-relief dipl:contradicts ev:kcna-report . "
          "ev:kcna-report dipl:contradicts cl:dprk-asked-for-partial-sanctions-relief }"),
    Break("Claim-contradictsSymmetric", "equals", "cl:dprk-asked-for-partial-sanctions-relief",
          "DELETE DATA { cl:dprk-demanded-lifting-of-all-sanctions dipl:contradicts "
          "cl:dprk-asked-for-partial-sanctions-relief }"),
    Break("Claim-attribution", "minCount", "cl:us-anxious-to-resume-talks",
          "DELETE WHERE { cl:us-anxious-to-resume-talks dipl:attribution ?a . ?a ?p ?o }"),
    Break("Claim-attribution", "class", "cl:us-anxious-to-resume-talks",
          add("cl:us-anxious-to-resume-talks", "dipl:attribution", "e:mike-pompeo")),
    Break("Attribution-agent", "minCount", POMPEO_ATTRIBUTION, delete(POMPEO_ATTRIBUTION, "prov:agent")),
    Break("Attribution-agent", "maxCount", POMPEO_ATTRIBUTION,
          add(POMPEO_ATTRIBUTION, "prov:agent", "e:united-states")),
    Break("Attribution-agent", "class", POMPEO_ATTRIBUTION, replace(POMPEO_ATTRIBUTION, "prov:agent", '"Mike Pompeo"')),
    Break("Attribution-stance", "minCount", POMPEO_ATTRIBUTION, delete(POMPEO_ATTRIBUTION, "dipl:stance")),
    Break("Attribution-stance", "maxCount", POMPEO_ATTRIBUTION, add(POMPEO_ATTRIBUTION, "dipl:stance", "dipl:Asserts")),
    Break("Attribution-stance", "in", POMPEO_ATTRIBUTION, replace(POMPEO_ATTRIBUTION, "dipl:stance", "dipl:Doubts")),
    Break("Attribution-activity", "minCount", POMPEO_ATTRIBUTION, delete(POMPEO_ATTRIBUTION, "prov:hadActivity")),
    Break("Attribution-activity", "maxCount", POMPEO_ATTRIBUTION,
          add(POMPEO_ATTRIBUTION, "prov:hadActivity", "st:pompeo-expansive-but-unclear")),
    Break("Attribution-activity", "class", POMPEO_ATTRIBUTION,
          replace(POMPEO_ATTRIBUTION, "prov:hadActivity", "ev:pompeo-news-conference")),
    Break("Attribution-agentIsSpeaker", "equals", POMPEO_ATTRIBUTION, replace(POMPEO_ATTRIBUTION, "prov:agent", TRUMP)),
    Break("Attribution-claim", "minCount", POMPEO_ATTRIBUTION,
          f"DELETE DATA {{ cl:dprk-asked-for-partial-sanctions-relief dipl:attribution {POMPEO_ATTRIBUTION} }}"),
    Break("Attribution-claim", "maxCount", POMPEO_ATTRIBUTION,
          add("cl:us-anxious-to-resume-talks", "dipl:attribution", POMPEO_ATTRIBUTION)),
    # -- proposals --------------------------------------------------------------------------------
    Break("Proposal-proposer", "minCount", "pr:yongbyon-offer", delete("pr:yongbyon-offer", "dipl:proposer")),
    Break("Proposal-proposer", "maxCount", "pr:yongbyon-offer",
          add("pr:yongbyon-offer", "dipl:proposer", "e:kim-jong-un")),
    Break("Proposal-proposer", "class", "pr:yongbyon-offer",
          replace("pr:yongbyon-offer", "dipl:proposer", "e:yongbyon-nuclear-facility")),
    Break("Proposal-proposedTo", "maxCount", "pr:yongbyon-offer", add("pr:yongbyon-offer", "dipl:proposedTo", TRUMP)),
    Break("Proposal-proposedTo", "class", "pr:yongbyon-offer",
          replace("pr:yongbyon-offer", "dipl:proposedTo", "e:sanctions-relief")),
    Break("Proposal-proposedAt", "maxCount", "pr:yongbyon-offer",
          add("pr:yongbyon-offer", "dipl:proposedAt", "ev:hanoi-summit-dinner")),
    Break("Proposal-proposedAt", "class", "pr:yongbyon-offer",
          replace("pr:yongbyon-offer", "dipl:proposedAt", "e:hanoi")),
    Break("Proposal-offer", "minCount", "pr:yongbyon-offer", delete("pr:yongbyon-offer", "dipl:offer")),
    Break("Proposal-offer", "maxCount", "pr:yongbyon-offer",
          add("pr:yongbyon-offer", "dipl:offer", '"a moratorium"@en')),
    Break("Proposal-offer", "datatype", "pr:yongbyon-offer",
          replace("pr:yongbyon-offer", "dipl:offer", '"dismantle Yongbyon"')),
    Break("Proposal-inExchangeFor", "maxCount", "pr:yongbyon-offer",
          add("pr:yongbyon-offer", "dipl:inExchangeFor", '"a peace declaration"@en')),
    Break("Proposal-inExchangeFor", "datatype", "pr:yongbyon-offer",
          replace("pr:yongbyon-offer", "dipl:inExchangeFor", '"partial sanctions relief"^^xsd:token')),
    Break("Proposal-concerns", "nodeKind", "pr:yongbyon-offer",
          add("pr:yongbyon-offer", "dipl:concerns", '"Yongbyon"')),
    # -- facts versus claims, the reporting chain, hedges and evaluations ---------------------------
    Break("ArticleVoice-accordingTo", "minCount", TRUMP_STATEMENT, delete(TRUMP_STATEMENT, "dipl:accordingTo")),
    Break("ArticleVoice-accordingTo", "maxCount", TRUMP_STATEMENT, add(TRUMP_STATEMENT, "dipl:accordingTo", "e:kcna")),
    Break("ArticleVoice-accordingTo", "class", TRUMP_STATEMENT, replace(TRUMP_STATEMENT, "dipl:accordingTo", "e:hanoi")),
    Break("Proposal-attribution", "minCount", "pr:yongbyon-offer",
          "DELETE WHERE { pr:yongbyon-offer dipl:attribution ?a . ?a ?p ?o }"),
    Break("Attribution-evaluation", "maxCount", PESKOV_POSITIVE, add(PESKOV_POSITIVE, "dipl:evaluation", "dipl:Negative")),
    Break("Attribution-evaluation", "in", PESKOV_POSITIVE, replace(PESKOV_POSITIVE, "dipl:evaluation", "dipl:Glowing")),
    Break("Attribution-hedge", "datatype", PESKOV_HEDGED, replace(PESKOV_HEDGED, "dipl:hedge", '"probably"')),
    Break("ReportingChain-citesSource", "class", "st:peskov-negotiation-not-interrupted",
          add("st:peskov-negotiation-not-interrupted", "dipl:citesSource", '"the White House"')),
    Break("ReportingChain-withInputsFrom", "class", "a:", replace("a:", "dipl:withInputsFrom", "e:hanoi")),
    # -- event coding --------------------------------------------------------------------------------
    Break("CodedAct-sourceActor", "minCount", TRUMP_STATEMENT, delete(TRUMP_STATEMENT, "dipl:sourceActor")),
    Break("CodedAct-sourceActor", "class", TRUMP_STATEMENT, replace(TRUMP_STATEMENT, "dipl:sourceActor", "e:hanoi")),
    Break("CodedAct-targetActor", "minCount", TRUMP_STATEMENT, delete(TRUMP_STATEMENT, "dipl:targetActor")),
    Break("CodedAct-targetActor", "class", TRUMP_STATEMENT, replace(TRUMP_STATEMENT, "dipl:targetActor", '"Kim"')),
    Break("CodedAct-quadClass", "minCount", TRUMP_STATEMENT, delete(TRUMP_STATEMENT, "dipl:quadClass")),
    Break("CodedAct-quadClass", "maxCount", TRUMP_STATEMENT,
          add(TRUMP_STATEMENT, "dipl:quadClass", "dipl:VerbalConflict")),
    Break("CodedAct-quadClass", "in", TRUMP_STATEMENT, replace(TRUMP_STATEMENT, "dipl:quadClass", "dipl:Friendly")),
    Break("CodedAct-goldsteinScale", "minCount", TRUMP_STATEMENT, delete(TRUMP_STATEMENT, "dipl:goldsteinScale")),
    Break("CodedAct-goldsteinScale", "maxCount", TRUMP_STATEMENT,
          add(TRUMP_STATEMENT, "dipl:goldsteinScale", '"3.4"^^xsd:decimal')),
    Break("CodedAct-goldsteinScale", "datatype", TRUMP_STATEMENT,
          replace(TRUMP_STATEMENT, "dipl:goldsteinScale", '"0.4"')),
    Break("CodedActScoreShape", "dshapes:ScoreMatchesCode", TRUMP_STATEMENT,
          replace(TRUMP_STATEMENT, "dipl:goldsteinScale", '"3.4"^^xsd:decimal')),
    Break("CodedActScoreShape", "dshapes:ScoreMatchesCode", TRUMP_STATEMENT,
          replace(TRUMP_STATEMENT, "dipl:quadClass", "dipl:VerbalConflict")),
    # -- dates with their evidence -----------------------------------------------------------------
    Break("DatingShape", "or", INFERRED_DATING, delete(INFERRED_DATING, "dipl:inference")),
    Break("Dating-datedProperty", "minCount", INFERRED_DATING, delete(INFERRED_DATING, "dipl:datedProperty")),
    Break("Dating-datedProperty", "maxCount", INFERRED_DATING, add(INFERRED_DATING, "dipl:datedProperty", "dipl:endDate")),
    Break("Dating-datedProperty", "in", INFERRED_DATING, replace(INFERRED_DATING, "dipl:datedProperty", "dipl:place")),
    Break("Dating-dateGroundedBy", "minCount", INFERRED_DATING, delete(INFERRED_DATING, "dipl:dateGroundedBy")),
    Break("Dating-dateGroundedBy", "maxCount", INFERRED_DATING, add(INFERRED_DATING, "dipl:dateGroundedBy", CAPTION)),
    Break("Dating-dateGroundedBy", "class", INFERRED_DATING, replace(INFERRED_DATING, "dipl:dateGroundedBy", CAPTION)),
    Break("Dating-dateEvidence", "minCount", INFERRED_DATING, delete(INFERRED_DATING, "dipl:dateEvidence")),
    Break("Dating-dateEvidence", "maxCount", INFERRED_DATING,
          add(INFERRED_DATING, "dipl:dateEvidence", "dipl:StatedDate")),
    Break("Dating-dateEvidence", "in", INFERRED_DATING, replace(INFERRED_DATING, "dipl:dateEvidence", "dipl:Guessed")),
    Break("Dating-inference", "maxCount", INFERRED_DATING, add(INFERRED_DATING, "dipl:inference", '"another reason"@en')),
    Break("Dating-inference", "datatype", INFERRED_DATING,
          replace(INFERRED_DATING, "dipl:inference", '"the quote continues"')),
    Break("DatedEvidence-dating", "minCount", "ev:kcna-report", delete("ev:kcna-report", "dipl:dating")),
    Break("DatedEvidence-dating", "class", "ev:kcna-report", add("ev:kcna-report", "dipl:dating", THURSDAY)),
    # -- offices, places and organisations of states ---------------------------------------------
    Break("Office-jurisdiction", "minCount", SECRETARY_OF_STATE, delete(SECRETARY_OF_STATE, "dipl:jurisdiction")),
    Break("Office-jurisdiction", "maxCount", SECRETARY_OF_STATE, add(SECRETARY_OF_STATE, "dipl:jurisdiction", "e:china")),
    Break("Office-jurisdiction", "nodeKind", SECRETARY_OF_STATE,
          replace(SECRETARY_OF_STATE, "dipl:jurisdiction", '"United States"')),
    Break("Office-counterpart", "nodeKind", SECRETARY_OF_STATE,
          add(SECRETARY_OF_STATE, "dipl:counterpart", '"Foreign Minister"')),
    Break("PositionHeld-office", "maxCount", POMPEO_POSITION, add(POMPEO_POSITION, "dipl:office", "e:dprk-leader")),
    Break("PositionHeld-office", "class", POMPEO_POSITION, replace(POMPEO_POSITION, "dipl:office", "e:united-states")),
    Break("Located-country", "maxCount", "e:manila", add("e:manila", "dipl:country", "e:china")),
    Break("Located-country", "nodeKind", "e:manila", replace("e:manila", "dipl:country", '"Philippines"')),
    Break("Located-belongsToState", "maxCount", "e:kcna", add("e:kcna", "dipl:belongsToState", "e:china")),
    Break("Located-belongsToState", "nodeKind", "e:kcna", replace("e:kcna", "dipl:belongsToState", '"DPRK"')),
]


def expand(node: str) -> str:
    """The IRI of a node written as in BREAKS."""
    if node.startswith("<"):
        return node[1:-1]
    prefix, _, local = node.partition(":")
    return A + local if prefix == "a" else PREFIXES[prefix] + local


def shape_iri(local: str) -> rdflib.URIRef:
    return rdflib.URIRef(SHAPES_NS + local)

def shapes_for(shapes: Shapes, shape: rdflib.URIRef) -> Shapes:
    """`shape` with everything it refers to: a node shape, or a property shape under its node shapes
    (their targets, without their other property shapes)."""
    roots = [shape] if (shape, RDF.type, SH.NodeShape) in shapes.graph else \
        list(shapes.graph.subjects(SH.property, shape))
    subset, todo, seen = rdflib.Graph(), list(roots), set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for triple in shapes.graph.triples((node, None, None)):
            if node in roots and triple[1] == SH.property and triple[2] != shape and shape not in roots:
                continue
            subset.add(triple)
            if (triple[2], None, None) in shapes.graph:
                todo.append(triple[2])
    core, sparql = split_sparql_constraints(subset)
    return Shapes(subset, core, tuple(sparql))



def broken_triples(article_unit: list[Quad], broken: Break) -> list[Triple]:
    """The seed article's unit with the break applied."""
    store = Store()
    store.extend(article_unit)
    store.update(SPARQL_PREFIXES + broken.update)
    return [q.triple for q in store]
