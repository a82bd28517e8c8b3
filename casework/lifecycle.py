"""The case lifecycle: open, hold, escalate, flag, with the clocks and audit trail each step sets."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from sqlalchemy.orm import Session

from casework.models import Case, CaseEvent, Clock
from casework.policy import ClockSpec, Policy
from casework.references import References
from casework.vocabulary import CaseStatus, Category, Flag

PRIORITY = {Flag.SAFEGUARDING: 100, Flag.EMERGENCY_HAZARD: 90, Flag.DAMP_MOULD: 50}
HELD_PRIORITY = 10


def priority_for(flags: Iterable[str], held: bool) -> int:
    """Higher sorts first in the staff queue: safeguarding, then emergencies, then damp and mould."""
    score = max((PRIORITY.get(flag, 0) for flag in flags), default=0)
    return max(score, HELD_PRIORITY if held else 0)


def record(
    case: Case, actor: str, action: str, *, submission_id: int | None = None,
    model_version: str | None = None, confidence: float | None = None, **detail: Any,
) -> CaseEvent:
    event = CaseEvent(
        actor=actor, action=action, detail=detail, submission_id=submission_id,
        model_version=model_version, confidence=confidence,
    )
    case.events.append(event)
    return event


def open_case(
    session: Session, references: References, *, category: str, held: bool,
    received_at: dt.datetime, now: dt.datetime, **facts: Any,
) -> Case:
    """A new case with a reference; held cases get the neutral prefix so it reveals no category."""
    reference = references.allocate(session, None if held else category, now)
    case = Case(
        reference=reference, category=category, received_at=received_at, opened_at=now,
        flags=[], stage=1, status=CaseStatus.OPEN, priority=0, **facts,
    )
    session.add(case)
    return case


def hold(case: Case, reason: str) -> None:
    case.status = CaseStatus.HELD
    case.held_reason = reason if not case.held_reason else f"{case.held_reason}; {reason}"
    case.priority = priority_for(case.flags, held=True)
    record(case, "system", "held_for_triage", reason=reason)


def add_flags(case: Case, flags: Iterable[str], policy: Policy, aware_at: dt.datetime) -> set[str]:
    """Add flags the case did not have yet; start the Awaab's Law clocks they call for."""
    new = set(flags) - set(case.flags)
    if not new:
        return new
    case.flags = sorted(set(case.flags) | new)
    case.priority = max(case.priority, priority_for(case.flags, case.status == CaseStatus.HELD))
    set_clocks(case, policy.hazard_clocks(new, aware_at))
    return new


def start_complaint_clocks(case: Case, policy: Policy, received_at: dt.datetime, acknowledged_at: dt.datetime) -> None:
    set_clocks(case, [
        policy.acknowledgement_clock(case.stage, received_at),
        policy.response_clock(case.stage, received_at, acknowledged_at),
    ])


def escalate(case: Case, policy: Policy, requested_at: dt.datetime, now: dt.datetime, **detail: Any) -> None:
    """Stage 2: the escalation request starts new acknowledgement and response clocks."""
    case.stage = 2
    case.category = Category.COMPLAINT
    _reopen(case)
    start_complaint_clocks(case, policy, requested_at, now)
    record(case, "system", "escalated_to_stage_2", **detail)


def become_complaint(case: Case, policy: Policy, received_at: dt.datetime, now: dt.datetime, **detail: Any) -> None:
    """A reply that adds dissatisfaction makes the case a stage 1 complaint (categories.md rule 3)."""
    previous = case.category
    case.category = Category.COMPLAINT
    _reopen(case)
    start_complaint_clocks(case, policy, received_at, now)
    record(case, "system", "recategorised", previous=previous, category=Category.COMPLAINT, **detail)


def _reopen(case: Case) -> None:
    """A closed case that gets a new complaint or escalation is open again; a held one stays held."""
    if case.status == CaseStatus.CLOSED:
        case.status = CaseStatus.OPEN


def set_clocks(case: Case, specs: Iterable[ClockSpec]) -> None:
    """Create or reset each clock; one clock of each kind per case."""
    existing = {clock.kind: clock for clock in case.clocks}
    for spec in specs:
        clock = existing.get(spec.kind)
        if clock is None:
            case.clocks.append(Clock(kind=spec.kind, starts_at=spec.starts_at, due_at=spec.due_at, rule=spec.rule))
        else:
            clock.starts_at, clock.due_at, clock.rule, clock.met_at = spec.starts_at, spec.due_at, spec.rule, None


def clock_due(case: Case, kind: str) -> dt.datetime | None:
    return next((clock.due_at for clock in case.clocks if clock.kind == kind), None)
