"""The per-item loop, written once for every source: store raw → commit → done → process, a batch at a time.

Storing. A source's items are taken ``BATCH_SIZE`` at a time: the batch's new items are inserted in one
transaction, and only after it commits is the source told the whole batch is done (one IMAP ``UID MOVE``
for the batch). A crash before the commit stores none of the batch and the source still holds every
item (fetched again next time); a crash after it leaves them stored and still in the source, and the
next fetch finds them stored (the natural key) and just marks them done: nothing lost, nothing doubled.
A batch another worker stored part of first (a unique key clash) is stored one item at a time.

Bounded work per message. Processing a batch of waiting submissions is three steps:
1. ``_start_many`` (its own committed transaction): count each submission's attempt in
   ``unfinished_attempts`` (and note ``started_at``) before any work, or, when that count shows the
   worker died in it ``[limits] set_aside_after_deaths`` times (out of memory, a crash), set it aside as
   a poison message. An unfinished start by a worker that is still alive (a process on this host that
   exists, or on another host a start younger than ``[limits] stalled_after_seconds``) is that worker at
   work on it now, not a death: the submission is left to it (so several workers racing for one message
   never count each other as deaths, and a crashed worker's message is taken up at once). On
   PostgreSQL the batch is read ``FOR UPDATE SKIP LOCKED``, so a second worker passes over the rows a
   first is processing and takes the next ones: the workers share the queue instead of queueing on it;
2. one processing transaction for the batch: each submission's claim (a conditional update, the
   transaction's first writes, so two workers never process one submission) takes its count back off;
   then the batch is read and classified at once (``Pipeline.prepare``: reading and classifying run
   under the time budget, never database work), and each submission is taken to its disposition inside
   its own savepoint. A submission that fails (an exception, MemoryError, over budget) has its savepoint
   rolled back and its failure recorded in the same transaction; the others are unaffected. The case,
   its events and its outbox rows of every submission in the batch commit together;
3. only when the batch transaction itself cannot commit is each of its submissions processed again on
   its own (step 2 with a batch of one), and its failure recorded in a transaction of its own.

Why this loses nothing and doubles nothing. Before the commit nothing of the batch is visible: a worker
killed mid-batch leaves every submission of the batch waiting, with its start counted (step 1). After
the commit every submission of the batch has its disposition, cases and outbox rows, and none is
waiting. A claim is a conditional update of a waiting row, so a submission is processed in at most one
committed transaction. What a death costs is the batch's work, done again; to keep a poison message
from taking its neighbours down with it, a submission whose start count was already above nothing
(it was in a batch when a worker died) is left out of the batch's start and is started and processed
alone, only when its turn comes: the deaths count only against the message that kills, and its
neighbours, each started and finished on its own, have their count taken back by their claim.
So a message that kills every worker stops the queue at most ``set_aside_after_deaths`` times. A
set-aside submission is ``failed`` with a reason a person can read and no error: it is not retried
automatically, it is listed on the operations page, and "Re-run" puts it back in the queue.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import traceback
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import SourceUnavailable
from core.logs import describe
from core.settings import LimitsSettings
from core.workers import dead_local_worker, worker_id as this_worker
from casework.models import OutboxMessage, Submission, utcnow
from casework.operations import record_poll
from casework.vocabulary import Disposition, OutboxStatus
from intake.items import RawItem, Source, mark_done
from pipeline.budget import OverBudget
from pipeline.process import Pipeline

log = logging.getLogger(__name__)
MAX_AUTOMATIC_ATTEMPTS = 3
BATCH_SIZE = 50  # items stored, and submissions processed, per transaction
OVER_BUDGET = ("took longer than the {seconds:g} s budget to read: a person should look at it (it is stored; "
               "re-run it once the cause is fixed)")
POISON = ("stopped the worker {deaths} times while it was being read (out of memory or a crash): set aside "
          "for a person so the mail behind it could go on; re-run it once the cause is fixed")
T = TypeVar("T")


@dataclass
class SourceHealth:
    """What the last poll of each source said, in this process (`intake run --once` prints it). Every
    poll is also recorded in the ``source_health`` table, which the staff app (another process) reads."""

    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class RunTotals:
    """What this process's runner has done since it started (`intake run --once` prints it): items
    stored; submissions processed, by disposition; acknowledgements queued, and held back by the
    per-sender cap (``suppressed``); sources polled, and those whose poll failed."""

    stored: int = 0
    dispositions: Counter = field(default_factory=Counter)
    suppressed: int = 0
    polls: int = 0
    failed_polls: int = 0

    @property
    def processed(self) -> int:
        return sum(self.dispositions.values())


@dataclass
class Runner:
    db: Database
    sources: Sequence[Source]
    pipeline: Pipeline
    health: SourceHealth = field(default_factory=SourceHealth)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    worker_id: str = field(default_factory=this_worker)  # recorded with each start (``_start``)
    batch_size: int = BATCH_SIZE
    totals: RunTotals = field(default_factory=RunTotals)

    def run_once(self) -> int:
        """Poll every source, then process what is waiting; returns how many items were stored plus how
        many submissions were processed (0: nothing left to do). ``totals`` keeps the two apart."""
        stored = sum(self.poll(source) for source in self.sources)
        return stored + self.process_waiting()

    def poll(self, source: Source) -> int:
        """Store each new item, a batch at a time; one failing source never stops the others."""
        self.totals.polls += 1
        try:
            count = sum(self._take(source, batch) for batch in batched(source.fetch(), self.batch_size))
        except SourceUnavailable as exc:
            self._poll_failed(source.name, str(exc))
            log.error("source %s unavailable: %s", source.name, exc)
            return 0
        except Exception as exc:  # noqa: BLE001 - a source's bug must not stop the worker
            log.error("source %s failed while fetching: %s", source.name, describe(exc))
            # Only the exception's type: its text may quote a message, and staff read this row.
            self._poll_failed(source.name, f"{type(exc).__name__} while fetching (the worker's log has the details)",
                              f"{type(exc).__name__}: {exc}")
            return 0
        self.health.errors.pop(source.name, None)
        self._record_poll(source.name, None)
        return count

    def _poll_failed(self, name: str, error: str, said: str | None = None) -> None:
        self.totals.failed_polls += 1
        self.health.errors[name] = said or error
        self._record_poll(name, error)

    def _record_poll(self, name: str, error: str | None) -> None:
        """The poll's outcome in ``source_health``, in its own short transaction; never stops polling."""
        try:
            with self.db.transaction() as session:
                record_poll(session, name, error=error)
        except Exception as exc:  # noqa: BLE001 - the health record is for people; the worker carries on
            log.error("could not record the health of source %s: %s", name, describe(exc))

    def _take(self, source: Source, items: list[RawItem]) -> int:
        """Store a batch (committed), then tell the source it is done with all of it."""
        new = store_many(self.db, items)
        try:
            mark_done(source, items)
        except Exception as exc:  # noqa: BLE001 - stored already; it is marked done on a later poll
            log.error("source %s could not mark %d items done: %s", source.name, len(items), describe(exc))
        self.totals.stored += new
        return new

    # -- processing ----------------------------------------------------------------------------

    def process_waiting(self, stop: Callable[[], bool] = lambda: False,
                        after_batch: Callable[[int], None] | None = None) -> int:
        """Process pending submissions, and failed ones that still have automatic retries left, a batch
        at a time; returns how many this worker took to a disposition. ``stop`` is asked before each
        batch (SIGTERM: the batch in hand is finished, the rest waits for a worker); ``after_batch`` is
        told how many each batch took, so sending can start while a backlog is still being processed."""
        done = 0
        for ids in batched(self._waiting_ids(), self.batch_size):
            if stop():
                break
            finished = sum(outcome is not None for outcome in self._process_batch(ids).values())
            done += finished
            if after_batch is not None and finished:
                after_batch(finished)
        return done

    def process(self, submission_id: int) -> str | None:
        """Process one submission now; None when another worker has already taken it."""
        return self._process_batch([submission_id]).get(submission_id)

    def _process_batch(self, ids: Sequence[int]) -> dict[int, str | None]:
        """Start, then process, a batch; a submission that was in a batch when a worker died goes alone."""
        outcomes: dict[int, str | None] = {}
        starts, suspects = self._start_many(ids, alone=len(ids) == 1)
        fresh = [submission_id for submission_id, started in starts.items() if started is True]
        outcomes.update({submission_id: started for submission_id, started in starts.items() if started is not True})
        if fresh:
            outcomes.update(self._process_started(fresh))
        for submission_id in suspects:  # started only now, just before it is processed, alone
            started = self._start(submission_id)
            outcomes[submission_id] = self._process_started([submission_id])[submission_id] if started is True else started
        self._count(outcomes)
        return outcomes

    def _process_started(self, ids: list[int]) -> dict[int, str | None]:
        """The processing transaction for started submissions (the module docstring, step 2); if it
        cannot commit, each is processed again alone (step 3)."""
        try:
            with self.db.transaction() as session:
                claimed = [submission_id for submission_id in ids if _claim(session, submission_id)]
                outcomes = self._process_claimed(session, claimed)
                self.totals.suppressed += _suppressed(session, claimed)
        except Exception as exc:  # noqa: BLE001 - the batch did not commit: nothing of it happened
            if len(ids) == 1:
                log.error("submission %s failed: %s", ids[0], describe(exc))
                self._record_failure(ids[0], exc)
                return {ids[0]: Disposition.FAILED}
            log.error("a batch of %d submissions could not commit (%s): processing each alone", len(ids),
                      describe(exc))
            outcomes = {}
            for submission_id in ids:
                outcomes.update(self._process_started([submission_id]))
            return outcomes
        for submission_id in set(ids) - set(claimed):
            self._forget_start(submission_id)
        return {submission_id: outcomes.get(submission_id) for submission_id in ids}

    def _process_claimed(self, session: Session, ids: list[int]) -> dict[int, str]:
        submissions = _load(session, ids)
        prepared = self.pipeline.prepare(session, submissions)
        return {submission.id: self._process_one(session, submission, prepared.get(submission.id))
                for submission in submissions}

    def _process_one(self, session: Session, submission: Submission, prepared) -> str:
        """One claimed submission inside its savepoint: its disposition, or its failure recorded."""
        submission_id = submission.id
        try:
            with session.begin_nested():
                return self.pipeline.process(session, submission, prepared=prepared)
        except OverBudget:
            log.error("submission %s took longer than its %gs budget: set aside", submission_id,
                      self.limits.processing_seconds)
            _mark(session, submission_id, **_set_aside_values(OVER_BUDGET.format(seconds=self.limits.processing_seconds)))
        except Exception as exc:  # noqa: BLE001 - recorded as a failed disposition, re-runnable
            log.error("submission %s failed: %s", submission_id, describe(exc))
            _mark(session, submission_id, **_failure_values(exc))
        return Disposition.FAILED

    def _count(self, outcomes: dict[int, str | None]) -> None:
        self.totals.dispositions.update(str(outcome) for outcome in outcomes.values() if outcome is not None)

    # -- starting ------------------------------------------------------------------------------

    def _start(self, submission_id: int) -> bool | str | None:
        """Count the attempt, committed before any work: True to go on; None when the submission is no
        longer waiting or another live worker is on it; ``failed`` when it has killed the worker too
        often and is now set aside."""
        return self._start_many([submission_id], alone=True)[0].get(submission_id)

    def _start_many(self, ids: Sequence[int], alone: bool = False) -> tuple[dict[int, bool | str | None], list[int]]:
        """``_start`` for a batch in one committed transaction. Unless ``alone``, a submission a worker
        died in (an unfinished attempt, its worker gone) is not started here but returned among the
        suspects, to be started and processed on its own: its neighbours' counts never grow with it."""
        now, outcomes = utcnow(), {submission_id: None for submission_id in ids}
        suspects: list[int] = []
        set_aside = []
        with self.db.transaction() as session:
            for last in session.execute(self._startable(ids)):
                dead = last.unfinished_attempts and not self._alive(last, now)
                if dead and not alone and last.unfinished_attempts < self.limits.set_aside_after_deaths:
                    suspects.append(last.id)
                    continue
                outcomes[last.id] = started = self._start_one(session, last, now)
                if started == Disposition.FAILED:
                    set_aside.append(last.id)
        for submission_id in set_aside:
            log.error("submission %s stopped the worker %s times: set aside as a poison message", submission_id,
                      self.limits.set_aside_after_deaths)
        return {key: value for key, value in outcomes.items() if key not in suspects}, suspects

    def _startable(self, ids: Sequence[int]):
        query = (select(Submission.id, Submission.unfinished_attempts, Submission.started_at, Submission.started_by)
                 .where(Submission.id.in_(list(ids)), _waiting()).order_by(Submission.id))
        return query.with_for_update(skip_locked=True) if self.db.is_postgresql else query

    def _start_one(self, session: Session, last, now: dt.datetime) -> bool | str | None:
        deaths = self.limits.set_aside_after_deaths
        if last.unfinished_attempts and self._alive(last, now):
            return None
        unchanged = _same_start(last)  # a worker that got in between makes this update change nothing
        if last.unfinished_attempts < deaths:
            return _update_waiting(session, last.id, unchanged, unfinished_attempts=Submission.unfinished_attempts + 1,
                                   started_at=now, started_by=self.worker_id) or None
        if not _update_waiting(session, last.id, unchanged, **_set_aside_values(POISON.format(deaths=deaths))):
            return None
        return Disposition.FAILED

    def _alive(self, last, now: dt.datetime) -> bool:
        """Whether the worker that last started this submission may still be reading it."""
        if last.started_at is None or dead_local_worker(last.started_by):
            return False
        return last.started_at >= now - dt.timedelta(seconds=self.limits.stalled_after_seconds)

    def _forget_start(self, submission_id: int) -> None:
        """Another worker claimed it between our start and our claim: our count was not an attempt."""
        with self.db.transaction() as session:
            session.execute(
                update(Submission)
                .where(Submission.id == submission_id, Submission.unfinished_attempts > 0)
                .values(unfinished_attempts=Submission.unfinished_attempts - 1)
                .execution_options(synchronize_session=False)
            )

    def _waiting_ids(self) -> list[int]:
        with self.db.sessions() as session:
            return list(session.scalars(select(Submission.id).where(_waiting()).order_by(Submission.id)))

    def _record_failure(self, submission_id: int, exc: BaseException) -> None:
        """A failure outside any batch transaction (it rolled back, claim and all): counted here."""
        with self.db.transaction() as session:
            submission = session.get(Submission, submission_id)
            submission.attempts += 1
            submission.unfinished_attempts = max(0, submission.unfinished_attempts - 1)  # it ended: not a death
            for key, value in _failure_values(exc).items():
                setattr(submission, key, value)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of at most ``size`` items, taken from the iterable as they come (a source streams)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _load(session: Session, ids: list[int]) -> list[Submission]:
    if not ids:
        return []
    by_id = {s.id: s for s in session.scalars(select(Submission).where(Submission.id.in_(ids)))}
    return [by_id[submission_id] for submission_id in ids]


def _suppressed(session: Session, submission_ids: list[int]) -> int:
    """Acknowledgements these submissions queued that the per-sender cap held back."""
    if not submission_ids:
        return 0
    return session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.submission_id.in_(submission_ids), OutboxMessage.status == OutboxStatus.SUPPRESSED)) or 0


def _mark(session: Session, submission_id: int, **values) -> None:
    """Values on a claimed submission whose savepoint rolled back (its claim stands: the attempt is counted)."""
    session.execute(update(Submission).where(Submission.id == submission_id).values(**values)
                    .execution_options(synchronize_session=False))
    session.expire_all()


def _failure_values(exc: BaseException) -> dict:
    return {"disposition": Disposition.FAILED, "error": "".join(traceback.format_exception_only(exc)).strip(),
            "reason": "processing failed; it will be retried, then waits for a person", "processed_at": utcnow()}


def _waiting():
    """Pending submissions, and those that failed by an exception (not unreadable ones) with tries left."""
    retryable = (
        (Submission.disposition == Disposition.FAILED)
        & Submission.error.is_not(None)
        & (Submission.attempts < MAX_AUTOMATIC_ATTEMPTS)
    )
    return or_(Submission.disposition == Disposition.PENDING, retryable)


def _claim(session, submission_id: int) -> bool:
    """Count the attempt only if the submission is still waiting, and take back the count ``_start``
    committed (this transaction committing means the attempt finished). As the transaction's first
    write it holds the row (PostgreSQL) or the database (SQLite) until commit, so a second worker waits
    and then finds it no longer waiting: one submission never opens two cases or sends two replies."""
    return _update_waiting(session, submission_id, True, attempts=Submission.attempts + 1,
                           unfinished_attempts=Submission.unfinished_attempts - 1)


def _same_start(last):
    """The row still shows the start we read (no other worker has started it since)."""
    started = Submission.started_at.is_(None) if last.started_at is None else Submission.started_at == last.started_at
    return (Submission.unfinished_attempts == last.unfinished_attempts) & started


def _update_waiting(session, submission_id: int, condition, **values) -> bool:
    """One conditional UPDATE of a submission still waiting; True when it changed the row."""
    result = session.execute(
        update(Submission)
        .where(Submission.id == submission_id, _waiting(), condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _set_aside_values(reason: str) -> dict:
    """Failed with a reason and no error: not retried automatically; listed for staff, who can re-run
    it (its count of deaths starts again from nothing)."""
    return {"disposition": Disposition.FAILED, "error": None, "reason": reason, "unfinished_attempts": 0,
            "processed_at": utcnow()}


def store(db: Database, item: RawItem) -> bool:
    """Raw first: the exact bytes, committed before anything else runs. False if already stored."""
    try:
        with db.transaction() as session:
            if _already_stored(session, item):
                return False
            session.add(_submission_for(item))
        return True
    except IntegrityError:
        return False  # another worker stored it first


def store_many(db: Database, items: Sequence[RawItem]) -> int:
    """Raw first for a batch: the new items' exact bytes in one transaction; returns how many were new.
    A clash with another worker storing the same items falls back to one transaction per item."""
    try:
        with db.transaction() as session:
            new = _not_stored(session, items)
            session.add_all(_submission_for(item) for item in new)
        return len(new)
    except IntegrityError:
        return sum(store(db, item) for item in items)


def _not_stored(session: Session, items: Sequence[RawItem]) -> list[RawItem]:
    """The items of the batch not stored yet, each once (a source may yield one key twice)."""
    new: dict[tuple[str, str], RawItem] = {}
    for source in {item.source for item in items}:
        keys = [item.natural_key for item in items if item.source == source]
        known = set(session.scalars(select(Submission.natural_key)
                                    .where(Submission.source == source, Submission.natural_key.in_(keys))))
        new.update({(source, item.natural_key): item for item in items
                    if item.source == source and item.natural_key not in known})
    return list(new.values())


def _already_stored(session, item: RawItem) -> bool:
    query = select(Submission.id).where(Submission.source == item.source, Submission.natural_key == item.natural_key)
    return session.scalar(query) is not None


def _submission_for(item: RawItem) -> Submission:
    return Submission(
        source=item.source, kind=item.kind, natural_key=item.natural_key, raw=item.raw,
        raw_sha256=hashlib.sha256(item.raw).hexdigest(), filename=item.filename,
        received_at=item.received_at.astimezone(dt.UTC), disposition=Disposition.PENDING,
        details={key: value for key, value in item.details.items() if key != "text"},
        extracted_text=item.details.get("text"),
    )
