"""The phrase rules for flags (data in classifier/rules/*.toml, see classifier.rules.book) and the dates a
text gives its problem.

The rules were written from the definitions in spec/categories.md and UK housing practice. escalation_request
means asking for stage 2 of *our* procedure: a mention of the Housing Ombudsman or an "appeal" alone is not
one (the Ombudsman comes after our stage 2), so neither raises it here.

The model turns them into its two tiers (classifier.model): a rule hit is a feature of the flag models and,
on its own, at least a "check" marker. Safety rules err towards raising: a false alarm costs a person a
minute, a miss can cost a life. Negation is handled only for damp_mould, where "the mould has gone, thank
you" is common and a miss is not an emergency; "no gas smell now" still raises emergency_hazard. Rules in
every language follow the same conditions: missing heat raises emergency_hazard only beside a vulnerable
person or the cold, in Polish or Arabic as in English.
"""

from __future__ import annotations

import datetime as dt
import re

from casework.policy import months_before
from casework.vocabulary import Flag

from classifier import RuleHit
from classifier.rules.book import Rule, RuleBook, combine, rule_book

__all__ = ["Rule", "RuleBook", "RuleHit", "consistent_flags", "flags_of", "issue_date_in", "may_acknowledge_by_category",
           "rule_book", "rule_flags"]


def _rx(*patterns: str) -> re.Pattern[str]:
    return combine(list(patterns))

_NUMBER_WORDS = {"one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
                 "fifteen": 15, "sixteen": 16, "eighteen": 18, "twenty": 20, "several": 2, "many": 2, "few": 2,
                 "couple of": 2, "a couple of": 2, "a few": 2}
_NUM = r"(\d{1,3}|a couple of|couple of|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|" \
       r"thirteen|fourteen|fifteen|sixteen|eighteen|twenty|several|many|a few|few|an?)"
_AGO = re.compile(r"\b(?:(over |more than )|nearly |almost |about |around )?" + _NUM + r"\s+(years?|months?)\s+ago\b")
# Phrases that date a problem without a number, as (pattern, kind): _phrase_date turns the kind into a date.
_DATED_PHRASES = (
    (_rx(r"\b(?:over|more than) a year (?:ago|since)\b"), "year_and_a_day"),
    (_rx(r"\b(?<!since )(?<!the )last year\b"), "last_year"),
    (_rx(r"\bthe year before last\b"), "year_before_last"),
    (_rx(r"\byears ago\b", r"\blong time ago\b"), "two_years"),
)
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_MONTH_RX = "|".join(m[:3] + f"(?:{m[3:]})?" for m in _MONTHS)
_YEAR = re.compile(r"\b(?:(?P<month>" + _MONTH_RX + r")\.?\s+|(?:in|back in|during|early|late|summer|winter|"
                   r"spring|autumn)\s+)(?P<year>(?:19|20)\d\d)\b")


def rule_flags(text: str) -> tuple[RuleHit, ...]:
    """The named rules that fire on this text (prepared or raw): id, flag and the words each matched.

    Never LATE: whether a complaint is out of time depends on the landlord's time limit and the date it was
    received, so pipeline.decide asks ``Policy.is_late`` about the date ``issue_date_in`` finds.
    """
    return rule_book().hits(text.lower())


def flags_of(hits: tuple[RuleHit, ...]) -> set[str]:
    """The flags these rule hits raise."""
    return {hit.flag for hit in hits}


def damp_or_mould(text: str) -> bool:
    """A mention of damp or mould that is not negated ("no damp", "the mould has gone")."""
    return Flag.DAMP_MOULD.value in flags_of(rule_flags(text))


def issue_date_in(text: str, today: dt.date) -> dt.date | None:
    """The earliest date the text dates the problem to, counted back from ``today`` (pass the day the
    message was received); None when it gives no date. Whether that is out of time is the policy's call.

    How words become dates:
    - "two years ago", "18 months ago", "a year ago": that many months before today, the same day of the
      month; "over"/"more than" adds a day ("over a year ago" is a year and a day before today);
    - "last year": 1 January of last year; "the year before last": 1 January two years back;
    - "years ago", "a long time ago": two years before today (vague, but plainly old);
    - "March 2024": 1 March 2024; a bare year ("in 2024", "summer 2024"): 31 December of it, since it
      could mean any part of the year (so a bare year alone is late only when all of it is);
    - "since 2019", "from 2022" describe something ongoing, not a dated event: no date.
    Dates after today, and years before 1950, are ignored.
    """
    if "ago" not in text and "year" not in text and "19" not in text and "20" not in text:
        return None  # the cheap test first: every pattern below needs one of these
    text = text.lower()
    dates = [_phrase_date(kind, today) for pattern, kind in _DATED_PHRASES if pattern.search(text)]
    for match in _AGO.finditer(text):
        count = _NUMBER_WORDS.get(match.group(2).strip()) or _to_int(match.group(2))
        months = count * 12 if match.group(3).startswith("year") else count
        if months:
            dates.append(months_before(today, months) - dt.timedelta(days=1 if match.group(1) else 0))
    for match in _YEAR.finditer(text):
        year, month = int(match.group("year")), _month_number(match.group("month"))
        day = dt.date(year, month, 1) if month else dt.date(year, 12, 31)
        if 1950 <= year and day <= today:
            dates.append(day)
    return min(dates, default=None)


def _phrase_date(kind: str, today: dt.date) -> dt.date:
    if kind == "year_and_a_day":
        return months_before(today, 12) - dt.timedelta(days=1)
    if kind == "last_year":
        return dt.date(today.year - 1, 1, 1)
    if kind == "year_before_last":
        return dt.date(today.year - 2, 1, 1)
    return months_before(today, 24)


def _to_int(value: str) -> int:
    return int(value) if value.isdigit() else 0


def _month_number(name: str | None) -> int | None:
    if not name:
        return None
    return next(i for i, m in enumerate(_MONTHS, 1) if m.startswith(name.lower()[:3]))


def consistent_flags(category: str, flags: set[str]) -> set[str]:
    """Flags that make sense with the category: only a complaint can be out of time ("late")."""
    if category != "complaint":
        return flags - {Flag.LATE.value}
    return flags


def may_acknowledge_by_category(confidence: float, threshold: float, flags: set[str] | frozenset[str]) -> bool:
    """The classifier's part of whether a category-specific acknowledgement may go out without a person: a
    confident category, and neither a safeguarding concern (a person reads it first) nor machine-generated
    wording (that is how loops start). pipeline.decide calls this and adds what the text alone cannot
    tell (late, no case to escalate, a poor scan, an address we cannot write to); the evaluation's
    "automatically acknowledged" figures count this part."""
    return confidence >= threshold and not {Flag.SAFEGUARDING.value, Flag.AUTO_REPLY.value} & flags
