"""The landlord's own commentary and self-assessment in the annual complaints performance and service
improvement report, which the Code asks landlords to publish beside their figures.

Every save is a new ``ReportCommentary`` row, never changed or deleted; the report prints the newest
of its year. A save is refused (``ActionRefused``, nothing written) when it is empty or too long.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.guards import plain
from casework.models import ReportCommentary, utcnow
from core.errors import ActionRefused

MAX_CHARS = 20_000


def latest_commentary(session: Session, year: int) -> ReportCommentary | None:
    return session.scalar(select(ReportCommentary).where(ReportCommentary.year == year)
                          .order_by(ReportCommentary.id.desc()).limit(1))


def save_commentary(session: Session, year: int, text: str, *, by: str,
                    at: dt.datetime | None = None) -> ReportCommentary:
    """Store a new version of the year's commentary (control characters removed, lines kept)."""
    text = (plain(text) or "").strip()
    if not text:
        raise ActionRefused("the commentary is empty: write the landlord's commentary and self-assessment first")
    if len(text) > MAX_CHARS:
        raise ActionRefused(f"the commentary is {len(text):,} characters long: at most {MAX_CHARS:,}")
    row = ReportCommentary(year=year, text=text, saved_by=by, saved_at=at or utcnow())
    session.add(row)
    session.flush()
    return row
