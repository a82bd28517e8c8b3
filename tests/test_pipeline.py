"""The pipeline end to end on a real Maildir and a real database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import email
import email.policy
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

import scheduler
from casework.models import Case, CaseEvent, OutboxMessage, Submission
from casework.vocabulary import CaseStatus, ClockKind, Disposition, Flag
from tests.mail import deliver, make_mail, new_maildir

LEAK = "I reported a leak from the flat above three weeks ago and nobody has come. I am very unhappy with how this has been handled."


@pytest.fixture
def maildir(tmp_path) -> Path:
    return new_maildir(tmp_path / "maildir")


@pytest.fixture
def service(make_settings, maildir):
    settings = make_settings(maildir=[{"name": "mailbox", "path": maildir}])
    service = scheduler.build(settings)
    yield service
    service.db.engine.dispose()


def run(service) -> dict[str, int]:
    return service.run_once()


def only(session, model):
    rows = session.scalars(select(model)).all()
    assert len(rows) == 1, rows
    return rows[0]


def sent_files(service) -> list[email.message.Message]:
    outbox = service.settings.var_dir / "outbox"
    paths = sorted(outbox.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in paths]


def test_a_complaint_becomes_a_case_with_a_reference_clocks_and_an_acknowledgement(service, maildir):
    deliver(maildir, make_mail(subject="Leak still not fixed", body=LEAK))
    assert run(service)["sent"] == 1
    with service.db.sessions() as session:
        case = only(session, Case)
        assert case.reference.startswith("CMP-") and case.category == "complaint" and case.stage == 1
        assert {clock.kind for clock in case.clocks} >= {ClockKind.ACK_STAGE1, ClockKind.RESPONSE_STAGE1}
        submission = only(session, Submission)
        assert submission.disposition == Disposition.ACCEPTED and submission.case_id == case.id
        assert b"nobody has come" in submission.raw
    [ack] = sent_files(service)
    assert case.reference in ack["Subject"] and ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == email.message_from_bytes(submission.raw)["Message-ID"]


def test_it_never_acknowledges_an_out_of_office_reply(service, maildir):
    deliver(maildir, make_mail(subject="Automatic reply: Leak", body="I am out of the office until Monday.",
                               headers={"Auto-Submitted": "auto-replied"}))
    run(service)
    with service.db.sessions() as session:
        submission = only(session, Submission)
        assert submission.disposition == Disposition.DISCARDED and "machine-generated" in submission.reason
        assert session.scalar(select(func.count(OutboxMessage.id))) == 0
        assert session.scalar(select(func.count(Case.id))) == 0


def test_mail_that_reads_like_an_out_of_office_without_saying_so_in_its_headers_waits_unanswered_for_a_person(
        service, maildir):
    deliver(maildir, make_mail(subject="Out of office", body="Thank you for your email. I am out of the office until "
                               "Monday 30 November with limited access to email."))
    run(service)
    with service.db.sessions() as session:
        case = only(session, Case)
        assert case.status == CaseStatus.HELD and "machine-generated" in case.held_reason
        assert session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_a_real_complaint_on_a_case_opened_by_an_unmarked_out_of_office_is_acknowledged(service, maildir):
    deliver(maildir, make_mail(subject="Out of office", body="Thank you for your email. I am out of the office until "
                               "Monday 30 November with limited access to email."))
    run(service)
    with service.db.sessions() as session:
        reference = only(session, Case).reference
    deliver(maildir, make_mail(subject=f"Re: {reference}", body=LEAK))
    run(service)
    with service.db.sessions() as session:
        assert only(session, Case).category == "complaint"
        assert session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_a_reply_quoting_our_reference_threads_into_its_case(service, maildir):
    deliver(maildir, make_mail(subject="Leak still not fixed", body=LEAK))
    run(service)
    with service.db.sessions() as session:
        reference = only(session, Case).reference
    deliver(maildir, make_mail(subject=f"Re: Your complaint {reference}", body="Just to add, the ceiling is now stained."))
    run(service)
    with service.db.sessions() as session:
        case = only(session, Case)
        assert len(case.submissions) == 2
        assert any(event.action == "reply_received" for event in case.events)


def test_a_reply_to_our_acknowledgement_threads_by_in_reply_to(service, maildir):
    deliver(maildir, make_mail(subject="Leak still not fixed", body=LEAK))
    run(service)
    [ack] = sent_files(service)
    deliver(maildir, make_mail(subject="Re: your message", body="Thanks, one more thing: the bathroom light has stopped working too.",
                               in_reply_to=ack["Message-ID"]))
    run(service)
    with service.db.sessions() as session:
        assert session.scalar(select(func.count(Case.id))) == 1
        assert len(only(session, Case).submissions) == 2


def test_a_reply_asking_to_escalate_moves_the_complaint_to_stage_2_with_a_new_acknowledgement(service, maildir):
    deliver(maildir, make_mail(subject="Leak still not fixed", body=LEAK))
    run(service)
    with service.db.sessions() as session:
        reference = only(session, Case).reference
    deliver(maildir, make_mail(
        subject=f"Re: {reference}",
        body="I have read your stage 1 response and I am not satisfied with it. Please escalate my complaint to stage 2.",
    ))
    run(service)
    with service.db.sessions() as session:
        case = only(session, Case)
        assert case.stage == 2
        assert {ClockKind.ACK_STAGE2, ClockKind.RESPONSE_STAGE2} <= {clock.kind for clock in case.clocks}
    first, second = sent_files(service)
    assert "stage 2" in second.get_body(("plain",)).get_content().lower()
    assert "stage 2" not in first.get_body(("plain",)).get_content().lower()


def test_the_same_message_fetched_twice_opens_one_case(service, maildir):
    raw = make_mail(subject="Leak still not fixed", body=LEAK, message_id="<same@example.net>")
    deliver(maildir, raw)
    deliver(maildir, raw)
    run(service)
    with service.db.sessions() as session:
        assert session.scalar(select(func.count(Case.id))) == 1
        dispositions = sorted(session.scalars(select(Submission.disposition)))
        assert dispositions == [Disposition.ACCEPTED, Disposition.DISCARDED]


def test_a_reused_message_id_with_a_different_body_is_a_new_message(service, maildir):
    deliver(maildir, make_mail(subject="Leak", body=LEAK, message_id="<reused@example.net>"))
    deliver(maildir, make_mail(subject="Bins", body="Somebody has dumped a sofa by the bins at Rowan Close, can it be collected please?",
                               message_id="<reused@example.net>"))
    run(service)
    with service.db.sessions() as session:
        assert session.scalar(select(func.count(Case.id))) == 2


def test_a_safeguarding_concern_is_held_at_the_top_of_the_queue_with_the_neutral_acknowledgement(service, maildir):
    deliver(maildir, make_mail(subject="Bins", body="Somebody has dumped a sofa by the bins, can it be collected please?"))
    deliver(maildir, make_mail(
        sender="Lena <lena@example.net>", subject="Worried about my neighbour",
        body="The old man at number 9 hasn't been seen for over a week, his post is piling up and I think he may be being "
             "neglected by his carer. I heard him crying for help last night. I'm really worried about his safety.",
    ))
    run(service)
    with service.db.sessions() as session:
        top = session.scalars(select(Case).order_by(Case.priority.desc())).first()
        assert Flag.SAFEGUARDING in top.flags and top.status == CaseStatus.HELD
        assert top.reference.startswith("GEN-")
        ack = session.scalar(select(OutboxMessage).where(OutboxMessage.case_id == top.id))
        assert ack.kind == "neutral"


@pytest.fixture
def unsure_service(make_settings, maildir):
    """A worker whose classifier is never confident enough to acknowledge by category."""
    settings = make_settings(maildir=[{"name": "mailbox", "path": maildir}], classifier={"confidence_threshold": 1.01})
    service = scheduler.build(settings)
    deliver(maildir, make_mail(subject="Leak still not fixed", body=LEAK))
    run(service)
    yield service
    service.db.engine.dispose()


def test_low_confidence_mail_is_held_for_triage_and_gets_the_neutral_acknowledgement(unsure_service):
    service = unsure_service
    with service.db.sessions() as session:
        case = only(session, Case)
        assert case.status == CaseStatus.HELD and "not confident" in case.held_reason
        assert only(session, OutboxMessage).kind == "neutral"
        assert only(session, Submission).disposition == Disposition.HELD
    [ack] = sent_files(service)
    assert "complaint" not in ack["Subject"].lower()


def test_a_neutral_acknowledgement_does_not_stop_the_code_acknowledgement_clock(unsure_service):
    with unsure_service.db.sessions() as session:
        case = only(session, Case)
        assert case.acknowledged_at is not None  # the resident has their reference
        ack_clocks = [clock for clock in case.clocks if clock.kind == ClockKind.ACK_STAGE1]
        assert all(clock.met_at is None for clock in ack_clocks)  # a person still owes the Code acknowledgement


def test_a_mail_bombing_sender_gets_at_most_the_daily_cap_of_acknowledgements(make_settings, maildir):
    settings = make_settings(maildir=[{"name": "mailbox", "path": maildir}], outbox={"max_acks_per_sender_per_day": 2})
    service = scheduler.build(settings)
    for n in range(5):
        deliver(maildir, make_mail(subject=f"Leak {n}", body=f"{LEAK} This is message number {n}."))
    run(service)
    with service.db.sessions() as session:
        assert session.scalar(select(func.count(Case.id))) == 5
        statuses = sorted(session.scalars(select(OutboxMessage.status)))
    assert statuses.count("sent") == 2 and statuses.count("suppressed") == 3
    assert len(sent_files(service)) == 2


class ExplodingClassifier:
    """Fault injection: a classifier that fails, as a bug in a later stage would."""

    model_version = "broken"
    threshold = 0.5

    def classify(self, subject, text):
        raise RuntimeError("model exploded")


def test_a_failing_stage_keeps_the_bytes_records_the_error_and_the_worker_goes_on(service, maildir):
    good_classifier = service.runner.pipeline.classifier
    service.runner.pipeline.classifier = ExplodingClassifier()
    deliver(maildir, make_mail(subject="Leak still not fixed", body=LEAK))
    run(service)
    with service.db.sessions() as session:
        submission = only(session, Submission)
        assert submission.disposition == Disposition.FAILED and "model exploded" in submission.error
        assert b"nobody has come" in submission.raw
    service.runner.pipeline.classifier = good_classifier
    with service.db.transaction() as session:
        only(session, Submission).attempts = 0  # a person asks for a re-run
    run(service)
    with service.db.sessions() as session:
        assert only(session, Submission).disposition == Disposition.ACCEPTED


def test_every_case_event_records_who_did_what(service, maildir):
    deliver(maildir, make_mail(subject="Leak still not fixed", body=LEAK))
    run(service)
    with service.db.sessions() as session:
        classified = session.scalar(select(CaseEvent).where(CaseEvent.action == "classified"))
        assert classified.actor == "classifier" and classified.model_version and classified.confidence is not None


def test_two_workers_processing_at_once_open_one_case_and_one_reply_per_message(make_settings, maildir):
    settings = make_settings(maildir=[{"name": "mailbox", "path": maildir}])
    first, second = scheduler.build(settings), scheduler.build(settings)
    for n in range(8):
        deliver(maildir, make_mail(f"Resident {n} <r{n}@example.net>", "Boiler", f"My boiler has stopped working, flat {n}."))
    first.runner.poll(first.runner.sources[0])  # stored, all waiting

    workers = [threading.Thread(target=service.runner.process_waiting) for service in (first, second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    with first.db.sessions() as session:
        assert session.scalar(select(func.count(Case.id))) == 8
        assert session.scalar(select(func.count(OutboxMessage.id))) == 8
        assert set(session.scalars(select(Submission.attempts))) == {1}
    assert first.runner.process(1) is None  # already taken: nothing happens
    second.db.engine.dispose()


def test_a_stop_is_seen_between_batches_and_each_batch_wakes_sending(service, maildir):
    """SIGTERM finishes the batch in hand, not the whole backlog; sending hears of every batch."""
    for n in range(5):
        deliver(maildir, make_mail(f"Resident {n} <r{n}@example.net>", "Leak", f"My kitchen tap {n} is leaking."))
    service.runner.batch_size = 2
    assert service.runner.poll(service.runner.sources[0]) == 5
    told: list[int] = []
    stop_after_first = lambda: bool(told)  # noqa: E731 - asked before each batch
    assert service.runner.process_waiting(stop=stop_after_first, after_batch=told.append) == 2
    assert told == [2]
    with service.db.sessions() as session:
        waiting = session.scalar(select(func.count()).select_from(Submission)
                                 .where(Submission.disposition == Disposition.PENDING))
    assert waiting == 3  # left for the next batch, by this worker or another
    assert service.runner.process_waiting(after_batch=told.append) == 3
    assert told == [2, 2, 1]
