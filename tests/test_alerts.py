"""Alert emails (responders/alerts.py) through aiosmtpd: the worker really runs on a Maildir and its
acknowledgement is really refused (450), then the test sets times by hand (a source's last success two
hours ago, the refused row queued an hour ago, its case's acknowledgement clock due in three hours) and
checks what is mailed to [alerts] to, that a condition is mailed once per repeat interval, that an alert
the SMTP server could not take is tried again, and that no alert names the resident."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from sqlalchemy import select, update

import scheduler
from casework.models import Case, Clock, OutboxMessage, SourceHealth, utcnow
from casework.vocabulary import OutboxStatus
from responders.alerts import MEMORY_FILE, Alerter
from tests.mail import deliver, make_mail, new_maildir

OPS = "ops@landlord.org"
RESIDENT = ("Sam Resident", "sam@example.net", "Leak still not fixed", "three weeks")


@pytest.fixture
def unwell(make_settings, tmp_path, smtp):
    """A worker that ran once: Sam's complaint stored and its acknowledgement refused for now (450); then the
    times set by hand so that three conditions are due. Returns (settings, service, now, reference)."""
    inbox, post = new_maildir(tmp_path / "inbox"), new_maildir(tmp_path / "post")
    deliver(inbox, make_mail("Sam Resident <sam@example.net>", "Leak still not fixed",
                             "I reported a leak three weeks ago and nobody has come. I am very unhappy."))
    smtp.handler.refuse_recipients = {"sam@example.net": "450 4.2.0 Mailbox busy"}
    settings = make_settings(maildir=[{"name": "inbox", "path": inbox}, {"name": "post", "path": post}],
                             smtp={"host": "127.0.0.1", "port": smtp.port, "security": "none"},
                             alerts={"to": OPS, "source_silent_minutes": 30, "clock_warning_hours": 24,
                                     "outbox_failing_minutes": 30, "repeat_minutes": 240})
    service = scheduler.build(settings)
    service.run_once()
    now = utcnow()
    with service.db.transaction() as session:
        [row] = session.scalars(select(OutboxMessage)).all()
        assert row.status == OutboxStatus.QUEUED and row.attempts == 1  # really refused once by aiosmtpd
        row.created_at = now - dt.timedelta(hours=1)
        session.execute(update(SourceHealth).where(SourceHealth.source == "post")
                        .values(last_success_at=now - dt.timedelta(hours=2), last_poll_at=now - dt.timedelta(hours=2)))
        case = session.scalar(select(Case))
        session.execute(update(Clock).where(Clock.case_id == case.id, Clock.kind == "ack_stage1")
                        .values(due_at=now + dt.timedelta(hours=3)))
        reference = case.reference
    yield settings, service, now, reference
    service.db.engine.dispose()


def alerts_received(smtp) -> list:
    return [received.message for received in smtp.received if received.rcpt_tos == [OPS]]


@pytest.mark.timeout(180)
def test_each_condition_is_mailed_once_per_interval_and_names_no_resident(unwell, smtp, tmp_path):
    settings, service, now, reference = unwell
    alerter = Alerter(settings, service.db, started_at=now - dt.timedelta(hours=3))

    assert alerter.run_once(now) == 3
    [email] = alerts_received(smtp)
    body = email.get_content()
    assert email["Subject"] == "Housing Intake: 3 problem(s) need attention"
    assert email["To"] == OPS and email["Auto-Submitted"] == "auto-generated"
    assert "Source post has not polled successfully for 2 hours" in body
    assert "Source inbox" not in body  # polled just now
    assert "1 acknowledgement clock(s) about to be missed" in body and f"{reference}: ack_stage1 due" in body
    assert "The outbox is failing: 1 tried and still unsent" in body
    assert not [word for word in RESIDENT if word.lower() in body.lower() or word in str(email["Subject"])]
    memory = tmp_path / "var" / MEMORY_FILE
    assert stat.S_IMODE(memory.stat().st_mode) == 0o600

    # The same conditions a minute later, and 29 minutes later: nothing more (the inbox polled at `now`).
    assert alerter.run_once(now + dt.timedelta(minutes=1)) == 0
    assert alerter.run_once(now + dt.timedelta(minutes=29)) == 0
    assert len(alerts_received(smtp)) == 1

    # A new condition inside the interval is mailed alone: with no poll since, the inbox is silent at 31 minutes.
    assert alerter.run_once(now + dt.timedelta(minutes=31)) == 1
    latest = alerts_received(smtp)[-1]
    assert latest["Subject"] == "Housing Intake: 1 problem(s) need attention"
    assert "Source inbox has not polled successfully for 31 minutes" in latest.get_content()
    assert alerter.run_once(now + dt.timedelta(minutes=239)) == 0

    # After the interval the first three, still there, are mailed again (the inbox's waits for its own
    # interval); a new worker reads the same memory.
    again = Alerter(settings, service.db, started_at=now)
    assert again.run_once(now + dt.timedelta(minutes=241)) == 3
    assert alerts_received(smtp)[-1]["Subject"] == "Housing Intake: 3 problem(s) need attention"


@pytest.mark.timeout(180)
def test_an_alert_the_server_cannot_take_is_tried_again_next_run(unwell, smtp):
    settings, service, now, _ = unwell
    alerter = Alerter(settings, service.db, started_at=now)
    smtp.stop()
    try:
        assert alerter.run_once(now) == 0  # SMTP down: nothing remembered as sent
    finally:
        smtp.start()
    assert alerter.run_once(now + dt.timedelta(minutes=5)) == 3
    assert len(alerts_received(smtp)) == 1


@pytest.mark.timeout(180)
def test_never_polled_sources_are_silent_only_once_the_time_has_passed_since_the_worker_started(unwell, smtp):
    settings, service, now, _ = unwell
    with service.db.transaction() as session:
        session.execute(SourceHealth.__table__.delete())  # as if no poll had ever been recorded
    alerter = Alerter(settings, service.db, started_at=now)
    found = {alert.key for alert in alerter.find(now + dt.timedelta(minutes=29))}
    assert found == {"acknowledgement-clocks", "outbox"}
    found = {alert.key for alert in alerter.find(now + dt.timedelta(minutes=31))}
    assert found == {"acknowledgement-clocks", "outbox", "source:inbox", "source:post"}


@pytest.mark.timeout(180)
def test_without_alerts_to_nothing_is_sent(unwell, smtp):
    settings, service, now, _ = unwell
    quiet = settings.model_copy(update={"alerts": settings.alerts.model_copy(update={"to": None})})
    assert Alerter(quiet, service.db, started_at=now).run_once(now) == 0
    assert alerts_received(smtp) == []
