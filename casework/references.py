"""References: allocated here, inside the case's transaction, and recognised here again.

A reference is never a primary key and never reused: each (prefix, year) has a counter row that
only goes up, bumped with one atomic upsert. On SQLite the bump is part of the case's transaction (one
writer at a time: there is nothing to queue behind). On PostgreSQL it is a short transaction of its own
on another connection, committed at once: workers processing batches side by side never wait for each
other's batch to commit to number a case (with the bump inside the batch, the second worker queued on
the counter row for the whole of the first one's batch, and two workers were slower than one). The
price is that a batch that rolls back leaves the numbers it took unused: on PostgreSQL a number may be
skipped, never given twice.
"""

from __future__ import annotations

import datetime as dt
import re
import string

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.errors import ConfigurationError
from casework.models import ReferenceCounter
from core.settings import ReferenceSettings

NEUTRAL_PREFIX_KEY = "out_of_scope"  # held cases get a prefix that tells the resident nothing
_FIELDS = {"prefix", "year", "number"}
_SEPARATORS = "[-_/ ]?"


class References:
    def __init__(self, settings: ReferenceSettings) -> None:
        self.settings = settings
        self._check_format()
        self.pattern = _recognising_pattern(settings)

    def prefix_for(self, category: str | None) -> str:
        return self.settings.prefixes.get(category or NEUTRAL_PREFIX_KEY, self.settings.prefixes[NEUTRAL_PREFIX_KEY])

    def allocate(self, session: Session, category: str | None, at: dt.datetime) -> str:
        """The next reference for this category and year, counted inside the caller's transaction."""
        prefix = self.prefix_for(category)
        number = _bump_counter(session, prefix, at.year)
        return self.settings.format.format(prefix=prefix, year=at.year, number=number)

    def find(self, text: str) -> list[str]:
        """Every reference of ours in the text, in canonical form, first occurrence first."""
        found: list[str] = []
        for match in self.pattern.finditer(text or ""):
            canonical = self._canonical(match)
            if canonical not in found:
                found.append(canonical)
        return found

    def shape_pattern(self) -> re.Pattern[str]:
        """The regex ``find`` uses: any of our references in the configured format, in any case, with
        -, _, / or a space (or nothing) where the format has a separator. Groups: prefix, number, year."""
        return self.pattern

    def ocr_pattern(self) -> re.Pattern[str]:
        """``shape_pattern`` as OCR reads it: in the year and number, O may stand for 0 and I or l for 1
        (upper-case O and I, lower-case l only). The number must hold at least one real digit, and no
        letter or digit may follow it, so words are never read as numbers. Same groups as shape_pattern."""
        return _shape_pattern(self.settings, _OCR_FIELDS, end=r"(?![A-Za-z0-9])")

    def lookalike_pattern(self) -> re.Pattern[str]:
        r"""Anyone's reference in the configured format's shape: a prefix of 2-4 letters (or as short or
        long as ours), then the format's fields with -, / or the format's own separator between them,
        whole words only, in any case. For masking references (a contractor's, a tribunal's, ours) in
        text, never for recognising ours. For the default format it matches exactly what
        ``\b[a-z]{2,4}[-/]?20\d\d[-/]?\d{3,8}\b`` matches in lower-case text (the classifier's mask)."""
        return _lookalike_pattern(self.settings)

    def _canonical(self, match: re.Match[str]) -> str:
        prefix = match.group("prefix").upper()
        year = int(match.group("year")) if "year" in match.groupdict() else 0
        return self.settings.format.format(prefix=prefix, year=year, number=int(match.group("number")))

    def _check_format(self) -> None:
        names = {name for _, name, _, _ in string.Formatter().parse(self.settings.format) if name}
        if not {"prefix", "number"} <= names <= _FIELDS:
            raise ConfigurationError(
                f"references.format {self.settings.format!r} must use {{prefix}} and {{number}}"
                " and may use {year}; nothing else"
            )
        if "out_of_scope" not in self.settings.prefixes:
            raise ConfigurationError("references.prefixes needs an 'out_of_scope' prefix (used for held cases)")


def _bump_counter(session: Session, prefix: str, year: int) -> int:
    """The next number: in the caller's transaction on SQLite, committed on its own on PostgreSQL."""
    bind = session.get_bind()
    if _dialect(bind) != "postgresql":
        return session.execute(_bump_statement(sqlite, prefix, year)).scalar_one()
    with bind.engine.connect() as connection:
        number = connection.execute(_bump_statement(postgresql, prefix, year)).scalar_one()
        connection.commit()
    return number


def _bump_statement(dialect, prefix: str, year: int):
    table = ReferenceCounter.__table__
    statement = (
        dialect.insert(table)
        .values(prefix=prefix, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[table.c.prefix, table.c.year],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.last_number)
    )
    return statement


def _dialect(bind: Engine | Connection) -> str:
    return bind.dialect.name


def _recognising_pattern(settings: ReferenceSettings) -> re.Pattern[str]:
    prefixes = "|".join(sorted((re.escape(p) for p in settings.prefixes.values()), key=len, reverse=True))
    parts = [r"(?<![A-Za-z0-9])"]
    for literal, name, _spec, _conv in string.Formatter().parse(settings.format):
        parts.append(_SEPARATORS if literal.strip() in {"-", "_", "/", ""} and literal else re.escape(literal))
        parts.append(_field_pattern(name, prefixes) if name else "")
    parts.append(r"(?![0-9])")
    return re.compile("".join(parts), re.IGNORECASE)


def _field_pattern(name: str, prefixes: str) -> str:
    return {
        "prefix": f"(?P<prefix>{prefixes})",
        "year": r"(?P<year>20\d\d)",
        "number": r"(?P<number>\d{1,10})",
    }[name]


# -- the shape again, for OCR'd text and for anyone's references -----------------------------------

_OCR_DIGIT = "[0-9OIl]"
_OCR_FIELDS = {
    "year": rf"(?P<year>(?-i:2[0O]{_OCR_DIGIT}{{2}}))",
    "number": rf"(?P<number>(?-i:(?=[OIl]*[0-9]){_OCR_DIGIT}{{1,10}}))",
}


def _shape_pattern(settings: ReferenceSettings, fields: dict[str, str], end: str) -> re.Pattern[str]:
    """The recognising pattern with some fields' patterns replaced (separators and prefixes as ``find``)."""
    prefixes = "|".join(sorted((re.escape(p) for p in settings.prefixes.values()), key=len, reverse=True))
    parts = [r"(?<![A-Za-z0-9])"]
    for literal, name, _spec, _conv in string.Formatter().parse(settings.format):
        parts.append(_SEPARATORS if literal.strip() in {"-", "_", "/", ""} and literal else re.escape(literal))
        parts.append((fields.get(name) or _field_pattern(name, prefixes)) if name else "")
    parts.append(end)
    return re.compile("".join(parts), re.IGNORECASE)


def _lookalike_pattern(settings: ReferenceSettings) -> re.Pattern[str]:
    parts = [r"\b"]
    for literal, name, spec, _conv in string.Formatter().parse(settings.format):
        parts.append(_lookalike_separator(literal))
        parts.append(_lookalike_field(name, spec or "", settings) if name else "")
    parts.append(r"\b")
    return re.compile("".join(parts))


def _lookalike_separator(literal: str) -> str:
    if not literal:
        return ""
    if literal.strip() in {"-", "_", "/", ""}:
        return f"[{re.escape(''.join(sorted({'-', '/', literal.strip() or ' '})))}]?"
    return re.escape(literal)


def _lookalike_field(name: str, spec: str, settings: ReferenceSettings) -> str:
    if name == "prefix":
        ours = "|".join(sorted((re.escape(p) for p in settings.prefixes.values()), key=len, reverse=True))
        lengths = [len(p) for p in settings.prefixes.values()]
        return f"(?:[A-Za-z]{{{min(2, *lengths)},{max(4, *lengths)}}}|(?i:{ours}))"
    if name == "year":
        return r"20\d\d"
    width = re.match(r"0?(\d*)", spec).group(1)
    return rf"\d{{3,{max(8, int(width or 0))}}}"
