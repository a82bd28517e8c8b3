"""The letter corpus (tests/fixtures/letters/{a,b}: letters and scans written for issue 17 by writers who
saw only the categories spec, with their stock lists) through the real worker: the letters source on a
folder, real Tesseract, the stock list imported first, the landlord configured.

Over the whole corpus: every letter printed carries the address the letter gave (its postcode and its
house and flat numbers, as the writer's manifest says), and none is printed to an address the letter does
not contain. The held share and its reasons are printed (run with -s) for the README."""

from __future__ import annotations

import collections
import datetime as dt
import json
import re
import shutil
from pathlib import Path

from sqlalchemy import select

import scheduler
from casework.models import Case, OutboxMessage, Property, Submission
from casework.properties import import_stock, read_stock
from casework.status import normalise_postcode
from core.settings import Settings
from intake.scans.extract import POSTCODE
from tests.letters.conftest import set_mtime

CORPUS = Path(__file__).parent / "fixtures" / "letters"
LETTER_FILES = {".txt", ".png", ".pdf", ".tif", ".tiff", ".jpg"}
LANDLORD = {"name": "Riverside Housing Trust", "address": ["Riverside Housing Trust", "2 Canal Street", "Northam", "NM1 2AB"],
            "email": "complaints@riverside-housing.example", "phone": "0161 496 0000"}
SCANNED = dt.datetime(2026, 11, 19, 10, 0, tzinfo=dt.UTC)
NUMBER = re.compile(r"\b(\d+[A-Z]?)\b", re.IGNORECASE)


def manifest() -> dict[str, dict]:
    entries = {}
    for folder in ("a", "b"):
        for entry in json.loads((CORPUS / folder / "manifest.json").read_text())["files"]:
            entries[entry["file"]] = entry
    return entries


def split_postcode(lines) -> tuple[str, str | None]:
    """The lines as one text without their last postcode-like word, and that word as written."""
    text = " ".join(lines)
    found = list(POSTCODE.finditer(text))
    if not found:
        return text, None
    last = found[-1]
    return text[:last.start()] + " " + text[last.end():], last.group(0)


def numbers(text: str) -> set[str]:
    return {n.upper() for n in NUMBER.findall(text)}


def confusable(code: str) -> str:
    """A postcode with the characters OCR confuses made one: O/0, I/L/1, S/5, B/8; no space."""
    return code.upper().replace(" ", "").translate(str.maketrans("OILSB", "01158"))


def carries_the_letters_address(printed: list[str], entry: dict) -> bool:
    """The printed address is the one the letter gave: its postcode is the manifest's (or, where the
    letter's was OCR-damaged, a repair of what it wrote that the stock list has), and its house and flat
    numbers are the letter's."""
    given = entry.get("address")
    if not given:
        return False
    printed_rest, printed_code = split_postcode(printed)
    given_rest, given_code = split_postcode(given)
    postcode = normalise_postcode(printed_code)
    if postcode is None:
        return False
    same_code = postcode == entry.get("postcode") or (given_code is not None and confusable(given_code) == confusable(postcode))
    return same_code and numbers(printed_rest) == numbers(given_rest)


def test_every_printed_letter_carries_the_address_the_letter_gave(tmp_path):
    letters = tmp_path / "letters"
    letters.mkdir()
    expected = manifest()
    for name in expected:
        folder = "a" if name.startswith("a") else "b"
        set_mtime(shutil.copy(CORPUS / folder / name, letters / name), SCANNED)
    settings = Settings(var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'intake.db'}",
                        letters={"path": letters}, landlord=LANDLORD)
    service = scheduler.build(settings)
    with service.db.transaction() as session:
        for stock in ("stock.csv", "stock-b.csv"):
            import_stock(session, read_stock((CORPUS / stock).read_text()))
    for _ in range(4):  # a file is taken once its size is stable: the second poll; then drained
        service.run_once()

    with service.db.sessions() as session:
        submissions = {s.id: s for s in session.scalars(select(Submission))}
        assert len(submissions) == len(expected)
        printed = [row for row in session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "letter"))]
        wrong = []
        for row in printed:
            entry = expected[submissions[row.submission_id].filename]
            if not carries_the_letters_address(row.postal_address, entry):
                wrong.append((entry["file"], row.postal_address, entry.get("address"), entry.get("postcode")))
        letters_total = len(expected)
        cases = {c.id: c for c in session.scalars(select(Case))}
        held = [c for c in cases.values() if c.held_reason and "address to confirm" in c.held_reason]
        reasons = collections.Counter(_reason(c.held_reason) for c in held)
        homes = {p.id: p.uprn for p in session.scalars(select(Property))}
        matched = right_home = 0
        other_home = []
        for submission in submissions.values():
            case = cases.get(submission.case_id)
            if case is not None and case.property_id is not None:
                matched += 1
                want = expected[submission.filename].get("expected_property")
                right_home += homes[case.property_id] == want
                if homes[case.property_id] != want:
                    other_home.append((submission.filename, homes[case.property_id], want))
    print(f"\ncorpus: {letters_total} files; {len(printed)} letters printed, {len(printed) - len(wrong)} to the address"
          f" the letter gave; {len(held)} cases held 'address to confirm' ({len(held) / len(cases):.0%} of {len(cases)} cases)")
    for reason, count in reasons.most_common():
        print(f"  held {count}: {reason}")
    print(f"  matched to a home: {matched} submissions, {right_home} to the manifest's expected home")
    for item in other_home:
        print("  matched to another home than the manifest's:", item)
    for item in wrong:
        print("  WRONG", item)
    assert printed, "the corpus printed no letter at all"
    assert wrong == []


def _reason(held_reason: str) -> str:
    part = next(p for p in held_reason.split("; ") if "address to confirm" in p)
    part = re.sub(r"'[^']*'", "'…'", part)
    part = re.sub(r"UPRN \d+", "UPRN …", part)
    return re.sub(r"^address to confirm: [A-Z0-9]{2,4} [0-9][A-Z]{2} and", "address to confirm: (postcode) and",
                  part)
