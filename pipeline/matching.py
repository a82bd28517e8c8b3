"""Finding the case a message belongs to: by the Message-IDs it replies to, or by our reference.

References are sequential, so anyone can guess one: a reference alone never attaches an email or a
web-form message to a case. The rules, in order:

1. **Thread**: In-Reply-To/References name one of our acknowledgements (or a message already on a
   case). Our Message-IDs are random, so the writer saw our mail: the message is attached. When none
   of its addresses is on the case (``Match.stranger``), the follow-up is held and nothing is sent.
2. **Reference from someone on the case**: a reference in the subject or the body of a message whose
   From or Reply-To is on that case (its resident_email, or the sender of any submission on it:
   an earlier email, the web form, a contact staff logged with an email), compared as mailboxes
   (responders.outbox.canonical_address: letter case and ``+tag`` ignored). Attached.
3. **Reference in the subject from anyone else** (``Match.quoted``): never attached. The pipeline
   opens a new case, holds it ("quotes CMP-… from an address not on that case"), links it to the
   quoted case for staff, and nothing goes to the quoted case's resident.
4. **Reference only in the body, from anyone else**: not a match (a new case, as if none were there).

Letters and contacts staff logged (``BY_REFERENCE_ALONE``) are attached by a reference anywhere,
as before: the post room and staff read them, a letter quoting its reference is almost always the
resident's, and a follow-up by post is answered at the case's own postal address, never the writer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import Case, OutboxMessage, Submission
from casework.references import References
from casework.vocabulary import Channel
from intake.message import ParsedMessage
from responders.outbox import canonical_address

BY_REFERENCE_ALONE = frozenset({Channel.LETTER, Channel.PHONE, Channel.IN_PERSON})


@dataclass(frozen=True)
class Match:
    """Where a message goes: attached to ``case``, or a new case (``case`` None), which is held and
    linked when it quotes another case's reference (``quoted``)."""

    case: Case | None = None
    quoted: Case | None = None  # a case whose reference it quotes from an address not on that case
    stranger: bool = False  # attached by thread, but none of its addresses is on the case


def match_case(session: Session, references: References, message: ParsedMessage,
               channel: str = Channel.EMAIL) -> Match:
    """The thread wins; then a reference, trusted only from an address on its case (see above)."""
    threaded = _by_thread(session, message)
    if threaded is not None:
        stranger = channel not in BY_REFERENCE_ALONE and not on_case(session, threaded, message)
        return Match(threaded, stranger=stranger)
    in_subject = _quoted(session, references, message.subject)
    in_body = _quoted(session, references, message.text)
    if channel in BY_REFERENCE_ALONE:
        return Match(next(iter(in_subject + in_body), None))
    mine = next((case for case in _unique(in_subject + in_body) if on_case(session, case, message)), None)
    if mine is not None:
        return Match(mine)
    return Match(quoted=in_subject[0] if in_subject else None)


def on_case(session: Session, case: Case, message: ParsedMessage) -> bool:
    """True when the message's From or Reply-To is one of the case's mailboxes. A message whose
    addresses could not be read unambiguously (address_problem) is on no case."""
    if message.address_problem:
        return False
    writer = {canonical_address(a) for a in (message.sender, message.reply_to) if a}
    return bool(writer) and bool(writer & case_mailboxes(session, case))


def case_mailboxes(session: Session, case: Case) -> set[str]:
    """The resident's address and every address a submission on the case came from, as mailboxes."""
    senders = session.scalars(
        select(Submission.sender).where(Submission.case_id == case.id, Submission.sender.is_not(None)).distinct()
    )
    return {canonical_address(a) for a in (case.resident_email, *senders) if a}


def _quoted(session: Session, references: References, text: str | None) -> list[Case]:
    found = references.find(text or "")
    if not found:
        return []
    cases = {case.reference: case for case in session.scalars(select(Case).where(Case.reference.in_(found)))}
    return [cases[reference] for reference in found if reference in cases]


def _unique(cases: list[Case]) -> list[Case]:
    return list({case.id: case for case in cases}.values())


def _by_thread(session: Session, message: ParsedMessage) -> Case | None:
    ids = thread_ids(message)
    if not ids:
        return None
    case_id = session.scalar(
        select(OutboxMessage.case_id).where(OutboxMessage.message_id.in_(ids), OutboxMessage.case_id.is_not(None))
        .limit(1)
    ) or session.scalar(
        select(Submission.case_id).where(Submission.message_id.in_(ids), Submission.case_id.is_not(None)).limit(1)
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
