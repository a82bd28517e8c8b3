"""Three `intake run` worker processes on one Dovecot mailbox, PostgreSQL and aiosmtpd (issue 16).

- 1,000 messages: only the lease holder polls, so Dovecot fetches each message body once (its own count,
  logged per connection); each message is one submission and one case, is moved to the processed folder
  once, and is acknowledged once; SIGTERM then stops every worker with status 0, no traceback, and
  every lease given up.
- The lease holder SIGKILLed while it is still storing the mailbox: another worker holds the lease
  within the lease time, the mail delivered after the kill is taken up (IDLE), and nothing is lost or
  doubled (an acknowledgement is sent twice only where the system recorded a possible resend).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from email import message_from_bytes

import pytest
from sqlalchemy import func, select

from casework.models import Case, Lease, OutboxMessage, SourceHealth, Submission
from core.db import Database
from tests.conftest import REPO
from tests.dovecot import Dovecot
from tests.e2e import imap_settings, smtp_settings, write_config
from tests.mail import deliver, make_mail
from tests.smtp_server import SmtpTestServer

WORKERS = 3
LEASE_SECONDS = 3.0  # short, so a takeover is seen quickly; workers renew every second
FETCH_BATCH = 50  # intake/imap.py fetches this many bodies per FETCH: a kill can cost one batch fetched again
BODIES = [
    "My kitchen tap has been leaking for two weeks at flat {n}. Please send someone to fix it.",
    "I am unhappy with how my repair at {n} Rowan Close was handled. Nobody came and I want to complain.",
    "The communal light on the stairs at block {n} is broken again, can it be repaired?",
    "I reported damp in the bedroom of flat {n} a month ago and nothing has happened. This is not good enough.",
]
COUNTED = "imap_logout_format = fetched=%{fetch_body_count}\n"  # Dovecot logs each connection's count at its end


def resident_mail(first: int, count: int) -> list[bytes]:
    return [make_mail(f"Resident {n} <resident{n}@example.net>", f"Message {n}", BODIES[n % len(BODIES)].format(n=n),
                      message_id=f"<m{n}@residents.example.net>") for n in range(first, first + count)]


@pytest.fixture
def counting_dovecot():
    server = Dovecot()
    with open(server.config, "a") as config:
        config.write(COUNTED)
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


def deliver_all(dovecot: Dovecot, mail: list[bytes]) -> None:
    """Into INBOX as an MTA delivers to a Maildir (Dovecot gives the UIDs when it next looks): quicker
    than 1,000 APPENDs, and the same to the workers."""
    dovecot.folder_uids("INBOX")  # a first login makes the user's Maildir
    inbox = dovecot.maildir()
    for raw in mail:
        key = deliver(inbox, raw)
        shutil.chown(inbox / "new" / key, "dovecot", "dovecot")


def bodies_fetched(dovecot: Dovecot) -> int:
    time.sleep(1)  # the stopped workers' connections have closed; Dovecot writes their counts as they end
    return sum(int(n) for n in re.findall(r"fetched=(\d+)", dovecot.log()))


def start_worker(config, log) -> subprocess.Popen:
    env = {**os.environ, "INTAKE_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "cli", "run"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=log)


def worker_config(tmp_path, dovecot, smtp, database_url):
    return write_config(tmp_path / "intake.toml", {
        "var_dir": tmp_path / "var", "database_url": database_url, "log_level": "WARNING",
        "imap": [imap_settings(dovecot)], "smtp": smtp_settings(smtp), "poll_seconds": 30,
        "workers": {"lease_seconds": LEASE_SECONDS},
    })


def count(db: Database, query) -> int:
    try:
        with db.sessions() as session:
            return session.scalar(query) or 0
    except Exception:  # noqa: BLE001 - before the first worker has made the schema
        return 0


def all_done(db: Database, expected: int) -> bool:
    processed = count(db, select(func.count(Submission.id)).where(Submission.disposition != "pending"))
    sent = count(db, select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "sent"))
    return processed == expected and sent == expected


def wait_for(condition, seconds: float, what: str, log_path) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"{what} not within {seconds}s:\n{log_path.read_text()[-3000:]}"
        time.sleep(0.05)
    return time.monotonic() - started


def lease_holder(db: Database) -> str | None:
    try:
        with db.sessions() as session:
            return session.scalar(select(Lease.holder).where(Lease.name == "source:complaints"))
    except Exception:  # noqa: BLE001 - before the schema exists
        return None


def pid_of(holder: str) -> int:
    host, _, pid = holder.rpartition(":")
    assert host == socket.gethostname()
    return int(pid)


def stop_all(workers, log_path) -> None:
    """SIGTERM: each finishes the work in hand, gives up its leases and exits 0 without a traceback."""
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        assert worker.wait(timeout=60) in (0, -signal.SIGKILL), log_path.read_text()[-3000:]


def mailbox_state(dovecot: Dovecot) -> tuple[list[int], Counter]:
    """The UIDs left in INBOX, and how many copies of each Message-ID are in the processed folder."""
    client = dovecot.client()
    try:
        client.select_folder("INBOX", readonly=True)
        left = client.search("ALL")
        client.select_folder("Processed", readonly=True)
        uids = client.search("ALL")
        headers = client.fetch(uids, [b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if uids else {}
    finally:
        client.logout()
    ids = Counter(message_from_bytes(data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"])["Message-ID"]
                  for data in headers.values())
    return left, ids


def check_the_database(db: Database, mail: list[bytes]) -> int:
    """One submission and one case per message, every acknowledgement sent; returns resends recorded."""
    with db.sessions() as session:
        keys = list(session.scalars(select(Submission.natural_key)))
        assert len(keys) == len(set(keys)) == len(mail)
        assert Counter(session.scalars(select(Submission.disposition)))["pending"] == 0
        assert session.scalar(select(func.count(Case.id))) == len(mail)
        rows = session.execute(select(OutboxMessage.in_reply_to, OutboxMessage.status,
                                      OutboxMessage.possible_resends)).all()
        assert {status for _, status, _ in rows} == {"sent"}
        assert sorted(in_reply_to for in_reply_to, _, _ in rows) == sorted(
            message_from_bytes(raw)["Message-ID"] for raw in mail)
        assert session.scalar(select(func.count(Lease.name))) == 0  # every lease given up at SIGTERM
        return sum(resends for _, _, resends in rows)


@pytest.mark.slow
def test_three_workers_on_one_mailbox_fetch_each_message_once_and_acknowledge_it_once(
        tmp_path, counting_dovecot, postgresql_url):
    mail = resident_mail(0, 1000)
    deliver_all(counting_dovecot, mail)
    smtp = SmtpTestServer().start()
    db = Database(postgresql_url)
    log_path = tmp_path / "workers.log"
    config = worker_config(tmp_path, counting_dovecot, smtp, postgresql_url)
    try:
        with log_path.open("wb") as log:
            workers = [start_worker(config, log) for _ in range(WORKERS)]
            elapsed = wait_for(lambda: all_done(db, len(mail)), 600, "all processed and sent", log_path)
            stop_all(workers, log_path)
        received = Counter(message["In-Reply-To"] for message in smtp.messages)
    finally:
        smtp.close()
    left, processed = mailbox_state(counting_dovecot)
    print(f"\n{len(mail)} messages, {WORKERS} workers: done in {elapsed:.0f}s; "
          f"Dovecot fetched {bodies_fetched(counting_dovecot)} bodies")
    assert all(worker.returncode == 0 for worker in workers)
    assert "Traceback" not in log_path.read_text()
    assert bodies_fetched(counting_dovecot) == len(mail)  # each message fetched once, by the lease holder
    assert left == [] and len(processed) == len(mail) and set(processed.values()) == {1}  # moved once each
    assert check_the_database(db, mail) == 0
    assert received == Counter({message_from_bytes(raw)["Message-ID"]: 1 for raw in mail})  # each acknowledged once


@pytest.mark.slow
def test_the_lease_holder_killed_mid_run_is_taken_over_within_the_lease_time_losing_and_doubling_nothing(
        tmp_path, counting_dovecot, postgresql_url):
    first, later = resident_mail(0, 1000), resident_mail(1000, 100)
    deliver_all(counting_dovecot, first)
    smtp = SmtpTestServer().start()
    db = Database(postgresql_url)
    log_path = tmp_path / "workers.log"
    config = worker_config(tmp_path, counting_dovecot, smtp, postgresql_url)
    try:
        with log_path.open("wb") as log:
            workers = [start_worker(config, log) for _ in range(WORKERS)]
            stored = select(func.count(Submission.id))
            wait_for(lambda: count(db, stored) >= 100, 120, "the holder storing mail", log_path)
            holder = lease_holder(db)
            victim = next(worker for worker in workers if worker.pid == pid_of(holder))
            victim.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            victim.wait()
            stored_at_kill = count(db, stored)
            assert stored_at_kill < len(first), "the holder had already stored the whole mailbox"
            taken_over = wait_for(lambda: lease_holder(db) not in (None, holder), LEASE_SECONDS + 5,
                                  "another worker holding the lease", log_path)
            assert time.monotonic() - killed_at <= LEASE_SECONDS + 2  # within the lease time (and a renewal)
            deliver_all(counting_dovecot, later)  # mail arriving after the kill: the new holder's
            wait_for(lambda: all_done(db, len(first) + len(later)), 600, "all processed and sent", log_path)
            stop_all(workers, log_path)
        received = Counter(message["In-Reply-To"] for message in smtp.messages)
    finally:
        smtp.close()
    mail = first + later
    left, processed = mailbox_state(counting_dovecot)
    fetched = bodies_fetched(counting_dovecot)
    print(f"\nkilled the holder with {stored_at_kill} of {len(first)} stored; another held the lease "
          f"{taken_over:.1f}s later; Dovecot fetched {fetched} bodies for {len(mail)} messages")
    assert "Traceback" not in log_path.read_text()
    # The killed holder's FETCH in hand may be fetched again by the next holder: at most one batch.
    assert len(mail) <= fetched <= len(mail) + FETCH_BATCH
    assert left == [] and len(processed) == len(mail) and set(processed.values()) == {1}
    recorded = check_the_database(db, mail)
    assert set(received) == {message_from_bytes(raw)["Message-ID"] for raw in mail}  # none lost
    assert sum(received.values()) - len(received) <= recorded  # a resend only where one was recorded


def test_a_worker_acknowledges_mail_as_it_arrives_and_stops_cleanly_on_sigterm(tmp_path, dovecot, smtp, sqlite_url):
    """One `intake run` with ``poll_seconds`` at ten minutes: mail delivered after its first poll is
    acknowledged within the minute allowed, which only IMAP IDLE can do (the send loop woken by
    processing, not a timer); then SIGTERM: exit 0, no traceback, its lease given up, nothing left half
    done (no attempt counted unfinished, no row left sending)."""
    db = Database(sqlite_url)
    log_path = tmp_path / "worker.log"
    config = write_config(tmp_path / "intake.toml", {
        "var_dir": tmp_path / "var", "database_url": sqlite_url, "log_level": "INFO",
        "imap": [imap_settings(dovecot)], "smtp": smtp_settings(smtp), "poll_seconds": 600,
        "workers": {"lease_seconds": LEASE_SECONDS},
    })
    mail = resident_mail(0, 3)
    with log_path.open("wb") as log:
        worker = start_worker(config, log)
        try:
            wait_for(lambda: lease_holder(db) == f"{socket.gethostname()}:{worker.pid}", 120, "the lease taken",
                     log_path)
            first_poll = select(func.count(SourceHealth.source)).where(SourceHealth.last_success_at.is_not(None))
            wait_for(lambda: count(db, first_poll) == 1, 60, "the first poll", log_path)
            deliver_all(dovecot, mail)
            wait_for(lambda: len(smtp.messages) == len(mail), 60, "acknowledgements (IDLE)", log_path)
        finally:
            worker.send_signal(signal.SIGTERM)
            status = worker.wait(timeout=60)
    assert status == 0, log_path.read_text()[-3000:]
    assert "Traceback" not in log_path.read_text()
    assert "SIGTERM: stopping after the work in hand" in log_path.read_text()
    assert sorted(message["In-Reply-To"] for message in smtp.messages) == sorted(
        message_from_bytes(raw)["Message-ID"] for raw in mail)
    with db.sessions() as session:
        assert session.scalar(select(func.count(Lease.name))) == 0
        assert session.scalar(select(func.count(Submission.id)).where(Submission.unfinished_attempts > 0)) == 0
        assert session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "sending")) == 0
