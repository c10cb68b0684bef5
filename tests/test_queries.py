"""The named queries in queries/: each documented, each giving the answers the article supports."""
from __future__ import annotations

import re

import pytest

from conftest import REPO

QUERIES = sorted((REPO / "queries").glob("*.rq"))


def run(store, name: str) -> list[dict[str, str]]:
    solutions = store.query((REPO / "queries" / f"{name}.rq").read_text(encoding="utf-8"),
                            use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in solutions]


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_every_named_query_has_a_title_and_a_description(path):
    header = path.read_text(encoding="utf-8")
    assert re.search(r"^# title: \S.+$", header, re.M), path.name
    assert re.search(r"^# description: \S.+$", header, re.M), path.name


def test_timeline_lists_events_in_order_with_dates_places_and_participants(release_store):
    rows = run(release_store, "timeline")
    labels = [row["label"] for row in rows]
    assert labels[0] == "2018 North Korea–United States Singapore Summit"
    hanoi = next(row for row in rows if row["event"].endswith("entity/hanoi-summit"))
    assert (hanoi["start"], hanoi["end"], hanoi["placeLabel"]) == ("2019-02-27", "2019-02-28", "Hanoi")
    assert {"Donald Trump", "Kim Jong Un"} <= set(hanoi["participants"].split(", "))
    meeting = next(row for row in rows if row["label"] == "Meeting of Wang Yi and Ri Kil Song in Beijing")
    assert (meeting["date"], meeting["type"], meeting["placeLabel"]) == ("2019-02-28", "meeting", "Beijing")
    dated = [row.get("date") or row.get("start") for row in rows if row.get("date") or row.get("start")]
    assert dated == sorted(dated)
    assert rows[-1].get("date") is None and rows[-1].get("start") is None  # undated events come last


def test_who_said_what_gives_speaker_date_words_and_span(release_store):
    rows = run(release_store, "statements")
    text = (REPO / "seeds/articles/cgtn-2019-03-01-hanoi-summit/article.txt").read_text(encoding="utf-8")
    for row in rows:
        assert text[int(row["begin"]):int(row["end"])] == row["text"]
    guterres = [row for row in rows if row["text"] == "courageous diplomacy"]
    # Guterres himself praised the summit (line 38); Dujarric is not named there.
    assert guterres == [{**guterres[0], "speakerLabel": "Antonio Guterres", "date": "2019-02-28",
                         "dateEvidence": "resolved by rule", "kind": "verbatim"}]
    # Dujarric's remarks are dated from Guterres' sentence: the date is shown as inferred, never as stated.
    assert {row["dateEvidence"] for row in rows if row["speakerLabel"] == "Stephane Dujarric"} == {"inferred"}
    assert "onBehalfOfLabel" not in guterres[0]
    speakers = {row["speakerLabel"] for row in rows}
    assert {"Donald Trump", "Ri Yong Ho", "Mike Pompeo", "Wang Yi", "Dmitry Peskov", "Moon Jae-in", "Antonio Guterres",
            "Korean Central News Agency", "Russia", "Stephane Dujarric", "CGTN"} == speakers


def test_disputed_claims_show_who_asserts_and_who_denies(release_store):
    rows = {row["claim"].rsplit("/", 1)[1]: row for row in run(release_store, "disputed-claims")}
    assert set(rows) == {"dprk-demanded-lifting-of-all-sanctions", "dprk-asked-for-partial-sanctions-relief",
                         "summit-collapsed-over-sanctions-demand"}
    reason = rows["summit-collapsed-over-sanctions-demand"]  # Trump's reason for the collapse, which Ri disputes
    assert (reason["assertedBy"], reason["deniedBy"]) == ("Donald Trump", "Ri Yong Ho")
    demanded = rows["dprk-demanded-lifting-of-all-sanctions"]
    assert set(demanded["assertedBy"].split("; ")) == {"Donald Trump", "Mike Pompeo"}
    assert demanded["deniedBy"] == "Ri Yong Ho"
    partial = rows["dprk-asked-for-partial-sanctions-relief"]
    assert (partial["assertedBy"], partial["deniedBy"]) == ("Ri Yong Ho", "Mike Pompeo")


def test_positions_held_as_the_article_states_them(release_store):
    rows = run(release_store, "positions-held")
    held = {(row["personLabel"], row["title"], row.get("ofLabel")) for row in rows}
    assert ("Ri Yong Ho", "Foreign Minister", "Democratic People's Republic of Korea") in held
    assert ("Wang Yi", "State Councilor", "China") in held and ("Wang Yi", "Foreign Minister", "China") in held
    assert ("Dmitry Peskov", "Spokesperson", "Kremlin") in held
    trump = next(row for row in rows if row["personLabel"] == "Donald Trump")
    assert (trump["wikidata"], trump["asOf"], trump["source"]) == (
        "http://www.wikidata.org/entity/Q22686", "2019-03-01", "U.S. President Donald Trump")


def test_competing_accounts_of_what_the_dprk_asked_for_and_offered_come_from_structure(release_store):
    rows = [row for row in run(release_store, "competing-accounts") if row["party"].endswith("/entity/north-korea")]
    accounts = {row["account"].rsplit("/", 1)[1]: row for row in rows}
    assert set(accounts) == {"dprk-demanded-lifting-of-all-sanctions", "dprk-asked-for-partial-sanctions-relief",
                             "yongbyon-offer"}
    demand = accounts["dprk-demanded-lifting-of-all-sanctions"]
    assert (demand["code"], demand["object"], demand["to"]) == ("1054", "the lifting of all sanctions", "United States")
    assert (set(demand["assertedBy"].split("; ")), demand["deniedBy"]) == ({"Donald Trump", "Mike Pompeo"}, "Ri Yong Ho")
    appeal = accounts["dprk-asked-for-partial-sanctions-relief"]
    assert (appeal["code"], appeal["assertedBy"], appeal["deniedBy"]) == ("0254", "Ri Yong Ho", "Mike Pompeo")
    offer = accounts["yongbyon-offer"]
    assert (offer["code"], offer["object"], offer["condition"], offer["assertedBy"]) == (
        "035", "dismantle its Yongbyon nuclear plant", "partial sanctions relief", "Ri Yong Ho")
    assert demand["account"] in appeal["contradicts"].split()


def test_claims_resting_on_dprk_state_media_alone(release_store):
    rows = run(release_store, "state-media-only")
    dprk = {row["claim"].rsplit("/", 1)[1] for row in rows if row["wikidata"] == "http://www.wikidata.org/entity/Q423"}
    assert dprk == {"leaders-agreed-to-continue-talks", "leaders-confident-of-improved-relations",
                    "many-unavoidable-obstacles-ahead"}
    assert {row["mediumLabel"] for row in rows if row["claim"].rsplit("/", 1)[1] in dprk} == {"Korean Central News Agency"}


def test_claims_resting_on_one_source_or_one_side(release_store):
    rows = {row["claim"].rsplit("/", 1)[1]: row for row in run(release_store, "single-source-claims")}
    # Two sources, both of the United States: one side of the dispute alone, and disputed.
    demand = rows["dprk-demanded-lifting-of-all-sanctions"]
    assert (demand["sources"], demand["side"], demand["disputed"]) == ("2", "United States", "true")
    assert (rows["yongbyon-offer"]["side"], rows["yongbyon-offer"]["sources"]) == (
        "Democratic People's Republic of Korea", "1")
    # Asserted by sources of two states: not listed.
    assert "talks-will-continue" not in rows or rows["talks-will-continue"]["sources"] == "1"


def test_who_appealed_to_whom(release_store):
    rows = run(release_store, "appeals")
    appeals = {(row["sourceLabel"], row["code"], row["to"], row["kind"]) for row in rows}
    assert ("Wang Yi", "027", "United States; Democratic People's Republic of Korea", "stated by the article") in {
        (s, c, "; ".join(sorted(t.split("; "), reverse=True)), k) for s, c, t, k in appeals}
    assert ("Democratic People's Republic of Korea", "0254", "United States", "claimed by a source") in appeals
    assert all(row["code"].startswith("02") for row in rows)


def test_cooperative_and_conflictual_acts_by_actor(release_store):
    rows = run(release_store, "acts-by-actor")
    by = {(row["actorLabel"], row["quadClass"], row["kind"]): row for row in rows}
    ri = by[("Ri Yong Ho", "verbal conflict", "stated by the article")]
    assert (ri["acts"], ri["codes"], float(ri["meanGoldstein"])) == ("1", "110", -2.0)
    demand = by[("Democratic People's Republic of Korea", "verbal conflict", "claimed by a source")]
    assert (demand["codes"], float(demand["minGoldstein"])) == ("1054", -5.0)
    summit = by[("United States", "verbal cooperation", "stated by the article")]
    assert summit["codes"] == "046" and float(summit["maxGoldstein"]) == 7.0
    assert {row["quadClass"] for row in rows} <= {"verbal cooperation", "material cooperation", "verbal conflict",
                                                  "material conflict"}


def test_offices_and_their_holders_with_certain_qids(release_store):
    rows = {row["office"].rsplit("/", 1)[1]: row for row in run(release_store, "offices")}
    sos = rows["us-secretary-of-state"]
    assert (sos["officeWikidata"], sos["holderLabel"], sos["holderWikidata"], sos["counterparts"]) == (
        "http://www.wikidata.org/entity/Q14213", "Mike Pompeo", "http://www.wikidata.org/entity/Q473239",
        "Foreign Minister of the DPRK")
    fm = rows["dprk-foreign-minister"]
    assert (fm["holderLabel"], fm.get("officeWikidata"), fm.get("holderWikidata")) == ("Ri Yong Ho", None, None)
    assert {office for office, row in rows.items() if "officeWikidata" in row} == {
        "president-of-the-united-states", "us-secretary-of-state", "un-secretary-general"}
