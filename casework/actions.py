"""The staff verbs: what a person does to a case, each in one transaction, each in the audit trail.

The command line (``intake case ...``) and the staff web app are faces over this class and decide no
rule of their own. Every verb:
* takes ``by`` (the person's login) and ``on`` (when it really happened; default now; never in the
  future), and records one or more events with them;
* refuses what does not apply with ``ActionRefused`` (or ``CaseNotFound``), raised before anything is
  written, so the transaction rolls back and a refusal changes nothing;
* queues any letter or email through the ``Correspondence`` port (the acknowledgement a released case
  now deserves, the Code's extension notice, a person's reply), so it goes out through the outbox like any other.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import lifecycle
from casework.corrections import new_text, record_correction
from casework.guards import (
    already_queued, choice, complaint_only, due, find, find_submission, open_only, plain, sha256, when, window_note,
)
from casework.models import Case, CaseLink, Clock, OutboxMessage, Submission
from casework.policy import Policy
from casework.properties import property_by_uprn
from casework.references import References
from casework.vocabulary import (
    ACK_BY_CATEGORY, CLOSING_OUTCOMES, LOGGED_CHANNELS, AckKind, Adjustment, CaseStatus, Category, Channel,
    Disposition, EventAction, HazardStep, Language, LinkKind, Outcome, Stage,
)
from core.db import Database
from core.errors import ActionRefused


MAX_NOTE = 2000  # an adjustment note says what helps; a longer story belongs in the case's messages


class Correspondence(Protocol):
    """What the verbs need from responders.correspondence (wired in by scheduler.build_casework)."""

    def acknowledge(self, session: Session, case: Case, kind: AckKind, *, submission_id: int | None,
                    resident_text: str, actor: str, now: dt.datetime) -> OutboxMessage | None: ...

    def notify_extension(self, session: Session, case: Case, clock: Clock, previous_due: dt.datetime, reason: str,
                         *, actor: str, now: dt.datetime) -> OutboxMessage | None: ...

    def reply(self, session: Session, case: Case, text: str, *, actor: str, now: dt.datetime) -> OutboxMessage | None: ...

    def channel(self, case: Case) -> Channel | None: ...

    def why_no_channel(self, case: Case) -> str: ...


def acknowledgement_for(case: Case) -> AckKind:
    """The acknowledgement a case deserves once a person has confirmed its category and stage."""
    if case.category == Category.COMPLAINT:
        return AckKind.COMPLAINT_STAGE2 if case.stage == Stage.TWO else AckKind.COMPLAINT_STAGE1
    return ACK_BY_CATEGORY[Category(case.category)]


@dataclass
class Casework:
    db: Database
    policy: Policy
    references: References
    correspondence: Correspondence

    # -- triage ----------------------------------------------------------------------------------------

    def assign(self, reference: str, to: str, *, by: str, on: dt.datetime | dt.date | None = None) -> None:
        with self._case(reference, on) as (session, case, at):
            open_only(case, "assign")
            self._not_stage1_handler(case, to, "be assigned stage 2")
            previous, case.assignee = case.assignee, to
            lifecycle.record(case, by, EventAction.ASSIGNED, at=at, assignee=to, previous=previous)

    def reclassify(self, reference: str, category: str, flags: Sequence[str] | None = None, *, by: str,
                   on: dt.datetime | dt.date | None = None) -> None:
        """A person's category and flags: the case follows them, and the classifier learns from them."""
        with self._case(reference, on) as (session, case, at):
            open_only(case, "reclassify")
            category = choice(Category, category, "category")
            wanted = list(case.flags) if flags is None else list(flags)
            record_correction(session, case=case, submission=None, category=category, flags=wanted,
                              corrected_by=by, at=at)
            previous = {"category": case.category, "flags": list(case.flags)}
            lifecycle.set_category(case, category, self.policy)
            # Awaab's Law counts from when the landlord was told (the message), not from the correction.
            lifecycle.set_flags(case, wanted, self.policy, case.received_at)
            lifecycle.record(case, by, EventAction.RECLASSIFIED, at=at, previous=previous,
                             category=case.category, flags=list(case.flags))

    def release(self, reference: str, *, by: str, on: dt.datetime | dt.date | None = None, note: str | None = None) -> None:
        """Out of the triage queue; the resident gets the acknowledgement the case now deserves."""
        with self._case(reference, on) as (session, case, at):
            if case.status != CaseStatus.HELD:
                raise ActionRefused(f"{reference} is not held for triage (it is {case.status})")
            lifecycle.release(case, actor=by, at=at, note=plain(note))
            self._acknowledge(session, case, by, at)

    def acknowledge(self, reference: str, channel: str, *, by: str, on: dt.datetime | dt.date | None = None) -> None:
        """An acknowledgement made another way (phone, in person, a letter by hand): it meets the clock."""
        with self._case(reference, on) as (session, case, at):
            open_only(case, "acknowledge")
            channel = choice(Channel, channel, "channel")
            lifecycle.acknowledged(case, self.policy, acknowledgement_for(case), at, actor=by,
                                   action=EventAction.ACKNOWLEDGED_OTHERWISE, channel=channel)

    def log_contact(self, channel: str, *, name: str, notes: str, by: str, email: str | None = None,
                    address: Sequence[str] = (), on: dt.datetime | dt.date | None = None) -> int:
        """A phone call or visit, stored as a new submission for the pipeline; returns its id."""
        name, notes, email = plain(name) or "", plain(notes) or "", plain(email)
        address = [plain(line) for line in address]
        channel = choice(Channel, channel, "channel")
        if channel not in LOGGED_CHANNELS:
            raise ActionRefused(f"a logged contact is by {' or '.join(LOGGED_CHANNELS)}, not {channel}")
        if not notes.strip():
            raise ActionRefused("a logged contact needs the staff member's notes of what the resident said")
        at = when(on, self.policy)
        facts = {"channel": channel, "name": name, "email": email, "address": list(address), "notes": notes,
                 "logged_by": by, "on": at.isoformat()}
        raw = json.dumps(facts, ensure_ascii=False, indent=1).encode()
        submission = Submission(
            source="staff", kind=channel, natural_key=uuid.uuid4().hex, raw=raw, raw_sha256=sha256(raw),
            received_at=at, disposition=Disposition.PENDING, extracted_text=notes,
            details={"postal_address": list(address) or None, "logged_by": by},
        )
        with self.db.transaction() as session:
            session.add(submission)
        return submission.id

    def contact_logged(self, submission_id: int, *, by: str) -> str | None:
        """After the pipeline took a logged contact: say on its case who logged it; its reference."""
        with self.db.transaction() as session:
            submission = find_submission(session, submission_id)
            if submission.case is None:
                return None
            lifecycle.record(submission.case, by, EventAction.CONTACT_LOGGED, at=submission.received_at,
                             submission_id=submission.id, channel=submission.kind)
            return submission.case.reference

    def adjust(self, reference: str, adjustments: Sequence[str], note: str | None = None, *, by: str,
               on: dt.datetime | dt.date | None = None, language: str | None = None) -> bool:
        """Set the resident's reasonable adjustments (every Adjustment value asked for; an empty list
        clears them), the note that says more, and optionally the Language we write in; replies follow
        them from now on. Returns whether anything changed (the same again records nothing)."""
        wanted = [choice(Adjustment, value.strip(), "adjustment") for value in adjustments]
        if language is not None:
            language = choice(Language, language.strip(), "language")
        note = (plain(note) or "").strip() or None
        if note and len(note) > MAX_NOTE:
            raise ActionRefused(f"the adjustment note is {len(note)} characters: keep it to {MAX_NOTE}")
        with self._case(reference, on) as (session, case, at):
            return lifecycle.adjust(case, wanted, note, actor=by, at=at, language=language)

    def set_property(self, reference: str, uprn: str | None, *, by: str,
                     on: dt.datetime | dt.date | None = None) -> bool:
        """The home (a stock list UPRN) the case is about, or none (``uprn`` None or empty). On a case
        that has no postal address the stock list's address is filled in, so releasing it prints the
        letter there; an address the resident gave is never replaced. Returns whether anything changed."""
        uprn = (plain(uprn) or "").strip() or None
        with self._case(reference, on) as (session, case, at):
            home = property_by_uprn(session, uprn) if uprn else None
            if uprn and home is None:
                raise ActionRefused(f"no home with UPRN {uprn} in the stock list")
            return lifecycle.set_property(case, home, actor=by, at=at, how="staff", fill_address=True)

    # -- cases together ----------------------------------------------------------------------------------

    def link(self, reference: str, other: str, *, by: str, on: dt.datetime | dt.date | None = None) -> None:
        with self._pair(reference, other, on) as (session, case, target, at):
            self._link(session, case, target, LinkKind.RELATED, by, at)

    def merge(self, reference: str, into: str, *, by: str, on: dt.datetime | dt.date | None = None) -> None:
        """A duplicate: its messages move to the case it duplicates, and it closes as merged."""
        with self._pair(reference, into, on) as (session, duplicate, target, at):
            open_only(duplicate, "merge")
            open_only(target, "merge into")
            moved = [submission.id for submission in duplicate.submissions]
            for submission in list(duplicate.submissions):
                submission.case = target
            self._link(session, duplicate, target, LinkKind.DUPLICATE, by, at, record=False)
            lifecycle.record(target, by, EventAction.MERGED, at=at, duplicate=duplicate.reference, submissions=moved)
            lifecycle.close(duplicate, Outcome.MERGED, actor=by, at=at, action=EventAction.MERGED_INTO,
                            into=target.reference)

    def split(self, reference: str, category: str, *, by: str, on: dt.datetime | dt.date | None = None) -> str:
        """One message that is two things (a repair and a complaint): a second, linked case for the other,
        with its own reference, clocks and acknowledgement; returns the new reference."""
        with self._case(reference, on) as (session, case, at):
            open_only(case, "split")
            category = choice(Category, category, "category")
            first = case.submissions[0] if case.submissions else None
            new = lifecycle.open_case(
                session, self.references, category=category, held=False, received_at=case.received_at, now=at,
                resident_email=case.resident_email, resident_name=case.resident_name,
                resident_address=case.resident_address, subject=case.subject,
            )
            if category == Category.COMPLAINT:
                lifecycle.start_complaint_clocks(new, self.policy, case.received_at)
            session.flush()
            self._link(session, new, case, LinkKind.SPLIT, by, at, record=False)
            lifecycle.record(case, by, EventAction.SPLIT, at=at, new_case=new.reference, category=category)
            lifecycle.record(new, by, EventAction.SPLIT, at=at, from_case=case.reference,
                             submission_id=first.id if first else None)
            self._acknowledge(session, new, by, at, first)
            return new.reference

    # -- the Code's stages ---------------------------------------------------------------------------------

    def extend(self, reference: str, days: int, reason: str, *, by: str, on: dt.datetime | dt.date | None = None) -> dt.datetime:
        """More time for the current stage's response, within the policy's limit; the resident is told."""
        with self._case(reference, on) as (session, case, at):
            complaint_only(case, "extend")
            if not reason.strip():
                raise ActionRefused("an extension needs the reason the resident will be told")
            before = due(case)
            reason = plain(reason)
            clock = lifecycle.extend(case, self.policy, days, reason=reason, actor=by, at=at)
            self.correspondence.notify_extension(session, case, clock, before, reason, actor=by, now=at)
            return clock.due_at

    def respond(self, reference: str, *, by: str, outcome: str | None = None, on: dt.datetime | dt.date | None = None) -> None:
        """The stage response was sent. ``outcome`` is the person's words for it (free text, kept on the
        event); when it names a closing outcome (upheld …), a satisfaction-window closure uses it."""
        with self._case(reference, on) as (session, case, at):
            complaint_only(case, "respond to")
            outcome = " ".join((plain(outcome) or "").split())[:500] or None
            self._not_stage1_handler(case, by, "record the stage 2 response")
            lifecycle.responded(case, self.policy, actor=by, at=at, outcome=outcome)

    def escalate(self, reference: str, *, by: str, to: str | None = None, reasons: str | None = None,
                 on: dt.datetime | dt.date | None = None) -> None:
        """Stage 2, handled by ``to`` (default: the person escalating), never the stage 1 handler."""
        with self._case(reference, on) as (session, case, at):
            if case.category != Category.COMPLAINT:
                raise ActionRefused(f"{reference} is a {case.category}, not a complaint: reclassify it first")
            if case.stage == Stage.TWO:
                raise ActionRefused(f"{reference} is already at stage 2, the final stage")
            handler = to or by
            if case.stage1_handler and handler == case.stage1_handler:
                raise ActionRefused(f"{handler} handled stage 1 of {reference} and cannot handle stage 2: "
                                    "give another person (--to)")
            lifecycle.escalate(case, self.policy, at, actor=by, reasons=plain(reasons), handler=handler,
                               window=window_note(case, at))
            case.assignee = handler
            self._acknowledge(session, case, by, at)

    def hazard(self, reference: str, step: str, *, by: str, on: dt.datetime | dt.date | None = None) -> None:
        """Awaab's Law: the investigation concluded, the written summary sent, or the hazard made safe."""
        with self._case(reference, on) as (session, case, at):
            step = choice(HazardStep, step, "step")
            lifecycle.hazard_step(case, self.policy, step, actor=by, at=at)

    def close(self, reference: str, outcome: str, *, by: str, on: dt.datetime | dt.date | None = None) -> None:
        with self._case(reference, on) as (session, case, at):
            open_only(case, "close")
            lifecycle.close(case, choice(Outcome, outcome, "outcome", CLOSING_OUTCOMES), actor=by, at=at)

    def reopen(self, reference: str, *, by: str, reason: str | None = None, on: dt.datetime | dt.date | None = None) -> None:
        with self._case(reference, on) as (session, case, at):
            if case.status != CaseStatus.CLOSED:
                raise ActionRefused(f"{reference} is not closed")
            lifecycle.reopen(case, actor=by, at=at, reason=plain(reason))

    def rerun(self, submission_id: int, *, by: str) -> None:
        """A failed submission goes back to the pipeline's queue with its attempts reset."""
        with self.db.transaction() as session:
            submission = find_submission(session, submission_id)
            if submission.disposition != Disposition.FAILED:
                raise ActionRefused(f"submission {submission_id} has not failed (it is {submission.disposition})")
            error = submission.error
            submission.disposition, submission.attempts, submission.error = Disposition.PENDING, 0, None
            submission.reason = f"re-run requested by {by}"
            if submission.case is not None:
                lifecycle.record(submission.case, by, EventAction.RERUN, submission_id=submission.id, error=error)

    # -- shared steps --------------------------------------------------------------------------------------

    @contextmanager
    def _case(self, reference: str, on: dt.datetime | dt.date | None) -> Iterator[tuple[Session, Case, dt.datetime]]:
        at = when(on, self.policy)
        with self.db.transaction() as session:
            yield session, find(session, reference), at

    @contextmanager
    def _pair(self, reference: str, other: str, on: dt.datetime | dt.date | None):
        with self._case(reference, on) as (session, case, at):
            target = find(session, other)
            if target.id == case.id:
                raise ActionRefused(f"{reference} and {other} are the same case")
            yield session, case, target, at

    def _link(self, session: Session, case: Case, other: Case, kind: LinkKind, by: str, at: dt.datetime, *,
              record: bool = True) -> None:
        pair = select(CaseLink).where(CaseLink.case_id.in_([case.id, other.id]),
                                      CaseLink.other_case_id.in_([case.id, other.id]))
        if session.scalar(pair.limit(1)) is not None:
            raise ActionRefused(f"{case.reference} and {other.reference} are already linked")
        session.add(CaseLink(case_id=case.id, other_case_id=other.id, kind=kind, created_at=at, created_by=by))
        if record:
            lifecycle.record(case, by, EventAction.LINKED, at=at, other=other.reference, kind=str(kind))
            lifecycle.record(other, by, EventAction.LINKED, at=at, other=case.reference, kind=str(kind))

    def _acknowledge(self, session: Session, case: Case, by: str, at: dt.datetime,
                     submission: Submission | None = None) -> None:
        """The acknowledgement the case deserves now, unless it already has one of that kind."""
        kind = acknowledgement_for(case)
        if already_queued(session, case, kind):
            return
        submission = submission or (case.submissions[0] if case.submissions else None)
        self.correspondence.acknowledge(session, case, kind, submission_id=submission.id if submission else None,
                                        resident_text=new_text(submission), actor=by, now=at)

    def _not_stage1_handler(self, case: Case, person: str, what: str) -> None:
        if case.stage == Stage.TWO and case.stage1_handler and person == case.stage1_handler:
            raise ActionRefused(f"{person} handled stage 1 of {case.reference} and cannot {what}: "
                                "the Code asks for a different person at stage 2")

    # -- writing to the resident -----------------------------------------------------------------------------

    def reply(self, reference: str, text: str, *, by: str, on: dt.datetime | dt.date | None = None) -> None:
        """A person's own words to the resident, from the ``reply`` templates, queued in the outbox by the
        case's channel (email, else a printed letter); refused when there is nowhere to send it."""
        text = plain(text) or ""
        with self._case(reference, on) as (session, case, at):
            open_only(case, "reply to")
            if not text.strip():
                raise ActionRefused("a reply needs the words the resident will read")
            if not (case.resident_email or case.resident_address):
                raise ActionRefused(f"{reference} has no email or postal address to reply to: "
                                    "tell the resident another way")
            if self.correspondence.channel(case) is None:
                raise ActionRefused(f"{reference}: {self.correspondence.why_no_channel(case)}")
            self.correspondence.reply(session, case, text.strip(), actor=by, now=at)
