"""References: allocated atomically, never reused, recognised again in what residents write."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import re
import threading

import pytest
from sqlalchemy import select

from core.db import Database
from core.errors import ConfigurationError
from casework.models import Case
from casework.references import References
from core.settings import ReferenceSettings

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def references() -> References:
    return References(ReferenceSettings())


@pytest.mark.parametrize(
    "text, found",
    [
        ("Re: Your complaint CMP-2026-000123", ["CMP-2026-000123"]),
        ("my ref is cmp-2026-000123 thanks", ["CMP-2026-000123"]),
        ("reference SR 2026 004411 (from the letter)", ["SR-2026-004411"]),
        ("CPL-2026-7 and GEN-2025-000010", ["CPL-2026-000007", "GEN-2025-000010"]),
        ("XCMP-2026-000123 is not ours, nor CMP-1999-000001", []),
        ("CMP-2026-000123 again CMP-2026-000123", ["CMP-2026-000123"]),
    ],
)
def test_it_recognises_our_references_however_they_are_written(references, text, found):
    assert references.find(text) == found


def test_a_configured_format_is_used_for_allocation_and_recognition(sqlite_db):
    references = References(ReferenceSettings(format="{prefix}/{number:05d}", prefixes={
        "complaint": "C", "service_request": "S", "compliment": "P", "out_of_scope": "G"}))
    with sqlite_db.transaction() as session:
        assert references.allocate(session, "complaint", NOW) == "C/00001"
    assert references.find("about c/00001 please") == ["C/00001"]


def test_a_format_without_a_number_is_refused_with_a_clear_message():
    with pytest.raises(ConfigurationError, match="number"):
        References(ReferenceSettings(format="{prefix}-{year}"))


def test_numbers_count_up_per_prefix_and_year_and_held_cases_get_the_neutral_prefix(db, references):
    with db.transaction() as session:
        got = [
            references.allocate(session, "complaint", NOW),
            references.allocate(session, "complaint", NOW),
            references.allocate(session, "service_request", NOW),
            references.allocate(session, None, NOW),
            references.allocate(session, "complaint", NOW.replace(year=2027)),
        ]
    assert got == ["CMP-2026-000001", "CMP-2026-000002", "SR-2026-000001", "GEN-2026-000001", "CMP-2027-000001"]


def test_a_rolled_back_allocation_leaves_no_case_holding_the_number(db, references):
    with pytest.raises(RuntimeError):
        with db.transaction() as session:
            references.allocate(session, "complaint", NOW)
            raise RuntimeError("the case's transaction failed")
    # SQLite numbers inside the case's transaction, so the number is given again; PostgreSQL took it in a
    # transaction of its own, so it is skipped: never given twice, either way.
    with db.transaction() as session:
        assert references.allocate(session, "complaint", NOW) == ("CMP-2026-000002" if db.is_postgresql
                                                                  else "CMP-2026-000001")


def test_on_postgresql_a_worker_numbers_a_case_while_another_worker_holds_its_batch_open(postgresql_db, references):
    numbered = {}

    def second_worker():
        with postgresql_db.transaction() as session:
            numbered["reference"] = references.allocate(session, "complaint", NOW)

    with postgresql_db.transaction() as first_workers_batch:
        assert references.allocate(first_workers_batch, "complaint", NOW) == "CMP-2026-000001"
        other = threading.Thread(target=second_worker, daemon=True)
        other.start()
        other.join(timeout=15)  # queued on the counter row, it would wait for this batch to commit
        assert numbered == {"reference": "CMP-2026-000002"}


def _open_cases(url: str, count: int, queue) -> None:
    db = Database(url)
    references = References(ReferenceSettings())
    for _ in range(count):
        with db.transaction() as session:
            reference = references.allocate(session, "complaint", NOW)
            session.add(Case(reference=reference, category="complaint", received_at=NOW))
    queue.put("done")


def test_concurrent_worker_processes_on_postgresql_never_share_a_reference(postgresql_db):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_open_cases, args=(postgresql_db.url, 40, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    with postgresql_db.sessions() as session:
        taken = list(session.scalars(select(Case.reference)))
    assert len(taken) == 160 and len(set(taken)) == 160
    assert sorted(taken) == [f"CMP-2026-{n:06d}" for n in range(1, 161)]


def test_the_shape_pattern_is_the_one_find_uses(references):
    text = "re cmp/2026/000123, SR 2026 004411 and XCMP-2026-000009"
    matches = [match.group(0) for match in references.shape_pattern().finditer(text)]
    assert matches == ["cmp/2026/000123", "SR 2026 004411"]
    assert [references.find(match)[0] for match in matches] == references.find(text)


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("Your ref: CMP-2O26-0O0123.", ["CMP-2O26-0O0123"]),  # O for 0
        ("ref cmp 2026 OOl23 please", ["cmp 2026 OOl23"]),  # l for 1, any case in the prefix
        ("SR-2O26-I2", ["SR-2O26-I2"]),  # I for 1
        ("SR-2026-Oil", []),  # a word, not a number: no real digit in it
        ("CMP-2026-000123Oxford", []),  # a letter straight after the number: not a reference
        ("ABC-2026-000123", []),  # not one of our prefixes
        ("CMP-2026-ooo123", []),  # lower-case o is not a misread 0
    ],
)
def test_the_ocr_pattern_accepts_o_for_0_and_i_or_l_for_1_in_the_year_and_number(references, text, matched):
    assert [match.group(0) for match in references.ocr_pattern().finditer(text)] == matched


def test_on_clean_text_the_ocr_pattern_finds_what_find_finds(references):
    text = "Re: CMP-2026-000123, my ref is cmp-2026-000124 and SR 2026 004411 (CPL-2026-7)"
    found = [match.group(0) for match in references.ocr_pattern().finditer(text)]
    assert [references.find(match)[0] for match in found] == references.find(text)


def test_the_lookalike_pattern_masks_exactly_what_the_classifier_always_masked(references):
    classifier_mask = re.compile(r"\b[a-z]{2,4}[-/]?20\d\d[-/]?\d{3,8}\b")
    text = ("cmp-2026-000123 ha/2023/0042 sr2026000001 rep-2026-31197 (np-2026-22187). abcde-2026-1234 a-2026-123 "
            "xx-2026-123456789 ab_2026_123456 cmp 2026 000123 man/00bn/lsc/2025/0417 june 2024 300")
    assert [m.group(0) for m in references.lookalike_pattern().finditer(text)] == classifier_mask.findall(text)


def test_the_lookalike_pattern_follows_a_configured_format():
    references = References(ReferenceSettings(format="{prefix}/{number:010d}", prefixes={
        "complaint": "C", "service_request": "S", "compliment": "P", "out_of_scope": "G"}))
    lookalike = references.lookalike_pattern()
    assert lookalike.fullmatch("C/0000000001") and lookalike.fullmatch("HA/1234")
    assert not lookalike.search("C/12 flat 1234") and not lookalike.search("C/12345678901")
