"""Every staff verb, on SQLite and PostgreSQL: it changes the case, records who did it and when, and
refuses what it must without changing anything. Expected dates are counted by hand in comments
(England, 2026: 25 Dec and 28 Dec are bank holidays; November has none)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

import scheduler
from casework import lifecycle
from casework.guards import find
from casework.models import CaseEvent, CaseLink, LabelCorrection, OutboxMessage, Submission
from casework.vocabulary import Disposition, Flag, Stage
from core.errors import ActionRefused, CaseNotFound, IntakeError
from core.settings import PolicySettings, Settings
from responders.sender import OutboxSender
from responders.transport import FileTransport

UTC = dt.UTC
RECEIVED = dt.datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # Monday 2 November 2026 (GMT = UTC)


def eod(year, month, day):
    """23:59:59 on that day in London; GMT in November to March, so the same in UTC."""
    return dt.datetime(year, month, day, 23, 59, 59, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path, database_url):
    return Settings(var_dir=tmp_path / "var", database_url=database_url)


@pytest.fixture
def casework(settings):
    return scheduler.build_casework(settings)


def open_case(casework, category="complaint", *, flags=(), held=False, email="resident@example.net",
              received=RECEIVED) -> str:
    """A case as the pipeline leaves it, with the message that opened it."""
    with casework.db.transaction() as session:
        case = lifecycle.open_case(session, casework.references, category=category, held=held, received_at=received,
                                   now=received, resident_email=email, resident_name="Sam Resident", subject="Roof")
        case.submissions.append(Submission(
            source="imap", kind="email", natural_key=f"{category}-{held}-{email}", raw=b"x", raw_sha256="0" * 64,
            received_at=received, message_id="m1@example.net", extracted_text="The roof still leaks.",
            disposition=Disposition.HELD if held else Disposition.ACCEPTED))
        lifecycle.add_flags(case, flags, casework.policy, received)
        if category == "complaint":
            lifecycle.start_complaint_clocks(case, casework.policy, received)
        if held:
            lifecycle.hold(case, "classifier not confident (complaint, 0.41)")
        session.flush()
        return case.reference


def send(casework, settings, at):
    """The real sender, with the file transport, delivering everything queued as at ``at``."""
    sender = OutboxSender(casework.db, FileTransport(settings.var_dir / "outbox"), settings.outbox,
                          "complaints@example.org", "Example Homes", policy=casework.policy)
    return sender.run_once(now=at)


def view(casework, reference):
    with casework.db.sessions() as session:
        case = find(session, reference)
        clocks = {clock.kind: clock for clock in case.clocks}
        events = [(event.actor, event.action) for event in case.events]
        return case, clocks, events


def count(casework, model):
    with casework.db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def refused(casework, call, *args, **kwargs):
    """The verb is refused with a plain message, and nothing at all is written."""
    before = count(casework, CaseEvent), count(casework, OutboxMessage)
    with pytest.raises(IntakeError) as caught:
        call(*args, **kwargs)
    assert (count(casework, CaseEvent), count(casework, OutboxMessage)) == before
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_a_complaint_lives_through_both_stages_with_clocks_counted_by_hand(casework, settings):
    ref = open_case(casework)
    case, clocks, _ = view(casework, ref)
    assert clocks["ack_stage1"].due_at == eod(2026, 11, 9)  # 5 wd after Mon 2 Nov: 3,4,5,6,9
    assert "response_stage1" not in clocks  # it starts when the acknowledgement is sent

    casework.acknowledge(ref, "phone", by="alice@landlord.org", on=dt.datetime(2026, 11, 3, 11, 0, tzinfo=UTC))
    case, clocks, events = view(casework, ref)
    assert clocks["ack_stage1"].met_at == dt.datetime(2026, 11, 3, 11, 0, tzinfo=UTC)
    assert clocks["response_stage1"].due_at == eod(2026, 11, 17)  # 10 wd after Tue 3 Nov: 4..6, 9..13, 16, 17
    assert events[-1] == ("alice@landlord.org", "acknowledged_otherwise")

    due = casework.extend(ref, 10, "waiting for the roofer's report", by="alice@landlord.org",
                          on=dt.date(2026, 11, 16))
    assert due == eod(2026, 12, 1)  # 10 wd after Tue 17 Nov: 18,19,20,23..27,30 Nov, 1 Dec
    message = refused(casework, casework.extend, ref, 1, "more", by="alice@landlord.org")
    assert "10" in message
    case, clocks, _ = view(casework, ref)
    assert clocks["response_stage1"].extended_by_days == 10
    with casework.db.sessions() as session:
        notice = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "extension")).one()
        assert "Tuesday 1 December 2026" in notice.text_body and "roofer's report" in notice.text_body
        assert "www.housing-ombudsman.org.uk" in notice.text_body

    casework.respond(ref, outcome="not_upheld", by="alice@landlord.org", on=dt.date(2026, 11, 30))
    case, clocks, _ = view(casework, ref)
    assert clocks["response_stage1"].met_at == dt.datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert case.stage1_handler == "alice@landlord.org"

    assert "handled stage 1" in refused(casework, casework.escalate, ref, by="alice@landlord.org")
    casework.escalate(ref, by="alice@landlord.org", to="bob@landlord.org", on=dt.date(2026, 12, 1))
    case, clocks, events = view(casework, ref)
    assert (case.stage, case.assignee) == (2, "bob@landlord.org")
    assert clocks["ack_stage2"].due_at == eod(2026, 12, 8)  # 5 wd after Tue 1 Dec: 2,3,4,7,8
    assert "handled stage 1" in refused(casework, casework.assign, ref, "alice@landlord.org", by="carol@landlord.org")

    assert send(casework, settings, dt.datetime(2026, 12, 2, 10, 0, tzinfo=UTC)) == 2  # the notice and the stage 2 ack
    case, clocks, _ = view(casework, ref)
    assert clocks["ack_stage2"].met_at == dt.datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    # Counted from the send, 20 wd after Wed 2 Dec would be: 3,4,7..11,14..18,21..24 (16); 25 and 28 Dec are
    # bank holidays; 29,30,31 (19), 1 Jan a bank holiday, Mon 4 Jan (20). But the acknowledgement was queued
    # on Tue 1 Dec and told the resident 20 wd from then: 2,3,4,7..11,14..18,21..24 (17), 29,30,31 (20) ->
    # Thu 31 Dec, and the clock never falls later than the date the resident was given.
    assert clocks["response_stage2"].due_at == eod(2026, 12, 31)
    assert clocks["response_stage2"].starts_at == dt.datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert "handled stage 1" in refused(casework, casework.respond, ref, by="alice@landlord.org")
    casework.respond(ref, by="bob@landlord.org", on=dt.date(2026, 12, 4))
    casework.close(ref, "partly_upheld", by="bob@landlord.org", on=dt.date(2026, 12, 4))
    case, clocks, events = view(casework, ref)
    assert (case.status, case.outcome) == ("closed", "partly_upheld")
    assert events[-2:] == [("bob@landlord.org", "responded"), ("bob@landlord.org", "closed")]
    assert "closed" in refused(casework, casework.respond, ref, by="bob@landlord.org")


def test_a_residents_own_escalation_unassigns_the_stage_1_handler(casework):
    ref = open_case(casework)
    casework.assign(ref, "alice@landlord.org", by="alice@landlord.org")
    casework.respond(ref, by="alice@landlord.org", on=dt.date(2026, 11, 20))
    with casework.db.transaction() as session:  # as the pipeline does when the resident's reply asks for stage 2
        lifecycle.escalate(find(session, ref), casework.policy, dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    case, _, events = view(casework, ref)
    assert (case.stage, case.assignee, events[-1]) == (2, None, ("system", "escalated_to_stage_2"))


def test_a_response_outcome_is_the_persons_own_words(casework):
    ref = open_case(casework)
    casework.respond(ref, outcome="Repair booked for 12 Dec and an apology given", by="alice@landlord.org")
    with casework.db.sessions() as session:
        assert find(session, ref).events[-1].detail["outcome"] == "Repair booked for 12 Dec and an apology given"


def test_an_acknowledgement_sent_late_never_moves_the_response_date_it_gave(casework, settings):
    ref = open_case(casework, held=True)
    casework.release(ref, by="alice@landlord.org", on=dt.datetime(2026, 11, 3, 10, 0, tzinfo=UTC))
    with casework.db.sessions() as session:
        assert "Tuesday 17 November 2026" in session.scalars(select(OutboxMessage)).one().text_body
    send(casework, settings, dt.datetime(2026, 11, 5, 9, 0, tzinfo=UTC))  # SMTP was down for two days
    _, clocks, _ = view(casework, ref)
    assert clocks["ack_stage1"].met_at == dt.datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    # from Thu 5 Nov the Code's 10 wd would be Thu 19 Nov; the resident was told Tue 17 Nov (from Tue 3 Nov)
    assert clocks["response_stage1"].due_at == eod(2026, 11, 17)
    assert clocks["response_stage1"].starts_at == dt.datetime(2026, 11, 5, 9, 0, tzinfo=UTC)


def test_a_response_recorded_in_the_past_keeps_both_dates(casework):
    ref = open_case(casework)
    casework.respond(ref, by="alice@landlord.org", on=dt.datetime(2026, 11, 5, 15, 30))  # naive: London time
    with casework.db.sessions() as session:
        event = find(session, ref).events[-1]
        assert event.at == dt.datetime(2026, 11, 5, 15, 30, tzinfo=UTC)  # GMT in November
        assert event.recorded_at.date() >= dt.date(2026, 12, 7)


def test_a_date_in_the_future_is_refused(casework):
    ref = open_case(casework)
    assert "future" in refused(casework, casework.close, ref, "upheld", by="a@x.org", on=dt.date(2099, 1, 1))


def test_assign_records_the_person_and_is_refused_on_a_closed_case(casework):
    ref = open_case(casework)
    casework.assign(ref, "bob@landlord.org", by="alice@landlord.org")
    case, _, events = view(casework, ref)
    assert case.assignee == "bob@landlord.org" and events[-1] == ("alice@landlord.org", "assigned")
    casework.close(ref, "withdrawn", by="alice@landlord.org")
    assert "closed" in refused(casework, casework.assign, ref, "carol@landlord.org", by="alice@landlord.org")


def test_a_wrong_reference_is_refused(casework):
    with pytest.raises(CaseNotFound):
        casework.assign("CMP-2026-999999", "bob@landlord.org", by="alice@landlord.org")


def test_reclassify_changes_the_case_and_keeps_a_training_correction(casework):
    ref = open_case(casework, "service_request")
    casework.reclassify(ref, "complaint", ["damp_mould"], by="alice@landlord.org")
    case, clocks, events = view(casework, ref)
    assert (case.category, case.flags) == ("complaint", ["damp_mould"])
    assert clocks["ack_stage1"].due_at == eod(2026, 11, 9)  # from receipt, as for any complaint
    assert clocks["damp_mould"].due_at == eod(2026, 11, 16)  # 10 statutory wd after Mon 2 Nov
    assert events[-1] == ("alice@landlord.org", "reclassified")
    with casework.db.sessions() as session:
        correction = session.scalars(select(LabelCorrection)).one()
        assert (correction.category, correction.flags, correction.previous_category) == (
            "complaint", ["damp_mould"], "service_request")
        assert correction.corrected_by == "alice@landlord.org" and "roof" in correction.text.lower()
    assert "category must be" in refused(casework, casework.reclassify, ref, "moan", by="alice@landlord.org")


def test_release_sends_the_acknowledgement_the_case_now_deserves(casework):
    ref = open_case(casework, held=True)
    assert ref.startswith("GEN-")  # a held case's reference reveals no category
    casework.release(ref, by="alice@landlord.org")
    case, _, events = view(casework, ref)
    assert (case.status, case.held_reason) == ("open", None)
    assert ("alice@landlord.org", "released") in events
    with casework.db.sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert (row.kind, row.to_address, row.status) == ("complaint_stage1", "resident@example.net", "queued")
    assert "not held" in refused(casework, casework.release, ref, by="alice@landlord.org")


def test_link_records_on_both_cases_and_refuses_a_second_link(casework):
    first, second = open_case(casework), open_case(casework, email="other@example.net")
    casework.link(first, second, by="alice@landlord.org")
    assert view(casework, first)[2][-1] == view(casework, second)[2][-1] == ("alice@landlord.org", "linked")
    assert "already linked" in refused(casework, casework.link, second, first, by="alice@landlord.org")
    assert "same case" in refused(casework, casework.link, first, first, by="alice@landlord.org")


def test_merge_moves_the_messages_and_closes_the_duplicate(casework):
    keep, duplicate = open_case(casework), open_case(casework, email="twice@example.net")
    casework.merge(duplicate, keep, by="alice@landlord.org")
    dup, _, dup_events = view(casework, duplicate)
    kept, _, kept_events = view(casework, keep)
    assert (dup.status, dup.outcome) == ("closed", "merged")
    assert dup_events[-1] == ("alice@landlord.org", "merged_into") and kept_events[-1] == ("alice@landlord.org", "merged")
    with casework.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Submission).where(Submission.case_id == kept.id)) == 2
        assert session.scalars(select(CaseLink)).one().kind == "duplicate"
    assert "closed" in refused(casework, casework.merge, keep, duplicate, by="alice@landlord.org")


def test_split_makes_a_linked_second_case_with_its_own_reference_and_acknowledgement(casework):
    ref = open_case(casework, "service_request")
    new = casework.split(ref, "complaint", by="alice@landlord.org")
    assert new.startswith("CMP-2026-") and new != ref
    case, clocks, events = view(casework, new)
    assert case.category == "complaint" and clocks["ack_stage1"].due_at == eod(2026, 11, 9)
    assert events[0] == ("alice@landlord.org", "split")
    with casework.db.sessions() as session:
        assert session.scalars(select(OutboxMessage)).one().kind == "complaint_stage1"
        assert session.scalars(select(CaseLink)).one().kind == "split"


def test_an_extension_before_the_response_clock_starts_or_after_it_is_met_is_refused(casework):
    ref = open_case(casework)
    assert "acknowledge the complaint first" in refused(casework, casework.extend, ref, 5, "parts", by="a@x.org")
    casework.respond(ref, by="alice@landlord.org")
    assert "response is sent" in refused(casework, casework.extend, ref, 5, "parts", by="a@x.org")


def test_extend_and_escalate_are_refused_for_a_service_request(casework):
    ref = open_case(casework, "service_request")
    assert "not a complaint" in refused(casework, casework.extend, ref, 5, "parts", by="alice@landlord.org")
    assert "not a complaint" in refused(casework, casework.escalate, ref, by="alice@landlord.org")


def test_close_and_reopen(casework):
    ref = open_case(casework)
    assert "outcome must be" in refused(casework, casework.close, ref, "merged", by="alice@landlord.org")
    assert "not closed" in refused(casework, casework.reopen, ref, by="alice@landlord.org")
    casework.close(ref, "resolved", by="alice@landlord.org")
    casework.reopen(ref, by="bob@landlord.org", reason="the leak came back")
    case, _, events = view(casework, ref)
    assert (case.status, case.outcome, case.closed_at) == ("open", None, None)
    assert events[-1] == ("bob@landlord.org", "reopened")


def test_rerun_puts_a_failed_submission_back_in_the_queue(casework):
    with casework.db.transaction() as session:
        session.add(Submission(source="imap", kind="email", natural_key="9", raw=b"x", raw_sha256="0" * 64,
                               received_at=RECEIVED, disposition=Disposition.FAILED, attempts=3, error="boom"))
    casework.rerun(1, by="alice@landlord.org")
    with casework.db.sessions() as session:
        submission = session.get(Submission, 1)
        assert (submission.disposition, submission.attempts, submission.error) == ("pending", 0, None)
    assert "has not failed" in refused(casework, casework.rerun, 1, by="alice@landlord.org")


def test_log_contact_stores_the_notes_as_a_submission_for_the_pipeline(casework):
    submission_id = casework.log_contact("phone", name="Mrs P Jones", notes="Boiler broken since Friday",
                                         address=["4 Oak Road", "EX1 2AB"], by="alice@landlord.org")
    with casework.db.sessions() as session:
        submission = session.get(Submission, submission_id)
        assert (submission.kind, submission.disposition, submission.details["logged_by"]) == (
            "phone", "pending", "alice@landlord.org")
    with pytest.raises(ActionRefused):
        casework.log_contact("phone", name="X", notes="  ", by="alice@landlord.org")
    with pytest.raises(ActionRefused):
        casework.log_contact("email", name="X", notes="hello", by="alice@landlord.org")


def test_awaabs_law_steps_meet_and_start_the_damp_clocks(casework):
    ref = open_case(casework, "service_request", flags=[Flag.DAMP_MOULD])
    casework.hazard(ref, "investigated", by="surveyor@landlord.org", on=dt.date(2026, 11, 10))
    case, clocks, _ = view(casework, ref)
    assert clocks["damp_mould"].met_at is not None
    assert clocks["damp_mould_summary"].due_at == eod(2026, 11, 13)  # 3 wd after Tue 10 Nov: 11,12,13
    assert clocks["damp_mould_safe"].due_at == eod(2026, 11, 17)  # 5 wd: 11,12,13,16,17
    casework.hazard(ref, "made_safe", by="surveyor@landlord.org", on=dt.date(2026, 11, 12))
    assert view(casework, ref)[1]["damp_mould_safe"].met_at is not None


@pytest.fixture
def satisfied_settings(tmp_path, database_url):
    policy = PolicySettings(auto_close_after_days=10, escalation_window_days=28)
    return Settings(var_dir=tmp_path / "var", database_url=database_url, policy=policy)


def test_the_satisfaction_window_closes_a_case_and_a_later_escalation_still_opens_stage_2(satisfied_settings):
    from casework.clocks import watch_clocks

    casework = scheduler.build_casework(satisfied_settings)
    ref = open_case(casework)
    casework.respond(ref, outcome="upheld", by="alice@landlord.org", on=dt.date(2026, 11, 4))
    _, clocks, _ = view(casework, ref)
    assert clocks["satisfaction_window"].due_at == eod(2026, 11, 18)  # 10 wd after Wed 4 Nov: 5,6,9..13,16,17,18
    assert clocks["escalation_window"].due_at == eod(2026, 12, 2)  # 28 calendar days after 4 Nov
    assert watch_clocks(casework.db, now=dt.datetime(2026, 11, 18, 12, 0, tzinfo=UTC)) == 0
    watch_clocks(casework.db, now=dt.datetime(2026, 11, 19, 9, 0, tzinfo=UTC))
    case, _, events = view(casework, ref)
    assert (case.status, case.outcome, events[-1]) == ("closed", "upheld", ("system", "auto_closed"))
    casework.escalate(ref, by="bob@landlord.org", on=dt.date(2026, 12, 3))
    case, _, events = view(casework, ref)
    assert (case.status, case.stage) == ("open", Stage.TWO)
    with casework.db.sessions() as session:
        escalated = [e for e in find(session, ref).events if e.action == "escalated_to_stage_2"][0]
        assert "window closed" in escalated.detail["window"]


def test_reply_queues_a_persons_words_threaded_and_never_counts_as_the_acknowledgement(casework, settings):
    ref = open_case(casework)
    casework.reply(ref, "  Our surveyor will call on Tuesday.\nPlease keep the <loft> hatch clear.  ",
                   by="alice@landlord.org", on=dt.date(2026, 11, 3))
    with casework.db.sessions() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reply")).one()
        assert (row.channel, row.to_address, row.status, row.in_reply_to) == (
            "email", "resident@example.net", "queued", "<m1@example.net>")
        assert ref in row.subject and ref in row.text_body
        assert "Our surveyor will call on Tuesday.\nPlease keep the <loft> hatch clear." in row.text_body
        assert "&lt;loft&gt;" in row.html_body and "<loft>" not in row.html_body
    _, _, events = view(casework, ref)
    assert events[-1] == ("alice@landlord.org", "reply_queued")

    assert send(casework, settings, dt.datetime(2026, 11, 3, 13, 0, tzinfo=UTC)) >= 1
    case, clocks, events = view(casework, ref)
    assert case.acknowledged_at is None and clocks["ack_stage1"].met_at is None  # a reply is not the acknowledgement
    assert ("system", "notice_sent") in events

    assert "needs the words" in refused(casework, casework.reply, ref, "   ", by="alice@landlord.org")
    nowhere = open_case(casework, email=None)
    assert "no email or postal address" in refused(casework, casework.reply, nowhere, "Hello", by="alice@landlord.org")
    casework.close(ref, "resolved", by="alice@landlord.org")
    assert "closed" in refused(casework, casework.reply, ref, "One more thing", by="alice@landlord.org")


def test_control_characters_a_person_pastes_are_dropped_not_a_database_error(casework):
    """PostgreSQL refuses NUL in text: a note pasted from elsewhere must still be stored, without it."""
    submission_id = casework.log_contact("phone", name="Mrs\x00 Jones", notes="Boiler\x00 broken\x07 since Friday\n",
                                         email="jones@example.net", by="alice@landlord.org")
    ref = open_case(casework)
    casework.acknowledge(ref, "phone", by="alice@landlord.org")
    casework.extend(ref, 2, "waiting\x00 for parts", by="alice@landlord.org")
    with casework.db.sessions() as session:
        assert session.get(Submission, submission_id).extracted_text == "Boiler broken since Friday\n"
        extended = [e for e in find(session, ref).events if e.action == "clock_extended"][0]
        assert extended.detail["reason"] == "waiting for parts"
