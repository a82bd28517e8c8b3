"""Watching the clocks: a deadline past due and not met is noted once on its case for staff, and a
case whose satisfaction window has run out closes by itself (the landlord's variation, policy.md 002).

Windows (``WINDOWS``) are not deadlines the landlord can miss, so they are never noted as overdue.

Closing by the satisfaction window never blocks a later escalation: ``casework.actions.escalate``
takes a closed stage 1 complaint and opens it again at stage 2.

Several workers may run the clock job at once (one holds its lease, but a lease can change hands while
a job is running): each step's first statement is a write on the clocks it may change (``_lock``),
which holds those rows (PostgreSQL) or the database (SQLite) until it commits, and what it reads after
that includes anything the other committed. So an overdue clock is noted once, and a case is closed
once, however many workers run the job.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select, update

from casework import lifecycle
from casework.models import Case, CaseEvent, Clock, utcnow
from casework.vocabulary import CLOSING_OUTCOMES, WINDOWS, Actor, CaseStatus, ClockKind, EventAction, Outcome, Stage
from core.db import Database

log = logging.getLogger(__name__)


def watch_clocks(db: Database, now: dt.datetime | None = None) -> int:
    """The clock job: close cases whose satisfaction window ran out, then note overdue clocks."""
    now = now or utcnow()
    return close_after_satisfaction_window(db, now) + note_overdue_clocks(db, now)


def note_overdue_clocks(db: Database, now: dt.datetime | None = None) -> int:
    """Record a `clock_overdue` event for each newly overdue clock; returns how many."""
    now = now or utcnow()
    running = (Clock.met_at.is_(None), Clock.due_at < now, Clock.kind.not_in([kind.value for kind in WINDOWS]))
    with db.transaction() as session:
        _lock(session, *running)
        clocks = session.scalars(select(Clock).join(Case).where(*running, Case.status != CaseStatus.CLOSED)).all()
        noted = [clock for clock in clocks if not _already_noted(session, clock)]
        for clock in noted:
            lifecycle.record(clock.case, Actor.SYSTEM, EventAction.CLOCK_OVERDUE, clock=clock.kind,
                             due_at=clock.due_at.isoformat())
            log.warning("case %s: %s clock overdue since %s", clock.case.reference, clock.kind, clock.due_at)
        return len(noted)


def close_after_satisfaction_window(db: Database, now: dt.datetime | None = None) -> int:
    """Close each open stage 1 case whose satisfaction window has run out; returns how many."""
    now = now or utcnow()
    ran_out = (Clock.kind == ClockKind.SATISFACTION_WINDOW, Clock.met_at.is_(None), Clock.due_at < now)
    with db.transaction() as session:
        _lock(session, *ran_out)
        expired = session.scalars(
            select(Clock).join(Case).where(*ran_out, Case.status == CaseStatus.OPEN, Case.stage == Stage.ONE)
        ).all()
        for clock in expired:
            clock.met_at = clock.due_at
            lifecycle.close(clock.case, _response_outcome(clock.case), actor=Actor.SYSTEM, at=clock.due_at,
                            action=EventAction.AUTO_CLOSED, reason="the satisfaction window after the stage 1 "
                            "response ran out with no escalation")
        return len(expired)


def _lock(session, *conditions) -> None:
    """The transaction's first write, changing nothing: it holds the matching clocks' rows (PostgreSQL)
    or the database (SQLite) until commit, so a second worker's job waits here and then reads what the
    first committed (see the module docstring)."""
    session.execute(update(Clock).where(*conditions).values(due_at=Clock.due_at)
                    .execution_options(synchronize_session=False))


def _response_outcome(case: Case) -> str:
    """The outcome the stage 1 response recorded when it is one of the closing outcomes, else 'resolved'."""
    responses = [event for event in case.events if event.action == EventAction.RESPONDED]
    recorded = responses[-1].detail.get("outcome") if responses else None
    return recorded if recorded in [str(outcome) for outcome in CLOSING_OUTCOMES] else Outcome.RESOLVED.value


def _already_noted(session, clock: Clock) -> bool:
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == clock.case_id, CaseEvent.action == EventAction.CLOCK_OVERDUE.value)
    )
    return any(event.detail.get("clock") == clock.kind for event in events)
