"""Building residents' mail for tests, and delivering it into a real Maildir."""

from __future__ import annotations

import email.utils
import mailbox
import os
import time
import uuid
from email.message import EmailMessage
from pathlib import Path


def make_mail(
    sender: str = "Sam Resident <sam.resident@example.net>",
    subject: str = "Leak not fixed",
    body: str = "I reported a leak three weeks ago and nobody has come. I am very unhappy.",
    *,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    date: str = "Mon, 16 Nov 2026 10:00:00 +0000",
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "Example Homes <complaints@example.org>"
    message["Subject"] = subject
    message["Date"] = date
    message["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@mail.example.net>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = references or in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return bytes(message)


def new_maildir(path: Path) -> Path:
    mailbox.Maildir(path, create=True)
    return path


def deliver(maildir: Path, raw: bytes) -> str:
    """Deliver byte for byte like an MTA: written into tmp/, then renamed into new/."""
    key = f"{time.time_ns()}.{uuid.uuid4().hex[:12]}.test"
    temporary = maildir / "tmp" / key
    temporary.write_bytes(raw)
    os.rename(temporary, maildir / "new" / key)
    return key


def message_id_of(raw: bytes) -> str:
    from email import message_from_bytes

    return message_from_bytes(raw)["Message-ID"].strip()


def addresses(raw: bytes) -> list[str]:
    from email import message_from_bytes

    parsed = message_from_bytes(raw)
    return [addr for _, addr in email.utils.getaddresses(parsed.get_all("To", []))]
