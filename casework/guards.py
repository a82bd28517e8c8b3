"""The checks the staff verbs make before they change anything, and the small look-ups they share.

Each check raises ``ActionRefused`` or ``CaseNotFound`` with one plain line saying why, before any
write, so a refused verb changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import Case, OutboxMessage, Submission, utcnow
from casework.policy import Policy
from casework.vocabulary import RESPONSE_CLOCKS, AckKind, CaseStatus, Category, ClockKind, OutboxStatus, Stage
from core.errors import ActionRefused, CaseNotFound

def find(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference.strip().upper()))
    if case is None:
        raise CaseNotFound(f"no case has the reference {reference!r}")
    return case


def find_submission(session: Session, submission_id: int) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise CaseNotFound(f"no submission has the id {submission_id}")
    return submission


def when(on: dt.datetime | dt.date | None, policy: Policy) -> dt.datetime:
    """When it happened: now, or a given moment that is not in the future. A bare date means midday
    that day in the landlord's time zone (or now, when that day is today and midday has not come)."""
    now = utcnow()
    if on is None:
        return now
    if not isinstance(on, dt.datetime):
        midday = dt.datetime.combine(on, dt.time(12), tzinfo=policy.calendar.zone)
        on = min(midday, now) if on == policy.calendar.local(now).date() else midday
    if on.tzinfo is None:
        on = on.replace(tzinfo=policy.calendar.zone)
    if on > now:
        raise ActionRefused(f"--on {on:%Y-%m-%d %H:%M} is in the future: record what has happened")
    return on.astimezone(dt.UTC)


def open_only(case: Case, verb: str) -> None:
    if case.status == CaseStatus.CLOSED:
        raise ActionRefused(f"cannot {verb} {case.reference}: it is closed ({case.outcome}); reopen it first")


def complaint_only(case: Case, verb: str) -> None:
    open_only(case, verb)
    if case.category != Category.COMPLAINT:
        raise ActionRefused(f"cannot {verb} {case.reference}: it is a {case.category}, not a complaint")


def choice(enum, value: str, what: str, allowed=None):
    allowed = tuple(allowed or enum)
    if value not in [str(item) for item in allowed]:
        raise ActionRefused(f"{what} must be one of {', '.join(map(str, allowed))}, not {value!r}")
    return enum(value)


def due(case: Case) -> dt.datetime | None:
    kind = RESPONSE_CLOCKS[Stage(case.stage)]
    return next((clock.due_at for clock in case.clocks if clock.kind == kind), None)


def window_note(case: Case, at: dt.datetime) -> str | None:
    """An escalation after the landlord's window is still taken (the Code forbids refusing it): noted."""
    window = next((clock for clock in case.clocks if clock.kind == ClockKind.ESCALATION_WINDOW), None)
    if window is not None and at > window.due_at:
        return "asked after the landlord's escalation window closed: taken all the same"
    return None


def already_queued(session: Session, case: Case, kind: AckKind) -> bool:
    live = [OutboxStatus.QUEUED.value, OutboxStatus.SENDING.value, OutboxStatus.SENT.value]
    query = select(OutboxMessage.id).where(OutboxMessage.case_id == case.id, OutboxMessage.kind == kind.value,
                                           OutboxMessage.status.in_(live))
    return session.scalar(query.limit(1)) is not None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain(text: str | None) -> str | None:
    """What a person typed, without NUL and other control characters (PostgreSQL refuses NUL in text,
    and none of them means anything in a note); lines and tabs stay."""
    return None if text is None else _CONTROL.sub("", text)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
