"""The per-item loop, written once for every source: store raw → commit → done → process."""

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
from casework.models import Submission, utcnow
from casework.operations import record_poll
from casework.vocabulary import Disposition
from intake.items import RawItem, Source
from pipeline.process import Pipeline

log = logging.getLogger(__name__)
MAX_AUTOMATIC_ATTEMPTS = 3


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
        try:
            with self.db.transaction() as session:
                if not _claim(session, submission_id):
                    return None
                return self.pipeline.process(session, session.get(Submission, submission_id))
        except Exception as exc:  # noqa: BLE001 - recorded as a failed disposition, re-runnable
            log.error("submission %s failed: %s", submission_id, describe(exc))
            self._record_failure(submission_id, exc)
            return Disposition.FAILED

    def _waiting_ids(self) -> list[int]:
        with self.db.sessions() as session:
            return list(session.scalars(select(Submission.id).where(_waiting()).order_by(Submission.id)))

    def _record_failure(self, submission_id: int, exc: Exception) -> None:
        with self.db.transaction() as session:
            submission = session.get(Submission, submission_id)
            submission.attempts += 1
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
    """Count the attempt only if the submission is still waiting. As the transaction's first write it
    holds the row (PostgreSQL) or the database (SQLite) until commit, so a second worker waits and
    then finds it no longer waiting: one submission never opens two cases or sends two replies."""
    result = session.execute(
        update(Submission)
        .where(Submission.id == submission_id, _waiting())
        .values(attempts=Submission.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


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
