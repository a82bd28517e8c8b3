"""Scanned letters through the whole worker: cases with references and post-room receipt dates,
an emailed acknowledgement where the letter gives an address, a printed one where it does not."""

from __future__ import annotations

import datetime as dt

from pypdf import PdfReader
from sqlalchemy import select

import scheduler
from casework.models import Case, CaseEvent, OutboxMessage, Submission
from casework.vocabulary import Disposition
from tests.letters.conftest import set_mtime
from tests.letters.scans import EMAIL_LETTER, LETTER, save_corrupt_pdf, save_png, save_text_pdf

SCANNED = dt.datetime(2026, 11, 19, 10, 0, tzinfo=dt.UTC)  # a Thursday, three working days after the post came


def test_letters_become_cases_acknowledged_by_email_or_by_printed_letter(make_settings, tmp_path):
    letters = tmp_path / "letters"
    (letters / "2026-11-16").mkdir(parents=True)
    files = [
        save_png(letters / "2026-11-16" / "scan-001.png", LETTER),
        save_text_pdf(letters / "2026-11-17_scan-002.pdf", EMAIL_LETTER),
        save_corrupt_pdf(letters / "2026-11-17_scan-003.pdf", LETTER),
    ]
    for path in files:
        set_mtime(path, SCANNED)
    service = scheduler.build(make_settings(letters={"path": letters}))

    service.run_once()  # first sighting: a file is taken only once its size is stable
    service.run_once()

    with service.db.sessions() as session:
        by_file = {s.filename: s for s in session.scalars(select(Submission))}
        assert set(by_file) == {"2026-11-16/scan-001.png", "2026-11-17_scan-002.pdf", "2026-11-17_scan-003.pdf"}
        posted, emailed, corrupt = (by_file[name] for name in sorted(by_file))
        assert corrupt.disposition == Disposition.FAILED and "could not be read" in corrupt.reason
        assert posted.received_at.date() in {dt.date(2026, 11, 15), dt.date(2026, 11, 16)}  # 00:00 London
        posted_case, emailed_case = session.get(Case, posted.case_id), session.get(Case, emailed.case_id)
        assert posted_case.resident_address and "EX2 4QT" in " ".join(posted_case.resident_address)
        assert emailed_case.resident_email == "tom.brown@example.net"
        lag = session.scalar(select(CaseEvent).where(CaseEvent.case_id == posted_case.id, CaseEvent.action == "scanning_lag"))
        assert lag is not None and lag.detail["working_days"] == 3
        channels = {row.case_id: row.channel for row in session.scalars(select(OutboxMessage))}
        assert channels == {posted_case.id: "letter", emailed_case.id: "email"}
        assert any(e.action == "letter_sent_to_print" for e in posted_case.events)

    [pdf] = (service.settings.var_dir / "print").glob("*.pdf")
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert posted_case.reference in text and "EX2 4QT" in text
    [eml] = (service.settings.var_dir / "outbox").glob("*.eml")
    assert emailed_case.reference in eml.read_text()
    assert (letters / "quarantine").exists() and any((letters / "quarantine").glob("*.why.txt"))
    assert any((letters / "processed").rglob("scan-001.png"))
