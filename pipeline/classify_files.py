"""`intake classify --json`: what the pipeline would decide for a file, without storing anything."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings
from classifier.model import Classifier
from intake.autoreply import detect_auto_reply
from intake.message import ParsedMessage
from intake.parse import parse_message
from pipeline.process import reply_address
from responders.acknowledge import acknowledgement_label, choose_acknowledgement

LETTER_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}


def classify_file(path: Path, classifier: Classifier, settings: Settings) -> dict:
    """The exact form the CLI contract promises: path, category, confidence, flags, auto_reply,
    acknowledgement ("category", "neutral" or "none") and model_version."""
    message, answerable = _read(path, settings)
    auto_reply = detect_auto_reply(message, {settings.landlord.email.lower()}) if path.suffix.lower() == ".eml" else None
    result = classifier.classify(message.subject, message.new_text)
    kind = choose_acknowledgement(
        result.category, 1, confident=result.auto_acknowledge, auto_reply=bool(auto_reply), reply_address=answerable
    )
    return {
        "path": str(path),
        "category": result.category,
        "confidence": round(result.confidence, 4),
        "flags": sorted(result.flags | ({"auto_reply"} if auto_reply else set())),
        "auto_reply": bool(auto_reply),
        "acknowledgement": acknowledgement_label(kind),
        "model_version": result.model_version,
    }


def _read(path: Path, settings: Settings) -> tuple[ParsedMessage, str | None]:
    """The message, and where an answer would go (an address, or "post" for a letter)."""
    suffix = path.suffix.lower()
    if suffix == ".eml":
        message = parse_message(path.read_bytes(), settings.attachment_max_bytes)
        return message, reply_address(message)
    from intake.scans.reading import read_letter_file

    message, postal_address = read_letter_file(path, settings)
    return message, reply_address(message) or ("post" if postal_address or suffix == ".txt" else None)
