"""The print room: the day's batch file for the post room, the clock met on a print, the letter's own
excerpt and return line. Real SQLite/PostgreSQL, real PDFs read back with pypdf and PyMuPDF."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pymupdf
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casework.models import Case, Clock, OutboxMessage
from casework.vocabulary import AckKind, Adjustment, Category, ClockKind, OutboxStatus
from core.settings import LandlordSettings
from responders.post import (
    LetterPrinter, batch_day, batch_window, enqueue_letter, letter_context, render_letter, return_line, write_batch,
)
from responders.render import TemplateSet

LONDON = ZoneInfo("Europe/London")
CUT = dt.time(15, 0)
RIVERSIDE = LandlordSettings(name="Riverside Homes", address=["2 Quay Street", "Riverton", "RV1 2AB"],
                             email="complaints@riverside.example", phone="0300 123 4567", website="www.riverside.example",
                             complaints_policy_url="www.riverside.example/complaints")
RECEIVED = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
ADDRESS = ["Mr Tom Ward", "14 Mill Lane", "Hollins Green", "WB6 3LS"]
LETTER = """14 Mill Lane
Hollins Green
WB6 3LS
Tel: 07700 900123

3 December 2026

Riverside Homes
2 Quay Street
Riverton RV1 2AB

Dear Sir or Madam,

The bathroom ceiling has been leaking for three weeks and the plaster is coming down.
Please send someone.

Yours faithfully,
Tom Ward
"""


@pytest.fixture(scope="module")
def templates():
    return TemplateSet()


def queue(db, templates, reference, *, large_print=False, at=RECEIVED, understood="The leak.") -> int:
    with db.transaction() as session:
        case = Case(reference=reference, category=Category.COMPLAINT, stage=1, received_at=RECEIVED,
                    resident_name="Mr Tom Ward", resident_address=ADDRESS,
                    adjustments=[Adjustment.LARGE_PRINT] if large_print else [])
        case.clocks = [Clock(kind=ClockKind.ACK_STAGE1, starts_at=RECEIVED, due_at=RECEIVED + dt.timedelta(days=7),
                             rule="5 working days")]
        session.add(case)
        context = letter_context(case, RIVERSIDE, {c.kind: c.due_at for c in case.clocks}, understood)
        row = enqueue_letter(session, case=case, submission_id=None, kind=AckKind.COMPLAINT_STAGE1,
                             postal_address=ADDRESS, rendered=render_letter(templates, AckKind.COMPLAINT_STAGE1, context),
                             domain="riverside.example", now=at)
        session.flush()
        return row.id


def print_at(printer, at: dt.datetime) -> int:
    return printer.run_once(now=at)


def text_of(page) -> str:
    return page.extract_text()


# -- when a batch is cut ----------------------------------------------------------------------------


def test_a_batch_runs_from_the_day_befores_cut_to_this_days_cut_in_local_time():
    # 1 July 2026 is in British Summer Time (UTC+1): 15:00 local is 14:00 UTC.
    assert batch_window(dt.date(2026, 7, 1), CUT, LONDON) == (
        dt.datetime(2026, 6, 30, 14, 0, tzinfo=dt.UTC), dt.datetime(2026, 7, 1, 14, 0, tzinfo=dt.UTC))
    # No cut time: the local calendar day, 00:00 BST = 23:00 UTC the day before.
    assert batch_window(dt.date(2026, 7, 1), None, LONDON) == (
        dt.datetime(2026, 6, 30, 23, 0, tzinfo=dt.UTC), dt.datetime(2026, 7, 1, 23, 0, tzinfo=dt.UTC))
    # 7 December is GMT (UTC+0): 14:59 goes in that day's batch, 15:00 in the next day's.
    assert batch_day(dt.datetime(2026, 12, 7, 14, 59, tzinfo=dt.UTC), CUT, LONDON) == dt.date(2026, 12, 7)
    assert batch_day(dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC), CUT, LONDON) == dt.date(2026, 12, 8)


# -- the batch file -----------------------------------------------------------------------------------


def test_the_days_batch_is_a_cover_sheet_then_every_letter_printed_that_day_in_order(sqlite_db, templates, tmp_path):
    folder = tmp_path / "print"
    printer = LetterPrinter(sqlite_db, templates, RIVERSIDE, folder)
    # Printed at (UTC = London time in December): A Sun 6 Dec 16:00 (after Sunday's 15:00 cut: Monday's batch),
    # B Mon 09:00, C Mon 14:59 (large print), D Mon 15:00 (on the cut: Tuesday's batch); E queued, never printed.
    printed = {}
    for name, at, large in [("A", dt.datetime(2026, 12, 6, 16, 0), False), ("B", dt.datetime(2026, 12, 7, 9, 0), False),
                            ("C", dt.datetime(2026, 12, 7, 14, 59), True), ("D", dt.datetime(2026, 12, 7, 15, 0), False)]:
        at = at.replace(tzinfo=dt.UTC)
        printed[name] = queue(sqlite_db, templates, f"CMP-2026-00000{ord(name) - 64}", large_print=large, at=at)
        assert print_at(printer, at) == 1
    queue(sqlite_db, templates, "CMP-2026-000005", at=dt.datetime(2026, 12, 7, 16, 0, tzinfo=dt.UTC))

    batch = write_batch(sqlite_db, folder, dt.date(2026, 12, 7), RIVERSIDE, cut=CUT, zone=LONDON)

    assert batch.path == folder / "batches" / "print-batch-2026-12-07.pdf"
    reader = PdfReader(batch.path)
    # Each letter's own page count, read from its own file in the print folder.
    own = {name: len(PdfReader(next(folder.glob(f"*-{printed[name]}.pdf"))).pages) for name in "ABC"}
    # One cover page, then A, B and C one after another: A starts on page 2, B on 2 + pages(A), C after B.
    starts = {"A": 2, "B": 2 + own["A"], "C": 2 + own["A"] + own["B"]}
    assert len(reader.pages) == 1 + own["A"] + own["B"] + own["C"]
    cover = text_of(reader.pages[0])
    assert "Letters: 3." in cover and "Large print: 1." in cover and "Monday 7 December 2026" in cover
    for name, reference in [("A", "CMP-2026-000001"), ("B", "CMP-2026-000002"), ("C", "CMP-2026-000003")]:
        assert f"{reference}  complaint_stage1  (outbox {printed[name]})  page {starts[name]}" in cover
        assert f"Our reference: {reference}" in text_of(reader.pages[starts[name] - 1])
    assert "CMP-2026-000004" not in cover and "CMP-2026-000005" not in cover
    assert [letter.reference for letter in batch.letters] == ["CMP-2026-000001", "CMP-2026-000002", "CMP-2026-000003"]
    assert [letter.large_print for letter in batch.letters] == [False, False, True]
    assert "CMP-2026-000003  complaint_stage1  (outbox %d)  page %d  large print" % (printed["C"], starts["C"]) in cover
    with pymupdf.open(batch.path) as document:
        c_sizes = {round(span["size"]) for block in document[starts["C"] - 1].get_text("dict")["blocks"]
                   for line in block.get("lines", []) for span in line["spans"] if span["text"].strip()}
        b_sizes = {round(span["size"]) for block in document[starts["B"] - 1].get_text("dict")["blocks"]
                   for line in block.get("lines", []) for span in line["spans"] if "Dear" in span["text"]}
    assert 16 in c_sizes and b_sizes == {11}  # large print's body is 16 point, the standard letter's 11

    # Tuesday's batch holds D alone; re-writing Monday's gives the same file contents' letters.
    tuesday = write_batch(sqlite_db, folder, dt.date(2026, 12, 8), RIVERSIDE, cut=CUT, zone=LONDON)
    assert [letter.outbox_id for letter in tuesday.letters] == [printed["D"]]
    again = write_batch(sqlite_db, folder, dt.date(2026, 12, 7), RIVERSIDE, cut=CUT, zone=LONDON)
    assert again.letters == batch.letters


def test_a_day_with_no_letters_gets_a_cover_sheet_that_says_so(sqlite_db, tmp_path):
    batch = write_batch(sqlite_db, tmp_path / "print", dt.date(2026, 12, 7), RIVERSIDE, cut=CUT, zone=LONDON)
    reader = PdfReader(batch.path)
    assert len(reader.pages) == 1 and "Letters: 0." in text_of(reader.pages[0])
    assert oct(batch.path.stat().st_mode & 0o777) == "0o600"


def test_a_letter_missing_from_the_print_folder_is_listed_to_print_again(sqlite_db, templates, tmp_path):
    folder = tmp_path / "print"
    at = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
    outbox_id = queue(sqlite_db, templates, "CMP-2026-000009", at=at)
    print_at(LetterPrinter(sqlite_db, templates, RIVERSIDE, folder), at)
    next(folder.glob(f"*-{outbox_id}.pdf")).unlink()
    batch = write_batch(sqlite_db, folder, dt.date(2026, 12, 7), RIVERSIDE, cut=CUT, zone=LONDON)
    reader = PdfReader(batch.path)
    assert len(reader.pages) == 1
    assert "CMP-2026-000009  complaint_stage1  (outbox %d)  MISSING: print it again" % outbox_id in text_of(reader.pages[0])


# -- the clock --------------------------------------------------------------------------------------


def test_the_acknowledgement_clock_is_met_when_the_letter_is_printed_and_not_while_it_waits(db, templates, tmp_path):
    printed_at = dt.datetime(2026, 12, 2, 11, 0, tzinfo=dt.UTC)
    printed = queue(db, templates, "CMP-2026-000021", at=printed_at)
    waiting = queue(db, templates, "CMP-2026-000022", at=printed_at + dt.timedelta(days=30))  # not due to print yet
    assert print_at(LetterPrinter(db, templates, RIVERSIDE, tmp_path / "print"), printed_at) == 1
    with db.sessions() as session:
        met = {}
        for outbox_id in (printed, waiting):
            row = session.get(OutboxMessage, outbox_id)
            clock = session.scalar(select(Clock).where(Clock.case_id == row.case_id, Clock.kind == ClockKind.ACK_STAGE1))
            met[outbox_id] = (row.status, clock.met_at)
    assert met[printed] == (OutboxStatus.SENT, printed_at)
    assert met[waiting] == (OutboxStatus.QUEUED, None)


# -- the letter itself ------------------------------------------------------------------------------


def test_the_excerpt_starts_after_the_salutation_and_stops_before_the_sign_off(sqlite_db, templates):
    with sqlite_db.transaction() as session:
        case = Case(reference="CMP-2026-000031", category=Category.COMPLAINT, stage=1, received_at=RECEIVED,
                    resident_address=ADDRESS)
        context = letter_context(case, RIVERSIDE, {}, LETTER)
    assert context["understood"] == ("The bathroom ceiling has been leaking for three weeks and the plaster is "
                                     "coming down. Please send someone.")


@pytest.mark.parametrize("text, starts", [
    ("12 Oak Road\nEX2 4QT\n\nDear Ms Patel, the boiler has failed again.", "the boiler has failed again."),
    ("1 May 2026\nTo whom it may concern: my neighbour's dog barks all night.", "my neighbour's dog barks all night."),
    ("My dear mother cannot climb the stairs.", "My dear mother cannot climb the stairs."),
])
def test_the_excerpt_of_other_letters(sqlite_db, text, starts):
    case = Case(reference="CMP-2026-000032", category=Category.COMPLAINT, stage=1, received_at=RECEIVED)
    assert letter_context(case, RIVERSIDE, {}, text)["understood"] == starts


def test_the_return_line_letterhead_and_signature_name_the_configured_landlord(sqlite_db, templates, tmp_path):
    at = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
    queue(sqlite_db, templates, "CMP-2026-000041", at=at, understood=LETTER)
    print_at(LetterPrinter(sqlite_db, templates, RIVERSIDE, tmp_path / "print"), at)
    [pdf] = (tmp_path / "print").glob("*.pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "If undelivered, return to: Riverside Homes, 2 Quay Street, Riverton, RV1 2AB" in text
    assert "Example" not in text and "example" not in text.replace("riverside.example", "")
    assert "Yours sincerely" in text and text.count("Riverside Homes") >= 3  # letterhead, return line, signature
    assert "07700 900123" not in text and "The bathroom ceiling has been leaking" in text


def test_an_address_that_starts_with_the_landlords_name_does_not_repeat_it():
    landlord = LandlordSettings(name="Riverside Homes", address=["Riverside  Homes", "2 Quay Street", "RV1 2AB"])
    assert return_line(landlord) == "If undelivered, return to: Riverside Homes, 2 Quay Street, RV1 2AB"


# -- recorded as posted -----------------------------------------------------------------------------


def test_printed_letters_are_recorded_as_posted_once_with_an_event_on_each_case(db, templates, tmp_path):
    from casework.models import CaseEvent
    from casework.operations import letters_not_posted, record_posted
    from casework.vocabulary import EventAction

    printed_at = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
    first, second = (queue(db, templates, reference, at=printed_at) for reference in ("CMP-2026-000051", "CMP-2026-000052"))
    print_at(LetterPrinter(db, templates, RIVERSIDE, tmp_path / "print"), printed_at)
    posted_at = dt.datetime(2026, 12, 7, 16, 30, tzinfo=dt.UTC)
    with db.sessions() as session:
        assert [letter.id for letter in letters_not_posted(session)] == [first, second]
    with db.transaction() as session:
        assert [row.id for row in record_posted(session, [first], "post.room@riverside.example", on=posted_at)] == [first]
    with db.transaction() as session:  # again, with the other: only the other is recorded now
        later = posted_at + dt.timedelta(hours=1)
        assert [row.id for row in record_posted(session, [first, second], "bob@riverside.example", on=later)] == [second]
    with db.sessions() as session:
        assert letters_not_posted(session) == []
        row = session.get(OutboxMessage, first)
        assert (row.posted_at, row.posted_by) == (posted_at, "post.room@riverside.example")
        events = session.execute(select(CaseEvent.actor, CaseEvent.at, CaseEvent.detail)
                                 .where(CaseEvent.case_id == row.case_id, CaseEvent.action == EventAction.LETTER_POSTED)).all()
    assert events == [("post.room@riverside.example", posted_at, {"outbox_id": first, "kind": "complaint_stage1"})]


def test_only_printed_letters_can_be_recorded_as_posted_and_a_refusal_writes_nothing(db, templates, tmp_path):
    from casework.operations import record_posted
    from core.errors import ActionRefused, CaseNotFound

    printed_at = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
    printed = queue(db, templates, "CMP-2026-000061", at=printed_at)
    print_at(LetterPrinter(db, templates, RIVERSIDE, tmp_path / "print"), printed_at)
    waiting = queue(db, templates, "CMP-2026-000062", at=printed_at + dt.timedelta(days=1))
    with pytest.raises(ActionRefused, match=f"letter {waiting} has not been printed"):
        with db.transaction() as session:
            record_posted(session, [printed, waiting], "bob@riverside.example")
    with pytest.raises(CaseNotFound, match="no outbox message has the id 999"):
        with db.transaction() as session:
            record_posted(session, [printed, 999], "bob@riverside.example")
    from responders.outbox import enqueue
    from responders.render import RenderedMessage
    from core.settings import OutboxSettings

    with db.transaction() as session:
        email = enqueue(session, case=None, submission_id=None, kind=AckKind.NEUTRAL, to_address="a@example.net",
                        rendered=RenderedMessage("s", "t", "h"), in_reply_to=None, references=[],
                        settings=OutboxSettings(), domain="riverside.example")
        session.flush()
        email = email.id
    with pytest.raises(ActionRefused, match=f"outbox message {email} is an email, not a letter"):
        with db.transaction() as session:
            record_posted(session, [printed, email], "bob@riverside.example")
    with db.sessions() as session:
        assert session.get(OutboxMessage, printed).posted_at is None


def test_the_worker_cuts_the_batch_two_minutes_after_print_batch_time_local(tmp_path):
    from types import SimpleNamespace

    from apscheduler.schedulers.background import BackgroundScheduler

    import scheduler
    from core.settings import LetterSourceSettings, Settings

    settings = Settings(var_dir=tmp_path, letters=LetterSourceSettings(path=tmp_path, print_batch_time=dt.time(16, 30)))
    service = SimpleNamespace(settings=settings, db=None, runner=SimpleNamespace(sources=[], process_waiting=lambda: 0),
                              send=lambda: 0, write_todays_batch=lambda: None)
    jobs = BackgroundScheduler(timezone="UTC")
    scheduler.schedule(service, jobs)
    trigger = jobs.get_job("print-batch").trigger
    # 16:30 + 2 minutes = 16:32 London time; on 1 July (BST, UTC+1) that is 15:32 UTC.
    after = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    assert trigger.get_next_fire_time(None, after) == dt.datetime(2026, 7, 1, 15, 32, tzinfo=dt.UTC)
