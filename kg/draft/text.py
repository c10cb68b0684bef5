"""The article text cut into what the drafter reasons over: lines, direct quotations, sentences.

Offsets are code points into the article text, as the seed loader's spans are, so every span the
drafter proposes is `text[begin:end]` and grounds exactly."""
from __future__ import annotations

import re
from dataclasses import dataclass

OPENING_QUOTES = "\"\u201c"
CLOSING_QUOTES = "\"\u201d"
ABBREVIATION = re.compile(r"(?:\b[A-Z]\.|\b(?:[A-Z]\.){2,}|\b(?:Mr|Mrs|Ms|Dr|St|Sen|Rep|Gen|Gov|Lt|Col|Jan|Feb|"
                          r"Aug|Sept|Sep|Oct|Nov|Dec|No|vs|etc|Jr|Sr|Prof)\.)$")
MASK = "\u2591"  # stands in for the words inside a quotation while looking for verbs and speakers


@dataclass(frozen=True)
class Line:
    number: int  # 1-based
    begin: int
    end: int
    text: str


@dataclass(frozen=True)
class Quotation:
    """A direct quotation: `begin`/`end` hold the words between the quotation marks."""

    begin: int
    end: int
    closed: bool  # False: it runs on to the end of the paragraph (continued in the next one)


@dataclass(frozen=True)
class Sentence:
    begin: int
    end: int
    line: Line


def split_lines(text: str) -> list[Line]:
    lines, offset = [], 0
    for number, content in enumerate(text.split("\n"), start=1):
        lines.append(Line(number, offset, offset + len(content), content))
        offset += len(content) + 1
    return lines


def find_quotations(text: str, line: Line) -> list[Quotation]:
    """Direct quotations of one paragraph: straight quotes alternate, curly ones say which they are."""
    quotations, opened = [], None
    for offset in range(line.begin, line.end):
        char = text[offset]
        if opened is None and char in OPENING_QUOTES:
            opened = offset
        elif opened is not None and char in CLOSING_QUOTES:
            if offset > opened + 1:
                quotations.append(Quotation(opened + 1, offset, True))
            opened = None
    if opened is not None and line.end > opened + 1:
        quotations.append(Quotation(opened + 1, line.end, False))
    return quotations


def masked(text: str, quotations: list[Quotation]) -> str:
    """The text with every quotation's words masked (same length), so that verbs and names inside
    quotations are not read as the article's own attribution."""
    chars = list(text)
    for quote in quotations:
        for offset in range(quote.begin, quote.end):
            if not chars[offset].isspace():
                chars[offset] = MASK
        if quote.closed and text[quote.end - 1] in ".!?":
            chars[quote.end - 1] = text[quote.end - 1]  # '..."' ends the article's sentence too
    return "".join(chars)


DATELINE = re.compile(r"^[A-Z][A-Z .'-]+(?:, [A-Z][\w .]*?)?(?:, [A-Z][a-z]+\.? \d{1,2})?\s+[-\u2013\u2014]+\s+")


def split_sentences(masked_text: str, line: Line) -> list[Sentence]:
    """Sentences of one line, read on the masked text: a stop (. ! ?), optional closing quotes, then
    space and a capital, a digit or an opening quote; abbreviations (U.S., Mr.) do not end one. A
    dateline ('SEOUL, June 15 - ') is not part of the first sentence."""
    dateline = DATELINE.match(masked_text[line.begin:line.end])
    sentences, start = [], line.begin + (dateline.end() if dateline else 0)
    origin = start
    for match in re.finditer(r"[.!?][\"\u201d')\]]*(?=\s+[\"\u201c(A-Z0-9])", masked_text[origin:line.end]):
        stop = origin + match.start()
        if masked_text[stop] == "." and ABBREVIATION.search(masked_text[max(line.begin, stop - 12):stop + 1]):
            continue
        end = stop + len(match.group())
        sentences.append(Sentence(start, end, line))
        start = end
        while start < line.end and masked_text[start].isspace():
            start += 1
    if start < line.end:
        sentences.append(Sentence(start, line.end, line))
    return sentences


def word_bounded(text: str, begin: int, end: int) -> tuple[int, int]:
    """Trim a span to start and end on non-space characters."""
    while begin < end and text[begin].isspace():
        begin += 1
    while end > begin and text[end - 1].isspace():
        end -= 1
    return begin, end
