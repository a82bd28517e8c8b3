"""Outages: an SMTP server refusing or down for days, an IMAP server that never answers, and several
workers migrating an empty database at once. Real aiosmtpd, real databases, real processes; time is
simulated by passing ``now`` to the sender, never by sleeping."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select, text

import scheduler
from casework.models import Case, CaseEvent, Clock, OutboxMessage, SourceHealth, Submission
from casework.operations import outbox_alerts, outbox_rows, requeue_outbox
from casework.vocabulary import Category, ClockKind, EventAction, OutboxStatus
from core.settings import MaildirSourceSettings, OutboxSettings
from intake.maildir import MaildirSource
from tests.conftest import REPO
from tests.mail import deliver, make_mail, new_maildir
from tests.responders.test_sender import drain, queue_ack, row, smtp_sender

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)  # Friday 10:00
STEP = dt.timedelta(minutes=30)
SETTINGS = OutboxSettings(backoff_seconds=60, max_backoff_seconds=1800, at_risk_hours_before_due=24, batch_size=10)


def make_case(db, n: int, received: dt.datetime, ack_due: dt.datetime) -> int:
    with db.transaction() as session:
        case = Case(reference=f"CMP-2026-{n:06d}", category=Category.COMPLAINT, stage=1, received_at=received,
                    resident_email=f"resident{n}@example.net", resident_name=f"Resident {n}")
        case.clocks = [Clock(kind=ClockKind.ACK_STAGE1, starts_at=received, due_at=ack_due, rule="5 working days")]
        session.add(case)
        session.flush()
        return case.id


def events(db, case_id: int, action: EventAction) -> list[CaseEvent]:
    with db.sessions() as session:
        return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                            CaseEvent.action == action)))


def test_smtp_refusing_then_down_for_six_days_then_back_sends_every_acknowledgement_once(db, smtp):
    # Three cases received Friday 20 Nov 09:30, acknowledgement due Friday 27 Nov 09:30 (set here, by hand):
    # at risk from 26 Nov 09:30 (24 hours before). A fourth, received Monday 23 Nov, due 30 Nov 09:30:
    # at risk only from 29 Nov 09:30, so never during this outage.
    soon = [make_case(db, n, NOW - dt.timedelta(minutes=30), dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC))
            for n in (1, 2, 3)]
    later = make_case(db, 4, dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC),
                      dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC))
    rows = [queue_ack(db, case_id, SETTINGS, to=f"resident{n}@example.net")
            for n, case_id in enumerate([*soon, later], start=1)]
    sender = smtp_sender(db, smtp, SETTINGS)

    # The server answers 421 to every message for the first day, then is down altogether.
    smtp.handler.data_reply = "421 4.3.2 Service not available, closing transmission channel"
    at_risk_at = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)
    now = NOW
    while now < at_risk_at:  # every 30 minutes from Fri 20 Nov 10:00 to Thu 26 Nov 09:00
        if now == NOW + dt.timedelta(days=1):
            smtp.stop()
        drain(sender, now)
        now += STEP
    # 10:00 on the 20th to 09:00 on the 26th is 143 hours: 287 runs, each an attempt (back-off <= 30 min).
    assert [row(db, r.id).attempts for r in rows] == [287] * 4  # the old budget was 8
    assert {row(db, r.id).status for r in rows} == {OutboxStatus.QUEUED}
    assert all(row(db, r.id).at_risk_since is None for r in rows)
    assert all(events(db, case_id, EventAction.ACKNOWLEDGEMENT_AT_RISK) == [] for case_id in soon)

    for _ in range(3):  # 09:30, 10:00, 10:30 on the 26th: still down
        drain(sender, now)
        now += STEP
    for r in rows[:3]:
        assert row(db, r.id).at_risk_since == at_risk_at and row(db, r.id).status == OutboxStatus.QUEUED
    assert row(db, rows[3].id).at_risk_since is None
    for case_id in soon:  # staff are told once, however many attempts follow
        [alert] = events(db, case_id, EventAction.ACKNOWLEDGEMENT_AT_RISK)
        assert alert.at == at_risk_at and alert.detail["outbox_id"] in {r.id for r in rows}
    assert events(db, later, EventAction.ACKNOWLEDGEMENT_AT_RISK) == []
    with db.sessions() as session:
        assert outbox_alerts(session).at_risk == 3
        listed = outbox_rows(session)
        assert [item.id for item in listed[:3]] == [r.id for r in rows[:3]]  # at risk first
        assert all(item.at_risk_since == at_risk_at for item in listed[:3])

    smtp.handler.data_reply = None
    smtp.start()  # back at 11:00 on Thursday 26 Nov, on the same port
    assert drain(sender, now) == 4
    assert drain(sender, now + dt.timedelta(days=1)) == 0
    assert sorted(m["Message-ID"] for m in smtp.messages) == sorted(f"<{r.message_id}>" for r in rows)
    assert {row(db, r.id).status for r in rows} == {OutboxStatus.SENT}
    with db.sessions() as session:
        assert session.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.FAILED)) == 0
        met = session.scalars(select(Clock.met_at).where(Clock.kind == ClockKind.ACK_STAGE1)).all()
        assert met == [now] * 4  # 11:00 on the 26th: met before each was due
        assert outbox_alerts(session).at_risk == 0


def test_a_permanent_refusal_still_fails_at_once_and_staff_can_requeue_it(db, smtp):
    case_id = make_case(db, 5, NOW, NOW + dt.timedelta(days=7))
    smtp.handler.refuse_recipients["resident5@example.net"] = "550 5.1.1 No such user here"
    queued = queue_ack(db, case_id, SETTINGS, to="resident5@example.net")
    sender = smtp_sender(db, smtp, SETTINGS)
    assert drain(sender) == 1
    assert (row(db, queued.id).status, row(db, queued.id).attempts) == (OutboxStatus.FAILED, 1)

    del smtp.handler.refuse_recipients["resident5@example.net"]  # the mailbox was fixed
    with db.transaction() as session:
        requeue_outbox(session, queued.id, "manager@example.org", now=NOW + dt.timedelta(hours=1))
    assert drain(sender, NOW + dt.timedelta(hours=1)) == 1
    assert row(db, queued.id).status == OutboxStatus.SENT and len(smtp.messages) == 1
    [requeued] = events(db, case_id, EventAction.OUTBOX_REQUEUED)
    assert requeued.actor == "manager@example.org"


def test_a_sender_that_keeps_dying_mid_send_is_counted_then_set_aside(db, smtp):
    queued = queue_ack(db, make_case(db, 6, NOW, NOW + dt.timedelta(days=7)), SETTINGS, to="resident6@example.net")
    survivor = smtp_sender(db, smtp, SETTINGS, worker_id="survivor")
    # max_interrupted_sends is 5: four stale claims are requeued, each a possible resend; the fifth fails it.
    for n in range(1, 6):
        at = NOW + dt.timedelta(hours=n)
        assert smtp_sender(db, smtp, SETTINGS, worker_id=f"dead-{n}").claim(at) == [queued.id]
        survivor.requeue_stale(at + dt.timedelta(minutes=16))  # past stale_after (15 minutes)
        assert row(db, queued.id).possible_resends == n
    assert row(db, queued.id).status == OutboxStatus.FAILED
    assert "stopped 5 times" in row(db, queued.id).reason
    with db.sessions() as session:
        assert outbox_alerts(session).possible_resends == 5


class Blackhole:
    """A TCP port that accepts connections and never says a word: an IMAP server hanging."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)  # connections complete in the backlog; nothing ever answers
        self.port = self.socket.getsockname()[1]

    def close(self) -> None:
        self.socket.close()


def test_stored_mail_is_processed_while_the_imap_server_hangs(make_settings, tmp_path):
    blackhole = Blackhole()
    maildir = new_maildir(tmp_path / "maildir")
    for n in range(3):
        deliver(maildir, make_mail(f"Resident {n} <r{n}@example.net>", "Leak",
                                   f"My kitchen tap is leaking, flat {n}. Can someone come?"))
    imap = {"name": "complaints", "host": "127.0.0.1", "port": blackhole.port, "security": "none",
            "username": "intake", "password": "secret", "timeout_seconds": 3}
    service = scheduler.build(make_settings(imap=[imap], poll_seconds=600))
    stored = service.runner.poll(MaildirSource(MaildirSourceSettings(name="earlier", path=maildir)))
    assert stored == 3  # stored before the outage, waiting to be processed

    jobs = BackgroundScheduler(timezone="UTC")
    scheduler.schedule(service, jobs)
    jobs.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _pending(service) > 0:
            time.sleep(0.2)
        # One IMAP poll takes 4 attempts x 3 s timeout + 1 + 2 + 4 s back-off = 19 s: it has not ended.
        with service.db.sessions() as session:
            assert session.get(SourceHealth, "complaints") is None, "the IMAP poll finished first"
            assert session.scalar(select(func.count(Case.id))) == 3
        assert _pending(service) == 0
    finally:
        blackhole.close()
        jobs.shutdown(wait=True)
    with service.db.sessions() as session:
        assert "IMAP source 'complaints'" in session.get(SourceHealth, "complaints").last_error


def _pending(service) -> int:
    with service.db.sessions() as session:
        return session.scalar(select(func.count(Submission.id)).where(Submission.disposition == "pending"))


MIGRATE = """
import sys, time
from core.db import Database
start_at = float(sys.argv[2])
db = Database(sys.argv[1])
time.sleep(max(0.0, start_at - time.time()))  # all three begin together
db.migrate()
"""


def test_three_workers_starting_at_once_on_an_empty_database_migrate_it_once(database_url):
    start_at = time.time() + 4  # after all three have imported everything
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    workers = [subprocess.Popen([sys.executable, "-c", MIGRATE, database_url, str(start_at)], cwd=REPO, env=env,
                                stderr=subprocess.PIPE) for _ in range(3)]
    errors = [worker.communicate(timeout=120)[1].decode() for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0], errors

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "casework:migrations")
    head = ScriptDirectory.from_config(config).get_current_head()
    from core.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
            assert connection.execute(text("SELECT count(*) FROM outbox")).scalar() == 0
    finally:
        engine.dispose()
