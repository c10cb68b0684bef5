"""The six errors of the review of the seed mapping (issue 21), each checked on the built graph so that
it cannot come back: who said what, facts versus claims, inferred dates, codes and roles."""
from __future__ import annotations

from seed_graph import ask, local, select


# 1. Line 38: Guterres himself praised the summit; Dujarric is not named in that sentence.
def test_the_courageous_diplomacy_praise_is_guterres_own(release_store):
    rows = select(release_store, """SELECT ?speaker ?label ?behalf WHERE {
        ?statement dipl:quotation/nif:anchorOf "courageous diplomacy" ; dipl:speaker ?speaker ; rdfs:label ?label .
        OPTIONAL { ?statement dipl:onBehalfOf ?behalf } }""")
    assert [(local(r["speaker"]), r.get("behalf")) for r in rows] == [("antonio-guterres", None)]
    assert "Dujarric" not in rows[0]["label"]
    agents = select(release_store, "SELECT ?agent WHERE { cl:summit-was-courageous-diplomacy dipl:attribution/prov:agent ?agent }")
    assert {local(r["agent"]) for r in agents} == {"antonio-guterres"}


# 2. "Agreed to continue talks" is KCNA's account, reported by CGTN with inputs from agencies: not a fact.
def test_the_agreement_to_continue_talks_is_kcnas_claim_not_an_outcome(release_store):
    assert not ask(release_store, "?outcome a dipl:AgreementToContinueTalks")
    outcomes = select(release_store, "SELECT ?type WHERE { e:hanoi-summit dipl:outcome/a ?type }")
    assert [local(r["type"]).split("#")[1] for r in outcomes] == ["NoAgreement"]
    chain = select(release_store, """SELECT ?source ?outlet ?inputs WHERE {
        cl:leaders-agreed-to-continue-talks dipl:attribution [ dipl:stance dipl:Asserts ; prov:agent ?source ;
                                                               prov:hadActivity ?statement ] .
        ?statement dipl:accordingTo ?outlet ; gaf:denotedBy/dipl:inArticle ?article .
        ?article schema:publisher ?outlet ; dipl:withInputsFrom ?inputs }""")
    assert {(local(r["source"]), local(r["outlet"]), local(r["inputs"])) for r in chain} == {
        ("kcna", "cgtn", "news-agencies")}


# 3. The Yongbyon offer is Ri's account (a claim he asserts), not a fact of the summit.
def test_the_yongbyon_offer_is_attributed_to_ri(release_store):
    rows = select(release_store, """SELECT ?agent ?statement WHERE {
        pr:yongbyon-offer a dipl:Claim ; dipl:attribution [ prov:agent ?agent ; dipl:stance dipl:Asserts ;
                                                            prov:hadActivity ?statement ] }""")
    assert {(local(r["agent"]), local(r["statement"])) for r in rows} == {("ri-yong-ho", "ri-yong-ho-yongbyon-offer")}
    # Every proposal, like every claim, rests on someone's word.
    assert not ask(release_store, "?proposal a dipl:Proposal FILTER NOT EXISTS { ?proposal dipl:attribution ?a }")


# 4. Liaison offices are a topic in Moon's account only, not a topic of the summit.
def test_liaison_offices_are_a_topic_of_moons_account_only(release_store):
    assert not ask(release_store, "e:hanoi-summit dipl:topic e:liaison-offices")
    rows = select(release_store, "SELECT ?item WHERE { ?item dipl:topic e:liaison-offices }")
    assert {local(r["item"]) for r in rows} == {"moon-liaison-offices", "leaders-closer-to-normalizing-relations"}


# 5. A date taken from another sentence is inferred, says why, and is never presented as stated.
def test_dates_borrowed_from_another_sentence_are_inferred_with_their_reason(release_store):
    for statement in ("guterres-appreciates-effort", "dujarric-diplomats-clear-eyed"):
        rows = select(release_store, f"""SELECT ?evidence ?inference ?label WHERE {{
            st:{statement} rdfs:label ?label ; dipl:dating [ dipl:dateEvidence ?evidence ; dipl:inference ?inference ] }}""")
        assert [local(r["evidence"]).split("#")[1] for r in rows] == ["InferredDate"], statement
        assert rows[0]["inference"] and "(date inferred)" in rows[0]["label"]


def test_a_date_outside_the_items_own_words_is_never_stated_or_resolved(release_store):
    """General form of error 5: the time expression lies in none of the item's mentions -> inferred."""
    assert len(select(release_store, "SELECT ?dating WHERE { ?item dipl:dating ?dating }")) >= 20
    wrong = select(release_store, """SELECT ?item ?evidence WHERE {
        ?item dipl:dating [ dipl:dateGroundedBy ?words ; dipl:dateEvidence ?evidence ] .
        ?words nif:beginIndex ?wb ; nif:endIndex ?we .
        FILTER (?evidence != dipl:InferredDate)
        FILTER NOT EXISTS { ?item gaf:denotedBy [ nif:beginIndex ?b ; nif:endIndex ?e ] FILTER (?b <= ?wb && ?we <= ?e) } }""")
    assert wrong == []
    assert not ask(release_store, "?dating dipl:dateEvidence dipl:InferredDate FILTER NOT EXISTS { ?dating dipl:inference ?why }")


# 6. Codes and roles as the CAMEO manual and the ontology define them.
def test_roles_say_what_the_article_says(release_store):
    # Vietnam is not said to host the summit; a host receives a visitor.
    assert not ask(release_store, "e:hanoi-summit dipl:participant e:vietnam")
    assert not ask(release_store, """?event dipl:participation/dipl:participantRole dipl:Host
                                     FILTER NOT EXISTS { ?event dipl:participation/dipl:participantRole dipl:Visitor }""")
    # A party is a side of a negotiation or meeting: the school waving flags is not one.
    assert ask(release_store, """ev:flag-waving-before-hanoi-summit dipl:participation [
        dipl:participantActor e:nguyen-du-secondary-school ; dipl:participantRole dipl:Performer ]""")
    assert not ask(release_store, """?event dipl:participation/dipl:participantRole dipl:Party .
        FILTER NOT EXISTS { ?event a/rdfs:subClassOf* dipl:Meeting }
        FILTER NOT EXISTS { ?event dipl:eventType/skos:broader* cameo:04 }""")


def test_codes_follow_the_cameo_definitions(release_store):
    # "Very productive" is an optimistic comment; deciding not to sign is a rejection, coded on its own claim.
    assert ask(release_store, "st:trump-productive-but-no-signing dipl:eventType cameo:013")
    assert ask(release_store, "cl:trump-decided-not-to-sign dipl:eventType cameo:127 ; dipl:sourceActor e:donald-trump")
    # 016 (deny responsibility) answers accusations, not a disputed factual account.
    assert not ask(release_store, "?statement dipl:denies ?claim ; dipl:eventType cameo:016")
    # 035 (express intent to yield) is the offer itself, not a statement reporting a past offer.
    assert not ask(release_store, "?act dipl:eventType cameo:035 FILTER NOT EXISTS { ?act a dipl:Proposal }")
    assert ask(release_store, "pr:yongbyon-offer dipl:eventType cameo:035 ; dipl:sourceActor e:north-korea")


def test_a_spokesperson_speaks_for_the_body_the_article_names(release_store):
    """On whose behalf a spokesperson speaks is the body of the position the article gives him, every time."""
    rows = select(release_store, """SELECT ?statement ?behalf ?of WHERE {
        ?statement dipl:speaker ?speaker ; dipl:onBehalfOf ?behalf .
        ?speaker dipl:holdsPosition [ dipl:positionTitle ?title ; dipl:positionOf ?of ]
        FILTER (CONTAINS(LCASE(STR(?title)), "spokes")) }""")
    assert len(rows) == 4
    assert all(r["behalf"] == r["of"] for r in rows), rows
