"""Turning a stored submission's bytes into a ParsedMessage, whatever kind of item it was."""

from __future__ import annotations

from casework.models import Attachment, Submission
from casework.vocabulary import Channel
from core.settings import Settings
from intake.contact import read_contact
from intake.message import ParsedMessage
from intake.parse import parse_message
from intake.scans.reading import read_letter_submission


def read_submission(submission: Submission, settings: Settings) -> ParsedMessage:
    """Raises UnreadableSubmission when the bytes cannot be read at all."""
    return READERS.get(submission.kind, _read_email)(submission, settings)


def _read_email(submission: Submission, settings: Settings) -> ParsedMessage:
    message = parse_message(submission.raw, settings.attachment_max_bytes)
    _store_attachments(submission, message)
    return message


def _read_contact(submission: Submission, settings: Settings) -> ParsedMessage:
    return read_contact(submission.raw)


# One reader per Channel; a new kind of source adds one line here.
READERS = {
    Channel.EMAIL: _read_email,
    Channel.LETTER: read_letter_submission,
    Channel.PHONE: _read_contact,
    Channel.IN_PERSON: _read_contact,
}


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
