"""The pipeline: one stored submission in, one disposition out, in a single transaction.

read → drop duplicates → detect auto-reply → match an existing case → classify → open or update
the case (reference, stage, flags, clocks) → queue the acknowledgement. A stage ends the flow only
by a disposition: accepted, held for triage, discarded, failed (see runner.py for failures).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import lifecycle
from core.errors import UnreadableSubmission
from casework.models import Case, Submission, utcnow
from casework.policy import Policy
from casework.references import References
from core.settings import Settings
from casework.vocabulary import Actor, CaseStatus, Category, Disposition, EventAction, Flag
from classifier import Classification
from classifier.model import Classifier
from intake.autoreply import detect_auto_reply
from intake.dedupe import dedupe_key
from pipeline.scan_steps import letter_hold_reasons, record_scanning_lag
from pipeline.matching import match_case
from intake.message import ParsedMessage
from pipeline.read import read_submission
from responders.acknowledge import choose_acknowledgement
from responders.correspondence import Correspondence, channel_for
from responders.outbox import can_reply_to, is_own_message_id

ANSWERED = (Disposition.ACCEPTED, Disposition.HELD, Disposition.DISCARDED)


@dataclass
class Pipeline:
    settings: Settings
    policy: Policy
    references: References
    classifier: Classifier
    correspondence: Correspondence

    def process(self, session: Session, submission: Submission, now: dt.datetime | None = None) -> str:
        """Take a stored submission to its disposition; the caller owns the transaction."""
        now = now or utcnow()
        try:
            message = read_submission(submission, self.settings)
        except UnreadableSubmission as exc:  # no retry will help: it waits for a person
            return _dispose(submission, Disposition.FAILED, f"could not be read: {exc}", now)
        _note_facts(submission, message)
        disposition, reason = self._route(session, submission, message, now)
        return _dispose(submission, disposition, reason, now)

    def _route(self, session: Session, submission: Submission, message: ParsedMessage, now: dt.datetime):
        original = _earlier_copy(session, submission)
        if original is not None:
            submission.case_id = original.case_id
            return Disposition.DISCARDED, f"duplicate of submission #{original.id}"
        auto_reply = self._auto_reply(session, message)
        case = match_case(session, self.references, message)
        if auto_reply:
            _attach(case, submission, EventAction.AUTO_REPLY_RECEIVED, reason=auto_reply)
            return Disposition.DISCARDED, f"machine-generated ({auto_reply}); never acknowledged"
        if case is not None:
            return self._reply(session, submission, message, case, now)
        return self._new_case(session, submission, message, now)

    def _auto_reply(self, session: Session, message: ParsedMessage) -> str | None:
        own = {self.settings.landlord.email.lower()}
        return detect_auto_reply(message, own, lambda mid: is_own_message_id(session, mid))

    # -- a new case -------------------------------------------------------------------------

    def _new_case(self, session: Session, submission: Submission, message: ParsedMessage, now: dt.datetime):
        result = self._classify(message)
        address = reply_address(message)
        flags = (set(result.flags) - {Flag.ANONYMOUS}) | _identity_flags(submission, address)
        reasons = held_reasons(result, flags, matched_case=False) + letter_hold_reasons(submission)
        reasons += _unanswerable(message, address)
        case = lifecycle.open_case(
            session, self.references, category=result.category, held=bool(reasons),
            received_at=submission.received_at, now=now, confidence=result.confidence,
            model_version=result.model_version, resident_email=address, resident_name=message.sender_name,
            subject=message.subject or None, resident_address=submission.details.get("postal_address"),
        )
        _attach(case, submission, EventAction.CASE_OPENED, source=submission.source)
        _record_classification(case, submission, result)
        record_scanning_lag(case, submission, self.policy)
        lifecycle.add_flags(case, flags, self.policy, submission.received_at)
        if result.category == Category.COMPLAINT:
            lifecycle.start_complaint_clocks(case, self.policy, submission.received_at)
        for reason in reasons:
            lifecycle.hold(case, reason)
        self._acknowledge(session, case, submission, message, confident=not reasons,
                          machine_like=Flag.AUTO_REPLY in flags)
        return (Disposition.HELD, "; ".join(reasons)) if reasons else (Disposition.ACCEPTED, None)

    # -- a reply to an existing case -------------------------------------------------------

    def _reply(self, session: Session, submission: Submission, message: ParsedMessage, case: Case, now: dt.datetime):
        _attach(case, submission, EventAction.REPLY_RECEIVED)
        result = self._classify(message)
        _record_classification(case, submission, result)
        lifecycle.add_flags(case, result.flags & SAFETY_FLAGS, self.policy, submission.received_at)
        if Flag.SAFEGUARDING in result.flags:
            lifecycle.hold(case, "safeguarding concern in a reply: a person must look at once")
        change = reply_change(case, result)
        if change is None:
            return Disposition.ACCEPTED, f"reply added to case {case.reference}"
        if change == "unsure":
            lifecycle.hold(case, "reply may ask to escalate or raise a new complaint: a person decides")
            self._acknowledge(session, case, submission, message, confident=False,
                              machine_like=Flag.AUTO_REPLY in result.flags)
            return Disposition.HELD, f"reply to case {case.reference} needs a person"
        if change == "escalate":
            lifecycle.escalate(case, self.policy, submission.received_at, submission_id=submission.id)
        else:
            lifecycle.become_complaint(case, self.policy, submission.received_at, submission_id=submission.id)
        self._acknowledge(session, case, submission, message, confident=case.status != CaseStatus.HELD,
                          machine_like=Flag.AUTO_REPLY in result.flags)
        return Disposition.ACCEPTED, f"reply moved case {case.reference}: {change}"

    # -- shared steps -----------------------------------------------------------------------

    def _classify(self, message: ParsedMessage) -> Classification:
        return self.classifier.classify(message.subject, message.new_text)

    def _acknowledge(self, session: Session, case: Case, submission: Submission, message: ParsedMessage, *,
                     confident: bool, machine_like: bool) -> None:
        """Never for a message whose words read like machine-generated mail (mail whose headers say so
        never gets here); the channel (email, post or none) is the correspondence's rule."""
        kind = choose_acknowledgement(case.category, case.stage, confident=confident, auto_reply=machine_like,
                                      reply_address=channel_for(case))
        if kind is None:
            reason = "reads like machine-generated mail" if machine_like else "no address to reply to"
            lifecycle.record(case, Actor.SYSTEM, EventAction.NO_ACKNOWLEDGEMENT, reason=reason)
            return
        self.correspondence.acknowledge(
            session, case, kind, submission_id=_id(session, submission), resident_text=message.new_text,
            in_reply_to=message.message_id, references=_references(message),
        )


SAFETY_FLAGS = frozenset({Flag.SAFEGUARDING, Flag.EMERGENCY_HAZARD, Flag.DAMP_MOULD})


def held_reasons(result: Classification, flags: set[str], *, matched_case: bool) -> list[str]:
    """Why a new case must wait for a person; empty when it may be acknowledged by category."""
    reasons = []
    if Flag.SAFEGUARDING in flags:
        reasons.append("safeguarding concern: a person must look at once")
    if Flag.AUTO_REPLY in flags:
        reasons.append("reads like machine-generated mail but its headers do not say so: a person decides")
    elif not result.auto_acknowledge and Flag.SAFEGUARDING not in flags:
        reasons.append(f"classifier not confident ({result.category}, {result.confidence:.2f})")
    if Flag.LATE in flags:
        reasons.append("may be outside the time limit for raising a complaint: a person decides")
    if Flag.ESCALATION_REQUEST in flags and not matched_case:
        reasons.append("asks to escalate but no existing case was found")
    if result.category == Category.OUT_OF_SCOPE and flags & SAFETY_FLAGS:
        reasons.append("out of scope but reports a risk: a person decides")
    return reasons


def reply_change(case: Case, result: Classification) -> str | None:
    """What a reply does to its case (categories.md rule 3): None, escalate, complaint or unsure."""
    asks_to_escalate = Flag.ESCALATION_REQUEST in result.flags
    complains = result.category == Category.COMPLAINT
    if asks_to_escalate and case.category == Category.COMPLAINT and case.stage == 2:
        return "unsure"
    if (asks_to_escalate or complains) and not result.auto_acknowledge:
        return "unsure"
    if asks_to_escalate and case.category == Category.COMPLAINT:
        return "escalate"
    if (complains or asks_to_escalate) and case.category != Category.COMPLAINT:
        return "complaint"
    return None


def reply_address(message: ParsedMessage) -> str | None:
    """Where an answer would go; None when there is none we could ever send to."""
    address = message.reply_to or message.sender
    return address if can_reply_to(address) else None


def _unanswerable(message: ParsedMessage, address: str | None) -> list[str]:
    written = message.reply_to or message.sender
    if written and not address:
        return [f"the sender's address {written!r} cannot be replied to: a person decides"]
    return []


def _identity_flags(submission: Submission, address: str | None) -> set[str]:
    """Anonymous is a fact about the submission (no way to reply), not something read from the text."""
    if address or submission.details.get("postal_address"):
        return set()
    return {Flag.ANONYMOUS}


def _earlier_copy(session: Session, submission: Submission) -> Submission | None:
    if not submission.dedupe_key:
        return None
    return session.scalar(
        select(Submission)
        .where(Submission.dedupe_key == submission.dedupe_key, Submission.id != submission.id)
        .where(Submission.disposition.in_(ANSWERED))
        .order_by(Submission.id)
        .limit(1)
    )


def _note_facts(submission: Submission, message: ParsedMessage) -> None:
    submission.message_id = message.message_id
    submission.sender = reply_address(message)
    submission.subject = message.subject
    submission.extracted_text = submission.extracted_text or message.text
    submission.dedupe_key = dedupe_key(message)


def _attach(case: Case | None, submission: Submission, action: EventAction, **detail) -> None:
    if case is None:
        return
    submission.case = case
    lifecycle.record(case, Actor.SYSTEM, action, submission_id=submission.id, **detail)


def _id(session: Session, submission: Submission) -> int:
    if submission.id is None:
        session.flush()
    return submission.id


def _record_classification(case: Case, submission: Submission, result: Classification) -> None:
    lifecycle.record(
        case, Actor.CLASSIFIER, EventAction.CLASSIFIED, submission_id=submission.id, model_version=result.model_version,
        confidence=result.confidence, category=result.category, flags=sorted(result.flags),
        explanation=list(result.explanation),
    )


def _references(message: ParsedMessage) -> list[str]:
    return [*message.references, *([message.message_id] if message.message_id else [])]


def _dispose(submission: Submission, disposition: Disposition, reason: str | None, now: dt.datetime) -> str:
    submission.disposition = disposition
    submission.reason = reason
    submission.error = None
    submission.processed_at = now
    return disposition
