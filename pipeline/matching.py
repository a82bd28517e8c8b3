"""Finding the case a message belongs to: by our reference, or by the Message-IDs it replies to."""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import Case, OutboxMessage, Submission
from casework.references import References
from intake.message import ParsedMessage


def match_case(session: Session, references: References, message: ParsedMessage) -> Case | None:
    """Our reference in the subject or body wins; then the threading headers."""
    return _by_reference(session, references, message) or _by_thread(session, message)


def _by_reference(session: Session, references: References, message: ParsedMessage) -> Case | None:
    for reference in references.find(f"{message.subject}\n{message.text}"):
        case = session.scalar(select(Case).where(Case.reference == reference))
        if case is not None:
            return case
    return None


def _by_thread(session: Session, message: ParsedMessage) -> Case | None:
    ids = thread_ids(message)
    if not ids:
        return None
    case_id = session.scalar(
        select(OutboxMessage.case_id).where(OutboxMessage.message_id.in_(ids), OutboxMessage.case_id.is_not(None))
    ) or session.scalar(
        select(Submission.case_id).where(Submission.message_id.in_(ids), Submission.case_id.is_not(None))
    )
    return session.get(Case, case_id) if case_id else None


def thread_ids(message: ParsedMessage) -> list[str]:
    """The Message-IDs this message replies to, in both bracketed and bare forms."""
    bare = [i for i in [message.in_reply_to, *message.references] if i]
    return _both_forms(bare)


def _both_forms(ids: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in ids:
        core = value.strip().strip("<>")
        out += [core, f"<{core}>"]
    return out
