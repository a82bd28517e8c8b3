"""The per-item loop, written once for every source: store raw → commit → done → process.

Bounded work per message. Processing one submission is three steps:
1. ``_start`` (its own committed transaction): count the attempt in ``unfinished_attempts`` (and note
   ``started_at``) before any work, or, when that count shows the worker died in it
   ``[limits] set_aside_after_deaths`` times (out of memory, a crash), set it aside as a poison message
   and move on. An unfinished start by a worker that is still alive (a process on this host that
   exists, or on another host a start younger than ``[limits] stalled_after_seconds``) is that worker
   at work on it now, not a death: the submission is left to it (so several workers racing for one
   message never count each other as deaths, and a crashed worker's message is taken up at once);
2. the processing transaction: the claim (its first write, so two workers never process one
   submission) takes the count back off; reading (parsing, quoting) and classifying run under the time
   budget (``pipeline.budget``, set by the pipeline around those steps alone, never database work);
   the case, its events and its outbox rows commit together;
3. a failure or an over-budget message is recorded in a transaction of its own.
So a worker killed mid-processing leaves its attempt counted, and a message that kills every worker
stops the queue at most ``set_aside_after_deaths`` times. A set-aside submission is ``failed`` with a
reason a person can read and no error: it is not retried automatically, it is listed on the operations
page, and "Re-run" puts it back in the queue.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import traceback
from dataclasses import dataclass, field
from typing import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.errors import SourceUnavailable
from core.logs import describe
from core.settings import LimitsSettings
from core.workers import dead_local_worker, worker_id as this_worker
from casework.models import Submission, utcnow
from casework.operations import record_poll
from casework.vocabulary import Disposition
from intake.items import RawItem, Source
from pipeline.budget import OverBudget
from pipeline.process import Pipeline

log = logging.getLogger(__name__)
MAX_AUTOMATIC_ATTEMPTS = 3
OVER_BUDGET = ("took longer than the {seconds:g} s budget to read: a person should look at it (it is stored; "
               "re-run it once the cause is fixed)")
POISON = ("stopped the worker {deaths} times while it was being read (out of memory or a crash): set aside "
          "for a person so the mail behind it could go on; re-run it once the cause is fixed")


@dataclass
class SourceHealth:
    """What the last poll of each source said, in this process (`intake run --once` prints it). Every
    poll is also recorded in the ``source_health`` table, which the staff app (another process) reads."""

    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class Runner:
    db: Database
    sources: Sequence[Source]
    pipeline: Pipeline
    health: SourceHealth = field(default_factory=SourceHealth)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    worker_id: str = field(default_factory=this_worker)  # recorded with each start (``_start``)

    def run_once(self) -> int:
        """Poll every source, then process what is waiting; returns how many items it handled."""
        stored = sum(self.poll(source) for source in self.sources)
        return stored + self.process_waiting()

    def poll(self, source: Source) -> int:
        """Store each new item; one failing source never stops the others."""
        try:
            count = sum(self._take(source, item) for item in source.fetch())
        except SourceUnavailable as exc:
            self.health.errors[source.name] = str(exc)
            log.error("source %s unavailable: %s", source.name, exc)
            self._record_poll(source.name, str(exc))
            return 0
        except Exception as exc:  # noqa: BLE001 - a source's bug must not stop the worker
            self.health.errors[source.name] = f"{type(exc).__name__}: {exc}"
            log.error("source %s failed while fetching: %s", source.name, describe(exc))
            # Only the exception's type: its text may quote a message, and staff read this row.
            self._record_poll(source.name, f"{type(exc).__name__} while fetching (the worker's log has the details)")
            return 0
        self.health.errors.pop(source.name, None)
        self._record_poll(source.name, None)
        return count

    def _record_poll(self, name: str, error: str | None) -> None:
        """The poll's outcome in ``source_health``, in its own short transaction; never stops polling."""
        try:
            with self.db.transaction() as session:
                record_poll(session, name, error=error)
        except Exception as exc:  # noqa: BLE001 - the health record is for people; the worker carries on
            log.error("could not record the health of source %s: %s", name, describe(exc))

    def _take(self, source: Source, item: RawItem) -> int:
        new = store(self.db, item)
        try:
            source.done(item)
        except Exception as exc:  # noqa: BLE001 - stored already; it is marked done on a later poll
            log.error("source %s could not mark item %s done: %s", source.name, item.natural_key, describe(exc))
        return int(new)

    def process_waiting(self) -> int:
        """Process pending submissions, and failed ones that still have automatic retries left."""
        done = 0
        for submission_id in self._waiting_ids():
            done += self.process(submission_id) is not None
        return done

    def process(self, submission_id: int) -> str | None:
        """Process one submission; None when another worker has already taken it."""
        started = self._start(submission_id)
        if started is not True:
            return started
        try:
            with self.db.transaction() as session:
                if not _claim(session, submission_id):
                    self._forget_start(submission_id)
                    return None
                return self.pipeline.process(session, session.get(Submission, submission_id))
        except OverBudget:
            log.error("submission %s took longer than its %gs budget: set aside", submission_id,
                      self.limits.processing_seconds)
            self._set_aside(submission_id, OVER_BUDGET.format(seconds=self.limits.processing_seconds))
            return Disposition.FAILED
        except Exception as exc:  # noqa: BLE001 - recorded as a failed disposition, re-runnable
            log.error("submission %s failed: %s", submission_id, describe(exc))
            self._record_failure(submission_id, exc)
            return Disposition.FAILED

    def _start(self, submission_id: int) -> bool | str | None:
        """Count the attempt, committed before any work: True to go on; None when the submission is no
        longer waiting or another live worker is on it; ``failed`` when it has killed the worker too
        often and is now set aside."""
        deaths, now = self.limits.set_aside_after_deaths, utcnow()
        with self.db.transaction() as session:
            last = session.execute(select(Submission.unfinished_attempts, Submission.started_at,
                                          Submission.started_by)
                                   .where(Submission.id == submission_id, _waiting())).first()
            if last is None or (last.unfinished_attempts and self._alive(last, now)):
                return None
            unchanged = _same_start(last)  # a worker that got in between makes this update change nothing
            if last.unfinished_attempts < deaths:
                return _update_waiting(session, submission_id, unchanged,
                                       unfinished_attempts=Submission.unfinished_attempts + 1,
                                       started_at=now, started_by=self.worker_id) or None
            if not _update_waiting(session, submission_id, unchanged, **_set_aside_values(POISON.format(deaths=deaths))):
                return None
        log.error("submission %s stopped the worker %s times: set aside as a poison message", submission_id, deaths)
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

    def _set_aside(self, submission_id: int, reason: str) -> None:
        with self.db.transaction() as session:
            session.execute(
                update(Submission).where(Submission.id == submission_id)
                .values(attempts=Submission.attempts + 1, **_set_aside_values(reason))
                .execution_options(synchronize_session=False)
            )

    def _waiting_ids(self) -> list[int]:
        with self.db.sessions() as session:
            return list(session.scalars(select(Submission.id).where(_waiting()).order_by(Submission.id)))

    def _record_failure(self, submission_id: int, exc: Exception) -> None:
        with self.db.transaction() as session:
            submission = session.get(Submission, submission_id)
            submission.attempts += 1
            submission.unfinished_attempts = max(0, submission.unfinished_attempts - 1)  # it ended: not a death
            submission.disposition = Disposition.FAILED
            submission.error = "".join(traceback.format_exception_only(exc)).strip()
            submission.reason = "processing failed; it will be retried, then waits for a person"
            submission.processed_at = utcnow()


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
