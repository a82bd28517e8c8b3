"""Turning a stored submission's bytes into a ParsedMessage, whatever kind of item it was."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from casework.guards import plain
from sqlalchemy.orm import object_session

from casework.models import Attachment, Submission
from casework.properties import known_postcodes
from casework.vocabulary import Channel
from core.errors import UnreadableSubmission
from core.settings import Settings
from intake.contact import read_contact
from intake.message import ParsedAttachment, ParsedMessage, cleaned
from intake.parse import parse_message


def read_submission(submission: Submission, settings: Settings) -> ParsedMessage:
    """Raises UnreadableSubmission when the bytes cannot be read at all.

    Every channel passes here, so this is the one boundary where what was derived from the bytes is
    cleaned for the database (``intake.message.cleaned``: no NUL or control character, nothing longer
    than its column); the raw bytes stay exact. An email's parts become Attachment rows only after it.
    """
    message = read_message(submission, settings)
    store_attachments(submission, message)
    return message


def read_message(submission: Submission, settings: Settings) -> ParsedMessage:
    """The reading half of ``read_submission``: the cleaned ParsedMessage, nothing added to the session
    (the pipeline reads a batch first, then stores each one's attachments inside its own savepoint)."""
    return cleaned(READERS.get(submission.kind, _read_email)(submission, settings))


def store_attachments(submission: Submission, message: ParsedMessage) -> None:
    """The storing half of ``read_submission``: an email's parts as Attachment rows (once)."""
    if submission.kind not in _READ_WITH_ATTACHMENTS:
        _store_attachments(submission, message)


def _read_email(submission: Submission, settings: Settings) -> ParsedMessage:
    return parse_message(submission.raw, settings.attachment_max_bytes)


def _read_letter(submission: Submission, settings: Settings) -> ParsedMessage:
    """A letter, its postcode repaired only into one of the stock list's (casework.properties). The
    letters' PDF and OCR libraries (pymupdf, pytesseract, Pillow) are imported here, at the first letter
    read, not by every worker: they are the biggest import on the worker's path (tests/test_imports.py)."""
    from intake.scans.reading import read_letter_submission

    session = object_session(submission)
    known = known_postcodes(session) if session is not None else frozenset()
    return read_letter_submission(submission, settings, known)


def _read_contact(submission: Submission, settings: Settings) -> ParsedMessage:
    return read_contact(submission.raw)


def _read_web_form(submission: Submission, settings: Settings) -> ParsedMessage:
    """The residents' complaints form (/report), stored by triage.public_form as canonical JSON:
    ``{"form": "report", "language": "en"|"cy", "received_at": ISO, "fields": {name: value as posted,
    a list for repeated names}, "files": [{"filename", "content_type", "size", "sha256"}]}``; the
    files' bytes are the submission's Attachment rows. The sender is the email address given (None
    without one); what the classifier reads (``new_text``) is the description and the outcome wanted,
    with no subject, as for a letter; the whole text adds, for staff, the contact details and who wrote
    (a representative, councillor or MP)."""
    try:
        form = json.loads(submission.raw.decode("utf-8"))
        fields = dict(form["fields"])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise UnreadableSubmission(f"a web form that is not the JSON the complaints form writes: {exc}") from exc
    words = WEB_FORM_WORDS.get(form.get("language"), WEB_FORM_WORDS["en"])
    said = "\n\n".join(part for part in (_field(fields, "description"),
                                          _labelled(words["outcome"], _field(fields, "outcome"))) if part)
    email = _field(fields, "email").lower() or None
    return ParsedMessage(
        message_id=None, in_reply_to=None, references=(), sender=email, sender_name=_field(fields, "name") or None,
        reply_to=None, to=(), subject="",  # a form has no subject: the classifier reads only the resident's words
        date=_date(form.get("received_at")), text=f"{said}\n\n{_contact_block(fields)}", new_text=said,
        quoted_text="", signature="", headers=(), content_type="text/plain", return_path=None,
        attachments=tuple(ParsedAttachment(a.filename, a.content_type, a.size, a.data, a.truncated)
                          for a in submission.attachments),
        body_sha256=hashlib.sha256(said.encode()).hexdigest(),
    )


WEB_FORM_WORDS = {"en": {"outcome": "What I would like to happen:"},
                  "cy": {"outcome": "Beth hoffwn i ei weld yn digwydd:"}}
_CONTACT_LINES = (("name", "Name"), ("email", "Email"), ("phone", "Phone"), ("address", "Address"),
                  ("postcode", "Postcode"))
_WRITERS = {"representative": "a representative", "councillor": "a councillor", "mp": "an MP"}


def _field(fields: dict, name: str) -> str:
    value = fields.get(name)
    value = value[0] if isinstance(value, list) and value else value
    return (plain(value) or "").strip() if isinstance(value, str) else ""


def _labelled(label: str, text: str) -> str:
    return f"{label} {text}" if text else ""


def _contact_block(fields: dict) -> str:
    """What the form said about who wrote and how to reach them, for staff (never classified)."""
    lines = ["Sent with the website form."]
    lines += [f"{label}: {' '.join(_field(fields, name).split())}" for name, label in _CONTACT_LINES
              if _field(fields, name)]
    writer = _WRITERS.get(_field(fields, "on_behalf"))
    if writer:
        consent = "the resident agrees" if _field(fields, "consent") else "no consent given"
        lines.append(f"Written by {writer} for {_field(fields, 'resident_name') or 'a resident'} ({consent}).")
    return "\n".join(lines)


def _date(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


# One reader per Channel; a new kind of source adds one line here. An unknown kind is read as email.
READERS = {
    Channel.EMAIL: _read_email,
    Channel.LETTER: _read_letter,
    Channel.PHONE: _read_contact,
    Channel.IN_PERSON: _read_contact,
    Channel.WEB: _read_web_form,
}
# Channels whose files are Attachment rows before reading (the form's uploads, a letter's page images).
_READ_WITH_ATTACHMENTS = {Channel.LETTER, Channel.WEB}


def _store_attachments(submission: Submission, message: ParsedMessage) -> None:
    if submission.attachments:
        return  # already stored by an earlier attempt
    for part in message.attachments:
        submission.attachments.append(
            Attachment(
                filename=part.filename, content_type=part.content_type, size=part.size,
                data=part.data, truncated=part.truncated,
            )
        )
