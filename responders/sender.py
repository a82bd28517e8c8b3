"""The sender: claims due outbox rows, sends them, and records what happened.

Life of a row: queued -> sending (claimed, in one short transaction) -> sent | queued (temporary
failure, with back-off) | failed (permanent failure). Sending happens outside any transaction, so no
database lock is held while talking to the SMTP server.

Outages: a temporary failure (4xx, a refused connection, a timeout, a refused login) is retried with
back-off doubling from ``backoff_seconds`` up to ``max_backoff_seconds``, without end: an outage over
a weekend still ends with every acknowledgement sent, once. When a row is still unsent as its case's
acknowledgement clock nears (``at_risk_hours_before_due``; ``at_risk_after_hours`` after it was
queued for a row with no such clock) it is marked at risk (``at_risk_since``, once) and its case
records ACKNOWLEDGEMENT_AT_RISK, which the operations page and the case's trail show; retries go on.

Several senders may run at once. On PostgreSQL the claim is SELECT ... FOR UPDATE SKIP LOCKED; on
SQLite, which has one writer at a time, it is a conditional UPDATE ... WHERE status = 'queued' whose
row count says whether this sender won the row.

Crash safety: a row left in "sending" for longer than ``stale_after`` (its sender died between
claiming and recording) is requeued. It may already have reached the resident; the re-send uses the
same Message-ID, so mail clients and servers can recognise it as a duplicate, and the row's
``possible_resends`` counts it (an upper bound: the sender may have died before the server's 250).
The window in which a death resends is kept as small as it can be: the row is marked sent in one
short transaction straight after the server accepts the message, with nothing in between. A row
whose sending was cut short ``max_interrupted_sends`` times ends FAILED for a person, not in a loop.

A batch of claimed rows is read in one query and sent over one SMTP connection (``transport.batch``);
each row is still marked sent in its own transaction straight after its 250 (one conditional UPDATE,
nothing else), so a death mid-batch resends at most the one row whose 250 had not yet been recorded.
What the delivery means for the case (its acknowledgement clock met, its response clock started, the
event in its trail, all dated at the row's ``sent_at``) is recorded afterwards for the whole batch in
one transaction (``record_deliveries``), and stamped on each row (``delivery_recorded_at``). A death
between the two leaves rows sent and unrecorded; every sender run records those first, so the case
always hears of its delivery once, with the time it was sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from casework import lifecycle
from casework.models import Case, OutboxMessage, utcnow
from casework.policy import Policy
from casework.vocabulary import ACK_CLOCKS, AckKind, OutboxStatus, Stage
from core.db import Database
from core.errors import PermanentDeliveryFailure, TemporaryDeliveryFailure
from core.logs import describe
from core.settings import OutboxSettings, PolicySettings
from core.workers import dead_local_worker, worker_id as this_worker
from responders.outbox import bracketed
from responders.transport import Transport, batch

log = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(minutes=15)


class OutboxSender:
    channel = "email"  # which outbox rows this sender claims

    def __init__(
        self,
        db: Database,
        transport: Transport,
        settings: OutboxSettings,
        from_address: str,
        from_name: str,
        worker_id: str | None = None,
        stale_after: dt.timedelta = STALE_AFTER,
        max_backoff: dt.timedelta | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.db = db
        self.transport = transport
        self.settings = settings
        self.from_address = from_address
        self.from_name = from_name
        self.worker_id = (worker_id or this_worker())[:100]
        self.stale_after = stale_after
        self.max_backoff = max_backoff or dt.timedelta(seconds=settings.max_backoff_seconds)
        self.policy = policy or Policy(PolicySettings())
        # What this sender did since it started, for `intake run --once`: "delivered" (sent, or handed
        # to print), "retried" (a temporary failure: back in the queue), "failed" (for a person).
        self.totals: Counter = Counter()
        self._built: dict[int, EmailMessage] = {}  # the claimed batch's emails, while run_once sends them

    def run_once(self, now: dt.datetime | None = None, due_by: dt.datetime | None = None) -> int:
        """Requeue stale claims, claim a batch of rows due by ``due_by`` (default: now) and try each;
        returns how many it tried. A drain passes its start as ``due_by``, so a row it tried and
        rescheduled is not tried again in the same drain, however long the drain takes."""
        self.requeue_stale(now)
        self.record_deliveries()  # what a sender that died after its sends left unrecorded
        claimed = self.claim(now, due_by)
        self._built = self.build_many(claimed, now or utcnow())
        try:
            with batch(self.transport):  # one SMTP connection for the batch's sends
                for outbox_id in claimed:
                    self.attempt(outbox_id, now)
        finally:
            self._built = {}
        self.record_deliveries()
        return len(claimed)

    # -- claiming ---------------------------------------------------------------------------------

    def claim(self, now: dt.datetime | None = None, due_by: dt.datetime | None = None) -> list[int]:
        at = now or utcnow()
        due = min(due_by, at) if due_by is not None else at
        with self.db.transaction() as session:
            if self.db.is_postgresql:
                return self._claim_skip_locked(session, at, due)
            return self._claim_conditionally(session, at, due)

    def _due(self, now: dt.datetime):
        return (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.QUEUED)
            .where(OutboxMessage.channel == self.channel)
            .where(OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(self.settings.batch_size)
        )

    def _claim_skip_locked(self, session: Session, now: dt.datetime, due: dt.datetime) -> list[int]:
        ids = list(session.scalars(self._due(due).with_for_update(skip_locked=True)))
        if ids:
            session.execute(self._claim_statement(now).where(OutboxMessage.id.in_(ids)))
        return ids

    def _claim_conditionally(self, session: Session, now: dt.datetime, due: dt.datetime) -> list[int]:
        candidates = list(session.scalars(self._due(due)))
        return [outbox_id for outbox_id in candidates if self._claim_one(session, outbox_id, now)]

    def _claim_one(self, session: Session, outbox_id: int, now: dt.datetime) -> bool:
        statement = self._claim_statement(now).where(OutboxMessage.id == outbox_id)
        result = session.execute(statement.where(OutboxMessage.status == OutboxStatus.QUEUED))
        return result.rowcount == 1

    def _claim_statement(self, now: dt.datetime):
        return (
            update(OutboxMessage)
            .values(status=OutboxStatus.SENDING, claimed_by=self.worker_id, claimed_at=now)
            .execution_options(synchronize_session=False)
        )

    # -- sending ----------------------------------------------------------------------------------

    def attempt(self, outbox_id: int, now: dt.datetime | None = None) -> None:
        """Send one claimed row and record the outcome; never raises for a delivery problem. The case
        hears of a delivery from ``record_deliveries``.

        Invariant: nothing runs between the server accepting the message and ``_mark_sent``'s commit
        but that one transaction (a death there resends: see ``possible_resends``)."""
        try:
            self.transport.send(self.build(outbox_id, now or utcnow()))
        except TemporaryDeliveryFailure as exc:
            self._retry_later(outbox_id, str(exc), now or utcnow())
        except PermanentDeliveryFailure as exc:
            self._fail(outbox_id, str(exc), now or utcnow())
        except Exception as exc:  # a bug must not lose the row or stop the worker
            log.error("unexpected error sending outbox row %s: %s", outbox_id, describe(exc))
            # Only the type in the reason, which is logged too: the message may quote what we were sending.
            self._retry_later(outbox_id, f"unexpected error: {type(exc).__name__} (the worker's log has the details)",
                              now or utcnow())
        else:
            self._mark_sent(outbox_id, now or utcnow())

    def build(self, outbox_id: int, now: dt.datetime) -> EmailMessage:
        """The row's email: built already with its batch (``build_many``), else read and built now."""
        built = self._built.pop(outbox_id, None)
        if built is not None:
            return built
        with self.db.sessions() as session:
            row = session.get_one(OutboxMessage, outbox_id)
            return build_message(row, self.from_address, self.from_name, now)

    def build_many(self, outbox_ids: list[int], now: dt.datetime) -> dict[int, EmailMessage]:
        """The emails of a claimed batch, read in one query. A row that cannot be built is left out:
        ``attempt`` builds it again alone, where its error is recorded as for any row."""
        if not outbox_ids:
            return {}
        messages = {}
        with self.db.sessions() as session:
            for row in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(outbox_ids),
                                                                   OutboxMessage.channel == "email")):
                try:
                    messages[row.id] = build_message(row, self.from_address, self.from_name, now)
                except Exception:  # noqa: BLE001 - attempt() meets it again and records it for this row
                    continue
        return messages

    # -- recording the outcome --------------------------------------------------------------------

    def _mark_sent(self, outbox_id: int, now: dt.datetime) -> None:
        """The smallest transaction that records the send: one conditional UPDATE of the row's status
        (the case hears of it from ``record_deliveries``); the log line waits until it has committed."""
        with self.db.transaction() as session:
            if self._update_sent(session, outbox_id, now, None, recorded=False):
                self.totals["delivered"] += 1
        log.info("sent outbox row %s", outbox_id)

    def _record_sent(self, session: Session, outbox_id: int, now: dt.datetime, reason: str | None = None,
                     **detail) -> OutboxMessage | None:
        """Mark the row sent once and tell its case in the same transaction; the row when this call did
        it, else None."""
        if not self._update_sent(session, outbox_id, now, reason, recorded=True):
            return None
        self.totals["delivered"] += 1
        row = session.get_one(OutboxMessage, outbox_id)
        record_delivery(session, row, self.policy, now, **detail)
        return row

    def _update_sent(self, session: Session, outbox_id: int, now: dt.datetime, reason: str | None, *,
                     recorded: bool) -> bool:
        """The row sent, once (False: it was sent already); ``recorded``: its case hears of it now."""
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.status != OutboxStatus.SENT)
            .values(status=OutboxStatus.SENT, sent_at=now, attempts=OutboxMessage.attempts + 1, reason=reason,
                    delivery_recorded_at=now if recorded else None)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    def record_deliveries(self) -> int:
        """Tell each case of its rows sent and not yet recorded, dated at the row's ``sent_at``, in one
        transaction; returns how many. Each row is taken by a conditional UPDATE of its stamp (the
        transaction's first write for it), so two senders never record one delivery twice. If the batch
        cannot be recorded, each row is recorded in a transaction of its own, so a row whose recording
        fails waits (logged, tried again at the next run) without holding up the others."""
        with self.db.sessions() as session:
            ids = list(session.scalars(_unrecorded(self.channel)))
        try:
            return self._record_deliveries(ids)
        except Exception as exc:  # noqa: BLE001 - the rows stay sent and unrecorded: nothing is lost
            log.error("could not record %d deliveries together (%s): recording each alone", len(ids), describe(exc))
        return sum(self._record_alone(outbox_id) for outbox_id in ids)

    def _record_alone(self, outbox_id: int) -> int:
        try:
            return self._record_deliveries([outbox_id])
        except Exception as exc:  # noqa: BLE001 - it waits, unrecorded, for the next run (or a fix)
            log.error("could not record the delivery of outbox row %s: %s", outbox_id, describe(exc))
            return 0

    def _record_deliveries(self, ids: list[int]) -> int:
        with self.db.transaction() as session:
            rows = _taken(session, ids)
            cases = _load_cases(session, {row.case_id for row in rows if row.case_id is not None})
            for row in rows:
                record_delivery(session, row, self.policy, row.sent_at, case=cases.get(row.case_id))
        return len(rows)

    def _retry_later(self, outbox_id: int, reason: str, now: dt.datetime) -> None:
        with self.db.transaction() as session:
            row = self._own_claim(session, outbox_id)
            if row is not None:
                self.totals["retried"] += 1
                self._reschedule(row, reason, now)
                log.warning("outbox row %s not sent (attempt %s, now %s): %s", row.id, row.attempts, row.status, reason)

    def _fail(self, outbox_id: int, reason: str, now: dt.datetime) -> None:
        with self.db.transaction() as session:
            row = self._own_claim(session, outbox_id)
            if row is not None:
                self.totals["failed"] += 1
                row.attempts += 1
                mark_failed(session, row, reason, now)
                log.error("outbox row %s failed permanently: %s", row.id, reason)

    def _own_claim(self, session: Session, outbox_id: int) -> OutboxMessage | None:
        """The row, if this sender still holds its claim (a stale-claim requeue may have taken it)."""
        row = session.get_one(OutboxMessage, outbox_id, with_for_update=self.db.is_postgresql)
        if row.status == OutboxStatus.SENDING and row.claimed_by == self.worker_id:
            return row
        log.warning("outbox row %s is no longer claimed by %s; leaving it as %s", outbox_id, self.worker_id, row.status)
        return None

    def _reschedule(self, row: OutboxMessage, reason: str, now: dt.datetime) -> None:
        """Back to the queue after a temporary failure, however many attempts it has had; marked at
        risk (once) when its clock nears."""
        row.attempts += 1
        row.status, row.reason = OutboxStatus.QUEUED, reason
        row.next_attempt_at = now + self.backoff(row.attempts)
        row.claimed_by = row.claimed_at = None
        if row.at_risk_since is None and now >= self.at_risk_from(Session.object_session(row), row):
            mark_at_risk(Session.object_session(row), row, reason, now)

    def at_risk_from(self, session: Session, row: OutboxMessage) -> dt.datetime:
        """When an unsent row puts its case at risk: ``at_risk_hours_before_due`` before its case's
        unmet acknowledgement clock falls due, else ``at_risk_after_hours`` after it was queued."""
        due = unmet_acknowledgement_due(session, row)
        if due is not None:
            return due - dt.timedelta(hours=self.settings.at_risk_hours_before_due)
        return row.created_at + dt.timedelta(hours=self.settings.at_risk_after_hours)

    def backoff(self, attempts: int) -> dt.timedelta:
        """backoff_seconds, doubling with each attempt, never more than max_backoff."""
        seconds = self.settings.backoff_seconds * 2 ** min(max(attempts - 1, 0), 64)  # retries never end: no overflow
        return min(dt.timedelta(seconds=min(seconds, self.max_backoff.total_seconds())), self.max_backoff)

    # -- crash recovery ---------------------------------------------------------------------------

    def requeue_stale(self, now: dt.datetime | None = None) -> int:
        """Put back rows whose sender died mid-send; returns how many.

        A claim is stale when it is older than ``stale_after``, or at once when the worker that holds
        it ran on this host and its process is gone (a worker restarted after a crash)."""
        at = now or utcnow()
        with self.db.transaction() as session:
            stale = [row for row in session.scalars(self._claimed()) if self._is_stale(row, at)]
            for row in stale:
                self._requeue(row, at)
        return len(stale)

    def _claimed(self):
        return (
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.channel == self.channel)
            .with_for_update(skip_locked=True)
        )

    def _is_stale(self, row: OutboxMessage, now: dt.datetime) -> bool:
        return row.claimed_at < now - self.stale_after or dead_local_worker(row.claimed_by)

    def _requeue(self, row: OutboxMessage, now: dt.datetime) -> None:
        """A stale claim: counted as a possible resend; failed for a person after too many of them."""
        claimed = f"{row.claimed_by} at {row.claimed_at:%Y-%m-%d %H:%M} UTC"
        reason = f"requeued: claimed by {claimed} and never recorded; it may have been sent (same Message-ID)"
        log.warning("outbox row %s: %s", row.id, reason)
        row.possible_resends += 1
        if row.possible_resends >= self.settings.max_interrupted_sends:
            row.attempts += 1
            mark_failed(Session.object_session(row), row, f"its sender stopped {row.possible_resends} times while "
                        f"sending it; last {reason}", now)
            return
        self._reschedule(row, reason, now)
        row.next_attempt_at = now  # the wait has already happened


def build_message(row: OutboxMessage, from_address: str, from_name: str, now: dt.datetime) -> EmailMessage:
    """The email for an outbox row, marked as an automatic reply and threaded to the resident's."""
    message = EmailMessage()
    message["From"] = formataddr((from_name, from_address))
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = bracketed(row.message_id)
    if row.in_reply_to:
        message["In-Reply-To"] = row.in_reply_to
    if row.references:
        message["References"] = row.references
    message["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots must not answer this
    message["X-Auto-Response-Suppress"] = "All"  # the same, for Exchange and Outlook
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    return message


def mark_failed(session: Session, row: OutboxMessage, reason: str, now: dt.datetime) -> None:
    row.status, row.reason = OutboxStatus.FAILED, reason
    if row.case_id is not None:
        lifecycle.acknowledgement_failed(session.get_one(Case, row.case_id), row.kind, reason, now, outbox_id=row.id)


def mark_at_risk(session: Session, row: OutboxMessage, reason: str, now: dt.datetime) -> None:
    """Once per row: ``at_risk_since`` and, on its case, an ACKNOWLEDGEMENT_AT_RISK event for staff."""
    row.at_risk_since = now
    log.warning("outbox row %s is at risk: still not sent (attempt %s)", row.id, row.attempts)
    if row.case_id is not None:
        due = unmet_acknowledgement_due(session, row)
        lifecycle.acknowledgement_at_risk(session.get_one(Case, row.case_id), row.kind, reason, now, outbox_id=row.id,
                                          attempts=row.attempts, clock_due=due)


def unmet_acknowledgement_due(session: Session, row: OutboxMessage) -> dt.datetime | None:
    """When the acknowledgement clock of the row's case (its current stage) falls due, if it is unmet."""
    if row.case_id is None:
        return None
    case = session.get_one(Case, row.case_id)
    clock = next((clock for clock in case.clocks if clock.kind == ACK_CLOCKS.get(Stage(case.stage))), None)
    return clock.due_at if clock is not None and clock.met_at is None else None


def _unrecorded(channel: str):
    """Sent rows of the channel whose case has not heard of them (the ``(status, delivery_recorded_at)``
    index: only those rows are read, however many were sent before)."""
    return (select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.delivery_recorded_at.is_(None),
                   OutboxMessage.channel == channel)
            .order_by(OutboxMessage.id))


def _taken(session: Session, ids: list[int]) -> list[OutboxMessage]:
    """The rows among ``ids`` this transaction stamped as recorded (another sender may have been first),
    in order: one conditional UPDATE ... RETURNING, the transaction's first write for them."""
    if not ids:
        return []
    taken = set(session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.delivery_recorded_at.is_(None))
        .values(delivery_recorded_at=utcnow())
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)))
    if not taken:
        return []
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(taken)).order_by(OutboxMessage.id)))


def _load_cases(session: Session, case_ids: set[int]) -> dict[int, Case]:
    """The cases by id, with their clocks and events, in three queries (one per table)."""
    if not case_ids:
        return {}
    query = select(Case).where(Case.id.in_(case_ids)).options(selectinload(Case.clocks), selectinload(Case.events))
    return {case.id: case for case in session.scalars(query)}


def record_delivery(session: Session, row: OutboxMessage, policy: Policy, now: dt.datetime, *,
                    case: Case | None = None, **detail) -> None:
    """The row reached the resident (sent, or handed to print): the case (``case``: loaded already)
    hears it through its lifecycle."""
    if row.case_id is None:
        return
    case = case if case is not None else session.get_one(Case, row.case_id)
    lifecycle.delivered(case, policy, AckKind(row.kind), now, submission_id=row.submission_id, outbox_id=row.id, **detail)
