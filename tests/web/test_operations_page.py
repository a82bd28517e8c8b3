"""The operations page in a real browser against a real `intake serve`: a failed submission is re-run
through the real pipeline, a failed outbox row is retried, and the worker's source errors and the
letters quarantine are shown from the database and the folder (never from the worker's memory)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from casework.models import Case, CaseEvent, OutboxMessage, Submission
from casework.vocabulary import Disposition, EventAction, OutboxStatus
from core.db import Database
from intake.items import RawItem
from intake.scans.source import QUARANTINE, write_note
from tests.mail import make_mail
from tests.web.conftest import signed_in, start_server

BODY = "Dear Sam, we are sorry the repair has taken so long."


def database(server) -> Database:
    return Database(f"sqlite:///{Path(server.env['INTAKE_VAR_DIR']) / 'intake.db'}")


def insert(server, *rows) -> list[int]:
    db = database(server)
    try:
        with db.transaction() as session:
            session.add_all(rows)
            session.flush()
            return [row.id for row in rows]
    finally:
        db.engine.dispose()


def no_page_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_failed_submission_is_shown_with_its_error_and_re_run_takes_it_through_the_pipeline(page, server):
    raw = make_mail(subject="Mould in the bedroom", body="The black mould in my bedroom has come back and my "
                    "daughter's asthma is worse. I am very unhappy that nobody has fixed it after three visits.")
    [submission_id] = insert(server, Submission(
        source="inbox", kind="email", natural_key=uuid.uuid4().hex, raw=raw, raw_sha256=hashlib.sha256(raw).hexdigest(),
        received_at=dt.datetime.now(dt.UTC), disposition=Disposition.FAILED, attempts=3,
        error="sqlalchemy.exc.OperationalError: database is locked",
        reason="processing failed; it will be retried, then waits for a person"))
    signed_in(page, server)
    page.get_by_role("link", name="Operations").click()
    table = page.get_by_role("table", name="Submissions that failed, newest first")
    row = table.get_by_role("row").filter(has_text="database is locked")
    assert "inbox" in row.inner_text() and str(submission_id) in row.inner_text()
    assert "black mould" not in page.content()  # the error, never the resident's words
    other = page.context.new_page()  # a colleague with the same page open, who clicks second
    other.goto(f"{server.url}/operations")

    row.get_by_role("button", name=f"Re-run submission {submission_id}").click()
    page.wait_for_url(f"**/operations?rerun={submission_id}*")
    status = page.get_by_role("status").inner_text()
    assert f"Submission {submission_id} was re-run: it is now" in status
    assert "accepted" in status or "held" in status
    reference = page.get_by_role("status").get_by_role("link").inner_text()
    assert not page.get_by_role("button", name=f"Re-run submission {submission_id}").count()
    db = database(server)
    with db.sessions() as session:
        submission = session.get(Submission, submission_id)
        assert submission.disposition in (Disposition.ACCEPTED, Disposition.HELD) and submission.error is None
        assert session.get(Case, submission.case_id).reference == reference
        actions = {event.action for event in session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == submission.case_id))}
    db.engine.dispose()
    assert EventAction.CASE_OPENED in actions
    assert page.get_by_role("status").get_by_role("link").count() == 1

    other.get_by_role("button", name=f"Re-run submission {submission_id}").click()
    assert f"submission {submission_id} has not failed" in other.get_by_role("alert").inner_text()


def test_a_failed_outbox_row_is_retried_and_its_case_records_who_asked(page, server):
    [case_id] = insert(server, Case(reference="CMP-2026-000777", category="complaint",
                                    received_at=dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)))
    [outbox_id] = insert(server, OutboxMessage(
        case_id=case_id, kind="complaint_stage1", channel="email", to_address="sam@example.net",
        subject="Your complaint", text_body=BODY, message_id=f"{uuid.uuid4().hex}@example.org",
        status=OutboxStatus.FAILED, reason="550 5.1.1 mailbox unavailable", attempts=8))
    signed_in(page, server, "bob@landlord.org")
    page.goto(f"{server.url}/operations")
    table = page.get_by_role("table", name="Unsent outbox messages, failed first")
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=str(outbox_id), exact=True))
    text = row.inner_text()
    assert "CMP-2026-000777" in text and "550 5.1.1 mailbox unavailable" in text and "failed" in text
    assert BODY not in page.content()  # the outbox shows reasons, never what we wrote
    page.set_viewport_size({"width": 768, "height": 1024})
    assert no_page_overflow(page) and row.get_by_role("button", name=f"Retry outbox message {outbox_id}").is_visible()

    row.get_by_role("button", name=f"Retry outbox message {outbox_id}").click()
    page.wait_for_url(f"**/operations?retried={outbox_id}*")
    assert f"Outbox message {outbox_id} is queued again" in page.get_by_role("status").inner_text()
    row = page.get_by_role("table", name="Unsent outbox messages, failed first").get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=str(outbox_id), exact=True))
    assert "queued" in row.inner_text() and "retry requested by bob@landlord.org" in row.inner_text()
    assert not row.get_by_role("button").count()

    db = database(server)
    with db.sessions() as session:
        events = [(event.actor, event.action, event.detail["outbox_id"])
                  for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id))]
        assert session.get(OutboxMessage, outbox_id).attempts == 0
    db.engine.dispose()
    assert events == [("bob@landlord.org", EventAction.OUTBOX_REQUEUED, outbox_id)]
    row.get_by_role("link", name="CMP-2026-000777").click()
    page.wait_for_url("**/cases/CMP-2026-000777")


@pytest.fixture(scope="module")
def failing_server(tmp_path_factory):
    """A second app whose settings name a Maildir that does not exist and a letters folder with a
    quarantined scan in it; the worker has polled once (`intake run --once`, another process)."""
    root = tmp_path_factory.mktemp("failing")
    var_dir, letters = root / "var", root / "letters"
    var_dir.mkdir()
    (letters / QUARANTINE).mkdir(parents=True)
    scan = letters / QUARANTINE / "2026-11-16" / "scan-0042.pdf"
    scan.parent.mkdir()
    scan.write_bytes(b"%PDF-1.7 not really")
    write_note(scan, RawItem(source="letters", kind="letter", natural_key="ab" * 32, raw=b"",
                             received_at=dt.datetime(2026, 11, 16, tzinfo=dt.UTC), filename="2026-11-16/scan-0042.pdf",
                             details={"unreadable": "the PDF is encrypted and cannot be read",
                                      "receipt_date_source": "folder"}))
    server = start_server(var_dir, extra_env={
        "INTAKE_MAILDIR": json.dumps([{"name": "inbox", "path": "/nonexistent"}]),
        "INTAKE_LETTERS": json.dumps({"path": str(letters)}),
    })
    try:
        server.intake("run", "--once", check=False)
        yield server
    finally:
        server.process.terminate()
        server.process.wait(timeout=20)


def test_sources_and_quarantine_come_from_the_database_and_the_folder_and_fit_a_narrow_screen(page, failing_server,
                                                                                               server):
    signed_in(page, failing_server)
    page.goto(f"{failing_server.url}/operations")
    sources = page.get_by_role("table", name="Each source's last poll")
    inbox = sources.get_by_role("row").filter(has=page.get_by_role("rowheader", name="inbox"))
    text = inbox.inner_text()
    assert "failing" in text and "/nonexistent" in text and "just now" in text
    letters = sources.get_by_role("row").filter(has=page.get_by_role("rowheader", name="letters"))
    assert "working" in letters.inner_text()

    scans = page.get_by_role("table", name="Files in quarantine, newest first")
    assert "2026-11-16/scan-0042.pdf" in scans.inner_text()
    assert "the PDF is encrypted and cannot be read" in scans.inner_text()
    assert no_page_overflow(page)
    page.set_viewport_size({"width": 768, "height": 1024})
    assert no_page_overflow(page)
    assert page.get_by_role("button", name="Sign out").is_visible()

    page.goto(f"{server.url}/login")  # the first app has no letters source: the page says so
    signed_in(page, server)
    page.goto(f"{server.url}/operations")
    assert "No letters source is configured" in page.get_by_role("main").inner_text()
    assert no_page_overflow(page)
