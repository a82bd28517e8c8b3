"""Which acknowledgement a message gets, once pipeline.decide has said whether it is held and where it
would go: the one place the kind is chosen."""

from __future__ import annotations

import re

from casework.vocabulary import AckKind, Category, Channel, Stage

_BY_CATEGORY = {
    Category.SERVICE_REQUEST: AckKind.SERVICE_REQUEST,
    Category.COMPLIMENT: AckKind.COMPLIMENT,
    Category.OUT_OF_SCOPE: AckKind.OUT_OF_SCOPE,
}
UNDERSTOOD_CHARS = 400
# Where a letter's body starts: its salutation, within the head of the page (the sender's address, phone
# number, date and our own address come before it). "Dear" with a capital, so "my dear mother" in a
# sentence is not taken for one; the salutation ends at its comma or the end of its line.
SALUTATION = re.compile(r"\b(?:Dear|DEAR|Annwyl|ANNWYL)\b[^,\n]{0,60}[,\n]")
CONCERN = re.compile(r"\bto whom it may concern\b[ \t]*[,:]?", re.IGNORECASE)
SIGN_OFF = re.compile(r"(?:^|\s)(?:Yours (?:sincerely|faithfully|truly)|Kind regards|Best regards|Yn gywir)\b",
                      re.IGNORECASE)
LETTER_HEAD_CHARS = 1500


def choose_acknowledgement(
    category: str, stage: int, *, confident: bool, auto_reply: bool, channel: Channel | None
) -> AckKind | None:
    """None when nobody can (no channel) or should (machine mail) be answered; neutral whenever the
    message is held for a person (``confident=False``); else the category's own."""
    if auto_reply or channel is None:
        return None
    if not confident:
        return AckKind.NEUTRAL
    if category == Category.COMPLAINT:
        return AckKind.COMPLAINT_STAGE2 if stage == Stage.TWO else AckKind.COMPLAINT_STAGE1
    return _BY_CATEGORY[Category(category)]


def acknowledgement_label(kind: AckKind | None) -> str:
    """The CLI's word for it: "category", "neutral" or "none"."""
    if kind is None:
        return "none"
    return "neutral" if kind == AckKind.NEUTRAL else "category"


def understood_excerpt(text: str, limit: int = UNDERSTOOD_CHARS) -> str:
    """A short excerpt of what the resident wrote, quoted back so they can correct us."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + " …"


def letter_body(text: str) -> str:
    """What a letter says, for quoting back: from after its salutation ("Dear …,") to before its sign-off
    ("Yours sincerely"). A letter with no salutation near its top is taken whole from its start; one with
    nothing between the two is taken whole too, so the excerpt is never empty when the letter is not."""
    head = text[:LETTER_HEAD_CHARS]
    found = [match for match in (SALUTATION.search(head), CONCERN.search(head)) if match is not None]
    start = min(match.end() for match in found) if found else 0
    body = text[start:]
    sign_off = SIGN_OFF.search(body)
    body = body[:sign_off.start()] if sign_off else body
    return body if body.strip() else text
