"""The outbox: acknowledgements are rows first, sent later by responders.sender.

The pipeline calls ``enqueue`` inside the transaction that opens or updates the case, so a case and
its acknowledgement commit together or not at all.

Message-IDs are generated here, once, as ``intake.<uuid4 hex>@<domain>`` and stored WITHOUT angle
brackets (the sender adds them in the header). The same Message-ID is used for every attempt, so a
message re-sent after a crash is recognisable as a duplicate by the resident's mail client.
``is_own_message_id`` accepts either form, so threading code can pass an In-Reply-To as it came.

In-Reply-To and References are stored as they will appear in the header: bracketed ids,
References space-separated.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.models import Case, OutboxMessage, utcnow
from core.settings import OutboxSettings
from casework.vocabulary import AckKind, OutboxStatus
from responders.render import RenderedMessage

CAP_REASON = "daily acknowledgement cap reached for this sender"
CAP_WINDOW = dt.timedelta(hours=24)
COUNTS_TOWARDS_CAP = (OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.SENT)
MAX_REFERENCES = 20  # keep the References header to a sane length: the first id and the latest ones


def enqueue(
    session: Session,
    *,
    case: Case | None,
    submission_id: int | None,
    kind: str,
    to_address: str,
    rendered: RenderedMessage,
    in_reply_to: str | None,
    references: Sequence[str],
    settings: OutboxSettings,
    domain: str,
    now: dt.datetime | None = None,
) -> OutboxMessage:
    """Add an acknowledgement to the outbox in the caller's transaction (no commit).

    Past the per-sender daily cap the row is still recorded, with status SUPPRESSED and the reason,
    and is never sent: one resident writing many times, or a mail loop, gets at most the cap.
    """
    now = now or utcnow()
    address = checked_address(to_address)
    row = OutboxMessage(
        case_id=_case_id(session, case),
        submission_id=submission_id,
        kind=AckKind(kind).value,
        channel="email",
        to_address=address,
        mailbox=canonical_address(address),
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        message_id=new_message_id(domain),
        in_reply_to=bracketed(in_reply_to) if in_reply_to else None,
        references=references_header(references),
        status=OutboxStatus.QUEUED,
        next_attempt_at=now,
        created_at=now,
    )
    if recent_count(session, address, now) >= settings.max_acks_per_sender_per_day:
        row.status, row.reason = OutboxStatus.SUPPRESSED, CAP_REASON
    session.add(row)
    return row


def checked_address(to_address: str) -> str:
    """The address trimmed; refused if it could never be sent to or could inject a header."""
    address = (to_address or "").strip()
    if "@" not in address or any(ch in address for ch in "\r\n<>,; \t"):
        raise ValueError(f"not a single email address: {address!r}")
    return address


def can_reply_to(address: str | None) -> bool:
    try:
        checked_address(address or "")
    except ValueError:
        return False
    return True


def domain_of(address: str) -> str:
    """The domain for our Message-IDs, taken from our own From address."""
    return address.rsplit("@", 1)[-1].strip().strip(">").lower()


def _case_id(session: Session, case: Case | None) -> int | None:
    if case is None:
        return None
    if case.id is None:
        session.flush()  # the case is new in this transaction: give it its id
    return case.id


def recent_count(session: Session, address: str, now: dt.datetime) -> int:
    """Outbox rows to this sender's mailbox (any case) in the last 24 hours that were or will be sent.

    One mailbox is one sender whatever the letter case or plus-address it is written with:
    ``Sam+1@Example.net`` and ``sam+2@example.net`` count with ``sam@example.net`` (canonical_address).
    Each row carries its mailbox (``mailbox``, set with ``to_address`` in ``enqueue``), so the count reads
    one range of the ``(mailbox, created_at)`` index: the same cost at 500 rows as at 500,000, and in a
    backlog where every row is from the last 24 hours (it was 2-5 ms a message scanning the window)."""
    query = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.mailbox == canonical_address(address))
        .where(OutboxMessage.created_at > now - CAP_WINDOW)
        .where(OutboxMessage.status.in_([status.value for status in COUNTS_TOWARDS_CAP]))
    )
    return session.scalar(query) or 0


def canonical_address(address: str) -> str:
    """The mailbox an address delivers to: lower-cased, the local part cut at its first ``+``
    (``Sam+rent@Example.NET`` -> ``sam@example.net``). A local part that starts with ``+`` is kept."""
    local, at, domain = (address or "").strip().lower().rpartition("@")
    if not at:
        return domain
    base = local.split("+", 1)[0]
    return f"{base or local}@{domain}"


def new_message_id(domain: str) -> str:
    """A fresh Message-ID, without angle brackets."""
    domain = domain.strip().strip(".").lower()
    if not domain or any(ch in domain for ch in "<>@ \t\r\n"):
        raise ValueError(f"not a usable Message-ID domain: {domain!r}")
    return f"intake.{uuid.uuid4().hex}@{domain}"


def bare(message_id: str) -> str:
    """A Message-ID without whitespace or angle brackets."""
    return message_id.strip().removeprefix("<").removesuffix(">").strip()


def bracketed(message_id: str) -> str:
    return f"<{bare(message_id)}>"


def references_header(references: Sequence[str]) -> str | None:
    ids = [bracketed(ref) for ref in references if ref and bare(ref)]
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1):]
    return " ".join(ids) or None


def is_own_message_id(session: Session, message_id: str) -> bool:
    """True when this Message-ID (with or without brackets) is one we sent or will send."""
    if not message_id or not bare(message_id):
        return False
    query = select(OutboxMessage.id).where(OutboxMessage.message_id == bare(message_id)).limit(1)
    return session.scalar(query) is not None
