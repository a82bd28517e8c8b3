"""Which acknowledgement a message gets: the one place this rule lives."""

from __future__ import annotations

from casework.vocabulary import AckKind, Category

_BY_CATEGORY = {
    Category.SERVICE_REQUEST: AckKind.SERVICE_REQUEST,
    Category.COMPLIMENT: AckKind.COMPLIMENT,
    Category.OUT_OF_SCOPE: AckKind.OUT_OF_SCOPE,
}
UNDERSTOOD_CHARS = 400


def choose_acknowledgement(
    category: str, stage: int, *, confident: bool, auto_reply: bool, reply_address: str | None
) -> AckKind | None:
    """None when nobody can or should be answered; neutral whenever the machine is unsure."""
    if auto_reply or not reply_address:
        return None
    if not confident:
        return AckKind.NEUTRAL
    if category == Category.COMPLAINT:
        return AckKind.COMPLAINT_STAGE2 if stage == 2 else AckKind.COMPLAINT_STAGE1
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
