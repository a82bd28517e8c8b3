"""A letter's text as a ParsedMessage, so the pipeline treats post and email alike."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from casework.errors import UnreadableSubmission
from casework.models import Submission
from casework.settings import Settings
from intake.message import ParsedMessage

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def decode_text(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def letter_message(text: str, own_address: str = "") -> ParsedMessage:
    """A ParsedMessage for letter text: no headers; the sender is an email address written in it."""
    if not text.strip():
        raise UnreadableSubmission("the letter has no readable text")
    emails = [e.lower() for e in EMAIL.findall(text) if e.lower() != own_address.lower()]
    return ParsedMessage(
        message_id=None, in_reply_to=None, references=(), sender=emails[0] if emails else None,
        sender_name=None, reply_to=None, to=(), subject="", date=None, text=text, new_text=text,
        quoted_text="", signature="", headers=(), content_type="text/plain", return_path=None,
        body_sha256=hashlib.sha256(" ".join(text.split()).encode()).hexdigest(),
    )


def read_letter_submission(submission: Submission, settings: Settings) -> ParsedMessage:
    return letter_message(decode_text(submission.raw), settings.landlord.email)


def read_letter_file(path: Path, settings: Settings) -> tuple[ParsedMessage, list[str] | None]:
    """The message and the postal address found in it (None when there is none)."""
    if path.suffix.lower() != ".txt":
        raise UnreadableSubmission(f"unsupported letter file type: {path.suffix}")
    return letter_message(decode_text(path.read_bytes()), settings.landlord.email), None
