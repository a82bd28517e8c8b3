"""Faults: a worker killed mid-run, an SMTP server that is down, an IMAP login that fails."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import func, select, text

import scheduler
from core.db import Database
from casework.models import Case, CaseEvent, OutboxMessage, Submission
from tests.conftest import REPO
from tests.e2e import imap_settings, is_machine_generated, smtp_settings, varied_mail, write_config
from tests.mail import deliver, make_mail, new_maildir
from tests.smtp_server import SmtpTestServer


def start_worker(config) -> subprocess.Popen:
    env = {**os.environ, "INTAKE_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "run", "--once"], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def kill_when(worker: subprocess.Popen, db: Database, sql: str, threshold: int, timeout: float = 90) -> bool:
    """SIGKILL the worker as soon as the query's count reaches the threshold; False if it finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and worker.poll() is None:
        try:
            with db.engine.connect() as connection:
                if connection.execute(text(sql)).scalar() >= threshold:
                    worker.send_signal(signal.SIGKILL)
                    worker.wait()
                    return True
        except Exception:  # the schema may not exist yet on the first poll
            pass
        time.sleep(0.01)
    worker.wait(timeout=5)
    return False


KILL_POINTS = [
    ("SELECT count(*) FROM submissions", 7),  # while storing raw items
    ("SELECT count(*) FROM submissions WHERE disposition != 'pending'", 12),  # while processing
    # while sending: a batch's deliveries reach their cases after its sends, so these kills also leave
    # rows sent whose cases were not yet told (the next sender run tells them)
    ("SELECT count(*) FROM outbox WHERE status = 'sent'", 5),
    ("SELECT count(*) FROM outbox WHERE status = 'sent'", 25),
]


def test_a_worker_killed_at_several_points_loses_nothing_and_opens_no_duplicate_case(tmp_path, dovecot, smtp):
    mail = varied_mail(40)
    dovecot.append_many("INBOX", mail)
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    config = write_config(tmp_path / "intake.toml", {
        "var_dir": tmp_path / "var", "database_url": url, "log_level": "WARNING",
        "imap": [imap_settings(dovecot)], "smtp": smtp_settings(smtp),
    })
    db = Database(url)
    kills = sum(kill_when(start_worker(config), db, sql, threshold) for sql, threshold in KILL_POINTS)
    assert kills >= 3, "the worker finished before it could be killed at most points"
    finisher = start_worker(config)
    assert finisher.wait(timeout=180) == 0, finisher.stderr.read().decode()

    human = [raw for raw in mail if not is_machine_generated(raw)]
    with db.sessions() as session:
        keys = list(session.scalars(select(Submission.natural_key)))
        assert len(keys) == len(set(keys)) == 40
        assert session.scalar(select(func.count(Submission.id)).where(Submission.disposition == "pending")) == 0
        assert session.scalar(select(func.count(Case.id))) == len(human)
        assert session.scalar(select(func.count(OutboxMessage.id))) == len(human)
        # Every delivery reached its case once, dated when it was sent, whatever the kills cut short.
        sent = session.execute(select(OutboxMessage.id, OutboxMessage.case_id, OutboxMessage.sent_at,
                                      OutboxMessage.delivery_recorded_at)
                               .where(OutboxMessage.status == "sent")).all()
        assert len(sent) == len(human) and all(row.delivery_recorded_at is not None for row in sent)
        told = Counter(event.detail["outbox_id"] for event in session.scalars(
            select(CaseEvent).where(CaseEvent.action == "acknowledgement_sent")))
        assert told == Counter(row.id for row in sent)
        acknowledged = dict(session.execute(select(Case.id, Case.acknowledged_at)).all())
        assert all(acknowledged[row.case_id] == row.sent_at for row in sent)
    per_message = Counter(message["In-Reply-To"] for message in smtp.messages)
    assert set(per_message) == {email.message_from_bytes(raw)["Message-ID"] for raw in human}
    # A kill between "sent" and "marked sent" may resend one message, with the same Message-ID.
    duplicates = [m["Message-ID"] for m in smtp.messages if per_message[m["In-Reply-To"]] > 1]
    assert sum(per_message.values()) - len(per_message) <= kills
    assert len(set(duplicates)) == len({m for m in per_message if per_message[m] > 1})
    assert dovecot.folder_uids("INBOX") == []


def test_acknowledgements_wait_while_smtp_is_down_and_go_out_exactly_once_when_it_returns(make_settings, tmp_path):
    smtp = SmtpTestServer()  # not started: the server is down
    maildir = new_maildir(tmp_path / "maildir")
    for n in range(3):
        deliver(maildir, make_mail(f"Resident {n} <r{n}@example.net>", "Leak", f"My kitchen tap is leaking, flat {n}. Can someone come?"))
    settings = make_settings(maildir=[{"name": "mailbox", "path": maildir}], smtp=smtp_settings(smtp),
                             outbox={"backoff_seconds": 0.2})
    service = scheduler.build(settings)

    service.run_once()
    with service.db.sessions() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        assert len(rows) == 3 and {row.status for row in rows} == {"queued"}
        assert all(row.attempts == 1 and row.reason for row in rows)

    smtp.start()
    try:
        time.sleep(0.5)  # past the back-off
        service.run_once()
        time.sleep(0.5)
        service.run_once()
        assert len(smtp.messages) == 3
        assert len({message["Message-ID"] for message in smtp.messages}) == 3
    finally:
        smtp.close()


def test_an_imap_login_failure_is_reported_and_the_other_sources_keep_working(make_settings, tmp_path, dovecot):
    maildir = new_maildir(tmp_path / "maildir")
    deliver(maildir, make_mail(body="There is fly-tipping by the bins at Rowan Close, could it be removed please?"))
    settings = make_settings(
        imap=[imap_settings(dovecot, password="wrong")], maildir=[{"name": "mailbox", "path": maildir}]
    )
    service = scheduler.build(settings)
    service.run_once()
    assert "login failed" in service.runner.health.errors["complaints"]
    with service.db.sessions() as session:
        assert session.scalar(select(func.count(Case.id))) == 1
