""""Where is my complaint?": what a resident may see of their own case, read-only.

``look_up(session, reference, proof)`` answers only when ``proof`` (a postcode or an email address)
belongs to the case: the postcode of the case's postal address or of a form that opened it, or the
resident's email address. Invariant: it returns None alike for an unknown reference and for a wrong
postcode or email, so the page can give one answer to both; and a ``StatusView`` holds dates and the
stage only, never a name, an address or anything a resident wrote.

``receipt(session, submission_id)`` is what the complaints form tells the resident at once: the
reference its submission was given, and how the acknowledgement will reach them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import Case, OutboxMessage, Submission
from casework.vocabulary import (
    ACK_CLOCKS, RESPONSE_CLOCKS, CaseStatus, Category, ClockKind, EventAction, Stage,
)

# A UK postcode: outward code (area, district) then inward code (sector, unit), spaces ignored.
POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})\b")


@dataclass(frozen=True)
class StatusView:
    """What the status page shows (dates are aware UTC; None: not yet, or does not apply)."""

    reference: str
    category: str  # a Category
    stage: int
    status: str  # a CaseStatus
    outcome: str | None  # an Outcome, once closed
    received_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledgement_due: dt.datetime | None  # while not yet acknowledged
    response_due: dt.datetime | None  # as first set (or as the queued acknowledgement promised it)
    extended_to: dt.datetime | None  # when the response clock was extended
    responded_at: dt.datetime | None  # the current stage's response
    escalate_by: dt.datetime | None  # the landlord's window for asking for stage 2, when it has one
    closed_at: dt.datetime | None

    @property
    def is_complaint(self) -> bool:
        return self.category == Category.COMPLAINT

    @property
    def can_escalate(self) -> bool:
        """Stage 1 answered: the resident may ask for stage 2."""
        return self.is_complaint and self.stage == Stage.ONE and self.responded_at is not None


@dataclass(frozen=True)
class Receipt:
    reference: str | None  # None: stored, but not yet through the pipeline (it will be)
    channel: str | None  # how the acknowledgement goes: "email", "letter", or None (none queued)


def normalise_postcode(text: str | None) -> str | None:
    """'ex1 4rc', 'EX14RC ' -> 'EX1 4RC'; None when the text is not a whole UK postcode."""
    squeezed = "".join((text or "").split()).upper()
    match = POSTCODE.fullmatch(squeezed[:-3] + " " + squeezed[-3:]) if len(squeezed) >= 5 else None
    return f"{match.group(1)} {match.group(2)}" if match else None


def postcodes_in(lines: list[str] | None) -> set[str]:
    """Every whole postcode written in some address lines ('Exampletown EX1 4RC' gives 'EX1 4RC')."""
    return {f"{outward} {inward}" for line in lines or () for outward, inward in POSTCODE.findall(line.upper())}


def normalise_reference(text: str | None) -> str:
    return "".join((text or "").split()).upper()


def look_up(session: Session, reference: str, proof: str) -> StatusView | None:
    """The case's status when ``proof`` is its postcode or its resident's email; else None (see the module)."""
    reference = normalise_reference(reference)
    if not reference or len(reference) > 40:
        return None
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or not _belongs(case, proof):
        return None
    return _status(case)


def _belongs(case: Case, proof: str) -> bool:
    proof = (proof or "").strip()
    if "@" in proof:
        return bool(case.resident_email) and proof.lower() == case.resident_email.lower()
    postcode = normalise_postcode(proof)
    if postcode is None:
        return False
    known = postcodes_in(case.resident_address)
    for submission in case.submissions:
        known |= postcodes_in([(submission.details or {}).get("postcode") or ""])
    return postcode in known


def _status(case: Case) -> StatusView:
    stage = Stage(case.stage)
    clocks = {clock.kind: clock for clock in case.clocks}
    ack, response = clocks.get(ACK_CLOCKS[stage]), clocks.get(RESPONSE_CLOCKS[stage])
    window = clocks.get(ClockKind.ESCALATION_WINDOW)
    first_due, extended_to = _response_dates(case, response)
    return StatusView(
        reference=case.reference, category=case.category, stage=int(stage), status=case.status,
        outcome=case.outcome, received_at=case.received_at, acknowledged_at=case.acknowledged_at,
        acknowledgement_due=ack.due_at if ack is not None and ack.met_at is None else None,
        response_due=first_due, extended_to=extended_to,
        responded_at=response.met_at if response is not None else None,
        escalate_by=window.due_at if window is not None and window.met_at is None else None,
        closed_at=case.closed_at if case.status == CaseStatus.CLOSED else None,
    )


def _response_dates(case: Case, clock) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(the response date first set, the date it was extended to or None)."""
    if clock is None:  # not acknowledged yet: the date a queued acknowledgement gave, if any
        return _promised(case), None
    if not clock.extended_by_days:
        return clock.due_at, None
    extensions = [event for event in case.events
                  if event.action == EventAction.CLOCK_EXTENDED and event.detail.get("clock") == clock.kind]
    first = dt.datetime.fromisoformat(extensions[0].detail["previous_due"]) if extensions else None
    return first, clock.due_at


def _promised(case: Case) -> dt.datetime | None:
    queued = [event.detail.get("promised_response_due") for event in case.events
              if event.action == EventAction.ACKNOWLEDGEMENT_QUEUED and event.detail.get("promised_response_due")]
    return dt.datetime.fromisoformat(queued[-1]) if queued else None


def receipt(session: Session, submission_id: int) -> Receipt:
    """The reference a stored submission was given and the channel of its acknowledgement."""
    submission = session.get(Submission, submission_id)
    if submission is None or submission.case is None:
        return Receipt(None, None)
    channel = session.scalar(select(OutboxMessage.channel).where(OutboxMessage.submission_id == submission_id)
                             .order_by(OutboxMessage.id).limit(1))
    return Receipt(submission.case.reference, channel)
