"""Read-only views of cases for people: the `intake cases` table, `intake case show` and `case list`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from core.db import Database
from casework.models import Case, CaseEvent, CaseLink, Clock, OutboxMessage

COLUMNS = ("reference", "category", "flags", "stage", "status", "received", "ack", "clocks")


def cases_table(db: Database) -> str:
    with db.sessions() as session:
        cases = session.scalars(
            select(Case).options(selectinload(Case.clocks)).order_by(Case.priority.desc(), Case.id)
        ).all()
        acks = _ack_status(session)
        rows = [_row(case, acks.get(case.id, "none")) for case in cases]
    return _format([COLUMNS, *rows]) + f"\n{len(rows)} case(s)"


def _ack_status(session) -> dict[int, str]:
    """The newest outbox row per case: queued, sent, suppressed, failed…"""
    rows = session.execute(select(OutboxMessage.case_id, OutboxMessage.kind, OutboxMessage.status).order_by(OutboxMessage.id))
    return {case_id: f"{kind}:{status}" for case_id, kind, status in rows}


def _row(case: Case, ack: str) -> tuple[str, ...]:
    clocks = " ".join(f"{clock.kind}={_when(clock.due_at)}{'✓' if clock.met_at else ''}" for clock in case.clocks)
    return (
        case.reference, case.category, ",".join(case.flags) or "-", str(case.stage), case.status,
        _when(case.received_at), ack, clocks or "-",
    )


def _when(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def _format(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def case_view(session, reference: str) -> dict:
    """What `intake case show --json` prints: the case, its clocks and its audit trail, as JSON values."""
    from casework.guards import find

    case = find(session, reference)
    return {
        "reference": case.reference, "category": case.category, "flags": list(case.flags), "stage": case.stage,
        "status": case.status, "assignee": case.assignee, "stage1_handler": case.stage1_handler,
        "outcome": case.outcome, "held_reason": case.held_reason, "received_at": _iso(case.received_at),
        "acknowledged_at": _iso(case.acknowledged_at), "closed_at": _iso(case.closed_at),
        "resident": {"name": case.resident_name, "email": case.resident_email, "address": case.resident_address},
        "clocks": [clock_record(clock) for clock in case.clocks],
        "events": [event_record(event) for event in case.events],
        "links": case_links(session, case),
        "submissions": [submission.id for submission in case.submissions],
    }


def list_cases(session, statuses: list[str] | None = None) -> list[dict]:
    """What `intake case list --json` prints: one line per case, most urgent first."""
    query = select(Case).options(selectinload(Case.clocks)).order_by(Case.priority.desc(), Case.id)
    if statuses:
        query = query.where(Case.status.in_(statuses))
    return [
        {"reference": case.reference, "category": case.category, "flags": list(case.flags), "stage": case.stage,
         "status": case.status, "assignee": case.assignee, "received_at": _iso(case.received_at),
         "next_due": _iso(min((c.due_at for c in case.clocks if c.met_at is None), default=None))}
        for case in session.scalars(query)
    ]


def clock_record(clock: Clock) -> dict:
    """A clock as `intake case show --json` and a subject access export give it."""
    return {"kind": clock.kind, "starts_at": _iso(clock.starts_at), "due_at": _iso(clock.due_at),
            "met_at": _iso(clock.met_at), "extended_by_days": clock.extended_by_days, "rule": clock.rule}


def event_record(event: CaseEvent) -> dict:
    """An audit-trail entry as `intake case show --json` and a subject access export give it."""
    return {"at": _iso(event.at), "recorded_at": _iso(event.recorded_at), "actor": event.actor,
            "action": event.action, "detail": event.detail}


def case_links(session, case: Case) -> list[dict]:
    """The case's links in both directions (a link is stored once, on the case it was made from)."""
    rows = session.scalars(select(CaseLink).where(or_(CaseLink.case_id == case.id, CaseLink.other_case_id == case.id)))
    out = []
    for link in rows:
        other_id = link.other_case_id if link.case_id == case.id else link.case_id
        out.append({"reference": session.get(Case, other_id).reference, "kind": link.kind})
    return out


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() if at else None
