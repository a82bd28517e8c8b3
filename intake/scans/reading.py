"""A letter's text as a ParsedMessage, so the pipeline treats post and email alike.

The source reads (and OCRs) each file before it is stored; the text arrives here as the
submission's ``extracted_text``. Only when it is missing (an older row, a re-run) are the raw bytes
read again. The facts found in the letter (postal address, postcode, phone, references, whether
the OCR was too poor to trust) are written into ``submission.details`` for the pipeline and staff.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path, PurePath
from typing import Collection

from core.errors import UnreadableSubmission
from casework.models import Attachment, Submission
from casework.references import References
from core.settings import Settings
from intake.scans.extract import LetterFacts, letter_facts
from intake.scans.ocr import DocumentText, decode_text, page_images, read_document
from intake.message import ParsedMessage

log = logging.getLogger(__name__)
DEFAULT_MIN_CONFIDENCE = 60.0

__all__ = ["decode_text", "letter_message", "read_letter_file", "read_letter_submission"]


def letter_message(text: str, facts: LetterFacts | None = None) -> ParsedMessage:
    """A ParsedMessage for letter text: no headers; the sender is the email address written in it."""
    if not text.strip():
        raise UnreadableSubmission("the letter has no readable text")
    return ParsedMessage(
        message_id=None, in_reply_to=None, references=(), sender=facts.email if facts else None,
        sender_name=facts.name if facts else None, reply_to=None, to=(), subject="", date=None,
        text=text, new_text=text, quoted_text="", signature="", headers=(), content_type="text/plain",
        return_path=None, body_sha256=hashlib.sha256(" ".join(text.split()).encode()).hexdigest(),
    )


def facts_for(text: str, settings: Settings, known_postcodes: Collection[str] = ()) -> LetterFacts:
    """``known_postcodes``: the stock list's, the only ones an OCR-damaged postcode may be repaired into."""
    landlord = settings.landlord
    return letter_facts(
        text, own_address=landlord.address, own_email=landlord.email, own_phone=landlord.phone,
        references=References(settings.references), known_postcodes=known_postcodes,
    )


def min_confidence(settings: Settings) -> float:
    return settings.letters.min_ocr_confidence if settings.letters else DEFAULT_MIN_CONFIDENCE


# -- a stored submission -------------------------------------------------------------------------


def read_letter_submission(submission: Submission, settings: Settings,
                           known_postcodes: Collection[str] = ()) -> ParsedMessage:
    """Raises UnreadableSubmission for a file the source could not read, or that has no text."""
    details = submission.details or {}
    if details.get("unreadable"):
        raise UnreadableSubmission(details["unreadable"])
    text, confidence = _text_of(submission, settings)
    facts = facts_for(text, settings, known_postcodes)
    low = confidence is not None and confidence < min_confidence(settings)
    submission.details = {**submission.details, **_fact_details(facts), "low_confidence": low}  # reassigned: SQLAlchemy sees it
    if low:
        _attach_page_images(submission)
    return letter_message(text, facts)


def _text_of(submission: Submission, settings: Settings) -> tuple[str, float | None]:
    details = submission.details or {}
    text = submission.extracted_text or details.get("text")
    if text:
        return text, details.get("ocr_confidence")
    languages = settings.letters.ocr_languages if settings.letters else "eng"
    document = read_document(submission.raw, _suffix(submission.filename), languages)
    submission.details = {**details, "ocr_confidence": document.confidence, "pages": document.pages}
    return document.text, document.confidence


def _suffix(filename: str | None) -> str:
    return PurePath(filename or "letter.txt").suffix or ".txt"


def _fact_details(facts: LetterFacts) -> dict:
    return {
        "postal_address": facts.postal_address, "postcode": facts.postcode, "phone": facts.phone,
        "letter_references": list(facts.references), "unsure_postcode": facts.unsure_postcode,
    }


def _attach_page_images(submission: Submission) -> None:
    """The pages as PNGs, so the person the letter is held for can read it themselves."""
    if any(a.filename and a.filename.startswith("page-") for a in submission.attachments):
        return  # stored by an earlier attempt
    try:
        images = page_images(submission.raw, _suffix(submission.filename))
    except UnreadableSubmission as exc:
        log.warning("submission %s: no page images: %s", submission.id, exc)
        return
    for number, png in enumerate(images, start=1):
        submission.attachments.append(
            Attachment(filename=f"page-{number}.png", content_type="image/png", size=len(png), data=png)
        )


# -- a file on disk (intake classify) ------------------------------------------------------------


def read_letter_file(path: Path, settings: Settings) -> tuple[ParsedMessage, list[str] | None]:
    """The message and the postal address found in it (None when there is none); OCR first."""
    document = read_file_text(path, settings)
    facts = facts_for(document.text, settings)
    return letter_message(document.text, facts), facts.postal_address


def read_file_text(path: Path, settings: Settings) -> DocumentText:
    languages = settings.letters.ocr_languages if settings.letters else "eng"
    return read_document(Path(path).read_bytes(), Path(path).suffix, languages)
