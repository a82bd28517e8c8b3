"""Retention: what is deleted, and when (``intake retention [--dry-run]``).

Invariants:
- A case goes only when it is closed (status closed, ``closed_at`` set) before ``now`` minus
  ``[retention] closed_case_years`` calendar years, and every case linked to it (related, merged,
  split) goes with it: cases linked together go together or not at all, so a case that stays never
  loses a message, an event or a link it refers to. An open or held case never goes.
- With a case go its submissions (raw messages, letters' scans, forms, logged contacts), their
  attachments, its clocks, events (the audit trail), links, outbox rows (emails and letters) and
  staff corrections of its classification; printed letters' PDFs are named in the result, for the
  caller to remove from the print folder (``casework`` knows no folders).
- A submission that never became a case (an auto-reply, a duplicate, spam, a bot's form) goes
  ``[retention] caseless_submission_days`` after it was received, with its attachments and any
  outbox row or correction naming it; one still pending (not yet processed) never goes, nor one a
  case that stays still refers to.
- The plan (``expired``) and the deletion (``delete``) run in one transaction, the cases locked on
  PostgreSQL, so a case reopened by a resident's late reply while retention runs is not deleted.
- What is reported holds references, ids and dates only: no resident's name, address or words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from casework.models import (
    Attachment, Case, CaseEvent, CaseLink, Clock, LabelCorrection, OutboxMessage, Submission,
)
from casework.vocabulary import CaseStatus, Channel, Disposition, OutboxStatus
from core.settings import RetentionSettings


@dataclass(frozen=True)
class ExpiredCase:
    reference: str
    closed_at: dt.datetime


@dataclass(frozen=True)
class ExpiredSubmission:
    id: int
    received_at: dt.datetime
    disposition: str


@dataclass(frozen=True)
class PrintedLetter:
    """A letter row that was printed: its PDF is ``responders.post.letter_file_name(reference, kind, id)``."""

    reference: str
    kind: str
    outbox_id: int


@dataclass
class Expired:
    """What retention deletes at ``now``: the cases (and everything held for them) and the caseless
    submissions past their time; ``case_cutoff``/``submission_cutoff`` are the dates they are before."""

    case_cutoff: dt.datetime
    submission_cutoff: dt.datetime
    cases: list[ExpiredCase] = field(default_factory=list)
    submissions: list[ExpiredSubmission] = field(default_factory=list)
    kept_for_links: list[str] = field(default_factory=list)  # closed long enough, linked to a case that stays
    case_ids: set[int] = field(default_factory=set)
    submission_ids: set[int] = field(default_factory=set)  # the cases' submissions and the caseless ones


@dataclass(frozen=True)
class Deleted:
    cases: int
    submissions: int
    attachments: int
    events: int
    outbox_rows: int
    printed_letters: list[PrintedLetter]


def years_before(when: dt.datetime, years: int) -> dt.datetime:
    """The same moment ``years`` calendar years earlier (29 February becomes the 28th)."""
    try:
        return when.replace(year=when.year - years)
    except ValueError:
        return when.replace(year=when.year - years, day=28)


def expired(session: Session, retention: RetentionSettings, now: dt.datetime) -> Expired:
    """What is past its keeping time at ``now`` (see the module's invariants). Reads only, but locks the
    closed cases it considers on PostgreSQL until the transaction ends."""
    plan = Expired(case_cutoff=years_before(now, retention.closed_case_years),
                   submission_cutoff=now - dt.timedelta(days=retention.caseless_submission_days))
    closed = session.execute(
        select(Case.id, Case.reference, Case.closed_at)
        .where(Case.status == CaseStatus.CLOSED, Case.closed_at.is_not(None), Case.closed_at < plan.case_cutoff)
        .order_by(Case.closed_at, Case.id).with_for_update()
    ).all()
    doomed = {row.id for row in closed}
    submissions_of = _submissions_of(session, doomed)
    doomed = _without_cases_others_need(session, doomed, submissions_of)
    plan.cases = [ExpiredCase(row.reference, row.closed_at) for row in closed if row.id in doomed]
    plan.kept_for_links = [row.reference for row in closed if row.id not in doomed]
    plan.case_ids = doomed
    plan.submission_ids = {sid for sid, case_id in submissions_of.items() if case_id in doomed}
    plan.submissions = _caseless(session, plan)
    plan.submission_ids |= {submission.id for submission in plan.submissions}
    return plan


def _submissions_of(session: Session, case_ids: set[int]) -> dict[int, int]:
    """Submission id → its case id, for these cases."""
    if not case_ids:
        return {}
    return dict(session.execute(select(Submission.id, Submission.case_id).where(Submission.case_id.in_(case_ids))).all())


def _without_cases_others_need(session: Session, doomed: set[int], submissions_of: dict[int, int]) -> set[int]:
    """Drop, until none is left to drop, every doomed case linked to a case that stays, or whose
    submission an event, outbox row or correction of a case that stays refers to."""
    links = session.execute(select(CaseLink.case_id, CaseLink.other_case_id)).all()
    references = _submission_references(session, set(submissions_of))
    while True:
        needed = {side for a, b in links for side, other in ((a, b), (b, a)) if side in doomed and other not in doomed}
        needed |= {submissions_of[sid] for sid, case_id in references
                   if case_id is not None and case_id not in doomed and submissions_of[sid] in doomed}
        if not needed:
            return doomed
        doomed = doomed - needed


def _submission_references(session: Session, submission_ids: set[int]) -> list[tuple[int, int | None]]:
    """(submission id, the referring row's case id) for every event, outbox row and correction that
    names one of these submissions."""
    if not submission_ids:
        return []
    rows: list[tuple[int, int | None]] = []
    for model in (CaseEvent, OutboxMessage, LabelCorrection):
        rows += session.execute(select(model.submission_id, model.case_id)
                                .where(model.submission_id.in_(submission_ids))).all()
    return rows


def _caseless(session: Session, plan: Expired) -> list[ExpiredSubmission]:
    """Submissions with no case, processed, received before the cutoff, that no staying case refers to."""
    rows = session.execute(
        select(Submission.id, Submission.received_at, Submission.disposition)
        .where(Submission.case_id.is_(None), Submission.disposition != Disposition.PENDING,
               Submission.received_at < plan.submission_cutoff)
        .order_by(Submission.received_at, Submission.id)
    ).all()
    referenced = {sid for sid, case_id in _submission_references(session, {row.id for row in rows})
                  if case_id is not None and case_id not in plan.case_ids}
    return [ExpiredSubmission(row.id, row.received_at, row.disposition) for row in rows if row.id not in referenced]


def delete_expired(session: Session, plan: Expired) -> Deleted:
    """Delete what ``plan`` names, children before parents, in the caller's transaction."""
    cases, submissions = plan.case_ids, plan.submission_ids
    printed = _printed_letters(session, cases, submissions)
    outbox_of = or_(OutboxMessage.case_id.in_(cases), OutboxMessage.submission_id.in_(submissions))
    session.execute(delete(LabelCorrection).where(
        or_(LabelCorrection.case_id.in_(cases), LabelCorrection.submission_id.in_(submissions))))
    events = _count(session.execute(delete(CaseEvent).where(
        or_(CaseEvent.case_id.in_(cases), CaseEvent.submission_id.in_(submissions)))))
    outbox = _count(session.execute(delete(OutboxMessage).where(outbox_of)))
    attachments = _count(session.execute(delete(Attachment).where(Attachment.submission_id.in_(submissions))))
    session.execute(delete(CaseLink).where(or_(CaseLink.case_id.in_(cases), CaseLink.other_case_id.in_(cases))))
    session.execute(delete(Clock).where(Clock.case_id.in_(cases)))
    deleted_submissions = _count(session.execute(delete(Submission).where(Submission.id.in_(submissions))))
    deleted_cases = _count(session.execute(delete(Case).where(Case.id.in_(cases))))
    return Deleted(deleted_cases, deleted_submissions, attachments, events, outbox, printed)


def _printed_letters(session: Session, cases: set[int], submissions: set[int]) -> list[PrintedLetter]:
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.kind, Case.reference)
        .join(Case, Case.id == OutboxMessage.case_id)
        .where(or_(OutboxMessage.case_id.in_(cases), OutboxMessage.submission_id.in_(submissions)),
               OutboxMessage.channel == Channel.LETTER, OutboxMessage.status == OutboxStatus.SENT)
        .order_by(OutboxMessage.id)
    ).all()
    return [PrintedLetter(row.reference, row.kind, row.id) for row in rows]


def _count(result) -> int:
    return max(result.rowcount or 0, 0)
