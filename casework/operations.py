"""Operations: what keeps the service running, for the staff app's operations page.

Read-only listings (failed submissions, the outbox rows still waiting or stuck, the letters printed and
not yet posted, each source's last poll), the outbox verbs (``requeue_outbox``: a failed row goes back
to the queue; ``record_posted``: the post room posted printed letters) and the write the worker makes
after every poll (``record_poll``, into ``source_health``, so the web process, which
cannot see the worker's memory, can show it).

None of the listings carries a message's text: a submission's error and an outbox row's reason are
the service's own words; the resident's words and our replies stay on the case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case as when_then, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from casework import lifecycle
from casework.models import Case, OutboxMessage, SourceHealth, Submission, utcnow
from casework.vocabulary import Disposition, EventAction, OutboxStatus
from core.errors import ActionRefused, CaseNotFound

# The outbox rows a person may need to look at: everything not yet sent.
WAITING_OR_STUCK = (OutboxStatus.FAILED, OutboxStatus.SENDING, OutboxStatus.QUEUED, OutboxStatus.SUPPRESSED)
LETTER = "letter"  # an outbox row's channel for post
MAX_ERROR_CHARS = 2000
LISTING_LIMIT = 200


@dataclass(frozen=True)
class FailedSubmission:
    id: int
    kind: str
    source: str
    received_at: dt.datetime
    attempts: int
    error: str  # the exception, or (an unreadable file) the reason
    case_reference: str | None


@dataclass(frozen=True)
class OutboxRow:
    id: int
    status: str
    kind: str
    channel: str
    reason: str | None
    attempts: int
    next_attempt_at: dt.datetime
    created_at: dt.datetime
    case_reference: str | None
    at_risk_since: dt.datetime | None = None  # still unsent as its case's clock nears; the sender keeps trying
    possible_resends: int = 0  # its sender died mid-send this often: the resident may have had it twice


@dataclass(frozen=True)
class OutboxAlerts:
    at_risk: int  # unsent rows marked at risk
    possible_resends: int  # over every row, sent or not: sends cut short by a sender's death


@dataclass(frozen=True)
class PrintedLetter:
    """A letter handed to print (its case's acknowledgement clock met then) that nobody has recorded as posted."""

    id: int
    kind: str
    case_reference: str | None
    printed_at: dt.datetime


@dataclass(frozen=True)
class SourcePoll:
    source: str
    last_poll_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_error: str | None  # None once a later poll succeeded
    last_error_at: dt.datetime | None  # kept after the error clears, to say when it last went wrong

    @property
    def failing(self) -> bool:
        return self.last_error is not None


# -- the worker's write ----------------------------------------------------------------------------


def record_poll(session: Session, source: str, *, error: str | None = None, at: dt.datetime | None = None) -> None:
    """Upsert one source's row after a poll: a success clears ``last_error`` (its time stays); an
    error records what it was and when. One statement, so two workers polling at once cannot clash."""
    at = at or utcnow()
    values = {"source": source, "last_poll_at": at}
    if error is None:
        changes = {"last_poll_at": at, "last_success_at": at, "last_error": None}
        values |= {"last_success_at": at}
    else:
        changes = {"last_poll_at": at, "last_error": error[:MAX_ERROR_CHARS], "last_error_at": at}
        values |= {"last_error": error[:MAX_ERROR_CHARS], "last_error_at": at}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(SourceHealth).values(**values)
    session.execute(statement.on_conflict_do_update(index_elements=[SourceHealth.source], set_=changes))


# -- listings ----------------------------------------------------------------------------------------


def failed_submissions(session: Session, limit: int = LISTING_LIMIT) -> list[FailedSubmission]:
    """Submissions whose trip ended in failure, newest first, with the error that stopped them."""
    query = (
        select(Submission.id, Submission.kind, Submission.source, Submission.received_at, Submission.attempts,
               Submission.error, Submission.reason, Case.reference)
        .outerjoin(Case, Case.id == Submission.case_id)
        .where(Submission.disposition == Disposition.FAILED)
        .order_by(Submission.id.desc())
        .limit(limit)
    )
    return [FailedSubmission(id, kind, source, received_at, attempts, error or reason or "no error was recorded",
                             reference)
            for id, kind, source, received_at, attempts, error, reason, reference in session.execute(query)]


def count_failed_submissions(session: Session) -> int:
    return session.scalar(select(func.count(Submission.id)).where(Submission.disposition == Disposition.FAILED))


def outbox_rows(session: Session, limit: int = LISTING_LIMIT) -> list[OutboxRow]:
    """Outbox rows not yet sent: failed first, then sending, queued and suppressed; in each, those at
    risk first, then oldest first."""
    order = when_then({status.value: rank for rank, status in enumerate(WAITING_OR_STUCK)}, value=OutboxMessage.status)
    query = (
        select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.kind, OutboxMessage.channel, OutboxMessage.reason,
               OutboxMessage.attempts, OutboxMessage.next_attempt_at, OutboxMessage.created_at, Case.reference,
               OutboxMessage.at_risk_since, OutboxMessage.possible_resends)
        .outerjoin(Case, Case.id == OutboxMessage.case_id)
        .where(OutboxMessage.status.in_(WAITING_OR_STUCK))
        .order_by(order, OutboxMessage.at_risk_since.is_(None), OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return [OutboxRow(*row) for row in session.execute(query)]


def outbox_counts(session: Session) -> dict[str, int]:
    """How many rows are in each not-yet-sent status (every status present, zero when none)."""
    query = (select(OutboxMessage.status, func.count(OutboxMessage.id))
             .where(OutboxMessage.status.in_(WAITING_OR_STUCK)).group_by(OutboxMessage.status))
    counts = dict(session.execute(query).all())
    return {str(status): counts.get(status.value, 0) for status in WAITING_OR_STUCK}


def outbox_alerts(session: Session) -> OutboxAlerts:
    """How many unsent rows are at risk, and how many sends were cut short (possible resends) in all."""
    at_risk = select(func.count(OutboxMessage.id)).where(
        OutboxMessage.status.in_(WAITING_OR_STUCK), OutboxMessage.at_risk_since.is_not(None))
    resends = select(func.coalesce(func.sum(OutboxMessage.possible_resends), 0))
    return OutboxAlerts(session.scalar(at_risk), int(session.scalar(resends)))


def letters_not_posted(session: Session, limit: int = LISTING_LIMIT) -> list[PrintedLetter]:
    """Letters printed and not yet recorded as posted, oldest print first."""
    query = (
        select(OutboxMessage.id, OutboxMessage.kind, Case.reference, OutboxMessage.sent_at)
        .outerjoin(Case, Case.id == OutboxMessage.case_id)
        .where(OutboxMessage.channel == LETTER, OutboxMessage.status == OutboxStatus.SENT,
               OutboxMessage.posted_at.is_(None))
        .order_by(OutboxMessage.sent_at, OutboxMessage.id)
        .limit(limit)
    )
    return [PrintedLetter(*row) for row in session.execute(query)]


def source_polls(session: Session, configured: list[str] | tuple[str, ...] = ()) -> list[SourcePoll]:
    """Each source's last poll as the worker recorded it; a configured source never polled is listed
    with no times, and a recorded source no longer configured is listed too (it may have been renamed)."""
    rows = {row.source: row for row in session.scalars(select(SourceHealth))}
    names = list(dict.fromkeys([*configured, *sorted(rows)]))
    return [_poll(name, rows.get(name)) for name in names]


def _poll(name: str, row: SourceHealth | None) -> SourcePoll:
    if row is None:
        return SourcePoll(name, None, None, None, None)
    return SourcePoll(name, row.last_poll_at, row.last_success_at, row.last_error, row.last_error_at)


# -- the verb ----------------------------------------------------------------------------------------


def requeue_outbox(session: Session, outbox_id: int, by: str, *, now: dt.datetime | None = None) -> OutboxMessage:
    """A failed outbox row goes back to the queue to be tried again now, its attempts reset; its case
    records who asked. Anything but a failed row is refused before anything is written."""
    now = now or utcnow()
    row = session.get(OutboxMessage, outbox_id, with_for_update=True)
    if row is None:
        raise CaseNotFound(f"no outbox message has the id {outbox_id}")
    if row.status != OutboxStatus.FAILED:
        raise ActionRefused(f"outbox message {outbox_id} has not failed (it is {row.status}); only a failed one can be retried")
    previous_reason, previous_attempts = row.reason, row.attempts
    row.status, row.attempts, row.next_attempt_at = OutboxStatus.QUEUED, 0, now
    row.claimed_by = row.claimed_at = None
    row.reason = f"retry requested by {by} (it had failed: {previous_reason or 'no reason recorded'})"[:MAX_ERROR_CHARS]
    if row.case_id is not None:
        lifecycle.record(session.get_one(Case, row.case_id), by, EventAction.OUTBOX_REQUEUED, at=now, outbox_id=row.id,
                         kind=row.kind, channel=row.channel, previous_reason=previous_reason,
                         previous_attempts=previous_attempts)
    return row


def record_posted(session: Session, outbox_ids: list[int] | tuple[int, ...], by: str, *,
                  on: dt.datetime | None = None) -> list[OutboxMessage]:
    """The post room posted these printed letters: each gets ``posted_at``/``posted_by`` and its case an
    event. Every id is checked before anything is written: one that is not a printed letter (an email,
    a letter still queued or failed, no such row) refuses them all. A letter already recorded as posted
    keeps its first record and is not in the list returned (the rows this call recorded)."""
    on = on or utcnow()
    ids = list(dict.fromkeys(outbox_ids))
    rows = {row.id: row for row in session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(ids)).with_for_update())}
    for outbox_id in ids:
        row = rows.get(outbox_id)
        if row is None:
            raise CaseNotFound(f"no outbox message has the id {outbox_id}")
        if row.channel != LETTER:
            raise ActionRefused(f"outbox message {outbox_id} is an {row.channel}, not a letter: nothing to post")
        if row.status != OutboxStatus.SENT:
            raise ActionRefused(f"letter {outbox_id} has not been printed (it is {row.status}); only a printed letter "
                                "can be posted")
    recorded = [rows[outbox_id] for outbox_id in ids if rows[outbox_id].posted_at is None]
    for row in recorded:
        row.posted_at, row.posted_by = on, by
        if row.case_id is not None:
            lifecycle.letter_posted(session.get_one(Case, row.case_id), actor=by, at=on, outbox_id=row.id, kind=row.kind)
    return recorded
