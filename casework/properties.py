"""The landlord's homes (the stock list) and which one a message is about.

The stock list is a CSV with the columns STOCK_COLUMNS, imported by ``intake stock import FILE``
(``import_stock``): all rows or none, updated by UPRN so a re-import changes nothing twice. A message
is matched to a home (``match_property``), in this order of trust: its postal address (the postcode
and the house or flat numbers, or the first address line, agree), a tenancy reference quoted in its
text, or the sender's email address already on a case about one home.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.models import Case, Property, utcnow
from casework.status import normalise_postcode
from casework.vocabulary import CaseStatus

STOCK_COLUMNS = ("uprn", "address_1", "address_2", "address_3", "town", "postcode", "tenancy_ref", "tenant_names")
REQUIRED = ("uprn", "address_1", "postcode")
NUMBER = re.compile(r"\b(\d+[A-Z]?)\b", re.IGNORECASE)
MAX_TEXT, MAX_TOKENS = 20_000, 500  # a reference is quoted near the top; a huge body is not searched whole
TOKEN = re.compile(r"[A-Z0-9][A-Z0-9/-]{2,}[A-Z0-9]", re.IGNORECASE)


class StockError(ValueError):
    """A stock list that cannot be imported; the message names the line, in one line."""


class MatchedBy(StrEnum):
    ADDRESS = "address"
    TENANCY_REFERENCE = "tenancy reference"
    EMAIL = "email"


@dataclass(frozen=True)
class PropertyMatch:
    property: Property
    by: MatchedBy


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int


# -- the stock list ------------------------------------------------------------------------------


def read_stock(text: str) -> list[dict[str, str | None]]:
    """The rows of a stock list CSV, checked; raises StockError naming the first bad line."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in STOCK_COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        raise StockError(f"line 1: the header lacks the column(s) {', '.join(missing)}")
    rows, seen = [], {}
    for row in reader:
        line = reader.line_num
        if None in row or any(value is None for value in row.values()):
            raise StockError(f"line {line}: expected {len(reader.fieldnames)} columns")
        values = {name: " ".join((row.get(name) or "").split()) or None for name in STOCK_COLUMNS}
        empty = [name for name in REQUIRED if not values[name]]
        if empty:
            raise StockError(f"line {line}: {', '.join(empty)} is empty")
        postcode = normalise_postcode(values["postcode"])
        if postcode is None:
            raise StockError(f"line {line}: {values['postcode']!r} is not a UK postcode")
        if values["uprn"] in seen:
            raise StockError(f"line {line}: UPRN {values['uprn']} is already on line {seen[values['uprn']]}")
        seen[values["uprn"]] = line
        rows.append({**values, "postcode": postcode})
    return rows


def import_stock(session: Session, rows: Sequence[dict[str, str | None]], now: dt.datetime | None = None) -> ImportResult:
    """Add or update each row by its UPRN, in the caller's transaction (all rows or none)."""
    now = now or utcnow()
    existing = {p.uprn: p for p in session.scalars(select(Property).where(Property.uprn.in_([r["uprn"] for r in rows])))}
    added = updated = 0
    for row in rows:
        home = existing.get(row["uprn"])
        if home is None:
            session.add(Property(**row, imported_at=now))
            added += 1
        elif any(getattr(home, name) != value for name, value in row.items()):
            for name, value in row.items():
                setattr(home, name, value)
            home.imported_at = now
            updated += 1
    return ImportResult(added, updated, len(rows) - added - updated)


def stock_loaded(session: Session) -> bool:
    return session.scalar(select(Property.id).limit(1)) is not None


def known_postcodes(session: Session) -> frozenset[str]:
    """Every postcode in the stock list, normalised: what an OCR-repaired postcode must be one of."""
    return frozenset(session.scalars(select(Property.postcode).distinct()))


# -- matching a message to a home ----------------------------------------------------------------


def match_property(session: Session, *, address: Sequence[str] | None = None, postcode: str | None = None,
                   text: str = "", email: str | None = None) -> PropertyMatch | None:
    """The home a message is about, and how we know; None when nothing points at one home (or there
    is no stock list)."""
    if not stock_loaded(session):
        return None
    home = by_address(session, address or (), postcode)
    if home is not None:
        return PropertyMatch(home, MatchedBy.ADDRESS)
    home = by_tenancy_reference(session, text)
    if home is not None:
        return PropertyMatch(home, MatchedBy.TENANCY_REFERENCE)
    home = by_email(session, email)
    return PropertyMatch(home, MatchedBy.EMAIL) if home is not None else None


def by_address(session: Session, address: Sequence[str], postcode: str | None) -> Property | None:
    """The one home at ``postcode`` whose first address line, or whose house and flat numbers, are the
    address's; None when none or several are."""
    postcode = normalise_postcode(postcode) if postcode else None
    if not postcode:
        return None
    homes = list(session.scalars(select(Property).where(Property.postcode == postcode)))
    lines = [" ".join(line.upper().replace(postcode, " ").split()) for line in address]
    keys = {_key(part) for line in lines for part in (line, *line.split(","))}
    exact = [home for home in homes if _key(home.address_1) in keys]
    if len(exact) == 1:
        return exact[0]
    numbers = _numbers(lines)
    numbered = [home for home in homes if numbers and _numbers(_street_lines(home)) == numbers]
    return numbered[0] if len(numbered) == 1 else None


def by_tenancy_reference(session: Session, text: str) -> Property | None:
    """The one home whose tenancy reference the text quotes (case and spacing aside)."""
    found = (token.upper() for token in TOKEN.findall((text or "")[:MAX_TEXT]) if any(ch.isdigit() for ch in token))
    tokens = set(list(dict.fromkeys(found))[:MAX_TOKENS])
    if not tokens:
        return None
    homes = list(session.scalars(select(Property).where(func.upper(Property.tenancy_ref).in_(tokens))))
    return homes[0] if len(homes) == 1 else None


def by_email(session: Session, email: str | None) -> Property | None:
    """The home of the newest case from this email address that has one."""
    if not email:
        return None
    return session.scalar(
        select(Property).join(Case, Case.property_id == Property.id)
        .where(func.lower(Case.resident_email) == email.lower()).order_by(Case.id.desc()).limit(1)
    )


def same_home_cases(session: Session, case: Case) -> list[Case]:
    """The other open cases about the home ``case`` is about (any channel), oldest first."""
    if case.property_id is None:
        return []
    return list(session.scalars(
        select(Case).where(Case.property_id == case.property_id, Case.id != case.id,
                           Case.status != CaseStatus.CLOSED).order_by(Case.id)
    ))


def property_by_uprn(session: Session, uprn: str) -> Property | None:
    return session.scalar(select(Property).where(Property.uprn == uprn.strip()))


def _street_lines(home: Property) -> list[str]:
    return [line for line in (home.address_1, home.address_2, home.address_3) if line]


def _numbers(lines: Sequence[str]) -> frozenset[str]:
    return frozenset(number.upper() for line in lines for number in NUMBER.findall(line))


def _key(line: str) -> str:
    return re.sub(r"[^a-z0-9]", "", line.lower())
