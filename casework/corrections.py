"""Staff corrections of a message's category and flags, kept for the next training run.

A correction stores what the resident wrote now (the stored text without quoted history, split by
the same rule the parser uses) and its subject; ``classifier.corpus.load_corrections`` prepares them
exactly as live mail is prepared. Recording a correction never changes the case: ``casework.actions``
does that, and calls this beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.orm import Session

from casework.models import Case, LabelCorrection, Submission, utcnow
from casework.vocabulary import Category, Flag
from text.quoting import split_reply


def record_correction(
    session: Session, *, case: Case | None, submission: Submission | None, category: str, flags: Iterable[str],
    corrected_by: str, at: dt.datetime | None = None,
) -> LabelCorrection:
    """Store a staff member's category and flags for a message (the case's first when none is given)."""
    if case is None and submission is None:
        raise ValueError("a correction needs a case or a submission")
    if submission is None and case.submissions:
        submission = case.submissions[0]  # the message that opened the case
    subject = (submission.subject if submission else None) or (case.subject if case else None) or ""
    correction = LabelCorrection(
        submission_id=submission.id if submission else None,
        case_id=case.id if case else (submission.case_id if submission else None),
        text=new_text(submission),
        subject=subject,
        category=Category(category).value,
        flags=sorted(Flag(flag).value for flag in flags),
        corrected_by=corrected_by,
        corrected_at=at or utcnow(),
        previous_category=case.category if case else None,
        previous_flags=list(case.flags or []) if case else None,
    )
    session.add(correction)
    session.flush()
    return correction


def new_text(submission: Submission | None) -> str:
    """What the resident wrote now: the stored text without quoted history (as the pipeline classified it)."""
    if submission is None or not submission.extracted_text:
        return ""
    return split_reply(submission.extracted_text).new_text
