"""How the service is doing, read from the database alone: for ``/healthz``, ``/metrics`` and the alert
emails (issue 16).

Invariants:
* Everything here is read from the database at the moment it is asked, never from a process's memory,
  so the answer is the same whichever web process is asked and however many workers share the work.
* Nothing here carries personal data: counts, times, source names (chosen by the landlord's IT) and
  case references (which name no one). Never a subject, a body, a name or an address.
* "Silent" has one meaning: a source whose last successful poll is older than ``silence_limit`` (three
  poll intervals, at least five minutes), or that has never polled successfully and the same time has
  passed since ``since`` (when the asking process began watching).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Float, and_, case as when_then, cast, func, select
from sqlalchemy.orm import Session

from casework.models import Case, Clock, OutboxMessage, SourceHealth, Submission, utcnow
from casework.vocabulary import ACK_CLOCKS, ACKNOWLEDGEMENTS, WINDOWS, CaseStatus, Disposition, OutboxStatus
from core.settings import Settings

SILENT_POLLS = 3  # no successful poll for this many poll intervals (and at least SILENT_MINIMUM): silent
SILENT_MINIMUM = dt.timedelta(minutes=5)
WAITING = (OutboxStatus.QUEUED, OutboxStatus.SENDING)  # the outbox's depth: rows still to go
# Upper bounds (seconds) of the processing-time histogram: from stored to its disposition.
PROCESSING_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)
ACK_CLOCK_KINDS = tuple(kind.value for kind in ACK_CLOCKS.values())
DEADLINE_KINDS_EXCLUDED = tuple(kind.value for kind in WINDOWS)  # windows are never due nor breached


# -- sources -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceState:
    name: str
    last_poll_at: dt.datetime | None
    last_success_at: dt.datetime | None
    failing: bool  # its last poll failed
    silent: bool  # no successful poll for too long (see the module docstring)


def source_names(settings: Settings) -> list[str]:
    """The sources the settings configure, by name: IMAP mailboxes, Maildirs, then the letters folder."""
    names = [imap.name for imap in settings.imap] + [maildir.name for maildir in settings.maildir]
    return names + ([settings.letters.name] if settings.letters is not None else [])


def silence_limit(poll_seconds: float, at_least: dt.timedelta = SILENT_MINIMUM) -> dt.timedelta:
    """How long a source may go without a successful poll before it counts as silent."""
    return max(dt.timedelta(seconds=poll_seconds * SILENT_POLLS), at_least)


def source_states(session: Session, configured: list[str] | tuple[str, ...], *, now: dt.datetime,
                  limit: dt.timedelta, since: dt.datetime) -> list[SourceState]:
    """Each configured source's state; a source recorded but no longer configured is left out (it is
    not expected to poll). A source never polled successfully is silent once ``limit`` has passed
    since ``since``."""
    rows = {row.source: row for row in session.scalars(select(SourceHealth).where(SourceHealth.source.in_(configured)))}
    states = []
    for name in configured:
        row = rows.get(name)
        success = row.last_success_at if row else None
        states.append(SourceState(
            name, row.last_poll_at if row else None, success, failing=bool(row and row.last_error),
            silent=now - (success or since) > limit))
    return states


# -- the figures /metrics shows ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessingTimes:
    """A cumulative histogram of seconds from a submission's storing to its disposition."""

    buckets: list[tuple[float, int]]  # (upper bound, how many took at most that long), ascending
    count: int
    total_seconds: float


@dataclass(frozen=True)
class Figures:
    received: dict[tuple[str, str], int]  # (source, channel) -> submissions stored
    dispositions: dict[str, int]  # every Disposition -> submissions in it now
    cases_held: int  # cases waiting in the triage queue now
    acknowledgements: dict[str, int]  # channel -> acknowledgements sent (emailed) or handed to print
    outbox: dict[str, int]  # every OutboxStatus -> rows in it now
    outbox_oldest_waiting_at: dt.datetime | None  # the oldest queued or sending row's creation
    clocks_due: dict[str, int]  # clock kind -> unmet clocks still running on open or held cases
    clocks_breached: dict[str, int]  # clock kind -> unmet clocks past due on open or held cases
    clocks_met_late: dict[str, int]  # clock kind -> clocks met after they were due, ever
    sources: list[SourceHealth] = field(default_factory=list)
    processing: ProcessingTimes = ProcessingTimes([], 0, 0.0)

    @property
    def outbox_depth(self) -> int:
        return sum(self.outbox[str(status)] for status in WAITING)


def figures(session: Session, now: dt.datetime | None = None) -> Figures:
    """Every figure ``/metrics`` shows, each one query over the database as it is now."""
    now = now or utcnow()
    return Figures(
        received=_grouped(session, select(Submission.source, Submission.kind, func.count(Submission.id))
                          .group_by(Submission.source, Submission.kind)),
        dispositions=_every(Disposition, _grouped(session, select(Submission.disposition, func.count(Submission.id))
                                                  .group_by(Submission.disposition))),
        cases_held=session.scalar(select(func.count(Case.id)).where(Case.status == CaseStatus.HELD)),
        acknowledgements=_grouped(session, select(OutboxMessage.channel, func.count(OutboxMessage.id)).where(
            OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.kind.in_([str(k) for k in ACKNOWLEDGEMENTS]))
            .group_by(OutboxMessage.channel)),
        outbox=_every(OutboxStatus, _grouped(session, select(OutboxMessage.status, func.count(OutboxMessage.id))
                                             .group_by(OutboxMessage.status))),
        outbox_oldest_waiting_at=session.scalar(select(func.min(OutboxMessage.created_at))
                                                .where(OutboxMessage.status.in_([str(s) for s in WAITING]))),
        clocks_due=_clock_counts(session, Clock.due_at >= now),
        clocks_breached=_clock_counts(session, Clock.due_at < now),
        clocks_met_late=_grouped(session, select(Clock.kind, func.count(Clock.id)).where(
            Clock.met_at.is_not(None), Clock.met_at > Clock.due_at,
            Clock.kind.not_in(DEADLINE_KINDS_EXCLUDED)).group_by(Clock.kind)),
        sources=list(session.scalars(select(SourceHealth).order_by(SourceHealth.source))),
        processing=processing_times(session),
    )


def _clock_counts(session: Session, when) -> dict[str, int]:
    """Unmet deadline clocks on cases that are not closed, by kind; ``when`` splits due from breached
    (the same clocks ``casework.clocks.note_overdue_clocks`` notes as overdue once past due)."""
    query = (select(Clock.kind, func.count(Clock.id)).join(Case, Case.id == Clock.case_id)
             .where(Clock.met_at.is_(None), Case.status != CaseStatus.CLOSED,
                    Clock.kind.not_in(DEADLINE_KINDS_EXCLUDED), when)
             .group_by(Clock.kind))
    return _grouped(session, query)


def processing_times(session: Session) -> ProcessingTimes:
    """One pass over the processed submissions, counting how many fall under each bucket's bound."""
    seconds = _seconds_between(session, Submission.stored_at, Submission.processed_at)
    columns = [func.coalesce(func.sum(when_then((seconds <= bound, 1), else_=0)), 0) for bound in PROCESSING_BUCKETS]
    row = session.execute(select(*columns, func.count(Submission.id), func.coalesce(func.sum(seconds), 0.0))
                          .where(Submission.processed_at.is_not(None))).one()
    *counts, count, total = row
    return ProcessingTimes(list(zip(PROCESSING_BUCKETS, (int(c) for c in counts))), int(count), float(total))


def _seconds_between(session: Session, start, end):
    """``end - start`` in seconds as SQL, on PostgreSQL (epoch of an interval) or SQLite (Julian days)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", end - start), Float)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _grouped(session: Session, query) -> dict:
    """A ``GROUP BY`` query's rows as {key: count}; a key of several columns is a tuple."""
    result = {}
    for *key, count in session.execute(query):
        result[tuple(str(part) for part in key) if len(key) > 1 else str(key[0])] = int(count)
    return result


def _every(vocabulary, counts: dict[str, int]) -> dict[str, int]:
    """Every word of the vocabulary with its count, zero when none (so a gauge never vanishes)."""
    return {str(word): counts.get(str(word), 0) for word in vocabulary}


# -- what the alert emails are about -----------------------------------------------------------------


@dataclass(frozen=True)
class ClockAtRisk:
    reference: str
    kind: str
    due_at: dt.datetime


def acknowledgement_clocks_at_risk(session: Session, *, now: dt.datetime, within: dt.timedelta) -> list[ClockAtRisk]:
    """Unmet acknowledgement clocks on open or held cases due within ``within`` (or already past due),
    soonest first."""
    query = (select(Case.reference, Clock.kind, Clock.due_at).join(Case, Case.id == Clock.case_id)
             .where(Clock.met_at.is_(None), Case.status != CaseStatus.CLOSED, Clock.kind.in_(ACK_CLOCK_KINDS),
                    Clock.due_at <= now + within)
             .order_by(Clock.due_at, Case.reference))
    return [ClockAtRisk(reference, kind, due_at) for reference, kind, due_at in session.execute(query)]


@dataclass(frozen=True)
class OutboxTrouble:
    failed: int  # rows failed for good, waiting for a person
    stuck: int  # rows tried at least once and still unsent after the allowed time (e.g. SMTP down)
    oldest_stuck_at: dt.datetime | None

    @property
    def failing(self) -> bool:
        return bool(self.failed or self.stuck)


def outbox_trouble(session: Session, *, now: dt.datetime, stuck_after: dt.timedelta) -> OutboxTrouble:
    """Whether the outbox is failing: rows failed for good, or rows already tried and still unsent
    ``stuck_after`` after they were queued."""
    failed = session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == OutboxStatus.FAILED))
    stuck = and_(OutboxMessage.status.in_([str(s) for s in WAITING]), OutboxMessage.attempts > 0,
                 OutboxMessage.created_at < now - stuck_after)
    count, oldest = session.execute(select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at))
                                    .where(stuck)).one()
    return OutboxTrouble(int(failed), int(count), oldest)
