"""Letters dropped in the folder become stored submissions with the post room's receipt date, are
filed away, and those without an email address get a print-ready acknowledgement with the reference."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from casework import lifecycle
from casework.calendar import Calendar
from casework.models import Clock, Submission
from casework.policy import Policy
from casework.references import References
from casework.vocabulary import AckKind, Category, ClockKind
from intake.scans.reading import read_letter_submission
from intake.scans.receipt import scanning_lag_note
from pipeline.runner import store
from responders.acknowledge import understood_excerpt
from responders.post import LetterPrinter, enqueue_letter, letter_context, render_letter
from responders.render import TemplateSet
from tests.letters.conftest import drain, set_mtime
from tests.letters.scans import EMAIL_LETTER, LETTER, save_encrypted_pdf, save_png, save_text_pdf, save_tiff

SCANNED = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)  # Thursday
LONDON_MIDNIGHT = {
    "2026-11-20": dt.datetime(2026, 11, 20, 0, 0, tzinfo=dt.UTC),
    "2026-11-23": dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC),
    "2026-11-26": dt.datetime(2026, 11, 26, 0, 0, tzinfo=dt.UTC),
}


def drop(letters_dir: Path) -> None:
    (letters_dir / "2026-11-20").mkdir()
    files = [
        save_png(letters_dir / "2026-11-20" / "scan 001.png", LETTER),
        save_text_pdf(letters_dir / "20261123_0002.pdf", EMAIL_LETTER),
        save_tiff(letters_dir / "loose scan.tif", [LETTER]),
        save_encrypted_pdf(letters_dir / "locked.pdf", LETTER),
    ]
    for path in files:
        set_mtime(path, SCANNED)


def stored(db) -> dict[str, Submission]:
    with db.sessions() as session:
        return {s.filename: s for s in session.scalars(select(Submission))}


def test_letters_in_the_folder_become_submissions_with_post_room_receipt_dates(source, sqlite_db, letters_dir):
    drop(letters_dir)
    items = drain(source)
    assert sum(store(sqlite_db, item) for item in items) == 4
    for item in items:
        source.done(item)
    submissions = stored(sqlite_db)
    expected = {"2026-11-20/scan 001.png": "2026-11-20", "20261123_0002.pdf": "2026-11-23",
                "loose scan.tif": "2026-11-26", "locked.pdf": "2026-11-26"}
    for filename, day in expected.items():
        assert submissions[filename].received_at == LONDON_MIDNIGHT[day]
        assert submissions[filename].kind == "letter"
    assert [submissions[f].details["receipt_date_source"] for f in expected] == ["folder", "filename", "mtime", "mtime"]
    assert "encrypted" in submissions["locked.pdf"].details["unreadable"]
    assert sorted(p.name for p in letters_dir.iterdir()) == ["2026-11-20", "processed", "quarantine"]
    assert list((letters_dir / "2026-11-20").iterdir()) == []
    assert (letters_dir / "quarantine" / "locked.pdf.why.txt").exists()
    assert len(list((letters_dir / "processed").rglob("*.*"))) == 3


def test_the_same_file_dropped_again_is_recognised_and_filed_not_stored_twice(source, sqlite_db, letters_dir):
    data = save_text_pdf(letters_dir / "a.pdf", LETTER).read_bytes()
    set_mtime(letters_dir / "a.pdf", SCANNED)
    [item] = drain(source)
    assert store(sqlite_db, item) is True
    source.done(item)
    (letters_dir / "a again.pdf").write_bytes(data)
    set_mtime(letters_dir / "a again.pdf", SCANNED)
    [again] = drain(source)
    assert again.natural_key == item.natural_key
    assert store(sqlite_db, again) is False
    source.done(again)
    assert len(stored(sqlite_db)) == 1 and not (letters_dir / "a again.pdf").exists()


def test_a_letter_without_email_gets_a_print_ready_acknowledgement_giving_its_reference(source, sqlite_db, settings, letters_dir, tmp_path):
    drop(letters_dir)
    for item in drain(source):
        store(sqlite_db, item)
    policy, references, templates = Policy(settings.policy), References(settings.references), TemplateSet()
    now = dt.datetime(2026, 11, 26, 11, 0, tzinfo=dt.UTC)
    with sqlite_db.transaction() as session:
        submission = session.scalar(select(Submission).where(Submission.filename == "2026-11-20/scan 001.png"))
        message = read_letter_submission(submission, settings)
        assert message.sender is None
        case = lifecycle.open_case(
            session, references, category=Category.COMPLAINT, held=False, received_at=submission.received_at, now=now,
            resident_name=message.sender_name, resident_address=submission.details["postal_address"],
        )
        lifecycle.start_complaint_clocks(case, policy, submission.received_at)
        session.flush()
        clocks = {clock.kind: clock.due_at for clock in case.clocks}
        context = letter_context(case, settings.landlord, clocks, understood_excerpt(message.new_text))
        enqueue_letter(session, case=case, submission_id=submission.id, kind=AckKind.COMPLAINT_STAGE1,
                       postal_address=case.resident_address, rendered=render_letter(templates, AckKind.COMPLAINT_STAGE1, context),
                       domain="example.org")
        reference, case_id = case.reference, case.id
        lag = scanning_lag_note(Calendar.from_settings(settings.policy), submission.received_at, SCANNED)
    assert lag == "scanned 4 working days after it arrived: 4 of the 5 working days to acknowledge were used"
    printer = LetterPrinter(sqlite_db, templates, settings.landlord, tmp_path / "print")
    assert printer.run_once() == 1 and printer.run_once() == 0
    [pdf] = (tmp_path / "print").glob("*.pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert reference in text and "12 Acacia Avenue" in text and "EX2 4QT" in text
    with sqlite_db.sessions() as session:
        ack = session.scalar(select(Clock).where(Clock.case_id == case_id, Clock.kind == ClockKind.ACK_STAGE1))
        assert ack.met_at is not None
        assert ack.due_at.date() == dt.date(2026, 11, 27)  # five working days from Friday 20 November
