"""Safety flags in two tiers through the real worker (Maildir, SQLite file and PostgreSQL, file transport):
what is stored on the case and its CLASSIFIED event, what is held and sent, and a person confirming or
dismissing a check through the reclassify verb.

The classifications are given, not the shipped model's: the worker's classifier is swapped for one that
answers each subject with a Classification built here, because the contract's check tier and named
rules (classifier.Classification.checks and .rules) are what this side stores, whatever model fills them.
Everything else is real: the Maildir source, the pipeline, the database, the outbox and its sender."""

from __future__ import annotations

import email
import email.policy

import pytest
from sqlalchemy import select

import scheduler
from casework.lifecycle import PRIORITY
from casework.models import Case, CaseEvent, OutboxMessage
from casework.vocabulary import AckKind, CaseStatus, ClockKind, EventAction
from classifier import Classification, RuleHit
from pipeline.tiers import CONFIRMED, DISMISSED, OPEN, check_lines
from tests.mail import deliver, make_mail, new_maildir

CHECK = Classification("complaint", 0.99, frozenset(), "given", checks=frozenset({"safeguarding"}),
                       rules=(RuleHit("SG_SAVING_TABLETS", "safeguarding", "saving my tablets"),))
URGENT = Classification("complaint", 0.99, frozenset({"safeguarding"}), "given",
                        rules=(RuleHit("SG_HURT_MYSELF", "safeguarding", "<b>hurt myself</b>"),))
HAZARD_CHECK = Classification("service_request", 0.99, frozenset(), "given", checks=frozenset({"emergency_hazard"}))
HAZARD = Classification("service_request", 0.99, frozenset({"emergency_hazard"}), "given",
                        rules=(RuleHit("EH_GAS_SMELL", "emergency_hazard", "smell gas"),))
ESCALATE = Classification("complaint", 0.99, frozenset({"escalation_request"}), "given")
GIVEN = {"check": CHECK, "urgent": URGENT, "hazard check": HAZARD_CHECK, "hazard": HAZARD, "escalate": ESCALATE}


class Given:
    """Answers each message by its subject from GIVEN (the test's classifications)."""

    threshold = 0.9
    model_version = "given"

    def classify(self, subject: str, new_text: str) -> Classification:
        return GIVEN[subject]

    def classify_many(self, items):
        return [self.classify(subject, text) for subject, text in items]


@pytest.fixture
def worker(make_settings, tmp_path):
    maildir = new_maildir(tmp_path / "maildir")
    service = scheduler.build(make_settings(maildir=[{"name": "mailbox", "path": maildir}]))
    service.runner.pipeline.classifier = Given()
    yield service, maildir
    service.db.engine.dispose()


def run(worker, *subjects: str) -> dict[str, Case]:
    service, maildir = worker
    for n, subject in enumerate(subjects):
        deliver(maildir, make_mail(f"Resident {n} <r{n}@example.net>", subject, "I am writing about my home."))
    service.run_once()
    with service.db.sessions() as session:
        cases = {case.subject: case for case in session.scalars(select(Case))}
        for case in cases.values():
            _ = (case.events, case.clocks)
        session.expunge_all()
    return cases


def sent_kinds(service) -> dict[str, str]:
    with service.db.sessions() as session:
        return {case.subject: kind for case, kind in session.execute(
            select(Case, OutboxMessage.kind).join(OutboxMessage, OutboxMessage.case_id == Case.id))}


def classified(case: Case) -> dict:
    [event] = [event for event in case.events if event.action == EventAction.CLASSIFIED]
    return event.detail


def test_a_check_is_a_line_on_the_case_and_an_urgent_flag_still_holds_and_tops_the_queue(worker):
    cases = run(worker, "check", "urgent", "hazard check", "hazard")
    service, _ = worker

    check = cases["check"]
    assert (check.status, check.priority, check.flags, check.checks) == (CaseStatus.OPEN, 0, [], ["safeguarding"])
    assert classified(check)["checks"] == ["safeguarding"]
    assert classified(check)["rules"] == [{"rule_id": "SG_SAVING_TABLETS", "flag": "safeguarding",
                                           "words": "saving my tablets"}]
    [line] = check_lines(check.events)
    assert (line.flag, line.state, [(r.rule_id, r.words) for r in line.rules]) == (
        "safeguarding", OPEN, [("SG_SAVING_TABLETS", "saving my tablets")])

    urgent = cases["urgent"]
    assert (urgent.status, urgent.priority, urgent.flags, urgent.checks) == (
        CaseStatus.HELD, PRIORITY["safeguarding"], ["safeguarding"], [])
    assert classified(urgent)["rules"][0]["words"] == "<b>hurt myself</b>"  # stored as written; shown as text

    hazard_check, hazard = cases["hazard check"], cases["hazard"]
    assert (hazard_check.priority, hazard_check.checks, {c.kind for c in hazard_check.clocks}) == (
        0, ["emergency_hazard"], set())
    assert (hazard.status, hazard.priority, {c.kind for c in hazard.clocks}) == (
        CaseStatus.OPEN, PRIORITY["emergency_hazard"], {ClockKind.EMERGENCY_HAZARD})

    assert sent_kinds(service) == {"check": AckKind.COMPLAINT_STAGE1, "urgent": AckKind.NEUTRAL,
                                   "hazard check": AckKind.SERVICE_REQUEST, "hazard": AckKind.SERVICE_REQUEST}


def test_a_person_confirms_one_check_and_dismisses_another_through_reclassify(worker):
    cases = run(worker, "check", "hazard check")
    service, _ = worker
    casework = scheduler.build_casework(service.settings, service.db)
    casework.reclassify(cases["check"].reference, "complaint", ["safeguarding"], by="ann@landlord.example")
    casework.reclassify(cases["hazard check"].reference, "service_request", [], by="bob@landlord.example")
    with service.db.sessions() as session:
        confirmed = session.scalar(select(Case).where(Case.reference == cases["check"].reference))
        [line] = check_lines(confirmed.events)
        assert (line.state, line.by) == (CONFIRMED, "ann@landlord.example")
        assert confirmed.flags == ["safeguarding"] and confirmed.priority == PRIORITY["safeguarding"]
        dismissed = session.scalar(select(Case).where(Case.reference == cases["hazard check"].reference))
        [line] = check_lines(dismissed.events)
        assert (line.state, line.by) == (DISMISSED, "bob@landlord.example")
        assert dismissed.flags == [] and dismissed.priority == 0 and dismissed.checks == ["emergency_hazard"]


def test_a_complaint_asking_to_escalate_with_no_case_is_acknowledged_at_stage_1_with_a_line_for_staff(worker):
    cases = run(worker, "escalate")
    service, _ = worker
    case = cases["escalate"]
    assert case.status == CaseStatus.OPEN and case.held_reason is None
    assert case.flags == ["escalation_request"]
    assert classified(case)["for_staff"] == [
        "asks to escalate but no existing case was found: acknowledged as a new stage 1 complaint; "
        "find the earlier complaint, then link or merge and escalate"]
    assert sent_kinds(service) == {"escalate": AckKind.COMPLAINT_STAGE1}
    [sent] = sorted((service.settings.var_dir / "outbox").glob("*.eml"))
    body = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default).get_body(("plain",)).get_content()
    assert "stage 1" in body and case.reference in body
