"""Operations on SQLite and PostgreSQL: a failed outbox row is requeued (and nothing else is), and the
listings show what staff need and never a message's text."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from casework.models import Case, CaseEvent, OutboxMessage, Submission, utcnow
from casework.operations import (
    count_failed_submissions, failed_submissions, outbox_counts, outbox_rows, record_poll, requeue_outbox, source_polls,
)
from casework.vocabulary import Disposition, EventAction, OutboxStatus
from core.errors import ActionRefused, CaseNotFound
from core.settings import OutboxSettings
from responders.sender import OutboxSender
from responders.transport import FileTransport

RECEIVED = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
BODY = "Dear Sam, thank you for telling us about the leak."


def add_case(db, reference="CMP-2026-000001") -> int:
    with db.transaction() as session:
        case = Case(reference=reference, category="complaint", received_at=RECEIVED, resident_email="sam@example.net")
        session.add(case)
        session.flush()
        return case.id


def add_outbox(db, case_id, status, *, reason=None, attempts=0, channel="email") -> int:
    with db.transaction() as session:
        row = OutboxMessage(case_id=case_id, kind="complaint_stage1", channel=channel, to_address="sam@example.net",
                            subject="Your complaint", text_body=BODY, message_id=f"{uuid.uuid4().hex}@example.org",
                            status=status, reason=reason, attempts=attempts,
                            next_attempt_at=RECEIVED + dt.timedelta(days=1), created_at=RECEIVED)
        session.add(row)
        session.flush()
        return row.id


def add_submission(db, disposition, *, error=None, reason=None, attempts=1, case_id=None) -> int:
    raw = b"Subject: Mould\r\n\r\nThe mould in my bedroom is back."
    with db.transaction() as session:
        row = Submission(source="inbox", kind="email", natural_key=uuid.uuid4().hex, raw=raw, raw_sha256="0" * 64,
                         received_at=RECEIVED, disposition=disposition, error=error, reason=reason, attempts=attempts,
                         case_id=case_id, subject="Mould", extracted_text="The mould in my bedroom is back.")
        session.add(row)
        session.flush()
        return row.id


def test_a_failed_outbox_row_is_requeued_now_with_its_attempts_reset_and_the_case_records_who(db):
    case_id = add_case(db)
    outbox_id = add_outbox(db, case_id, OutboxStatus.FAILED, reason="550 mailbox unavailable", attempts=8)
    before = utcnow()
    with db.transaction() as session:
        requeue_outbox(session, outbox_id, "alice@landlord.org")
    with db.sessions() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 0)
        assert before <= row.next_attempt_at <= utcnow()
        assert "alice@landlord.org" in row.reason and "550 mailbox unavailable" in row.reason
        [event] = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).all()
        assert (event.actor, event.action) == ("alice@landlord.org", EventAction.OUTBOX_REQUEUED)
        assert event.detail["outbox_id"] == outbox_id and event.detail["previous_reason"] == "550 mailbox unavailable"
        assert event.detail["previous_attempts"] == 8


def test_the_sender_takes_a_requeued_row_at_once(db, tmp_path):
    outbox_id = add_outbox(db, add_case(db), OutboxStatus.FAILED, reason="550 mailbox unavailable", attempts=8)
    with db.transaction() as session:
        requeue_outbox(session, outbox_id, "alice@landlord.org")
    sender = OutboxSender(db, FileTransport(tmp_path / "outbox"), OutboxSettings(), "complaints@example.org", "Example")
    assert sender.run_once() == 1
    with db.sessions() as session:
        assert session.get(OutboxMessage, outbox_id).status == OutboxStatus.SENT


@pytest.mark.parametrize("status", [OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.SUPPRESSED])
def test_only_a_failed_row_can_be_retried_and_a_refusal_changes_nothing(db, status):
    case_id = add_case(db)
    outbox_id = add_outbox(db, case_id, status, reason="capped", attempts=2)
    with pytest.raises(ActionRefused, match=f"has not failed \\(it is {status}\\)"):
        with db.transaction() as session:
            requeue_outbox(session, outbox_id, "alice@landlord.org")
    with db.sessions() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert (row.status, row.attempts, row.reason) == (status, 2, "capped")
        assert session.scalars(select(CaseEvent)).all() == []


def test_an_unknown_outbox_row_is_refused(db):
    with pytest.raises(CaseNotFound, match="no outbox message has the id 999"):
        with db.transaction() as session:
            requeue_outbox(session, 999, "alice@landlord.org")


def test_a_failed_row_without_a_case_is_requeued_without_an_event(db):
    outbox_id = add_outbox(db, None, OutboxStatus.FAILED, reason="no route")
    with db.transaction() as session:
        requeue_outbox(session, outbox_id, "alice@landlord.org")
    with db.sessions() as session:
        assert session.get(OutboxMessage, outbox_id).status == OutboxStatus.QUEUED
        assert session.scalars(select(CaseEvent)).all() == []


def test_the_outbox_listing_shows_unsent_rows_failed_first_with_their_case_and_never_the_body(db):
    case_id = add_case(db)
    queued = add_outbox(db, case_id, OutboxStatus.QUEUED)
    failed = add_outbox(db, case_id, OutboxStatus.FAILED, reason="550 mailbox unavailable", attempts=8)
    suppressed = add_outbox(db, None, OutboxStatus.SUPPRESSED, reason="cap of 3 a day", channel="letter")
    sending = add_outbox(db, case_id, OutboxStatus.SENDING, attempts=1)
    add_outbox(db, case_id, OutboxStatus.SENT)
    with db.sessions() as session:
        rows = outbox_rows(session)
        counts = outbox_counts(session)
    assert [row.id for row in rows] == [failed, sending, queued, suppressed]
    assert rows[0].case_reference == "CMP-2026-000001" and rows[0].reason == "550 mailbox unavailable"
    assert rows[0].attempts == 8 and rows[0].kind == "complaint_stage1" and rows[0].channel == "email"
    assert rows[3].case_reference is None and rows[3].channel == "letter"
    assert counts == {"failed": 1, "sending": 1, "queued": 1, "suppressed": 1}
    assert all(BODY not in repr(row) for row in rows)


def test_the_failed_listing_shows_the_error_newest_first_and_not_other_dispositions(db):
    case_id = add_case(db)
    first = add_submission(db, Disposition.FAILED, error="KeyError: 'category'", attempts=3)
    unreadable = add_submission(db, Disposition.FAILED, reason="the PDF is encrypted", attempts=1, case_id=case_id)
    add_submission(db, Disposition.ACCEPTED, case_id=case_id)
    add_submission(db, Disposition.PENDING)
    with db.sessions() as session:
        rows = failed_submissions(session)
        assert count_failed_submissions(session) == 2
    assert [row.id for row in rows] == [unreadable, first]
    assert rows[0].error == "the PDF is encrypted" and rows[0].case_reference == "CMP-2026-000001"
    assert (rows[1].error, rows[1].attempts, rows[1].source, rows[1].kind) == ("KeyError: 'category'", 3, "inbox", "email")
    assert rows[1].received_at == RECEIVED
    assert all("mould" not in repr(row) for row in rows)


def test_source_polls_come_from_the_table_with_configured_sources_never_polled_listed_too(db):
    at = utcnow()
    with db.transaction() as session:
        record_poll(session, "inbox", at=at - dt.timedelta(minutes=5))
        record_poll(session, "inbox", error="Maildir /srv/mail does not exist", at=at)
        record_poll(session, "old", at=at)
    with db.sessions() as session:
        polls = {poll.source: poll for poll in source_polls(session, configured=["letters", "inbox"])}
    assert list(polls) == ["letters", "inbox", "old"]
    assert polls["letters"].last_poll_at is None and not polls["letters"].failing
    inbox = polls["inbox"]
    assert inbox.failing and inbox.last_error == "Maildir /srv/mail does not exist"
    assert (inbox.last_poll_at, inbox.last_error_at, inbox.last_success_at) == (at, at, at - dt.timedelta(minutes=5))
