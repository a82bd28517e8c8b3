"""Watching the clocks: a clock past due and not met is noted once on its case for staff."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from casework import lifecycle
from core.db import Database
from casework.models import Case, CaseEvent, Clock, utcnow
from casework.vocabulary import Actor, CaseStatus, EventAction

log = logging.getLogger(__name__)


def note_overdue_clocks(db: Database, now: dt.datetime | None = None) -> int:
    """Record a `clock_overdue` event for each newly overdue clock; returns how many."""
    now = now or utcnow()
    with db.transaction() as session:
        clocks = session.scalars(
            select(Clock).join(Case).where(Clock.met_at.is_(None), Clock.due_at < now, Case.status != CaseStatus.CLOSED)
        ).all()
        noted = [clock for clock in clocks if not _already_noted(session, clock)]
        for clock in noted:
            lifecycle.record(clock.case, Actor.SYSTEM, EventAction.CLOCK_OVERDUE, clock=clock.kind, due_at=clock.due_at.isoformat())
            log.warning("case %s: %s clock overdue since %s", clock.case.reference, clock.kind, clock.due_at)
        return len(noted)


def _already_noted(session, clock: Clock) -> bool:
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == clock.case_id, CaseEvent.action == EventAction.CLOCK_OVERDUE.value)
    )
    return any(event.detail.get("clock") == clock.kind for event in events)
