"""`kg build` on the seed corpus: grounding, coverage of the article, Wikidata links, determinism."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, run_kg
from seed_graph import A, ARTICLE_ID, BASE, ask, select

ARTICLE_TEXT = (REPO / "seeds" / "articles" / ARTICLE_ID / "article.txt").read_text(encoding="utf-8")


def test_the_article_text_is_the_seed_byte_for_byte():
    import hashlib

    data = (REPO / "seeds" / "articles" / ARTICLE_ID / "article.txt").read_bytes()
    assert hashlib.sha256(data).hexdigest() == "6a9f75a3f41f59b12284e7232bcabc61d7badd0a22acec137073d9fc562e498b"


def test_every_span_is_exactly_the_text_between_its_offsets(release_store):
    spans = select(release_store, """
        SELECT ?span ?begin ?end ?anchor WHERE {
          ?span dipl:inArticle ?article ; nif:beginIndex ?begin ; nif:endIndex ?end ; nif:anchorOf ?anchor .
          ?article schema:url <https://news.cgtn.com/news/3d3d774d3345444d33457a6333566d54/share_amp.html> }""")
    assert len(spans) > 300
    for span in spans:
        assert ARTICLE_TEXT[int(span["begin"]):int(span["end"])] == span["anchor"], span["span"]


def test_every_event_statement_claim_proposal_and_position_is_grounded(release_store):
    ungrounded = select(release_store, """
        SELECT ?thing WHERE {
          VALUES ?class { dipl:Statement dipl:Claim dipl:Proposal dipl:PositionHeld dipl:Outcome }
          ?thing a/rdfs:subClassOf* ?class .
          FILTER NOT EXISTS { ?thing gaf:denotedBy ?mention }
        }""")
    assert ungrounded == []
    assert not ask(release_store, "?event dipl:eventType ?code FILTER NOT EXISTS { ?event gaf:denotedBy ?m }")


def test_the_article_is_described_as_a_news_article(release_store):
    assert ask(release_store, f"""
        <{A}> a schema:NewsArticle ; schema:publisher e:cgtn ; schema:datePublished "2019-03-01"^^xsd:date ;
            schema:url <https://news.cgtn.com/news/3d3d774d3345444d33457a6333566d54/share_amp.html> ;
            schema:inLanguage "en" ; dipl:photoCredit e:vcg ; schema:creditText "(With inputs from agencies)" .""")
    assert not ask(release_store, f"<{A}> schema:headline ?title")  # no invented title


@pytest.mark.parametrize("pattern", [
    # The Hanoi summit: place, dates, outcome, and what it follows.
    """e:hanoi-summit a dipl:Summit ; dipl:place e:hanoi ; dipl:startDate "2019-02-27"^^xsd:date ;
       dipl:endDate "2019-02-28"^^xsd:date ; dipl:follows e:singapore-summit ; dipl:eventType cameo:046 ;
       dipl:outcome [ a dipl:NoAgreement ] ; dipl:participant e:donald-trump , e:kim-jong-un ;
       dipl:participation [ dipl:participantActor e:north-korea ; dipl:participantRole dipl:Party ]""",
    """e:singapore-summit dipl:place e:singapore ; dipl:date "2018"^^xsd:gYear""",
    """ev:hanoi-summit-dinner a dipl:Dinner ; dipl:date "2019-02-27"^^xsd:date ; dipl:partOf e:hanoi-summit""",
    # Trump's Thursday press conference and what he said.
    """ev:trump-press-conference a dipl:PressConference ; dipl:date "2019-02-28"^^xsd:date ;
       dipl:follows e:hanoi-summit .
       st:trump-productive-but-no-signing dipl:madeAt ev:trump-press-conference ; dipl:speaker e:donald-trump ;
       dipl:asserts cl:trump-decided-not-to-sign ; dipl:audience "reporters"@en""",
    # Ri Yong Ho's late-night press conference: what he said and denied.
    """st:ri-yong-ho-denies-trump-claims dipl:speaker e:ri-yong-ho ; dipl:madeAt ev:ri-yong-ho-press-conference ;
       dipl:denies cl:dprk-demanded-lifting-of-all-sanctions .
       st:ri-yong-ho-partial-removal dipl:asserts cl:dprk-asked-for-partial-sanctions-relief""",
    # KCNA's Friday report.
    """ev:kcna-report a dipl:NewsReport ; dipl:date "2019-03-01"^^xsd:date .
       st:kcna-leaders-agreed-to-continue-talks dipl:speaker e:kcna ; dipl:asserts cl:leaders-agreed-to-continue-talks .
       st:kcna-leaders-confident dipl:asserts cl:leaders-confident-of-improved-relations""",
    # Pompeo in Manila on Friday.
    """ev:pompeo-news-conference dipl:place e:manila ; dipl:date "2019-03-01"^^xsd:date .
       st:pompeo-rejects-dprk-claims dipl:speaker e:mike-pompeo ;
       dipl:asserts cl:dprk-demanded-lifting-of-all-sanctions ; dipl:denies cl:dprk-asked-for-partial-sanctions-relief""",
    # Wang Yi meets Ri Kil Song in Beijing on Thursday and urges commitment.
    """ev:wang-yi-ri-kil-song-meeting dipl:place e:beijing ; dipl:date "2019-02-28"^^xsd:date ;
       dipl:participant e:wang-yi , e:ri-kil-song .
       st:wang-yi-urges-commitment dipl:speaker e:wang-yi ; dipl:topic e:denuclearization , e:peace-regime""",
    # Peskov for the Kremlin, Dujarric for the UN; Guterres in his own words.
    """st:peskov-negotiation-not-interrupted dipl:speaker e:dmitry-peskov ; dipl:onBehalfOf e:kremlin ;
       dipl:date "2019-02-28"^^xsd:date""",
    """st:guterres-courageous-diplomacy dipl:speaker e:antonio-guterres ;
       dipl:quotation [ nif:anchorOf "courageous diplomacy" ] .
       st:guterres-appreciates-effort dipl:speaker e:stephane-dujarric ; dipl:onBehalfOf e:united-nations""",
    # Moon's March First speech.
    """ev:moon-march-first-speech a dipl:Speech ; dipl:commemorates e:march-first-movement ;
       dipl:date "2019-03-01"^^xsd:date .
       st:moon-meaningful-progress dipl:madeAt ev:moon-march-first-speech ; dipl:asserts cl:summit-made-meaningful-progress""",
    """st:moon-liaison-offices dipl:topic e:liaison-offices""",
    # The disputed claim, both ways.
    """cl:dprk-demanded-lifting-of-all-sanctions dipl:contradicts cl:dprk-asked-for-partial-sanctions-relief .
       cl:dprk-asked-for-partial-sanctions-relief dipl:contradicts cl:dprk-demanded-lifting-of-all-sanctions .
       cl:dprk-demanded-lifting-of-all-sanctions dipl:attribution [ prov:agent e:ri-yong-ho ; dipl:stance dipl:Denies ] ,
           [ prov:agent e:donald-trump ; dipl:stance dipl:Asserts ]""",
    # The Yongbyon offer.
    """pr:yongbyon-offer a dipl:Claim ; dipl:proposer e:north-korea ; dipl:proposedTo e:united-states ;
       dipl:offer "dismantle its Yongbyon nuclear plant"@en ; dipl:inExchangeFor "partial sanctions relief"@en ;
       dipl:concerns e:yongbyon-nuclear-facility ;
       dipl:attribution [ prov:agent e:ri-yong-ho ; dipl:stance dipl:Asserts ]""",
])
def test_the_graph_says_what_the_article_says(release_store, pattern):
    assert ask(release_store, pattern), pattern


def test_relative_dates_record_the_words_and_the_rule(release_store):
    rows = select(release_store, """
        SELECT ?words ?resolved ?against ?rule WHERE {
          ev:trump-press-conference dipl:dateGroundedBy ?expression .
          ?expression a dipl:TimeExpression ; nif:anchorOf ?words ; dipl:resolvedDate ?resolved ;
              dipl:resolvedAgainst ?against ; dipl:resolutionRule ?rule }""")
    assert rows == [{"words": "Thursday", "resolved": "2019-02-28", "against": "2019-03-01",
                     "rule": "the latest Thursday on or before the publication date"}]


def test_every_person_has_a_position_as_the_article_gives_it(release_store):
    rows = select(release_store, """
        SELECT ?person WHERE { ?person a dipl:Person FILTER NOT EXISTS { ?person dipl:holdsPosition ?p } }""")
    assert rows == []
    assert ask(release_store, """e:ri-yong-ho dipl:holdsPosition [ dipl:positionTitle "Foreign Minister"@en ;
                                                                  dipl:positionOf e:north-korea ]""")


def test_the_structure_of_the_text_is_modelled(release_store):
    counts = {row["kind"].rsplit("#", 1)[1]: int(row["n"]) for row in select(release_store, """
        SELECT ?kind (COUNT(?segment) AS ?n) WHERE { ?segment a ?kind . ?kind rdfs:subClassOf dipl:Segment }
        GROUP BY ?kind""")}
    assert counts == {"Paragraph": 28, "Heading": 6, "PhotoCaption": 2, "RelatedArticleLink": 7,
                      "LinkMarker": 6, "CreditLine": 1}
    assert ask(release_store, "?caption a dipl:PhotoCaption ; dipl:credit e:vcg")
    # Related links are titles of other articles, not facts: nothing is grounded in them.
    assert not ask(release_store, """?thing gaf:denotedBy ?m . ?m dipl:inSegment ?s . ?s a dipl:RelatedArticleLink .
                                     ?thing a/rdfs:subClassOf* dipl:Event""")


CERTAIN_QIDS = {
    "donald-trump": "Q22686", "kim-jong-un": "Q56226", "mike-pompeo": "Q473239", "antonio-guterres": "Q311440",
    "moon-jae-in": "Q21001", "united-nations": "Q1065", "us-department-of-state": "Q789915",
    "united-states": "Q30", "china": "Q148", "russia": "Q159", "north-korea": "Q423", "south-korea": "Q884",
    "vietnam": "Q881", "singapore": "Q334", "beijing": "Q956", "hanoi": "Q1858", "manila": "Q1461",
    "philippines": "Q928", "president-of-the-united-states": "Q11696", "us-secretary-of-state": "Q14213",
    "un-secretary-general": "Q81066",
}


def test_wikidata_links_are_exactly_the_certain_ones(release_store):
    rows = select(release_store, "SELECT ?entity ?item WHERE { ?entity schema:sameAs ?item }")
    linked = {row["entity"].rsplit("/", 1)[1]: row["item"].rsplit("/", 1)[1] for row in rows}
    assert linked == CERTAIN_QIDS
    assert ask(release_store, "e:donald-trump skos:exactMatch wd:Q22686")
    assert not ask(release_store, "?s <http://www.w3.org/2002/07/owl#sameAs> ?o")


def test_no_localhost_in_published_data(built_release):
    for dump in built_release.dumps.glob("graph.*"):
        if dump.suffix != ".gz":
            assert b"localhost" not in dump.read_bytes() and b"127.0.0.1" not in dump.read_bytes(), dump


def test_same_input_gives_byte_identical_output(built_release, tmp_path):
    assert run_kg("build", "--build-dir", tmp_path).returncode == 0
    rebuilt = (tmp_path / "current").resolve()
    assert rebuilt.name == built_release.id
    for dump in sorted(built_release.dumps.iterdir()):
        assert (rebuilt / "dumps" / dump.name).read_bytes() == dump.read_bytes(), dump.name


def test_the_base_iri_is_configurable(tmp_path):
    result = run_kg("build", "--build-dir", tmp_path, "--base", "https://example.org/kg/")
    assert result.returncode == 0, result.stderr
    turtle = (tmp_path / "current" / "dumps" / "graph.nq").read_text(encoding="utf-8")
    assert "<https://example.org/kg/entity/donald-trump>" in turtle
    assert "https://w3id.org/diplomacy-kg/entity/" not in turtle


def test_the_union_graph_is_published_as_nquads_trig_and_turtle(built_release):
    from pyoxigraph import RdfFormat, parse

    quads = set(parse(path=str(built_release.dumps / "graph.nq"), format=RdfFormat.N_QUADS))
    graphs = {q.graph_name.value for q in quads}
    assert graphs == {f"{BASE}graph/ontology", f"{BASE}graph/entities", f"{BASE}graph/article/{ARTICLE_ID}"}
    assert set(parse(path=str(built_release.dumps / "graph.trig"), format=RdfFormat.TRIG)) == quads
    triples = {q.triple for q in parse(path=str(built_release.dumps / "graph.ttl"), format=RdfFormat.TURTLE)}
    assert triples == {q.triple for q in quads}


def test_kg_build_prints_a_summary(tmp_path: Path):
    result = run_kg("build", "--build-dir", tmp_path)
    assert result.returncode == 0
    assert "1 article(s), conforms to the shapes" in result.stdout


@pytest.mark.parametrize("command", ["build", "serve"])
def test_a_build_folder_that_cannot_be_used_is_a_located_error(command, tmp_path: Path):
    """A build folder that is a file (or unwritable, or on a full disk) is reported with its path and the
    system's reason, not a traceback; nothing is published, and `kg serve` has nothing to serve."""
    not_a_folder = tmp_path / "build"
    not_a_folder.write_text("a file")
    result = run_kg(command, "--build-dir", not_a_folder, *(["--port", "0"] if command == "serve" else []))
    assert result.returncode == (2 if command == "build" else 1), result.stderr
    assert f"{not_a_folder}: File exists" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not_a_folder.read_text() == "a file"
