"""ParsedMessage: the typed result of parsing a submission's bytes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str | None
    content_type: str
    size: int
    data: bytes | None  # None when the part was over the size cap
    truncated: bool = False


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str | None  # without angle brackets
    in_reply_to: str | None  # without angle brackets
    references: tuple[str, ...]  # without angle brackets, oldest first
    sender: str | None  # lower-cased address from From
    sender_name: str | None
    reply_to: str | None
    to: tuple[str, ...]
    subject: str
    date: dt.datetime | None  # aware, from the Date header when it parses
    text: str  # the whole body as plain text (HTML converted)
    new_text: str  # what the writer wrote now: without quoted history, signature, disclaimer
    quoted_text: str
    signature: str
    headers: tuple[tuple[str, str], ...]  # (lower-case name, decoded value), in order
    content_type: str  # of the top-level part, e.g. "multipart/report"
    return_path: str | None  # None when absent; "" for the null path <>
    attachments: tuple[ParsedAttachment, ...] = ()
    defects: tuple[str, ...] = ()  # what was wrong with the MIME, for staff
    body_sha256: str = ""  # of text, for dedupe

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]
