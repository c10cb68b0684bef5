"""Resolving the time words of an article (a weekday, 'last year', 'Month D, YYYY'...) against its
publication date."""
from __future__ import annotations

import calendar
import datetime as dt
import re

WEEKDAYS = {name.lower(): index for index, name in enumerate(calendar.day_name)}
MONTHS = {name.lower(): index for index, name in enumerate(calendar.month_name) if name}


def parse_date_words(words: str, published: dt.date) -> tuple[str, str, str] | str:
    """Resolve time words to (value, precision, rule), or return why they cannot be resolved."""
    phrase = words.strip().lower()
    phrase = phrase[3:] if phrase.startswith("on ") else phrase
    if phrase in WEEKDAYS:
        days_back = (published.weekday() - WEEKDAYS[phrase]) % 7
        resolved = published - dt.timedelta(days=days_back)
        return (resolved.isoformat(), "day",
                f"the latest {phrase.capitalize()} on or before the publication date")
    if phrase == "last year":
        return str(published.year - 1), "year", "the year before the publication date"
    if phrase in ("today", "this day"):
        return published.isoformat(), "day", "the publication date"
    if phrase == "yesterday":
        return (published - dt.timedelta(days=1)).isoformat(), "day", "the day before the publication date"
    match = re.fullmatch(r"([a-z]+) (\d{1,2}), (\d{4})", phrase)
    if match and match.group(1) in MONTHS:
        try:
            resolved = dt.date(int(match.group(3)), MONTHS[match.group(1)], int(match.group(2)))
        except ValueError as error:
            return f"invalid date {words!r}: {error}"
        return resolved.isoformat(), "day", "an absolute date in the text"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", phrase):
        try:
            return dt.date.fromisoformat(phrase).isoformat(), "day", "an absolute date in the text"
        except ValueError as error:
            return f"invalid date {words!r}: {error}"
    return (f"cannot resolve the time expression {words!r}: use a weekday, 'last year', 'yesterday', "
            f"'Month D, YYYY' or YYYY-MM-DD")
