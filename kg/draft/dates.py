"""Time words in the text, resolved against the publication date by the seed loader's own rules
(`kg.seeds.dates.parse_date_words`), so that a drafted date is the date `kg build` computes."""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from kg.seeds.dates import parse_date_words

MONTH_NAMES = "|".join(name for name in calendar.month_name if name)
WEEKDAY_NAMES = "|".join(calendar.day_name)
# Forms the loader resolves: explicit dates, weekdays, last year, yesterday, today.
RESOLVABLE = re.compile(rf"\b(?:(?:{MONTH_NAMES}) \d{{1,2}}, \d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|(?:{WEEKDAY_NAMES})|"
                        r"last year|yesterday|today)\b")
# Forms the loader does not resolve: the drafter gives its reading in a comment, as inferred.
DAY_MONTH = re.compile(rf"\b(\d{{1,2}}) ({MONTH_NAMES})(?: (\d{{4}}))?\b")
MONTH_DAY = re.compile(rf"\b({MONTH_NAMES}) (\d{{1,2}})\b(?!, \d{{4}})")
RELATIVE = re.compile(r"\b(?:a day (?:after|before)|the day (?:after|before)|last (?:week|month)|"
                      r"earlier this (?:week|month|year)|this (?:week|month)|next (?:week|month|year)|"
                      r"hours (?:after|before)|days (?:after|before)|overnight)\b", re.IGNORECASE)


@dataclass(frozen=True)
class DateFound:
    begin: int
    end: int
    words: str
    value: str | None  # ISO date or year; None when only a reading in words can be given
    precision: str | None
    rule: str
    inferred: bool  # True: not resolvable by the seed rules; the value is the drafter's reading


def find_dates(text: str, published: dt.date, masked_text: str) -> list[DateFound]:
    """Every time expression outside quotations, in text order."""
    found: list[DateFound] = []
    for match in RESOLVABLE.finditer(masked_text):
        resolved = parse_date_words(match.group(), published)
        if isinstance(resolved, tuple):
            found.append(DateFound(match.start(), match.end(), match.group(), *resolved, inferred=False))
    for match in DAY_MONTH.finditer(masked_text):
        year = int(match.group(3)) if match.group(3) else published.year
        month = list(calendar.month_name).index(match.group(2))
        try:
            value = dt.date(year, month, int(match.group(1))).isoformat()
        except ValueError:
            continue
        rule = "day and month" + ("" if match.group(3) else ", the year of publication")
        found.append(DateFound(match.start(), match.end(), match.group(), value, "day", rule, inferred=True))
    for match in MONTH_DAY.finditer(masked_text):
        month = list(calendar.month_name).index(match.group(1))
        try:
            value = dt.date(published.year, month, int(match.group(2)))
        except ValueError:
            continue
        if value > published:
            value = value.replace(year=published.year - 1)
        found.append(DateFound(match.start(), match.end(), match.group(), value.isoformat(), "day",
                               "month and day: the latest such day on or before publication", inferred=True))
    for match in RELATIVE.finditer(masked_text):
        found.append(DateFound(match.start(), match.end(), match.group(), None, None,
                               "relative to another event: the date depends on it", inferred=True))
    found.sort(key=lambda d: d.begin)
    kept: list[DateFound] = []
    for date in found:
        if not any(k.begin < date.end and date.begin < k.end for k in kept):
            kept.append(date)
    return kept
