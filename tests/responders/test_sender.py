from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from casework.models import Case, CaseEvent, Clock, OutboxMessage
from core.settings import LandlordSettings, OutboxSettings, SmtpSettings
from casework.vocabulary import AckKind, ClockKind, OutboxStatus
from responders.outbox import enqueue
from responders.render import TemplateSet, acknowledgement_context
from responders.sender import OutboxSender
from responders.transport import FileTransport, SmtpTransport
from tests.smtp_server import PASSWORD, USERNAME

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
RESIDENT_IDS = ["<first.CAF123@mail.example.net>", "<second.CAF456@mail.example.net>"]
TEMPLATES = TemplateSet()


def queue_ack(db, case_id: int, settings: OutboxSettings, to: str = "resident@example.net") -> OutboxMessage:
    with db.transaction() as session:
        case = session.get_one(Case, case_id)
        clocks = {clock.kind: clock.due_at for clock in case.clocks}
        context = acknowledgement_context(case, LandlordSettings(), clocks, "The leak is still there.")
        rendered = TEMPLATES.render(AckKind.COMPLAINT_STAGE1, context)
        return enqueue(session, case=case, submission_id=None, kind=AckKind.COMPLAINT_STAGE1, to_address=to,
                       rendered=rendered, in_reply_to=RESIDENT_IDS[-1], references=RESIDENT_IDS,
                       settings=settings, domain="example.org", now=NOW)


def smtp_sender(db, server, settings, worker_id="worker-1", **smtp) -> OutboxSender:
    options = dict(host="127.0.0.1", port=server.port, security="none", timeout_seconds=5) | smtp
    transport = SmtpTransport(SmtpSettings(**options), ssl_context=server.client_ssl_context() if server.tls else None)
    return OutboxSender(db, transport, settings, "complaints@example.org", "Example Homes", worker_id=worker_id)


def drain(sender: OutboxSender, now: dt.datetime = NOW) -> int:
    total = 0
    while attempted := sender.run_once(now):
        total += attempted
    return total


def row(db, outbox_id: int) -> OutboxMessage:
    with db.sessions() as session:
        return session.get_one(OutboxMessage, outbox_id)


def test_it_delivers_a_threaded_automatic_reply_and_records_the_acknowledgement(db, outbox_settings, make_case, smtp_server):
    queued = queue_ack(db, make_case(), outbox_settings)
    assert drain(smtp_sender(db, smtp_server, outbox_settings)) == 1

    [received] = smtp_server.received
    message = received.message
    assert received.rcpt_tos == ["resident@example.net"] and received.mail_from == "complaints@example.org"
    assert message["From"] == "Example Homes <complaints@example.org>"
    assert message["Subject"] == "Your complaint – reference CMP-2026-000123"
    assert message["Message-ID"] == f"<{queued.message_id}>"
    assert message["In-Reply-To"] == "<second.CAF456@mail.example.net>"
    assert message["References"].split() == RESIDENT_IDS
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["Date"] is not None
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert "CMP-2026-000123" in message.get_body(("plain",)).get_content()

    sent = row(db, queued.id)
    assert (sent.status, sent.sent_at, sent.attempts, sent.claimed_by) == (OutboxStatus.SENT, NOW, 1, "worker-1")
    with db.sessions() as session:
        case = session.get_one(Case, queued.case_id)
        assert case.acknowledged_at == NOW
        ack = session.scalar(select(Clock).where(Clock.case_id == case.id, Clock.kind == ClockKind.ACK_STAGE1))
        assert ack.met_at == NOW
        [event] = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
        assert (event.actor, event.action, event.detail) == ("system", "acknowledgement_sent", {"outbox_id": queued.id, "kind": "complaint_stage1"})


def test_a_server_that_is_down_leaves_rows_queued_with_backoff_then_sends_once_when_it_returns(
    db, outbox_settings, make_case, smtp_server
):
    queued = queue_ack(db, make_case(), outbox_settings)
    sender = smtp_sender(db, smtp_server, outbox_settings)
    smtp_server.stop()

    assert sender.run_once(NOW) == 1
    waiting = row(db, queued.id)
    assert (waiting.status, waiting.attempts) == (OutboxStatus.QUEUED, 1)
    assert waiting.next_attempt_at == NOW + dt.timedelta(seconds=60)
    assert "Connection refused" in waiting.reason and waiting.claimed_by is None
    assert sender.run_once(NOW + dt.timedelta(seconds=59)) == 0  # not due yet

    assert sender.run_once(NOW + dt.timedelta(seconds=60)) == 1
    assert row(db, queued.id).next_attempt_at == NOW + dt.timedelta(seconds=60 + 120)  # doubled

    smtp_server.start()  # back, on the same port
    later = NOW + dt.timedelta(seconds=180)
    assert drain(sender, later) == 1
    assert drain(sender, later + dt.timedelta(hours=1)) == 0
    assert len(smtp_server.received) == 1
    assert (row(db, queued.id).status, row(db, queued.id).attempts) == (OutboxStatus.SENT, 3)


def test_a_temporary_failure_never_fails_for_good_however_many_attempts(db, outbox_settings, make_case, smtp_server):
    queued = queue_ack(db, make_case(), outbox_settings)
    sender = smtp_sender(db, smtp_server, outbox_settings)
    smtp_server.stop()
    for hour in range(12):  # 12 attempts: more than the old budget of 8
        sender.run_once(NOW + dt.timedelta(hours=hour))
    waiting = row(db, queued.id)
    assert (waiting.status, waiting.attempts) == (OutboxStatus.QUEUED, 12)


def test_backoff_never_exceeds_max_backoff_seconds(db, smtp_server):
    sender = smtp_sender(db, smtp_server, OutboxSettings(backoff_seconds=60, max_backoff_seconds=1800))
    assert sender.backoff(1) == dt.timedelta(minutes=1)
    assert sender.backoff(4) == dt.timedelta(minutes=8)  # 60 s * 2**3
    assert sender.backoff(6) == dt.timedelta(minutes=30)  # 60 s * 2**5 = 32 min, capped at 1800 s
    assert sender.backoff(20) == dt.timedelta(minutes=30)


def test_a_permanent_refusal_fails_the_row_with_the_servers_reason(db, outbox_settings, make_case, smtp_server):
    smtp_server.handler.refuse_recipients["gone@example.net"] = "550 5.1.1 No such user here"
    queued = queue_ack(db, make_case(), outbox_settings, to="gone@example.net")
    assert drain(smtp_sender(db, smtp_server, outbox_settings)) == 1
    failed = row(db, queued.id)
    assert failed.status == OutboxStatus.FAILED and "550" in failed.reason and "No such user" in failed.reason
    assert failed.attempts == 1 and smtp_server.received == []
    with db.sessions() as session:
        case = session.get_one(Case, queued.case_id)
        assert case.acknowledged_at is None
        assert [event.action for event in case.events] == ["acknowledgement_failed"]


def test_a_temporary_refusal_is_retried(db, outbox_settings, make_case, smtp_server):
    smtp_server.handler.refuse_recipients["full@example.net"] = "452 4.2.2 Mailbox full"
    queued = queue_ack(db, make_case(), outbox_settings, to="full@example.net")
    drain(smtp_sender(db, smtp_server, outbox_settings))
    assert row(db, queued.id).status == OutboxStatus.QUEUED and "452" in row(db, queued.id).reason


def test_a_rejected_message_body_is_permanent(db, outbox_settings, make_case, smtp_server):
    smtp_server.handler.data_reply = "554 5.6.0 Message rejected"
    queued = queue_ack(db, make_case(), outbox_settings)
    drain(smtp_sender(db, smtp_server, outbox_settings))
    assert row(db, queued.id).status == OutboxStatus.FAILED


def test_it_sends_over_starttls_with_a_login(db, outbox_settings, make_case, smtp_servers):
    server = smtp_servers(tls="starttls", require_auth=True)
    queued = queue_ack(db, make_case(), outbox_settings)
    sender = smtp_sender(db, server, outbox_settings, security="starttls", username=USERNAME, password=PASSWORD)
    assert drain(sender) == 1
    assert [item.login for item in server.received] == [USERNAME]
    assert row(db, queued.id).status == OutboxStatus.SENT


def test_it_sends_over_implicit_tls(db, outbox_settings, make_case, smtp_servers):
    server = smtp_servers(tls="implicit")
    queued = queue_ack(db, make_case(), outbox_settings)
    assert drain(smtp_sender(db, server, outbox_settings, security="tls")) == 1
    assert row(db, queued.id).status == OutboxStatus.SENT and len(server.received) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_it_logs_in_without_tls_when_told_to(db, outbox_settings, make_case, smtp_servers):
    server = smtp_servers(require_auth=True)
    queue_ack(db, make_case(), outbox_settings)
    drain(smtp_sender(db, server, outbox_settings, username=USERNAME, password=PASSWORD))
    assert [item.login for item in server.received] == [USERNAME]


def test_a_refused_login_keeps_the_row_queued_for_when_the_password_is_fixed(db, outbox_settings, make_case, smtp_servers):
    server = smtp_servers(tls="starttls", require_auth=True)
    queued = queue_ack(db, make_case(), outbox_settings)
    drain(smtp_sender(db, server, outbox_settings, security="starttls", username=USERNAME, password="wrong"))
    waiting = row(db, queued.id)
    assert waiting.status == OutboxStatus.QUEUED and "535" in waiting.reason and "password" in waiting.reason
    fixed = smtp_sender(db, server, outbox_settings, security="starttls", username=USERNAME, password=PASSWORD)
    assert drain(fixed, NOW + dt.timedelta(minutes=5)) == 1 and len(server.received) == 1


def test_an_untrusted_certificate_is_a_temporary_failure(db, outbox_settings, make_case, smtp_servers):
    server = smtp_servers(tls="starttls")
    queued = queue_ack(db, make_case(), outbox_settings)
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=server.port, security="starttls", timeout_seconds=5))
    drain(OutboxSender(db, transport, outbox_settings, "complaints@example.org", "Example Homes"))
    assert row(db, queued.id).status == OutboxStatus.QUEUED and "CERTIFICATE_VERIFY_FAILED" in row(db, queued.id).reason


def test_a_row_left_sending_by_a_dead_worker_is_requeued_and_sent(db, outbox_settings, make_case, smtp_server):
    queued = queue_ack(db, make_case(), outbox_settings)
    dead = smtp_sender(db, smtp_server, outbox_settings, worker_id="dead-worker")
    assert dead.claim(NOW) == [queued.id]  # ... and the process dies before sending
    survivor = smtp_sender(db, smtp_server, outbox_settings, worker_id="survivor")

    assert survivor.run_once(NOW + dt.timedelta(minutes=14)) == 0  # not stale yet
    assert row(db, queued.id).status == OutboxStatus.SENDING
    assert drain(survivor, NOW + dt.timedelta(minutes=16)) == 1

    sent = row(db, queued.id)
    assert (sent.status, sent.claimed_by) == (OutboxStatus.SENT, "survivor")
    assert [m["Message-ID"] for m in smtp_server.messages] == [f"<{queued.message_id}>"]


def test_a_claim_held_by_a_dead_process_on_this_host_is_requeued_at_once(db, outbox_settings, make_case, smtp_server):
    queued = queue_ack(db, make_case(), outbox_settings)
    dead_here = f"{socket.gethostname()}:{_exited_pid()}"  # a worker here whose process has exited
    smtp_sender(db, smtp_server, outbox_settings, worker_id=dead_here).claim(NOW)
    survivor = smtp_sender(db, smtp_server, outbox_settings, worker_id="survivor")

    assert drain(survivor, NOW + dt.timedelta(seconds=1)) == 1
    assert row(db, queued.id).status == OutboxStatus.SENT and len(smtp_server.messages) == 1


def test_a_claim_held_by_a_live_process_on_this_host_is_left_alone(db, outbox_settings, make_case, smtp_server):
    queued = queue_ack(db, make_case(), outbox_settings)
    alive_here = f"{socket.gethostname()}:{os.getpid()}"
    smtp_sender(db, smtp_server, outbox_settings, worker_id=alive_here).claim(NOW)
    survivor = smtp_sender(db, smtp_server, outbox_settings, worker_id="survivor")

    assert survivor.run_once(NOW + dt.timedelta(seconds=1)) == 0
    assert row(db, queued.id).status == OutboxStatus.SENDING


def _exited_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_suppressed_rows_are_never_sent(db, outbox_settings, make_case, smtp_server):
    case_id = make_case()
    rows = [queue_ack(db, case_id, outbox_settings) for _ in range(4)]
    assert rows[-1].status == OutboxStatus.SUPPRESSED
    assert drain(smtp_sender(db, smtp_server, outbox_settings)) == 3
    assert len(smtp_server.received) == 3 and row(db, rows[-1].id).status == OutboxStatus.SUPPRESSED


def test_the_file_transport_delivers_outbox_rows_as_eml_files(db, outbox_settings, make_case, tmp_path):
    queued = queue_ack(db, make_case(), outbox_settings)
    sender = OutboxSender(db, FileTransport(tmp_path / "outbox"), outbox_settings, "complaints@example.org", "Example Homes")
    assert drain(sender) == 1
    [eml] = (tmp_path / "outbox").glob("*.eml")
    assert eml.name == f"{queued.message_id}.eml" and b"Auto-Submitted: auto-replied" in eml.read_bytes()


def test_two_senders_running_at_once_never_send_a_row_twice(db, make_case, smtp_server):
    settings = OutboxSettings(max_acks_per_sender_per_day=100, batch_size=3)
    case_id = make_case()
    queued = {queue_ack(db, case_id, settings, to=f"r{n}@example.net").message_id for n in range(60)}
    senders = [smtp_sender(db, smtp_server, settings, worker_id=f"worker-{n}") for n in range(2)]
    attempted: list[int] = []
    start_together = threading.Barrier(len(senders))

    def work(sender: OutboxSender) -> None:
        start_together.wait()
        attempted.append(drain(sender))

    threads = [threading.Thread(target=work, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    counts = Counter(m["Message-ID"].strip("<>") for m in smtp_server.messages)
    assert set(counts) == queued and max(counts.values()) == 1
    assert sum(attempted) == 60
    with db.sessions() as session:
        statuses = Counter(session.scalars(select(OutboxMessage.status)))
    assert statuses == {OutboxStatus.SENT: 60}


def test_a_case_hears_of_a_send_its_sender_died_before_recording_dated_when_it_was_sent(db, outbox_settings, make_case,
                                                                                      smtp_server):
    queued = queue_ack(db, make_case(), outbox_settings)
    sent_at = NOW - dt.timedelta(minutes=3)
    with db.transaction() as session:  # as a sender left it, killed between the 250's record and the batch's
        session.get_one(OutboxMessage, queued.id).status = OutboxStatus.SENT
        session.get_one(OutboxMessage, queued.id).sent_at = sent_at
    assert drain(smtp_sender(db, smtp_server, outbox_settings)) == 0  # nothing to send again
    assert smtp_server.received == []
    with db.sessions() as session:
        case = session.get_one(Case, queued.case_id)
        assert case.acknowledged_at == sent_at
        ack = session.scalar(select(Clock).where(Clock.case_id == case.id, Clock.kind == ClockKind.ACK_STAGE1))
        assert ack.met_at == sent_at
        told = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                        CaseEvent.action == "acknowledgement_sent")).all()
        assert [event.at for event in told] == [sent_at]
        assert session.get_one(OutboxMessage, queued.id).delivery_recorded_at is not None
    assert smtp_sender(db, smtp_server, outbox_settings).record_deliveries() == 0  # once only


def test_a_delivery_that_cannot_be_recorded_waits_without_holding_up_the_others(db, outbox_settings, make_case,
                                                                              smtp_server):
    good = queue_ack(db, make_case("CMP-2026-000123"), outbox_settings, to="sam@example.net")
    bad = queue_ack(db, make_case("CMP-2026-000124", email="kim@example.net"), outbox_settings, to="kim@example.net")
    with db.transaction() as session:
        for outbox_id in (good.id, bad.id):
            session.get_one(OutboxMessage, outbox_id).status = OutboxStatus.SENT
            session.get_one(OutboxMessage, outbox_id).sent_at = NOW
        session.get_one(OutboxMessage, bad.id).kind = "no-such-kind"  # its case cannot be told what was sent
    sender = smtp_sender(db, smtp_server, outbox_settings)
    assert sender.record_deliveries() == 1
    assert sender.record_deliveries() == 0  # the bad row is tried again, and fails again, alone
    assert row(db, good.id).delivery_recorded_at is not None and row(db, bad.id).delivery_recorded_at is None
    with db.sessions() as session:
        assert session.get_one(Case, good.case_id).acknowledged_at == NOW
        assert session.get_one(Case, bad.case_id).acknowledged_at is None
