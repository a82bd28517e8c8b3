"""Rate limits for the public pages, per client address, kept in ``casework.models.PublicAttempt``.

Invariants: only attempts let through are recorded, so the wait a refused client is told is exact
(the moment its oldest counted attempt leaves the window); a refusal writes nothing; rows older than a
day are pruned as new ones are written. The client address is the one uvicorn gives, which is the
proxy's X-Forwarded-For only when ``[web] behind_proxy`` is on, as for sign-ins.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from casework.models import PublicAttempt, utcnow

MINUTE, HOUR, KEEP = dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(days=1)


def wait(session: Session, page: str, client: str, per_minute: int, per_hour: int,
         now: dt.datetime | None = None) -> dt.timedelta | None:
    """How long ``client`` must wait before using ``page`` again; None: it may go ahead now."""
    now = now or utcnow()
    times = list(session.scalars(select(PublicAttempt.at).where(
        PublicAttempt.page == page, PublicAttempt.client == client[:100], PublicAttempt.at > now - HOUR)
        .order_by(PublicAttempt.at.desc())))
    waits = []
    for window, limit in ((MINUTE, per_minute), (HOUR, per_hour)):
        recent = [at for at in times if at > now - window]
        if len(recent) >= limit:
            waits.append(recent[limit - 1] + window - now)  # the attempt that must leave the window first
    return max(waits) if waits else None


def record(session: Session, page: str, client: str, succeeded: bool, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    session.execute(delete(PublicAttempt).where(PublicAttempt.page == page, PublicAttempt.at < now - KEEP))
    session.add(PublicAttempt(page=page, client=client[:100], at=now, succeeded=succeeded))


def whole_minutes(delay: dt.timedelta) -> int:
    """A wait as the whole minutes to tell a person (never 0)."""
    return max(1, math.ceil(delay.total_seconds() / 60))
