"""The cases table that `intake cases` prints."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import Database
from casework.models import Case, OutboxMessage

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
