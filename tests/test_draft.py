"""The drafter's rules (kg/draft), one test per rule, each on a small text of its own: structure,
registry mentions and candidates, speakers, dates, events, CAMEO candidates, claims and denials;
the written draft loads with the seed loader; the comparer counts and lists."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from kg.draft import lexicon
from kg.draft.compare import compare
from kg.draft.drafter import Draft, draft_article
from kg.draft.writer import write_mapping
from kg.seeds.article import load_article
from kg.seeds.records import INFERRED
from kg.seeds.registry import load_registry

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = dt.date(2019, 3, 1)  # a Friday

REGISTRY = """
entities:
  - {id: wire, type: NewsMedia, label: The Wire}
  - {id: lena-ostrova, type: Person, label: Lena Ostrova, aliases: [Ostrova]}
  - {id: tomas-reyes, type: Person, label: Tomas Reyes, aliases: [Reyes]}
  - {id: ana-moll, type: Person, label: Ana Moll, aliases: [Moll]}
  - {id: north-korea, type: State, label: Democratic People's Republic of Korea, aliases: [DPRK, North Korea]}
  - {id: south-korea, type: State, label: Republic of Korea, aliases: [ROK]}
  - {id: china, type: State, label: China}
  - {id: russia, type: State, label: Russia}
  - {id: united-states, type: State, label: United States, aliases: [U.S.]}
  - {id: united-nations, type: InternationalOrganization, label: United Nations, aliases: [UN]}
  - {id: state-agency, type: NewsMedia, label: State Agency, aliases: [STA]}
  - {id: photo-agency, type: NewsMedia, label: Photo Agency, aliases: [PXA]}
  - {id: oslo, type: City, label: Oslo}
  - {id: geneva, type: City, label: Geneva}
  - {id: korean-peninsula, type: Region, label: Korean Peninsula}
  - {id: geneva-summit, type: Summit, label: Geneva summit, aliases: [Geneva summit]}
  - {id: sanctions-relief, type: Topic, label: sanctions relief}
  - {id: us-congress, type: GovernmentOrganization, label: United States Congress}
  - {id: news-agencies, type: NewsMedia, label: news agencies (unnamed), aliases: [agencies]}
  - {id: un-spokesperson, type: Office, label: Spokesperson for the United Nations, jurisdiction: united-nations}
  - {id: un-deputy-spokesperson, type: Office, label: Deputy Spokesperson for the United Nations, jurisdiction: united-nations}
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    path = tmp_path_factory.mktemp("registry") / "entities.yaml"
    path.write_text(REGISTRY, encoding="utf-8")
    return load_registry(path, "entities.yaml")


def draft(text: str, registry, published: dt.date = PUBLISHED, headline: str | None = None) -> Draft:
    return draft_article(text, registry, article_id="test-article", published=published,
                         url="https://example.org/a", publisher="wire", headline=headline)


def words(result: Draft, span) -> str:
    return result.text[span.begin:span.end]


def statement_by(result: Draft, speaker: str):
    found = [s for s in result.statements if s.speaker == speaker]
    assert found, f"no statement by {speaker}: {[(s.speaker, words(result, s.span)) for s in result.statements]}"
    return found


def mentions(result: Draft) -> set[tuple[str, str]]:
    return {(m.entity, m.form) for m in result.mentions}


# -- structure ---------------------------------------------------------------------------------

def test_structure_link_marker_links_caption_credit_line_and_heading(registry):
    text = ("Lena Ostrova said on Friday that the talks would go on.\n"
            "Read more:\n"
            "What the talks in Oslo mean for the region\n"
            "Reyes said the date was not fixed.\n"
            "Talks resume in Oslo\n"
            "Moll said the venue was ready.\n"
            "Delegates arrive at the venue in Oslo, February 27, 2019. /PXA Photo\n"
            "(With inputs from agencies)")
    kinds = {k.line.text: k for k in draft(text, registry).lines}
    assert kinds["Read more:"].kind == "LinkMarker"
    assert kinds["What the talks in Oslo mean for the region"].kind == "RelatedArticleLink"
    assert kinds["Talks resume in Oslo"].kind == "Heading"
    caption = kinds["Delegates arrive at the venue in Oslo, February 27, 2019. /PXA Photo"]
    assert (caption.kind, caption.credit) == ("PhotoCaption", "photo-agency")
    assert kinds["(With inputs from agencies)"].kind == "CreditLine"
    assert kinds["Reyes said the date was not fixed."].kind == "Paragraph"


def test_headline_given_to_kg_new_is_a_heading(registry):
    text = "Talks go on.\nLena Ostrova said the talks would go on."
    assert draft(text, registry).lines[0].kind == "Paragraph"  # ends like a sentence
    assert draft(text, registry, headline="Talks go on.").lines[0].kind == "Heading"


# -- mentions and candidates -------------------------------------------------------------------

def test_mentions_longest_match_first(registry):
    result = draft("The Democratic People's Republic of Korea and the Republic of Korea wrote to the United States "
                   "Congress.", registry)
    found = [(m.entity, m.form) for m in result.mentions]
    assert found == [("north-korea", "Democratic People's Republic of Korea"), ("south-korea", "Republic of Korea"),
                     ("us-congress", "United States Congress")]


def test_demonym_is_a_mention_of_the_state(registry):
    assert ("china", "Chinese") in mentions(draft("Chinese diplomats arrived.", registry))


def test_capital_stands_for_its_government_when_the_registry_lacks_the_city(registry):
    result = draft("Moscow welcomed the talks, and Beijing said nothing.", registry)
    assert ("russia", "Moscow") in mentions(result)
    assert statement_by(result, "russia")[0].cameo == "051"


def test_head_noun_on_later_reference(registry):
    result = draft("Talks on the Korean Peninsula resumed. Peace on the peninsula is the goal.", registry)
    assert ("korean-peninsula", "peninsula") in mentions(result)
    assert ("korean-peninsula", "peninsula") not in mentions(draft("Peace on the peninsula is the goal.", registry))


def test_abbreviation_without_its_final_stop(registry):
    assert ("united-states", "U.S") in mentions(draft("A U.S delegation arrived.", registry))


def test_registry_events_are_drafted_as_events_not_mentions(registry):
    result = draft("Ostrova said the Geneva summit had been useful.", registry)
    assert "geneva-summit" not in {m.entity for m in result.mentions}
    assert [e.id for e in result.events] == ["geneva-summit"]


def test_new_entity_candidates_titled_person_apposition_organisation_place(registry):
    text = ("Foreign Minister Jorge Alcantara said the talks were useful. Mira Sandvik, a researcher at the "
            "Nordic Peace Institute, said in Tromso, Norway, that nothing was agreed.")
    candidates = draft(text, registry).candidates
    assert candidates["jorge-alcantara"].type == "Person"
    assert candidates["mira-sandvik"].type == "Person"
    assert candidates["nordic-peace-institute"].type == "Organization"
    assert candidates["tromso"].type == "City"
    assert all(c.id not in registry.entities for c in candidates.values())


# -- statements and speakers -------------------------------------------------------------------

def test_x_said_that(registry):
    result = draft("Ostrova said that the talks would resume in March.", registry)
    statement = statement_by(result, "lena-ostrova")[0]
    assert [words(result, p) for p in statement.paraphrase] == ["the talks would resume in March"]


def test_quotation_then_said_x(registry):
    result = draft('"We are ready to talk," said Tomas Reyes.', registry)
    statement = statement_by(result, "tomas-reyes")[0]
    assert [words(result, q) for q in statement.verbatim] == ["We are ready to talk,"]


def test_x_told_reporters_audience(registry):
    result = draft("Reyes told reporters his country would not yield.", registry)
    statement = statement_by(result, "tomas-reyes")[0]
    assert statement.audience == "reporters"
    assert [words(result, p) for p in statement.paraphrase] == ["his country would not yield"]


def test_according_to_x_at_the_start_and_at_the_end(registry):
    result = draft("According to Ana Moll, a researcher at the institute, the talks were frank. "
                   "The delegations met twice, according to Reyes.", registry)
    assert [words(result, p) for s in statement_by(result, "ana-moll") for p in s.paraphrase] == ["the talks were frank"]
    assert [words(result, p) for s in statement_by(result, "tomas-reyes") for p in s.paraphrase] == \
        ["The delegations met twice"]


def test_adding_that_continues_the_statement(registry):
    result = draft('"The door is open," Moll said, adding that the offer stands until June.', registry)
    statement = statement_by(result, "ana-moll")[0]
    assert [words(result, p) for p in statement.paraphrase] == ["the offer stands until June"]
    assert len(result.statements) == 1


def test_he_said_is_the_last_person_quoted(registry):
    result = draft('Reyes said the talks with Ana Moll were over.\n"We will not return," he said.', registry)
    assert [s.speaker for s in result.statements] == ["tomas-reyes", "tomas-reyes"]


def test_she_said_is_the_last_person_named_when_the_last_speaker_is_far(registry):
    text = ("Reyes said the talks were over.\nThe talks began in 2018.\nThey stopped twice.\n"
            'Ana Moll shrugs. "We have seen worse," she said.')
    assert draft(text, registry).statements[-1].speaker == "ana-moll"


def test_the_spokesperson_is_the_last_person_so_titled(registry):
    text = ('UN spokesperson Lena Ostrova said the envoy would travel on Monday. Reyes said nothing had been agreed.\n'
            "The spokesperson stressed that the visit was humanitarian.")
    result = draft(text, registry)
    last = result.statements[-1]
    assert (last.speaker, last.on_behalf_of) == ("lena-ostrova", "united-nations")


def test_spokesperson_speaks_on_behalf_of_the_organisation_of_the_title(registry):
    result = draft("UN spokesperson Lena Ostrova said the envoy would travel on Monday.", registry)
    assert statement_by(result, "lena-ostrova")[0].on_behalf_of == "united-nations"


def test_speaking_on_behalf_of_the_person_named_before_the_quotation(registry):
    result = draft('Reyes "appreciates the effort that was made," said Lena Ostrova.', registry)
    assert statement_by(result, "lena-ostrova")[0].on_behalf_of == "tomas-reyes"


def test_a_spokesperson_speaks_for_the_body_of_the_position_even_for_a_persons_view(registry):
    result = draft('Reyes "appreciates the effort that was made," said Lena Ostrova, the spokesperson for the UN.',
                   registry)
    statement = statement_by(result, "lena-ostrova")[0]
    assert statement.on_behalf_of == "united-nations"
    assert any("tomas-reyes's view" in doubt for doubt in statement.doubts)


def test_unnamed_spokesperson_is_the_organisation(registry):
    result = draft("The envoy will travel to Oslo next week, a UN spokesperson said on Monday.", registry)
    assert statement_by(result, "united-nations")[0].paraphrase


def test_an_unnamed_official_and_an_embassy_speak_for_their_state(registry):
    text = ('A DPRK trade official said on Tuesday that the country "will not beg for relief." '
            "The DPRK's embassy in Moscow said in a statement that it welcomed closer ties.")
    result = draft(text, registry)
    assert [s.speaker for s in result.statements] == ["north-korea", "north-korea"]
    assert [c.label for c in result.claims] == ['The country "will not beg for relief']  # a welcome asserts nothing


def test_recalled_reports_the_speakers_own_account(registry):
    result = draft("Reyes recalled a conversation with a Chinese trader in Oslo.", registry)
    assert [s.speaker for s in result.statements] == ["tomas-reyes"]


def test_parenthetical_between_subject_and_verb_is_skipped(registry):
    result = draft("Reyes, who met Ana Moll on Monday, said that the offer was vague.", registry)
    assert [s.speaker for s in result.statements] == ["tomas-reyes"]


def test_state_media_is_the_one_news_agency_the_article_names(registry):
    text = ("The leaders agreed to meet again, the DPRK's state media said on Friday.\n"
            "STA said the meeting was productive.")
    assert [s.speaker for s in draft(text, registry).statements] == ["state-agency", "state-agency"]


def test_quotation_running_over_paragraphs_continues_the_speaker(registry):
    text = ('"We want predictability," Ostrova said. "Traders can live with strict rules.\n'
            '"They cannot live with rules that change every month."')
    result = draft(text, registry)
    assert [s.speaker for s in result.statements] == ["lena-ostrova", "lena-ostrova"]
    first = result.statements[0]
    assert [words(result, q) for q in first.verbatim] == ["We want predictability,", "Traders can live with strict rules."]


def test_descriptive_epithet_is_the_last_person_named(registry):
    text = 'Ana Moll counts the wagons. "We had twelve," the 52-year-old broker said.'
    assert statement_by(draft(text, registry), "ana-moll")


def test_act_verbs_make_statements_with_cameo_candidates(registry):
    text = ("Ostrova urged both sides to return to the table. Reyes praised the talks as constructive. "
            "Moll rejected the plan. China welcomed the meeting. Russia demanded a reply. "
            "The DPRK offered to dismantle a plant.")
    codes = {s.speaker: s.cameo for s in draft(text, registry).statements}
    assert codes == {"lena-ostrova": "02", "tomas-reyes": "051", "ana-moll": "12", "china": "051",
                     "russia": "10", "north-korea": "03"}


def test_a_denial_is_coded_by_what_it_denies(registry):
    text = ("Ostrova rejected accusations that her office leaked the plan. Reyes disputed Moll's account of the talks. "
            "Moll rejected the plan.")
    codes = {s.speaker: s.cameo for s in draft(text, registry).statements}
    assert codes == {"lena-ostrova": "016", "tomas-reyes": "110", "ana-moll": "12"}


def test_a_coded_act_is_written_with_its_target_or_left_as_a_comment(registry, tmp_path):
    result = draft("Reyes urged the DPRK to return to the talks. Moll said the weather was fine all week.", registry)
    assert [s.target for s in result.statements] == ["north-korea", None]
    loaded, mapping = load_written(result, registry, tmp_path)
    assert [(s.cameo, s.coding.targets if s.coding else None) for s in loaded.statements] == \
        [("02", ("north-korea",)), (None, None)]
    assert "# unsure: cameo \"010\" (from the verb 'said') once a target actor is known" in mapping


def test_every_cameo_code_of_the_lexicon_is_in_the_published_scheme():
    scheme = set(re.findall(r'skos:notation "(\d+)"', (REPO / "ontology" / "cameo.ttl").read_text("utf-8")))
    used = set(lexicon.ACT_VERBS.values()) | set(lexicon.EVENT_CAMEO.values()) | {lexicon.SPEECH_VERB_CAMEO, "016", "110", "04", "043"}
    assert used <= scheme


def test_a_sentence_naming_an_actor_and_nobodys_words_is_the_articles_own(registry):
    text = ('Reyes said the talks were over. "It is done." The DPRK has not confirmed the visit. Traders say '
            'the DPRK will lose. Oslo is cold.')
    result = draft(text, registry)
    voiced = [words(result, s.span) for s in result.statements if s.speaker == "wire"]
    assert voiced == ["The DPRK has not confirmed the visit."]
    assert [c.label for c in result.claims if c.speaker == "wire"] == ["The DPRK has not confirmed the visit"]


# -- dates -------------------------------------------------------------------------------------

def test_weekday_last_year_and_explicit_dates_resolve_by_the_seed_rules(registry):
    text = ("Ostrova said on Thursday that the talks of last year had failed. "
            "The delegations met in Oslo, February 27, 2019.")
    found = {d.words: (d.value, d.inferred) for d in draft(text, registry).dates}
    assert found["Thursday"] == ("2019-02-28", False)
    assert found["last year"] == ("2018", False)
    assert found["February 27, 2019"] == ("2019-02-27", False)


def test_dates_the_seed_rules_cannot_resolve_are_marked_inferred(registry):
    found = {d.words: d for d in draft("A day after the talks, Reyes met Moll on 12 March.", registry).dates}
    assert found["A day after"].inferred and found["A day after"].value is None
    assert found["12 March"].inferred and found["12 March"].value == "2019-03-12"


def test_a_statement_without_its_own_date_gets_an_inferred_one_with_its_reason(registry, tmp_path):
    text = 'Reyes said on Thursday that the talks were over.\n"We will not return," he said.'
    result = draft(text, registry)
    second = result.statements[1]
    assert second.when_inferred and second.when.value == "2019-02-28"
    loaded, mapping = load_written(result, registry, tmp_path)
    assert "when: {quote: Thursday, because: \"the speaker's previous statement" in mapping
    dating = loaded.statements[1].date
    assert (dating.value, dating.evidence) == ("2019-02-28", INFERRED) and "previous statement" in dating.inference


def test_quoted_dates_are_not_the_articles_own(registry):
    assert draft('"We met on Thursday," Reyes said.', registry).dates == []


# -- events ------------------------------------------------------------------------------------

def test_press_conference_with_place_date_and_speaker(registry):
    result = draft("During a press conference in Geneva on Thursday, Reyes said the talks were over.", registry)
    event = next(e for e in result.events if e.type == "PressConference")
    assert (event.place, event.date.value, event.participants) == ("geneva", "2019-02-28", [("tomas-reyes", "speaker")])
    assert statement_by(result, "tomas-reyes")[0].at == event.id


def test_summit_in_a_place_is_the_registry_summit_of_that_place(registry):
    result = draft("The leaders held their first summit in Geneva last year.", registry)
    event = next(e for e in result.events if e.id == "geneva-summit")
    assert (event.place, event.date.value) == ("geneva", "2018")


def test_meeting_with_participants_and_visit_to_a_place(registry):
    result = draft("During a meeting with Ana Moll in Oslo on Thursday, Reyes urged both sides to show restraint. "
                   "The UN envoy will travel to North Korea next week.", registry)
    meeting = next(e for e in result.events if e.type == "Meeting")
    assert set(meeting.participants) >= {("tomas-reyes", "party"), ("ana-moll", "party")}
    visit = next(e for e in result.events if e.label.startswith("Visit"))
    assert visit.participants == [("united-nations", "visitor"), ("north-korea", "host")]


def test_x_met_y_in_a_place_on_a_day_is_a_meeting(registry):
    result = draft("Reyes met Ana Moll in Oslo on Sunday, officials said.", registry)
    meeting = next(e for e in result.events if e.type == "Meeting")
    assert (meeting.participants, meeting.place, meeting.date.value) == \
        ([("tomas-reyes", "party"), ("ana-moll", "party")], "oslo", "2019-02-24")


def test_news_agency_statement_is_a_report(registry):
    result = draft("On Friday, STA said that the leaders had agreed to meet again.", registry)
    report = next(e for e in result.events if e.type == "NewsReport")
    assert report.participants == [("state-agency", "reporter")]


# -- claims and stances ------------------------------------------------------------------------

def test_reported_clause_is_a_claim_cut_at_but(registry):
    result = draft("Reyes said he had a productive time with Moll, but he decided not to sign anything.", registry)
    assert [c.label for c in result.claims] == ["He had a productive time with Moll", "He decided not to sign anything"]
    assert [stance for _, stance in result.statements[0].stances] == ["asserts", "asserts"]


def test_appeals_and_welcomes_assert_no_claim_but_what_they_add_does(registry):
    assert draft("Ostrova urged both sides to return to the table.", registry).claims == []
    result = draft("Ostrova urged both sides to return to the table, adding that her country would host talks.", registry)
    assert [c.label for c in result.claims] == ["Her country would host talks"]


def test_a_quotation_continuing_a_statement_asserts_its_words(registry):
    text = 'Reyes said the talks were over.\n"Diplomacy has laid the foundation for a lasting peace in the region."'
    result = draft(text, registry)
    assert [c.label for c in result.claims][-1] == "Diplomacy has laid the foundation for a lasting peace in the region"
    assert result.statements[-1].stances == [(result.claims[-1].id, "asserts")]


def test_denial_answers_the_claim_of_the_person_whose_claims_it_denies(registry):
    text = ("Reyes said that the DPRK had demanded the lifting of all sanctions.\n"
            "Ostrova held a press conference, denying Reyes's claims that the DPRK was seeking a lifting of all sanctions.")
    result = draft(text, registry)
    claim = result.claims[0]
    assert statement_by(result, "lena-ostrova")[0].stances == [(claim.id, "denies")]
    assert [words(result, s) for s in claim.also] == ["the DPRK was seeking a lifting of all sanctions"]


def test_dateline_is_not_part_of_the_first_statement(registry):
    result = draft("OSLO, March 1 - Reyes said that the talks would resume.", registry)
    assert words(result, statement_by(result, "tomas-reyes")[0].span).startswith("Reyes said")


def test_told_a_briefing_is_where_not_what(registry):
    result = draft('"The door is open," Reyes told a regular press briefing in Oslo on Friday.', registry)
    statement = statement_by(result, "tomas-reyes")[0]
    assert statement.paraphrase == [] and [words(result, q) for q in statement.verbatim] == ["The door is open,"]


def test_told_the_newspaper_on_tuesday_that(registry):
    result = draft("Reyes told the newspaper Dagbladet on Tuesday that the offer was final.", registry)
    assert [words(result, p) for p in statement_by(result, "tomas-reyes")[0].paraphrase] == ["the offer was final"]


def test_a_hoped_for_summit_is_not_an_event(registry):
    result = draft("Reyes said his country would keep pressing for a third summit between the two leaders.", registry)
    assert [e for e in result.events if e.type == "Summit"] == []


def test_family_name_first_is_a_later_reference(registry):
    result = draft("Foreign Minister Park Seo-yeon said the talks were useful. "
                   "According to Park, the ministers also discussed trade.", registry)
    assert [s.speaker for s in result.statements] == ["park-seo-yeon", "park-seo-yeon"]


def test_a_two_word_name_as_the_subject_of_a_verb_is_a_person_candidate(registry):
    result = draft('Olga Markova counts the wagons. "We had twelve," the customs broker said.', registry)
    assert result.candidates["olga-markova"].type == "Person"
    assert statement_by(result, "olga-markova")


def test_denying_that_claim_answers_the_claim_just_before_and_saying_asserts(registry):
    text = ("Reyes said that the DPRK had demanded full sanctions relief. "
            "Moll denied that claim, saying the DPRK had only asked for partial relief.")
    result = draft(text, registry)
    reyes_claim = statement_by(result, "tomas-reyes")[0].stances[0][0]
    moll = statement_by(result, "ana-moll")[0]
    assert moll.stances[0] == (reyes_claim, "denies")
    assert [c.label for c in result.claims if c.id == moll.stances[1][0]] == ["The DPRK had only asked for partial relief"]


# -- the written draft -------------------------------------------------------------------------

def load_written(result: Draft, registry, tmp_path: Path):
    folder = tmp_path / "articles" / "test-article"
    folder.mkdir(parents=True)
    (folder / "article.txt").write_text(result.text, encoding="utf-8")
    (folder / "mapping.yaml").write_text(write_mapping(result), encoding="utf-8")
    codes = set(re.findall(r'skos:notation "(\d+)"', (REPO / "ontology" / "cameo.ttl").read_text("utf-8")))
    return load_article(folder, registry, codes, tmp_path), (folder / "mapping.yaml").read_text(encoding="utf-8")


def test_written_draft_loads_and_every_item_says_it_is_drafted(registry, tmp_path):
    text = ('Reyes said on Thursday that the talks were over.\n"We will not return," he said.\n'
            "Reyes said that the talks were over.\nRead more:\nTalks in Oslo\n(With inputs from agencies)")
    loaded, mapping = load_written(draft(text, registry), registry, tmp_path)
    assert len(loaded.statements) == 3 and loaded.claims
    items = [line for line in mapping.splitlines() if re.match(r"\s*- (?:id:|\{holder)", line)]
    drafted = mapping.count("# drafted:")
    assert drafted >= len(items) > 0
    repeated = [s for s in loaded.statements if "occurrence" in mapping and s.spans[0].anchor.startswith("Reyes said")]
    assert len({s.spans[0].begin for s in repeated}) == 2  # the same words twice: told apart by occurrence


def test_items_that_need_new_entities_are_written_commented_out(registry, tmp_path):
    text = "Foreign Minister Jorge Alcantara said the talks were useful."
    loaded, mapping = load_written(draft(text, registry), registry, tmp_path)
    assert loaded.statements == []
    assert "#   - id: jorge-alcantara" in mapping and "wikidata" not in mapping
    assert "#    speaker: jorge-alcantara" in mapping


def test_a_denial_nobody_asserts_is_left_as_a_comment(registry, tmp_path):
    result = draft("STA rejected claims that the country was preparing a missile test.", registry)
    assert result.statements[0].stances and result.statements[0].stances[0][1] == "denies"
    loaded, mapping = load_written(result, registry, tmp_path)
    assert loaded.statements[0].stances == [] and loaded.claims == []
    assert "which no statement here asserts" in mapping and "no written statement asserts this claim" in mapping


def test_position_names_the_registry_office_and_the_credit_line_its_sources(registry, tmp_path):
    text = "UN spokesperson Lena Ostrova said the envoy would travel on Monday.\n(With inputs from agencies)"
    result = draft(text, registry)
    assert [(p.holder, p.title, p.office) for p in result.positions] == \
        [("lena-ostrova", "Spokesperson", "un-spokesperson")]
    assert result.inputs_from == ["news-agencies"]
    loaded, mapping = load_written(result, registry, tmp_path)
    assert "office: un-spokesperson" in mapping and "inputs_from: [news-agencies]" in mapping
    assert loaded.positions[0].of == "united-nations"


# -- the comparer ------------------------------------------------------------------------------

def test_compare_counts_precision_recall_misses_and_false_finds(registry):
    text = "Reyes said that the talks were over. Moll said that nothing was agreed."
    curated = {"article": {"published": "2019-03-01"},
               "statements": [{"id": "a", "speaker": "tomas-reyes", "quote": "Reyes said that the talks were over.",
                               "paraphrase": "the talks were over"},
                              {"id": "b", "speaker": "lena-ostrova", "quote": "Moll said that nothing was agreed.",
                               "paraphrase": "nothing was agreed"}]}
    scores = {s.kind: s for s in compare(draft(text, registry), curated)}
    assert (scores["statements"].precision, scores["statements"].recall) == (1.0, 1.0)
    assert (scores["speakers"].precision, scores["speakers"].recall) == (0.5, 0.5)
    assert scores["speakers"].misses == ["line 1: lena-ostrova: 'Moll said that nothing was agreed.'"]
    assert scores["speakers"].false_finds == ["line 1: ana-moll: 'Moll said that nothing was agreed.'"]


# -- generality --------------------------------------------------------------------------------

NEW_PEOPLE = (REPO / "tests" / "data" / "draft" / "new-people.txt")


def test_an_article_whose_people_and_places_are_all_new_still_gets_quotations_and_speakers(registry, tmp_path):
    text = NEW_PEOPLE.read_text(encoding="utf-8")
    result = draft(text, registry, published=dt.date(2021, 9, 17))
    speakers = [(s.speaker, words(result, s.span)[:30]) for s in result.statements]
    assert [s for s, _ in speakers] == ["elina-varga", "elina-varga", "dario-kessler", "dario-kessler",
                                        "kofi-adjei", "kofi-adjei"], speakers
    assert all(s in result.candidates for s, _ in speakers)
    assert sum(len(s.verbatim) for s in result.statements) == 5
    assert not any(s.speaker in registry.entities for s in result.statements)


def test_the_drafter_holds_no_article_specific_strings():
    seed_names = ["Trump", "Kim Jong", "Pompeo", "Guterres", "Dujarric", "Peskov", "Wang Yi", "Ri Yong", "Moon Jae",
                  "KCNA", "Yongbyon", "Nguyen Du", "CGTN", "VCG", "Tanabe", "Okafor", "Samsonov", "Lindqvist"]
    for source in (REPO / "kg" / "draft").glob("*.py"):
        code = source.read_text(encoding="utf-8")
        assert not [name for name in seed_names if name in code], source.name
