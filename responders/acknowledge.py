"""Which acknowledgement a message gets, once pipeline.decide has said whether it is held and where it
would go: the one place the kind is chosen."""

from __future__ import annotations

from casework.vocabulary import AckKind, Category, Channel, Stage

_BY_CATEGORY = {
    Category.SERVICE_REQUEST: AckKind.SERVICE_REQUEST,
    Category.COMPLIMENT: AckKind.COMPLIMENT,
    Category.OUT_OF_SCOPE: AckKind.OUT_OF_SCOPE,
}
UNDERSTOOD_CHARS = 400


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
