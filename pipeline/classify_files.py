"""`intake classify --json`: what the pipeline would decide for a file, without storing anything.

The file is read the way a source's item would be, classified, and put through the pipeline's own
``decide`` as a new message received now; nothing is written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from casework.policy import Policy
from casework.vocabulary import Channel
from classifier.model import Classifier
from core.settings import Settings
from intake.autoreply import detect_auto_reply
from intake.message import ParsedMessage
from intake.parse import parse_message
from pipeline.decide import CaseFacts, decide, reply_address
from responders.acknowledge import acknowledgement_label

LETTER_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}


def classify_file(path: Path, classifier: Classifier, settings: Settings, *, policy: Policy | None = None,
                  received_at: dt.datetime | None = None) -> dict:
    """The exact form the CLI contract promises: path, category, confidence, flags, auto_reply,
    acknowledgement ("category", "neutral" or "none") and model_version. ``flags`` are the ones the
    case would get (ANONYMOUS and LATE decided as the pipeline does)."""
    message, facts = _read(path, settings, classifier.threshold, received_at or dt.datetime.now(dt.UTC))
    return describe(path, message, facts, classifier, policy or Policy(settings.policy))


def describe(path: Path, message: ParsedMessage, facts: CaseFacts, classifier: Classifier, policy: Policy) -> dict:
    result = classifier.classify(message.subject, message.new_text)
    decision = decide(message, result, facts, policy)
    return {
        "path": str(path),
        "category": result.category,
        "confidence": round(result.confidence, 4),
        "flags": sorted(decision.flags),
        "auto_reply": bool(facts.auto_reply),
        "acknowledgement": acknowledgement_label(decision.acknowledgement),
        "model_version": result.model_version,
    }


def _read(path: Path, settings: Settings, threshold: float, received_at: dt.datetime) -> tuple[ParsedMessage, CaseFacts]:
    """The message, and the facts a source would have given the pipeline about it."""
    suffix = path.suffix.lower()
    if suffix == ".eml":
        message = parse_message(path.read_bytes(), settings.attachment_max_bytes)
        auto_reply = detect_auto_reply(message, {settings.landlord.email.lower()})
        return message, CaseFacts(received_at=received_at, threshold=threshold, channel=Channel.EMAIL,
                                  reply_address=reply_address(message), auto_reply=auto_reply)
    from intake.scans.reading import facts_for, letter_message, min_confidence, read_file_text

    document = read_file_text(path, settings)
    letter = facts_for(document.text, settings)
    poor = document.confidence is not None and document.confidence < min_confidence(settings)
    message = letter_message(document.text, letter)
    # a .txt file is a letter's text: it is answered by post, as if the letter gave an address
    return message, CaseFacts(received_at=received_at, threshold=threshold, channel=Channel.LETTER,
                              reply_address=reply_address(message),
                              postal_address=bool(letter.postal_address) or suffix == ".txt",
                              poor_ocr=document.confidence if poor else None)
