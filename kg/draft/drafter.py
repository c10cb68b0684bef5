"""Draft a mapping from an article's text: structure, mentions, candidates, statements with their
speakers, dates, events, claims and stances. Every item keeps the evidence that produced it and what
the drafter is unsure of; every span is a slice of the text, so it grounds exactly."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from kg.draft import lexicon
from kg.draft.dates import DateFound, find_dates
from kg.draft.gazetteer import (
    Candidate,
    Gazetteer,
    Mention,
    candidate_mentions,
    find_candidates,
    gazetteer_of,
    is_actor,
    is_person,
    slug,
)
from kg.draft.text import (
    CLOSING_QUOTES,
    OPENING_QUOTES,
    Line,
    Quotation,
    find_quotations,
    masked,
    split_lines,
    split_sentences,
    word_bounded,
)
from kg.seeds.records import PLACE_TYPES, Registry


@dataclass(frozen=True)
class Span:
    begin: int
    end: int


@dataclass
class Drafted:
    """What every drafted item carries: why it was drafted, and what a curator should check."""

    evidence: str
    doubts: list[str] = field(default_factory=list)


@dataclass
class LineKind(Drafted):
    line: Line = None
    kind: str = "Paragraph"  # Heading, PhotoCaption, RelatedArticleLink, LinkMarker, CreditLine
    credit: str | None = None


@dataclass
class StatementDraft(Drafted):
    id: str = ""
    speaker: str = ""
    span: Span = None
    verbatim: list[Span] = field(default_factory=list)
    paraphrase: list[Span] = field(default_factory=list)
    on_behalf_of: str | None = None
    audience: str | None = None
    when: DateFound | None = None
    when_inferred: bool = False
    when_because: str = ""  # why an inferred date dates the statement
    at: str | None = None
    cameo: str | None = None
    verb: str = ""
    denial: bool = False  # the clause denies or rejects (someone's claims)
    target: str | None = None  # whom the act is directed at: the first other actor its words name
    stances: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ClaimDraft(Drafted):
    id: str = ""
    label: str = ""
    span: Span = None
    speaker: str = ""  # who asserts it ("" for a claim drafted from a denial: someone else's)
    also: list[Span] = field(default_factory=list)


@dataclass
class EventDraft(Drafted):
    id: str = ""
    type: str | None = None  # None: a registry event
    label: str | None = None
    span: Span = None
    also: list[Span] = field(default_factory=list)
    place: str | None = None
    date: DateFound | None = None
    participants: list[tuple[str, str]] = field(default_factory=list)
    cameo: str | None = None


@dataclass
class PositionDraft(Drafted):
    holder: str = ""
    title: str = ""
    of: str | None = None
    span: Span = None
    office: str | None = None  # the registry's office item, when one matches the title and jurisdiction


@dataclass
class Draft:
    """A drafted mapping of one article, before it is written as YAML."""

    article_id: str
    text: str
    published: dt.date
    publisher: str | None
    url: str
    headline: str | None
    lines: list[LineKind]
    mentions: list[Mention]
    candidates: dict[str, Candidate]
    dates: list[DateFound]
    statements: list[StatementDraft]
    claims: list[ClaimDraft]
    events: list[EventDraft]
    positions: list[PositionDraft]
    photo_credit: str | None = None
    credit_line: str | None = None
    inputs_from: list[str] = field(default_factory=list)  # news media the credit line names


SPEECH = "|".join(sorted(lexicon.SPEECH_VERBS, key=len, reverse=True))
ACTS = "|".join(sorted((re.escape(v) for v in lexicon.ACT_VERBS), key=len, reverse=True))
VERB = re.compile(rf"(?<![\w-])(?P<verb>{ACTS}|{SPEECH})(?![\w-])")
CONTINUING = frozenset({"adding", "saying", "noting", "stressing", "adds", "added"})  # ", adding that ..."
WEEKDAY_OR_ADVERB = (r"(?:\s*,?\s*(?:on\s+)?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
                     r"also|earlier|later|had|has|have|further|then|again|previously|repeatedly|once|yesterday|today|"
                     r"last week|this week|in a statement|in a speech|in an interview|on \w+ \d+))*\s*$")
MEDIA_NOUNS = re.compile(r"(?:'s|\u2019s)?\s+(?:state\s+|official\s+)?(?:media|news agency|newspaper|"
                         r"broadcaster|television|TV|radio)$")
ORGAN_NOUNS = re.compile(r"(?:'s|\u2019s)?\s+(?:foreign ministry|ministry|government|embassy|mission|office|"
                         r"leadership|side|delegation)(?:\s+(?:in|to|at)\s+[A-Z][\w.'-]*(?:\s[A-Z][\w.'-]*)?)?$",
                         re.IGNORECASE)  # 'X's embassy in Moscow': X, not Moscow
# Words between a reporting verb and 'that': who was told, where and when ('told the newspaper X on Tuesday that').
AUDIENCE_WORDS = ("reporters|journalists|lawmakers|diplomats|delegates|the|a|an|newspaper|news|press|conference|"
                  "briefing|agency|media|television|radio|interview|statement|meeting|regular|on|in|at|during|"
                  "earlier|later|also|separately|\\d+")
MEET = re.compile(r"\b(?:met|meets|meet with|held talks with|holds talks with|hosted|hosts|received)\s+")
TRAVEL = re.compile(r"\b(?:travel(?:s|led|ed)?|visit(?:s|ed)?|fl(?:y|ies|ew)|arrive[sd]?|head(?:s|ed)?)\s+(?:to|in)?\s*")
REPORTED_ACT = re.compile(r"^(?:it|he|she|they|we)\s+(?:" + "|".join(
    re.escape(verb) for verb, code in lexicon.ACT_VERBS.items() if code in ("051", "02")) + r")\b")
ANAPHORIC_DENIAL = re.compile(r"^\w+\s+(?:that|the|this|these|those|such)\s+(?:claims?|accusations?|allegations?|"
                             r"reports?|account|charges?)\b(?!\s+that)")
TITLE_WORDS = "|".join(sorted({t.lower() for t in lexicon.TITLES}, key=len, reverse=True))
TITLE_ALTERNATION = "|".join(sorted({re.escape(f) for t in lexicon.TITLES for f in (t, t.lower())}, key=len, reverse=True))
TITLE_BEFORE = re.compile(rf"(?:(?P<org>[\w.'\u2019-]+(?:\s\([A-Z]+\))?)\s+)?(?P<title>(?:{TITLE_ALTERNATION})"
                          rf"(?:\s+and\s+(?:{TITLE_ALTERNATION}))?)\s+$")
TITLE_AFTER = re.compile(rf"^,\s+(?:the|a|an)\s+(?P<title>{TITLE_ALTERNATION})(?:\s+(?:for|of|at)\s+(?:the\s+)?)?")
TITLE_AFTER_VERB = re.compile(rf"\s*(?:[Tt]he|[Aa]n?)\s+(?:[\w.'-]+\s+)?({TITLE_ALTERNATION})\b")
APPOSITION = re.compile(rf",\s+(?:(?:a|an)\s[^,]*|the\s+(?:[\w-]+\s+){{0,2}}(?:{TITLE_WORDS})\b[^,]*)(?=,)")
UP_TO_THAT = re.compile(rf"(?:\s*,?\s*(?:{AUDIENCE_WORDS}|[A-Z][\w.'-]*))*\s*,?\s*that\s+")
EVENT_NOUN = re.compile(r"(?<![\w-])(?:(?:an?|the|his|her|their|its)\s+(?:[\w-]+\s+){0,3}?|(?<=after )|(?<=during )|"
                        r"(?<=before )|(?<=at ))(" + "|".join(sorted((re.escape(n) for n in lexicon.EVENT_NOUNS),
                                                                      key=len, reverse=True)) + r")(?!\w)")
ACCORDING_TO = re.compile(r"(?:^|(?<=\W))[Aa]ccording to ")
PRONOUN = re.compile(r"(?:^|\W)(he|she|He|She)$")
EPITHET = re.compile(r"(?:^|\W)((?:[Tt]he)\s+(?:[\w-]+\s+){0,3}[a-z]+)$")  # 'the 52-year-old customs broker'
UNNAMED_SPOKESPERSON = re.compile(r"(?:^|\W)[Aa]n?\s+(?:[\w.'-]+\s+){0,2}(?:spokesperson|spokesman|spokeswoman|official|"
                                  r"diplomat|source)$")
DEFINITE_TITLE = re.compile(rf"(?:^|\W)(?:[Tt]he|[Aa]n?)\s+(?:[\w.'-]+\s+)?({'|'.join(lexicon.TITLES)}|"
                            rf"{'|'.join(t.lower() for t in lexicon.TITLES)})$")
CLAUSE_BREAK = re.compile(r",\s+(?:while|whereas)\s+(?!\w+ing\b)|;\s+")
# After a reporting verb, words that do not start a reported clause: a place, time or occasion, a participle.
NOT_REPORTED = re.compile(r"^(?:[,(]|(?:on|in|at|during|after|before|while|when|hours|days|from|with|making|following|ahead|amid|as)\b|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b)")
CONTINUATION = re.compile(r",\s*(?:adding|saying|noting|stressing|insisting|arguing)\s+(?:that\s+)?")
CLAIM_ACTS = frozenset({"praised", "praises", "praising", "hailed", "hails"})  # "praised X as Y": a claim


def draft_article(text: str, registry: Registry, *, article_id: str, published: dt.date, url: str,
                  publisher: str | None, headline: str | None = None) -> Draft:
    """Draft the mapping of one article from its text and the registry."""
    lines = split_lines(text)
    quotations = {line.number: find_quotations(text, line) for line in lines}
    masked_text = masked(text, [q for qs in quotations.values() for q in qs])
    gazetteer = gazetteer_of(registry)
    mentions = gazetteer.find(text)
    speech_forms = SPEECH + "|" + ACTS
    candidates = find_candidates(text, masked_text, mentions, registry, speech_forms)
    mentions = sorted(mentions + candidate_mentions(text, candidates, mentions), key=lambda m: m.begin)
    kinds = classify_lines(text, lines, registry, mentions, headline)
    dates = find_dates(text, published, masked_text)
    draft = Draft(article_id, text, published, publisher, url, headline, kinds, mentions, candidates, dates,
                  [], [], [], [])
    credits = [k.credit for k in kinds if k.kind == "PhotoCaption" and k.credit]
    draft.photo_credit = credits[0] if credits and len(set(credits)) == 1 else None
    credit_lines = [k.line.text for k in kinds if k.kind == "CreditLine"]
    draft.credit_line = credit_lines[0] if len(credit_lines) == 1 else None
    if draft.credit_line:
        line = next(k.line for k in kinds if k.kind == "CreditLine")
        draft.inputs_from = sorted({m.entity for m in mentions if line.begin <= m.begin < line.end
                                    and m.entity in registry.entities
                                    and registry.entities[m.entity].type == "NewsMedia"})
    Reader(draft, registry, quotations, masked_text, gazetteer).read()
    return draft


def classify_lines(text: str, lines: list[Line], registry: Registry, mentions: list[Mention],
                   headline: str | None) -> list[LineKind]:
    """What each line is, by news conventions: a link marker and the short titles after it, a caption
    ending in a photo credit, a credit line, a heading (short, no final stop, followed by a paragraph)."""
    kinds: list[LineKind] = []
    after_marker = False
    for index, line in enumerate(lines):
        content = line.text.strip()
        if not content:
            after_marker = False
            continue
        stripped = content.rstrip("\"'\u201d\u2019)")
        ends_sentence = stripped.endswith((".", "!")) or (stripped.endswith("?") and content != stripped)
        short = len(content) <= 120
        if lexicon.LINK_MARKER.match(content):
            kinds.append(LineKind(f"a link marker: {content!r}", line=line, kind="LinkMarker"))
            after_marker = True
            continue
        if lexicon.CREDIT_LINE.match(content) and short:
            kinds.append(LineKind("a credit line ('With inputs from', 'Reporting by' ...)", line=line, kind="CreditLine"))
            after_marker = False
            continue
        credit_match = lexicon.CAPTION_CREDIT.search(content)
        if credit_match:
            credit_name = credit_match.group("slash") or credit_match.group("paren")
            credit = next((m.entity for m in mentions if line.begin <= m.begin < line.end and m.form == credit_name
                           and m.entity in registry.entities), None)
            kind = LineKind(f"a photo caption ending in a credit: {credit_match.group().strip()!r}", line=line,
                            kind="PhotoCaption", credit=credit)
            if credit is None:
                kind.doubts.append(f"the credit {credit_name!r} is not in the registry")
            kinds.append(kind)
            after_marker = False
            continue
        if after_marker and short and not ends_sentence:
            kinds.append(LineKind("a title after a link marker", line=line, kind="RelatedArticleLink"))
            continue
        after_marker = False
        next_line = next((l for l in lines[index + 1:] if l.text.strip()), None)
        if headline and content == headline.strip():
            kinds.append(LineKind("the headline given to `kg new`", line=line, kind="Heading"))
        elif short and not ends_sentence and next_line is not None and not content.endswith(":"):
            kinds.append(LineKind("a short line without a final stop, followed by more text", line=line, kind="Heading"))
        else:
            kinds.append(LineKind("running text", line=line, kind="Paragraph"))
    return kinds


class Reader:
    """Reads the paragraphs in order, keeping what news prose refers back to: the last speaker (for
    'he said'), the titles people were given (for 'the spokesperson'), on whose behalf they speak."""

    def __init__(self, draft: Draft, registry: Registry, quotations: dict[int, list[Quotation]], masked_text: str,
                 gazetteer: Gazetteer):
        self.draft, self.registry, self.quotations, self.masked = draft, registry, quotations, masked_text
        self.gazetteer = gazetteer
        self.text = draft.text
        self.titles: dict[str, list[tuple[int, str, str | None]]] = {}  # person -> [(offset, title, of)]
        self.last_speaker: StatementDraft | None = None
        self.ids: set[str] = set()
        self.actor_mentions = [m for m in draft.mentions if self.actor(m.entity)]
        running_text = [k.line for k in draft.lines if k.kind == "Paragraph"]
        self.news_media = sorted({m.entity for m in draft.mentions if m.entity in registry.entities
                                  and registry.entities[m.entity].type == "NewsMedia"
                                  and any(line.begin <= m.begin < line.end for line in running_text)}
                                 - {draft.publisher})  # credits and credit lines name no speaker

    # -- helpers ---------------------------------------------------------------------------------
    def actor(self, entity: str) -> bool:
        return is_actor(self.registry, entity, self.draft.candidates)

    def person(self, entity: str) -> bool:
        return is_person(self.registry, entity, self.draft.candidates)

    def new_id(self, base: str) -> str:
        base = slug(base)[:60].strip("-") or "item"
        candidate, number = base, 2
        while candidate in self.ids or candidate in self.registry.entities:
            candidate, number = f"{base}-{number}", number + 1
        self.ids.add(candidate)
        return candidate

    def mention_ending_at(self, end: int, begin: int) -> Mention | None:
        for mention in reversed(self.actor_mentions):
            if begin <= mention.begin and mention.end <= end and not self.text[mention.end:end].strip():
                return mention
        return None

    def mentions_in(self, begin: int, end: int) -> list[Mention]:
        return [m for m in self.draft.mentions if begin <= m.begin and m.end <= end
                and not self.masked[m.begin:m.end].count("\u2591")]

    # -- reading ---------------------------------------------------------------------------------
    def read(self) -> None:
        self.read_titles()
        for kind in self.draft.lines:
            if kind.kind == "Paragraph":
                self.read_paragraph(kind.line)
        self.article_voice()
        self.draft_events()
        self.link_denials()

    def read_titles(self) -> None:
        """'U.S. President Jane Doe', 'Kremlin spokesperson John Roe', 'Jane Doe, the spokesperson
        for the UN': the person's title, and of which state or organisation."""
        before, after = TITLE_BEFORE, TITLE_AFTER
        for mention in self.draft.mentions:
            if not self.person(mention.entity) or "\u2591" in self.masked[mention.begin:mention.end]:
                continue
            window = self.masked[max(0, mention.begin - 80):mention.begin]
            match = before.search(window)
            if match and (match.group("title")[0].isupper() or match.group("title").islower()):
                org_begin = mention.begin - len(window) + match.start("title")
                of = self.organisation_before(org_begin)
                for title in re.split(r"\s+and\s+", match.group("title")):
                    self.add_position(mention, title, of, mention.begin - len(window) + match.start())
                continue
            match = after.match(self.masked[mention.end:mention.end + 80])
            if match:
                org = next((m for m in self.draft.mentions if m.begin == mention.end + match.end()), None)
                self.add_position(mention, match.group("title"), org.entity if org and self.actor(org.entity) else None,
                                  mention.begin, mention.end + (org.end - mention.end if org else match.end()))

    def organisation_before(self, offset: int) -> str | None:
        """The state or organisation named just before a title ('Kremlin spokesperson', 'ROK President',
        'Chinese State Councilor'); a parenthesised abbreviation between them is skipped."""
        head = re.sub(r"\s*\([A-Z]+\)\s*$", "", self.text[:offset].rstrip())
        for mention in reversed(self.draft.mentions):
            if mention.end == len(head) and self.actor(mention.entity) and not self.person(mention.entity):
                return mention.entity
            if mention.end < len(head) - 1:
                break
        return None

    def add_position(self, mention: Mention, title: str, of: str | None, begin: int, end: int | None = None) -> None:
        title = lexicon.TITLE_ABBREVIATIONS.get(title, title)
        title = title[0].upper() + title[1:]
        begin = self.organisation_start(begin)
        self.titles.setdefault(mention.entity, []).append((mention.begin, title.lower(), of))
        known = {(p.holder, p.title.lower()) for p in self.draft.positions}
        if (mention.entity, title.lower()) not in known and of is not None:
            span = Span(*word_bounded(self.text, begin, end or mention.end))
            self.draft.positions.append(PositionDraft(
                f"a title before or beside a name: {self.text[span.begin:span.end]!r}", holder=mention.entity,
                title=title, of=of, span=span, office=self.office_of(title, of)))

    def office_of(self, title: str, of: str) -> str | None:
        """The registry office of that jurisdiction whose name holds the title (the shortest: 'Foreign Minister
        of X' rather than 'Vice Foreign Minister of X')."""
        words = re.compile(rf"(?<!\w){re.escape(title.lower())}(?!\w)")
        offices = [e for e in self.registry.entities.values() if e.type == "Office"
                   and getattr(e, "jurisdiction", None) == of
                   and any(words.search(name.lower()) for name in (e.label, *e.aliases))]
        return min(offices, key=lambda e: len(e.label)).id if offices else None

    def organisation_start(self, begin: int) -> int:
        for mention in self.draft.mentions:
            if mention.begin <= begin < mention.end:
                return mention.begin
        return begin

    def read_paragraph(self, line: Line) -> None:
        quotations = self.quotations[line.number]
        sentences = split_sentences(self.masked, line)
        if quotations and quotations[0].begin == line.begin + 1 and all(
                not VERB.search(self.masked[s.begin:s.end]) for s in sentences):
            self.continued_quotation(line, quotations)
            return
        for sentence in sentences:
            clause_begin = sentence.begin
            breaks = [m for m in CLAUSE_BREAK.finditer(self.masked, sentence.begin, sentence.end)]
            bounds = [(sentence.begin, sentence.end)]
            if breaks:
                bounds = []
                for match in breaks:
                    bounds.append((clause_begin, match.start()))
                    clause_begin = match.start() + 2 if match.group().startswith(",") else match.end()
                bounds.append((clause_begin, sentence.end))
            for begin, end in bounds:
                self.read_clause(begin, end, sentence.begin, sentence.end, quotations)
        self.attach_quotations(line, quotations)

    def attach_quotations(self, line: Line, quotations: list[Quotation]) -> None:
        """'"...," he said. "..."': a quotation after a statement in the same paragraph, with no verb
        of its own, continues that statement."""
        statements = [s for s in self.draft.statements if line.begin <= s.span.begin < line.end]
        for quote in quotations:
            if any(s.span.begin <= quote.begin and quote.end <= s.span.end + 1 for s in statements):
                continue
            before = [s for s in statements if s.span.end <= quote.begin]
            if before:
                statement = before[-1]
                end = min(line.end, quote.end + 1) if quote.closed else quote.end
                statement.span = Span(statement.span.begin, end)
                statement.verbatim.append(Span(quote.begin, quote.end))
                statement.doubts.append("a later quotation of the paragraph, without a verb, taken as the same speaker's")
                if not any(c for c, _ in statement.stances) and len(self.text[quote.begin:quote.end].split()) >= 6 \
                        and statement.verb not in lexicon.ACT_VERBS:
                    self.draft_claims(statement, Span(quote.begin, quote.end), "asserts")

    def article_voice(self) -> None:
        """A sentence that names a registry actor and reports nobody's words (no quotation, no reporting verb
        but a negated one: 'X has not confirmed') is the article's own assertion: the publisher's statement."""
        publisher = self.draft.publisher
        if publisher not in self.registry.entities:
            return
        for kind in self.draft.lines:
            if kind.kind != "Paragraph":
                continue
            for sentence in split_sentences(self.masked, kind.line):
                body = self.masked[sentence.begin:sentence.end]
                if "\u2591" in body or any(q in body for q in OPENING_QUOTES + CLOSING_QUOTES):
                    continue  # someone's words
                reported = [m for m in VERB.finditer(body) if not re.search(r"\b(?:not|n't|never)\s+(?:\w+\s+)?$",
                                                                           body[:m.start()])]
                if reported or any(s.span.begin < sentence.end and sentence.begin < s.span.end
                                   for s in self.draft.statements):
                    continue
                named = [m for m in self.mentions_in(sentence.begin, sentence.end) if self.actor(m.entity)
                         and m.entity in self.registry.entities and m.entity != publisher]
                begin, end = word_bounded(self.text, sentence.begin, sentence.end)
                content_end = end - 1 if self.text[end - 1] in ".!" else end
                if not named or len(self.text[begin:content_end].split()) < 4:
                    continue
                statement = StatementDraft("the article's own voice: a sentence naming no source", speaker=publisher,
                                           span=Span(begin, end), paraphrase=[Span(begin, content_end)],
                                           cameo=None, verb="")
                statement.doubts.append("the article's own assertion, or someone's the article does not name?")
                statement.id = self.new_id(f"{publisher}-{' '.join(re.findall(r'[a-z]{4,}', self.text[begin:end].lower())[:3])}")
                self.draft.statements.append(statement)
                self.draft_claims(statement, Span(begin, content_end), "asserts")

    def continued_quotation(self, line: Line, quotations: list[Quotation]) -> None:
        """A paragraph that is only a quotation continues the previous speaker's words."""
        previous = self.last_speaker
        if previous is None:
            return
        begin, end = word_bounded(self.text, line.begin, line.end)
        statement = StatementDraft(
            "a paragraph that is only a quotation, without attribution", id=self.new_id(f"{previous.speaker}-quote"),
            speaker=previous.speaker, span=Span(begin, end),
            verbatim=[Span(q.begin, q.end) for q in quotations], on_behalf_of=previous.on_behalf_of,
            when=previous.when, when_inferred=previous.when is not None, cameo=lexicon.SPEECH_VERB_CAMEO,
            when_because=f"the quotation continues the previous statement ({previous.id})")
        statement.doubts.append(f"speaker taken from the previous statement ({previous.id}); check it")
        self.add_statement(statement)
        for quote in statement.verbatim:
            if len(self.text[quote.begin:quote.end].split()) >= 6:
                self.draft_claims(statement, quote, "asserts")

    def read_clause(self, begin: int, end: int, sentence_begin: int, sentence_end: int,
                    quotations: list[Quotation]) -> None:
        if self.according_to(begin, end, quotations):
            return
        verbs = [m for m in VERB.finditer(self.masked, begin, end) if m.group("verb") not in CONTINUING
                 or not re.search(r",\s*$", self.masked[begin:m.start()])]
        verbs.sort(key=lambda m: m.group("verb").endswith("ing"))  # a finite verb is the main one
        denial = any(m.group("verb") in lexicon.DENIAL_VERBS for m in verbs)
        for match in verbs:
            verb = match.group("verb")
            if verb in CONTINUING and match.start() > begin:
                continue
            resolved = self.speaker_of(match, begin)
            if resolved is None:
                continue
            speaker, how, doubts, subject_begin, after_verb = resolved
            self.statement(match, verb, speaker, how, doubts, begin, end, subject_begin, after_verb, quotations, denial)
            return

    def according_to(self, begin: int, end: int, quotations: list[Quotation]) -> bool:
        """'According to X, ...' and '..., according to X.': X says what the rest of the clause says."""
        match = ACCORDING_TO.search(self.masked, begin, end)
        if not match:
            return False
        source = next((m for m in self.actor_mentions if m.begin == match.end()), None)
        if source is None:
            return False
        source_end = source.end
        apposition = APPOSITION.match(self.masked[source_end:end])  # 'X, an analyst at Y,' / 'X, the spokesperson for Y,' 
        if apposition:
            source_end += apposition.end()
        if match.start() - begin <= 1:  # at the start: the words after the source's comma
            rest = re.match(r"\s*,\s*", self.masked[source_end:end])
            part = word_bounded(self.text, source_end + (rest.end() if rest else 0), end)
        else:  # at the end: the words before ', according to'
            part = word_bounded(self.text, begin, match.start() - (1 if self.text[match.start() - 2:match.start()].startswith(",") else 0))
            part = (part[0], part[1] - (1 if self.text[part[1] - 1] == "," else 0))
        if self.text[part[1] - 1:part[1]] == ".":
            part = (part[0], part[1] - 1)
        if len(self.text[part[0]:part[1]].split()) < 3:
            return False
        span = Span(*word_bounded(self.text, begin, end))
        statement = StatementDraft(f"'according to' a source: {self.text[match.start():source.end]!r}", speaker=source.entity,
                                   span=span, verbatim=[Span(q.begin, q.end) for q in quotations
                                                        if span.begin <= q.begin and q.end <= span.end],
                                   paraphrase=[Span(*part)], cameo=lexicon.SPEECH_VERB_CAMEO, verb="according to")
        statement.on_behalf_of = self.on_behalf_of(source.entity, begin)
        dates = [d for d in self.draft.dates if span.begin <= d.begin and d.end <= span.end and not d.inferred]
        statement.when = dates[0] if dates else None
        statement.id = self.new_id(f"{source.entity}-{' '.join(re.findall(r'[a-z]{4,}', self.text[part[0]:part[1]].lower())[:3])}")
        self.add_statement(statement)
        self.draft_claims(statement, Span(*part), "asserts")
        return True

    def speaker_of(self, match: re.Match, begin: int):
        """Who speaks: the subject before the verb (a name, 'he', 'the spokesperson', 'X's state media'),
        or the name after it ('said Jane Doe'); None when there is none."""
        verb_begin, verb_end = match.start(), match.end()
        verb = match.group("verb")
        before = self.masked[begin:verb_begin]
        trimmed = re.sub(WEEKDAY_OR_ADVERB, "", before)
        parenthetical = re.search(r",[^,]*,\s*$", trimmed)
        if parenthetical and not re.search(r"[\"\u201d\u2591],\s*$", trimmed):
            trimmed = trimmed[:parenthetical.start()]
        subject_end = begin + len(trimmed.rstrip())
        doubts: list[str] = []
        # "said Jane Doe" / "said the spokesperson" after a quotation
        if re.search(r"[\"\u201d\u2591],?\s*$", trimmed) or not trimmed.strip():
            after = self.masked[verb_end:verb_end + 120]
            lead = len(after) - len(after.lstrip())
            mention = next((m for m in self.actor_mentions if m.begin == verb_end + lead), None)
            if mention:
                return mention.entity, f"the name after the verb: {self.text[verb_begin:mention.end]!r}", doubts, \
                    verb_begin, mention.end
            title = TITLE_AFTER_VERB.match(after)
            if title:
                person = self.titled_person(title.group(1), verb_begin)
                if person:
                    return person, f"'the {title.group(1)}' after the verb: the last person so titled", \
                        ["'the " + title.group(1) + "' resolved to the last person with that title"], \
                        verb_begin, verb_end + title.end()
        organ = ORGAN_NOUNS.search(self.masked[begin:subject_end])
        if organ:
            owner = self.mention_ending_at(begin + organ.start(), begin)
            if owner:
                return owner.entity, f"{self.text[owner.begin:subject_end]!r}: an organ of the state", \
                    ["an organ of the state taken as the state"], owner.begin, verb_end
        mention = self.mention_ending_at(subject_end, begin)
        if mention is not None and verb in lexicon.ACT_VERBS and not self.actor(mention.entity):
            mention = None
        if mention is not None:
            return mention.entity, f"the subject of {verb!r}: {self.text[mention.begin:mention.end]!r}", doubts, \
                mention.begin, verb_end
        media = MEDIA_NOUNS.search(self.masked[begin:subject_end])
        if media:
            if len(self.news_media) == 1:
                noun_phrase = self.masked.rfind(",", begin, begin + media.start()) + 1 or begin
                how = f"'{self.text[noun_phrase:subject_end].strip()}': the one news agency the article names"
                return self.news_media[0], how, ["a news medium resolved to the only one the article names"], \
                    noun_phrase, verb_end
            owner = self.mention_ending_at(begin + media.start(), begin)
            if owner:
                return owner.entity, "a state's media", ["media of a state taken as the state; name the medium"], \
                    owner.begin, verb_end
        pronoun = PRONOUN.search(self.masked[begin:subject_end])
        if pronoun:
            person, how = self.referent(begin + pronoun.start(1))
            if person:
                return person, f"{pronoun.group(1)!r}: {how}", [f"{pronoun.group(1)!r} resolved to {how}"], \
                    begin + pronoun.start(1), verb_end
        epithet = EPITHET.search(self.masked[begin:subject_end])
        if epithet and not DEFINITE_TITLE.search(self.masked[begin:subject_end]):
            person, how = self.referent(begin + epithet.start(1), prefer_speaker=False)
            if person:
                return person, f"{epithet.group(1)!r}: {how}", [f"{epithet.group(1)!r} resolved to {how}"], \
                    begin + epithet.start(1), verb_end
        unnamed = UNNAMED_SPOKESPERSON.search(self.masked[begin:subject_end])
        if unnamed:
            organisation = [m for m in self.actor_mentions if begin + unnamed.start() <= m.begin
                            and m.end <= subject_end and not self.person(m.entity)]
            if organisation:
                return organisation[-1].entity, f"{unnamed.group().strip()!r}: an unnamed voice of the organisation", \
                    ["an unnamed spokesperson taken as the organisation"], begin + unnamed.start(), verb_end
        title = DEFINITE_TITLE.search(self.masked[begin:subject_end])
        if title:
            person = self.titled_person(title.group(1), verb_begin)
            if person:
                return person, f"'the {title.group(1)}': the last person so titled", \
                    [f"'the {title.group(1)}' resolved to the last person with that title"], \
                    begin + title.start(), verb_end
        if verb.endswith("ing") and verb in lexicon.ACT_VERBS:
            persons = [m for m in self.actor_mentions if begin <= m.begin and m.end <= verb_begin
                       and self.person(m.entity)]
            if persons:
                return persons[-1].entity, f"the person doing what {verb!r} goes with", \
                    ["the subject of a participle taken as the last person before it"], persons[-1].begin, verb_end
        return None

    def referent(self, offset: int, prefer_speaker: bool = True) -> tuple[str | None, str]:
        """Who 'he', 'she' or 'the customs broker' is: the last person quoted when quoted in this or the
        previous paragraph, else the last person named before (outside quotations) in this or the previous one."""
        paragraphs = [k.line for k in self.draft.lines if k.kind == "Paragraph"]
        here = next((i for i, line in enumerate(paragraphs) if line.begin <= offset <= line.end), 0)
        window_begin = paragraphs[max(here - 1, 0)].begin if paragraphs else 0
        last = self.last_speaker
        if prefer_speaker and last is not None and self.person(last.speaker) and last.span.begin >= window_begin:
            return last.speaker, "the last person quoted"
        named = [m for m in self.actor_mentions if window_begin <= m.begin and m.end <= offset
                 and self.person(m.entity) and "\u2591" not in self.masked[m.begin:m.end]]
        if named:
            return named[-1].entity, "the last person named"
        if last is not None and self.person(last.speaker):
            return last.speaker, "the last person quoted"
        return None, ""

    def titled_person(self, title: str, before: int) -> str | None:
        title = title.lower()
        best: tuple[int, str] | None = None
        for person, titles in self.titles.items():
            for offset, held, _ in titles:
                if offset < before and (held == title or held.endswith(" " + title)) and (best is None or offset > best[0]):
                    best = (offset, person)
        return best[1] if best else None

    def on_behalf_of(self, speaker: str, before: int) -> str | None:
        """A spokesperson speaks for the state or organisation of their title."""
        titles = self.titles.get(speaker, [])
        for offset, title, of in sorted(titles, reverse=True):
            if title in lexicon.SPOKESPERSON_TITLES and of:
                return of
        if any(title in lexicon.SPOKESPERSON_TITLES for _, title, _ in titles):
            spoken = re.compile(r"(?:spokesperson|spokesman|spokeswoman)\b")
            for mention in reversed([m for m in self.actor_mentions if m.end <= before and not self.person(m.entity)]):
                if spoken.match(self.masked[mention.end:mention.end + 20].lstrip()):
                    return mention.entity  # 'a UN spokesperson said ... Spokesperson Jane Doe told ...'
        return None

    def statement(self, match, verb, speaker, how, doubts, begin, end, subject_begin, after_verb, quotations,
                  denial: bool) -> None:
        text = self.text
        span = Span(*word_bounded(text, begin, end))
        inside = [q for q in quotations if span.begin <= q.begin and q.end <= span.end + 1]
        verbatim = [Span(q.begin, q.end) for q in inside]
        paraphrase: list[Span] = []
        if verb in lexicon.ACT_VERBS:
            rest_begin = match.start()
        else:
            rest_begin = after_verb
            audience = re.match(r"\s*(?:" + "|".join(re.escape(a) for a in lexicon.AUDIENCES) + r")\b",
                                self.masked[rest_begin:end])
            if audience:
                rest_begin += audience.end()
            that = UP_TO_THAT.match(self.masked[rest_begin:end])
            if that:
                rest_begin += that.end()
            elif NOT_REPORTED.match(self.masked[rest_begin:end].lstrip()) or (
                    verb in ("told", "tells") and re.match(r"\s*(?:a|an|the)\b", self.masked[rest_begin:end])):
                continuation = CONTINUATION.search(self.masked, rest_begin, end)
                rest_begin = continuation.end() if continuation else end
        rest_begin, rest_end = word_bounded(text, rest_begin, end)
        rest_end = rest_end - 1 if text[rest_end - 1:rest_end] == "." and text[rest_end - 2:rest_end - 1] != "." \
            and not any(q.end == rest_end - 1 for q in inside) else rest_end
        content = self.masked[rest_begin:rest_end]
        if content and not re.fullmatch(r"[\W\u2591]*", content) and len(content.split()) >= 3 and \
                not re.fullmatch(r"\s*[\"\u201c]?\u2591[\u2591\s]*[\"\u201d]?[,.]?\s*", content) and \
                not re.match(r"[\"\u201c]", content):  # words of the article's own, not only a quotation
            paraphrase.append(Span(rest_begin, rest_end))
        head = self.masked[begin:subject_begin]
        lead = re.match(r"^(.*?),\s*$", head)
        if lead and not paraphrase and len(lead.group(1).split()) >= 4 and not re.match(
                r"[\"\u201c\u2591]|\w+ing\b", lead.group(1)) and not NOT_REPORTED.match(lead.group(1).lower()):
            paraphrase.append(Span(*word_bounded(text, begin, begin + len(lead.group(1)))))
        if not verbatim and not paraphrase:
            return
        statement = StatementDraft(how, id="", speaker=speaker, span=span, verbatim=verbatim, paraphrase=paraphrase,
                                   cameo=lexicon.act_code(verb, self.masked[match.end():end]), verb=verb,
                                   denial=denial)
        statement.doubts.extend(doubts)
        audience = re.match(r"\s*(reporters|journalists|lawmakers)\b", self.masked[after_verb:end])
        statement.audience = audience.group(1) if audience else None
        behalf = self.on_behalf_of(speaker, begin)
        quoted_subject = re.search(r"^(.*?)[\"\u201c]", self.masked[begin:span.end])
        if quoted_subject:
            subject = self.mention_ending_at(begin + len(quoted_subject.group(1).rstrip()), begin)
            if subject and subject.entity != speaker and self.actor(subject.entity) and behalf is None:
                behalf = subject.entity  # 'X "...," said Y': Y speaks for X
                statement.doubts.append(f"spoken on behalf of {subject.entity}, named before the quotation")
            elif subject and subject.entity not in (speaker, behalf) and self.actor(subject.entity):
                # a spokesperson speaks for the body of the position, even when the words are about X's view
                statement.doubts.append(f"the words are {subject.entity}'s view, named before the quotation; "
                                        f"the spokesperson speaks for {behalf}")
        statement.on_behalf_of = behalf
        dates = [d for d in self.draft.dates if span.begin <= d.begin and d.end <= span.end and not d.inferred]
        if dates:
            statement.when = dates[0]
        else:
            earlier = next((s for s in reversed(self.draft.statements) if s.speaker == speaker and s.when), None)
            if earlier:
                statement.when, statement.when_inferred = earlier.when, True
                statement.when_because = f"the speaker's previous statement ({earlier.id}) is dated so"
                statement.doubts.append(f"date inferred from the speaker's previous statement ({earlier.id})")
        statement.id = self.new_id(f"{speaker}-{' '.join(re.findall(r'[a-z]{4,}', text[(paraphrase or verbatim)[0].begin:(paraphrase or verbatim)[0].end].lower())[:3])}")
        self.add_statement(statement)
        if verb in lexicon.ACT_VERBS and verb not in lexicon.DENIAL_VERBS and verb not in CLAIM_ACTS:
            adding = CONTINUATION.search(self.masked, match.end(), end)
            if adding:  # 'X urged ..., adding that Y': the appeal asserts nothing, the addition does
                self.draft_claims(statement, Span(*word_bounded(text, adding.end(), paraphrase[0].end if paraphrase
                                                                else end)), "asserts")
            return  # an appeal, a welcome, an offer: an act, not an assertion
        if verb in lexicon.DENIAL_VERBS and paraphrase and self.denies_the_claim_before(statement, paraphrase[0]):
            return
        for part in paraphrase:
            self.draft_claims(statement, part, "denies" if verb in lexicon.DENIAL_VERBS else "asserts")
        if not paraphrase:
            for quote in verbatim:
                if len(text[quote.begin:quote.end].split()) >= 6:
                    self.draft_claims(statement, quote, "asserts")

    def denies_the_claim_before(self, statement: StatementDraft, part: Span) -> bool:
        """'Y denied that claim, saying ...': the denial answers the claim made just before (by someone
        else); what follows 'saying' is Y's own assertion."""
        words = self.masked[part.begin:part.end]
        if not ANAPHORIC_DENIAL.match(words):
            return False
        earlier = [c for c in self.draft.claims if c.speaker and c.speaker != statement.speaker
                   and c.span.end <= statement.span.begin]
        if earlier:
            statement.stances.append((earlier[-1].id, "denies"))
            statement.doubts.append(f"'{ANAPHORIC_DENIAL.match(words).group().strip()}' taken as {earlier[-1].id}, "
                                    "the claim made just before")
        saying = CONTINUATION.search(words)
        if saying:
            self.draft_claims(statement, Span(part.begin + saying.end(), part.end), "asserts")
        return True

    def add_statement(self, statement: StatementDraft) -> None:
        if not statement.id:
            statement.id = self.new_id(statement.speaker)
        words = statement.paraphrase + statement.verbatim or [statement.span]
        others = [m.entity for span in words for m in self.draft.mentions
                  if span.begin <= m.begin and m.end <= span.end and self.actor(m.entity)
                  and m.entity not in (statement.speaker, statement.on_behalf_of) and m.entity not in self.news_media
                  and m.entity != self.draft.publisher]
        statement.target = others[0] if others else None
        self.draft.statements.append(statement)
        if self.person(statement.speaker) or self.actor(statement.speaker):
            self.last_speaker = statement

    def draft_claims(self, statement: StatementDraft, part: Span, stance: str) -> None:
        """What a statement asserts: its reported clause, cut at ', but' into one claim each; a reported
        act ('said that it welcomed ...') asserts nothing."""
        text = self.text
        if REPORTED_ACT.match(self.masked[part.begin:part.end]):
            return
        content_begin = part.begin
        if stance == "denies":
            that = re.search(r"\bclaims?\s+that\s+|\ballegations?\s+that\s+|\breports?\s+that\s+",
                             self.masked[part.begin:part.end])
            if that:
                content_begin = part.begin + that.end()
        pieces, start = [], content_begin
        for cut in re.finditer(r",?\s+but\s+(?=(?:he|she|they|it|we|the|[A-Z]|\w+ed\b))",
                               self.masked[content_begin:part.end]):
            pieces.append((start, content_begin + cut.start()))
            start = content_begin + cut.end()
        pieces.append((start, part.end))
        for begin, end in pieces:
            begin, end = word_bounded(text, begin, end)
            words = text[begin:end]
            if len(words.split()) < 3:
                continue
            label = words.strip("\"\u201c\u201d ,.")
            claim = ClaimDraft(f"the reported clause of {statement.id}", id=self.new_id(
                " ".join(re.findall(r"[A-Za-z]{3,}", label)[:6])), label=label[0].upper() + label[1:],
                span=Span(begin, end), speaker=statement.speaker if stance == "asserts" else "")
            claim.doubts.append("label: the article's words; restate it as a proposition, naming who and what")
            self.draft.claims.append(claim)
            statement.stances.append((claim.id, stance))

    def link_denials(self) -> None:
        """A denial of someone's claims answers the claim of theirs it shares most words with."""
        for statement in self.draft.statements:
            if not statement.denial:
                continue
            whose = re.search(r"(?:([\w.'\u2019-]+(?: [\w.'-]+){0,3})(?:'s|\u2019s) (?:claims?|allegations?|assertions?)|"
                              r"claims? made by (?:his |her |their |the )?([\w.'-]+(?: [\w.'-]+){0,3}))",
                              self.text[statement.span.begin:statement.span.end])
            if not whose:
                continue
            named = self.mentions_in(statement.span.begin + whose.start(), statement.span.begin + whose.end())
            owners = {m.entity for m in named if self.actor(m.entity)}
            owners |= {person for person, titles in self.titles.items() for _, _, of in titles if of in owners}
            own = {claim for claim, _ in statement.stances}
            words = self.content_words(statement)
            theirs = [c for c in self.draft.claims if c.speaker in owners and c.id not in own]
            if not theirs:
                continue
            best = max(theirs, key=lambda c: len(words & set(re.findall(r"[a-z]{4,}", c.label.lower()))))
            overlap = words & set(re.findall(r"[a-z]{4,}", best.label.lower()))
            if len(overlap) >= 2:
                denied = [c for c in self.draft.claims if (c.id, "denies") in statement.stances and not c.speaker]
                for claim in denied:  # the denied words are another mention of the claim denied
                    best.also.append(claim.span)
                    self.draft.claims.remove(claim)
                statement.stances = [(c, s) for c, s in statement.stances if c not in {d.id for d in denied}]
                statement.stances.append((best.id, "denies"))
                statement.doubts.append(f"denies {best.id} (shares the words {', '.join(sorted(overlap))})")

    def content_words(self, statement: StatementDraft) -> set[str]:
        words = set(re.findall(r"[a-z]{4,}", self.text[statement.span.begin:statement.span.end].lower()))
        return words - {"that", "with", "this", "from", "have", "were", "said", "claims", "denying", "rejecting", "while"}

    # -- events ----------------------------------------------------------------------------------
    def draft_events(self) -> None:
        """Events named by event nouns ('a press conference', 'a meeting with ...'), registry events
        named by their aliases or by 'summit in <place>', and the reports of news media who speak."""
        forms = self.gazetteer.event_forms
        registry_events = {event_id: self.registry.entities[event_id] for event_id in set(forms.values())}
        by_id: dict[str, EventDraft] = {}
        paragraphs = [k.line for k in self.draft.lines if k.kind in ("Paragraph", "PhotoCaption")]
        for line in paragraphs:
            for sentence in split_sentences(self.masked, line):
                body = self.masked[sentence.begin:sentence.end]
                for match in self.gazetteer.event_pattern.finditer(body) if self.gazetteer.event_pattern else ():
                    self.event_seen(by_id, forms[match.group()], None, sentence.begin + match.start(),
                                    sentence.begin + match.end(), f"a registry event's name: {match.group()!r}")
                for match in EVENT_NOUN.finditer(body):
                    noun = match.group(1)
                    begin, end = sentence.begin + match.start(), sentence.begin + match.end()
                    if noun in ("call", "address", "talks", "visit") and not re.search(
                            r"(?:phone|telephone|state|official|keynote|inaugural)\s", match.group()):
                        continue
                    if re.search(r"\b(?:future|next|further|upcoming|possible)\b", match.group()) or re.match(
                            r"an?\s+(?:second|third|fourth|fifth|new)\s", match.group()):
                        continue
                    self.event_noun(by_id, noun, begin, end, sentence, registry_events)
                for match in TRAVEL.finditer(body):
                    self.visit(by_id, sentence, sentence.begin + match.start(), sentence.begin + match.end())
                for match in MEET.finditer(body):
                    self.meeting(by_id, sentence, sentence.begin + match.start(), sentence.begin + match.end())
        for mention in self.draft.mentions:  # a historical event the text names: what it says of it
            entity = self.registry.entities.get(mention.entity)
            if entity and entity.type == "HistoricalEvent" and mention.entity not in by_id and any(
                    k.kind == "Paragraph" and k.line.begin <= mention.begin < k.line.end for k in self.draft.lines):
                self.event_seen(by_id, mention.entity, None, mention.begin, mention.end,
                                f"a historical event of the registry: {mention.form!r}")
        for statement in self.draft.statements:
            if statement.speaker in self.news_media and not statement.at:
                event = EventDraft(f"{statement.speaker} speaks: its report", id=self.new_id(f"{statement.speaker}-report"),
                                   type="NewsReport", label=f"Report by {self.entity_label(statement.speaker)}",
                                   span=statement.span, date=statement.when,
                                   participants=[(statement.speaker, "reporter")])
                by_id[event.id] = event
                for other in self.draft.statements:
                    if other.speaker == statement.speaker:
                        other.at = event.id
                break
        self.draft.events = sorted(by_id.values(), key=lambda e: e.span.begin)

    def visit(self, by_id: dict[str, EventDraft], sentence, verb_begin: int, verb_end: int) -> None:
        """'X will travel to Pyongyang for talks': a visit, with its place, the visitor and the host."""
        place = next((m for m in self.draft.mentions if m.begin == verb_end and m.entity in self.registry.entities
                      and self.registry.entities[m.entity].type in PLACE_TYPES), None)
        if place is None or any(e.span.begin < verb_end and verb_begin < e.span.end for e in by_id.values()):
            return
        phrase_end = self.masked.find(",", place.end, sentence.end)
        span = Span(*word_bounded(self.text, sentence.begin, sentence.end if phrase_end == -1 else phrase_end))
        visitors = [m.entity for m in self.mentions_in(sentence.begin, verb_begin) if self.actor(m.entity)]
        participants = [(visitors[-1], "visitor")] if visitors else []
        if self.registry.entities[place.entity].type == "State":
            participants.append((place.entity, "host"))
        date = next((d for d in self.draft.dates if span.begin <= d.begin < span.end and not d.inferred), None)
        event = EventDraft(f"a verb of travel to a place: {self.text[verb_begin:place.end]!r}",
                           id=self.new_id(f"visit-to-{place.entity}"), type="Event",
                           label=f"Visit to {self.entity_label(place.entity)}", span=span, place=place.entity,
                           date=date, participants=participants)
        if not visitors:
            event.doubts.append("who travels is not a registry name; add the visitor")
        by_id[event.id] = event

    def meeting(self, by_id: dict[str, EventDraft], sentence, verb_begin: int, verb_end: int) -> None:
        """'X met Y in Oslo on Sunday': a meeting of the persons (or states) on either side of the verb."""
        clause_end = self.masked.find(",", verb_end, sentence.end)
        clause_end = sentence.end if clause_end == -1 else clause_end
        if any(e.span.begin < clause_end and verb_begin < e.span.end for e in by_id.values()):
            return
        named = [m for m in self.mentions_in(sentence.begin, clause_end) if self.actor(m.entity)]
        before = [m.entity for m in named if m.end <= verb_begin]
        after = [m.entity for m in named if m.begin >= verb_end]
        if not before or not after:
            return
        people = [e for e in (before[-1], after[0])]
        place = next((m.entity for m in self.mentions_in(verb_end, clause_end) if m.entity in self.registry.entities
                      and self.registry.entities[m.entity].type in PLACE_TYPES
                      and re.search(r"\b(?:in|at)\s+$", self.text[max(m.begin - 4, 0):m.begin])), None)
        date = next((d for d in self.draft.dates if sentence.begin <= d.begin < clause_end and not d.inferred), None)
        span = Span(*word_bounded(self.text, sentence.begin, clause_end))
        host = self.masked[verb_begin:verb_end].strip() in ("hosted", "hosts", "received")
        event = EventDraft(f"a verb of meeting: {self.text[verb_begin:verb_end].strip()!r}",
                           id=self.new_id(f"{people[0]}-{people[1]}-meeting"), type="Meeting",
                           label=f"Meeting of {self.entity_label(people[0])} and {self.entity_label(people[1])}",
                           span=span, place=place, date=date, cameo="043" if host else "04",
                           participants=[(people[0], "host" if host else "party"),
                                         (people[1], "visitor" if host else "party")])
        by_id[event.id] = event

    def entity_label(self, entity_id: str) -> str:
        if entity_id in self.registry.entities:
            return self.registry.entities[entity_id].label
        return self.draft.candidates[entity_id].label

    def event_seen(self, by_id: dict[str, EventDraft], event_id: str, event_type: str | None, begin: int, end: int,
                   evidence: str) -> EventDraft:
        if event_id in by_id:
            event = by_id[event_id]
            span = Span(begin, end)
            if not any(s.begin < end and begin < s.end for s in [event.span, *event.also]):
                event.also.append(span)
            return event
        cameo = lexicon.EVENT_CAMEO.get(self.registry.entities[event_id].type) if event_id in self.registry.entities \
            else None
        event = EventDraft(evidence, id=event_id, type=event_type, span=Span(begin, end), cameo=cameo)
        by_id[event_id] = event
        return event

    def event_noun(self, by_id, noun: str, begin: int, end: int, sentence, registry_events) -> None:
        event_type = lexicon.EVENT_NOUNS[noun]
        clause_mentions = self.mentions_in(sentence.begin, sentence.end)
        phrase_end = self.masked.find(",", end, sentence.end)
        phrase_end = sentence.end if phrase_end == -1 else phrase_end
        phrase_mentions = [m for m in clause_mentions if end <= m.begin and m.end <= phrase_end]
        places = [m for m in clause_mentions if m.begin >= end and m.entity in self.registry.entities
                  and self.registry.entities[m.entity].type in PLACE_TYPES - {"State"}
                  and re.match(r"\s*(?:in|at)\s+$", self.text[max(m.begin - 4, 0):m.begin])]
        places = places or [m for m in clause_mentions if m.begin >= end and m.entity in self.registry.entities
                            and self.registry.entities[m.entity].type in PLACE_TYPES
                            and re.search(r"\b(?:in|at)\s+$", self.text[max(m.begin - 4, 0):m.begin])]
        place = places[0].entity if places else None
        if event_type == "Summit":
            # "the summit in Hanoi": the registry summit of that place; otherwise the last summit named
            place_names = {self.registry.entities[place].label, *self.registry.entities[place].aliases} if place else set()
            known = next((e.id for e in registry_events.values() if e.type == "Summit" and any(
                f"{name} summit".lower() in [a.lower() for a in (e.label, *e.aliases)] for name in place_names)), None)
            if known is None:
                summits = [e for e in by_id.values() if e.id in registry_events and registry_events[e.id].type == "Summit"
                           and e.span.begin < begin]
                known = summits[-1].id if summits else None
            if known:
                phrase = Span(*word_bounded(self.text, begin, phrase_end))
                event = self.event_seen(by_id, known, None, begin, phrase.end if place else end,
                                        f"a summit: {self.text[begin:end]!r}")
                event.place = event.place or place
                when = [d for d in self.draft.dates if end <= d.begin < phrase_end and not d.inferred]
                if when and event.date is None and event.span.begin == begin:
                    event.date = when[0]
                return
        dates = [d for d in self.draft.dates if sentence.begin <= d.begin < sentence.end and not d.inferred]
        participants: list[tuple[str, str]] = []
        speakers = [s for s in self.draft.statements if s.span.begin <= end and begin <= s.span.end]
        role = "speaker" if event_type in ("PressConference", "Speech") else "party"
        for statement in speakers:
            participants.append((statement.speaker, role))
        if event_type not in ("PressConference", "Speech"):
            for mention in phrase_mentions:
                if self.person(mention.entity) and (mention.entity, "party") not in participants:
                    participants.append((mention.entity, "party"))
        if not (participants or place or dates):
            return
        if any(e.span.begin < end and begin < e.span.end for e in by_id.values()):
            return
        subject = participants[0][0] if participants else (place or "unknown")
        label = f"{event_type_words(event_type).capitalize()} of {self.entity_label(subject)}" \
            if participants else f"{event_type_words(event_type).capitalize()} in {self.entity_label(subject)}"
        span = Span(*word_bounded(self.text, sentence.begin, sentence.end))
        event = EventDraft(f"an event noun: {self.text[begin:end]!r}", id=self.new_id(f"{subject}-{noun}"),
                           type=event_type, label=label, span=span, place=place, date=dates[0] if dates else None,
                           participants=participants, cameo=lexicon.EVENT_CAMEO.get(event_type))
        if not dates:
            event.doubts.append("no date in the sentence")
        by_id[event.id] = event
        for statement in speakers:
            statement.at = statement.at or event.id


def event_type_words(event_type: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", event_type).lower()
