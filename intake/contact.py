"""A contact a staff member logged (a phone call, a visit), read into a ParsedMessage.

The raw bytes are the JSON that ``casework.actions.Casework.log_contact`` stored: channel, name,
email, address, notes, logged_by, on. The staff member's notes are the message's text, so the
contact goes through the same classifier, decision and acknowledgement as mail. Pure: no database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from core.errors import UnreadableSubmission
from intake.message import ParsedMessage

SUBJECTS = {"phone": "Phone call", "in_person": "Visit in person"}


def read_contact(raw: bytes) -> ParsedMessage:
    try:
        facts = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableSubmission(f"a logged contact that is not the JSON staff tools write: {exc}") from exc
    notes = str(facts.get("notes") or "")
    email = (facts.get("email") or "").strip().lower() or None
    return ParsedMessage(
        message_id=None, in_reply_to=None, references=(), sender=email, sender_name=facts.get("name") or None,
        reply_to=None, to=(), subject=SUBJECTS.get(facts.get("channel"), "Contact logged by staff"),
        date=_date(facts.get("on")), text=notes, new_text=notes, quoted_text="", signature="",
        headers=(), content_type="text/plain", return_path=None,
        body_sha256=hashlib.sha256(notes.encode()).hexdigest(),
    )


def _date(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
