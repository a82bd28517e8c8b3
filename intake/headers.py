"""Header values as they were written, for the parser and the address reader alike."""

from __future__ import annotations

from email.message import Message

from text.decoding import guess_text


def raw_values(msg: Message, name: str) -> list[str]:
    """Header values as written: msg.get() would turn raw 8-bit bytes into replacement marks."""
    wanted = name.lower()
    return [raw_8bit(str(value)) for key, value in msg.raw_items() if str(key).lower() == wanted]


def raw_8bit(text: str) -> str:
    """compat32 keeps undecoded 8-bit header bytes as surrogates: decode them for real."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return guess_text(text.encode("utf-8", "surrogateescape"))
