"""The modelling rules of docs/modelling.md on the built seed graph: the recall items of issue 21 are
structured (not only text inside another item's span), the CAMEO table gives each coded act its quad class
and Goldstein score, and the new terms reach the ontology page, the entity pages and the dumps."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, parse

from conftest import REPO
from seed_graph import ask, local, select

CAMEO_TTL = REPO / "ontology" / "cameo.ttl"
QUAD_CLASS_OF_ROOT = {**{f"{r:02d}": "VerbalCooperation" for r in range(1, 6)},
                      **{f"{r:02d}": "MaterialCooperation" for r in range(6, 10)},
                      **{f"{r:02d}": "VerbalConflict" for r in range(10, 15)},
                      **{f"{r:02d}": "MaterialConflict" for r in range(15, 21)}}


@pytest.mark.parametrize("pattern", [
    # Sanctions "imposed over the country's banned nuclear weapon and ballistic missile programs", in CGTN's voice.
    """cl:sanctions-imposed-over-weapons-programs dipl:targetActor e:north-korea ;
       dipl:reason "over the country's banned nuclear weapon and ballistic missile programs"@en ;
       dipl:attribution [ prov:agent e:cgtn ; dipl:stance dipl:Asserts ]""",
    # "Many unavoidable obstacles ahead", KCNA's words.
    """cl:many-unavoidable-obstacles-ahead dipl:attribution [ prov:agent e:kcna ; dipl:stance dipl:Asserts ]""",
    # China's constructive role (an intent to cooperate) and its optimism (a positive evaluation).
    """cl:china-willing-to-play-constructive-role dipl:eventType cameo:030 ; dipl:sourceActor e:china ;
       dipl:targetActor e:north-korea , e:united-states""",
    """cl:china-optimistic-about-talks dipl:attribution [ prov:agent e:wang-yi ; dipl:evaluation dipl:Positive ]""",
    # Peskov's "certainly positive" and his sources.
    """cl:negotiation-process-not-interrupted dipl:attribution [ prov:agent e:dmitry-peskov ;
           dipl:evaluation dipl:Positive ; prov:hadActivity ?statement ] .
       ?statement dipl:citesSource e:donald-trump , e:white-house ; dipl:onBehalfOf e:kremlin""",
    # "A process going toward a higher-level agreement", Moon's.
    """cl:summit-a-process-toward-higher-agreement dipl:about e:hanoi-summit ;
       dipl:attribution [ prov:agent e:moon-jae-in ; dipl:stance dipl:Asserts ]""",
    # The reason for the collapse as Trump tells it, which Ri disputes.
    """cl:summit-collapsed-over-sanctions-demand dipl:about e:hanoi-summit ;
       dipl:reason "the DPRK wants all sanctions lifted but the U.S. is not willing to do so"@en ;
       dipl:attribution [ prov:agent e:donald-trump ; dipl:stance dipl:Asserts ] ,
                        [ prov:agent e:ri-yong-ho ; dipl:stance dipl:Denies ]""",
    # KCNA "making no mention of the breakdown": CGTN's observation about KCNA's report.
    """cl:kcna-report-omits-breakdown dipl:about ev:kcna-report ;
       dipl:attribution [ prov:agent e:cgtn ; dipl:stance dipl:Asserts ]""",
    # "Hours after": the report after the summit and after Ri's press conference.
    """ev:kcna-report dipl:hoursAfter e:hanoi-summit , ev:ri-yong-ho-press-conference ;
       dipl:follows e:hanoi-summit , ev:ri-yong-ho-press-conference""",
    # Russia's welcome as a stance on a claim: asserts it, judged positive.
    """cl:leaders-intend-to-continue-dialogue dipl:attribution [ prov:agent e:russia ; dipl:stance dipl:Asserts ;
           dipl:evaluation dipl:Positive ]""",
    # Hedges, in the speakers' words.
    """cl:no-tangible-agreements-possible-yet dipl:attribution [ prov:agent e:dmitry-peskov ; dipl:hedge "probably"@en ] .
       cl:talks-will-continue dipl:attribution [ prov:agent e:antonio-guterres ; dipl:hedge "hope"@en ] .
       cl:hanoi-expected-to-build-on-singapore dipl:attribution [ prov:agent e:cgtn ; dipl:hedge "expected"@en ]""",
    # Offices, counterparts, places in countries, organisations of states.
    """e:us-secretary-of-state a dipl:Office ; dipl:jurisdiction e:united-states ; dipl:counterpart e:dprk-foreign-minister .
       e:dprk-foreign-minister dipl:counterpart e:us-secretary-of-state .
       ?position dipl:holder e:mike-pompeo ; dipl:office e:us-secretary-of-state .
       e:hanoi dipl:country e:vietnam . e:manila dipl:country e:philippines .
       e:kcna dipl:belongsToState e:north-korea . e:kremlin dipl:belongsToState e:russia .
       e:white-house dipl:belongsToState e:united-states . e:us-department-of-state dipl:belongsToState e:united-states""",
    # "His DPRK counterpart" is Ri Yong Ho, the target of Pompeo's rejection.
    """e:ri-yong-ho gaf:denotedBy/nif:anchorOf "his DPRK counterpart" .
       st:pompeo-rejects-dprk-claims dipl:targetActor e:ri-yong-ho""",
])
def test_the_recall_items_are_structured(release_store, pattern):
    assert ask(release_store, pattern), pattern


def test_every_reported_claim_has_a_source_and_every_fact_the_publishers_word(release_store):
    assert not ask(release_store, "?claim a dipl:Claim FILTER NOT EXISTS { ?claim dipl:attribution/prov:agent ?source }")
    rows = select(release_store, """SELECT DISTINCT ?who WHERE {
        VALUES ?kind { dipl:Statement dipl:Outcome dipl:PositionHeld } ?item a ?kind ; dipl:accordingTo ?who
        FILTER (?item != pos:kim-jong-un--chairman) }""")
    assert [local(r["who"]) for r in rows] == ["cgtn"]
    # "Chairman Kim" is only in KCNA's quoted words: that title rests on KCNA.
    assert ask(release_store, "pos:kim-jong-un--chairman dipl:accordingTo e:kcna ; dipl:office e:dprk-chairman")


def cameo_table() -> dict[str, tuple[str, float]]:
    """code -> (quad class, Goldstein score) as ontology/cameo.ttl writes them."""
    rows: dict[str, dict[str, str]] = {}
    for t in parse(path=str(CAMEO_TTL), format=RdfFormat.TURTLE):
        rows.setdefault(t.subject.value, {})[t.predicate.value.rsplit("#", 1)[-1]] = t.object.value
    return {row["notation"]: (row["quadClass"].rsplit("#", 1)[1], float(row["goldsteinScale"]))
            for row in rows.values() if "notation" in row}


GDELT_GOLDSTEIN = Path(__file__).parent / "data" / "cameo" / "goldsteinscale.tsv"


def test_every_goldstein_score_is_gdelts():
    """The scores are GDELT's CAMEO.goldsteinscale.txt (its rows for the codes used are kept as test data)."""
    lines = [line.split("\t") for line in GDELT_GOLDSTEIN.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")][1:]
    gdelt = {code: float(score) for code, score in lines}
    ours = {code: score for code, (_, score) in cameo_table().items()}
    assert ours.keys() <= gdelt.keys(), sorted(ours.keys() - gdelt.keys())
    assert {code: score for code, score in ours.items() if score != gdelt[code]} == {}


def test_the_cameo_table_derives_the_quad_class_from_the_root_and_cites_its_source():
    table = cameo_table()
    assert len(table) >= 25
    for code, (quad_class, score) in table.items():
        assert quad_class == QUAD_CLASS_OF_ROOT[code[:2]], code
        assert -10 <= score <= 10, code
    assert "CAMEO.goldsteinscale.txt" in CAMEO_TTL.read_text(encoding="utf-8")
    assert (table["046"], table["1054"], table["013"]) == (("VerbalCooperation", 7.0), ("VerbalConflict", -5.0),
                                                         ("VerbalCooperation", 0.4))


def test_every_coded_act_carries_its_codes_score_and_actors(release_store):
    table = cameo_table()
    rows = select(release_store, """SELECT ?act ?code ?score ?class
        (COUNT(DISTINCT ?source) AS ?sources) (COUNT(DISTINCT ?target) AS ?targets) WHERE {
        ?act dipl:eventType/skos:notation ?code ; dipl:goldsteinScale ?score ; dipl:quadClass ?class .
        OPTIONAL { ?act dipl:sourceActor ?source } OPTIONAL { ?act dipl:targetActor ?target } }
        GROUP BY ?act ?code ?score ?class""")
    assert len(rows) >= 40
    for row in rows:
        assert (row["class"].rsplit("#", 1)[1], float(row["score"])) == table[row["code"]], row["act"]
        assert int(row["sources"]) >= 1 and int(row["targets"]) >= 1, row["act"]
    assert not ask(release_store, "?act dipl:eventType ?code FILTER NOT EXISTS { ?act dipl:goldsteinScale ?score }")


def test_every_new_term_is_labelled_and_explained_on_the_ontology_page(release_app):
    text = (REPO / "ontology" / "diplomacy.ttl").read_text(encoding="utf-8")
    new_terms = ["Office", "office", "jurisdiction", "counterpart", "country", "belongsToState", "accordingTo",
                 "withInputsFrom", "citesSource", "hedge", "evaluation", "Evaluation", "sourceActor", "targetActor",
                 "object", "condition", "reason", "goldsteinScale", "quadClass", "QuadClass", "hoursAfter", "dating",
                 "Dating", "datedProperty", "dateEvidence", "DateEvidence", "inference"]
    for term in new_terms:
        block = re.search(rf"^dipl:{term} a .*?\.\n(?:\n|\Z)", text, re.M | re.S)
        assert block and "rdfs:label" in block.group(0) and "rdfs:comment" in block.group(0), term
    page = release_app.get("/ontology", headers={"Accept": "text/html"})
    assert page.status_code == 200
    for term in new_terms:
        assert f"#{term}" in page.text or f">{term}<" in page.text, term


def test_entity_pages_and_dumps_carry_the_new_terms(release_app, built_release):
    page = release_app.get("/entity/us-secretary-of-state", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Q14213" in page.text and "Foreign Minister of the DPRK" in page.text
    statement = release_app.get("/article/cgtn-2019-03-01-hanoi-summit/statement/peskov-no-tangible-agreements",
                                headers={"Accept": "text/html"})
    assert statement.status_code == 200 and "Goldstein" in statement.text and "Kremlin" in statement.text
    dump = (built_release.dumps / "graph.nq").read_text(encoding="utf-8")
    for term in ("goldsteinScale", "quadClass", "sourceActor", "dateEvidence", "accordingTo", "citesSource",
                 "withInputsFrom", "hedge", "evaluation", "office>", "belongsToState"):
        assert f"<https://w3id.org/diplomacy-kg/ontology#{term}" in dump, term
