"""Turning a stored submission's bytes into a ParsedMessage, whatever kind of item it was."""

from __future__ import annotations

from casework.models import Attachment, Submission
from core.settings import Settings
from intake.message import ParsedMessage
from intake.parse import parse_message


def read_submission(submission: Submission, settings: Settings) -> ParsedMessage:
    """Raises UnreadableSubmission when the bytes cannot be read at all."""
    if submission.kind == "letter":
        from intake.scans.reading import read_letter_submission

        return read_letter_submission(submission, settings)
    message = parse_message(submission.raw, settings.attachment_max_bytes)
    _store_attachments(submission, message)
    return message


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
