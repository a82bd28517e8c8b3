"""ParsedMessage: the typed result of parsing a submission's bytes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from casework.guards import plain
from casework.models import Attachment, Case, Submission


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
    address_problem: str | None = None  # why From/Reply-To name nobody to answer (intake/addresses.py)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]


# ---------------------------------------------------------------- cleaning at the boundary
#
# What we derive from a resident's bytes is stored in columns PostgreSQL is stricter about than SQLite:
# no NUL in text, no value longer than a String(n). So every ParsedMessage is cleaned once, by
# pipeline.read.read_submission, before anything is stored; the raw bytes are never touched. The
# rules, each in one place:
# - text (the body and its parts): casework.guards.plain (NUL and other control characters go,
#   lines and tabs stay), and unpaired surrogates become U+FFFD;
# - a line (subject, display name, file name, a header's value, a defect): the same, and every run of
#   whitespace, CR and LF included, becomes one space, so nothing we copy into a header can add one;
#   cut to its column's length with "…" at the end when it has one;
# - an identifier (an address, a Message-ID): kept exactly or not at all. One with a control character,
#   whitespace or more characters than its column is dropped, because cut or mended it would name
#   someone or something else.

MARKER = "…"
_SURROGATES = re.compile("[\ud800-\udfff]")
_WHITESPACE = re.compile(r"\s+")
_UNSAFE_IN_IDENTIFIER = re.compile(r"[\s\x00-\x1f\x7f]")


def _length(column) -> int:
    return column.type.length


def clean_text(value: str) -> str:
    """NUL and other control characters removed (lines and tabs kept); unpaired surrogates as U+FFFD."""
    return _SURROGATES.sub("\ufffd", plain(value))


def clean_line(value: str | None, length: int | None = None) -> str | None:
    """One line of text, at most ``length`` characters, ending in MARKER when it was cut."""
    if value is None:
        return None
    line = _WHITESPACE.sub(" ", clean_text(value)).strip()
    if length is not None and len(line) > length:
        return line[: length - len(MARKER)] + MARKER
    return line


def clean_identifier(value: str | None, length: int) -> str | None:
    """The identifier as written, or None when it has a control character, whitespace or is too long."""
    if value is None or _UNSAFE_IN_IDENTIFIER.search(value) or _SURROGATES.search(value) or len(value) > length:
        return None
    return value


def cleaned(message: ParsedMessage) -> ParsedMessage:
    """The message with every derived string fit for any backend's columns (see the rules above)."""
    address, message_id = _length(Submission.__table__.c.sender), _length(Submission.__table__.c.message_id)
    return replace(
        message,
        message_id=clean_identifier(message.message_id, message_id),
        in_reply_to=clean_identifier(message.in_reply_to, message_id),
        references=tuple(ref for ref in (clean_identifier(r, message_id) for r in message.references) if ref),
        sender=clean_identifier(message.sender, address),
        sender_name=clean_line(message.sender_name, _length(Case.__table__.c.resident_name)) or None,
        reply_to=clean_identifier(message.reply_to, address),
        address_problem=clean_line(message.address_problem),
        to=tuple(a for a in (clean_identifier(a, address) for a in message.to) if a),
        subject=clean_line(message.subject) or "",
        text=clean_text(message.text),
        new_text=clean_text(message.new_text),
        quoted_text=clean_text(message.quoted_text),
        signature=clean_text(message.signature),
        headers=tuple((clean_line(name), clean_line(value)) for name, value in message.headers),
        content_type=clean_line(message.content_type, _length(Attachment.__table__.c.content_type)),
        return_path=_clean_return_path(message.return_path, address),
        attachments=tuple(_cleaned_attachment(part) for part in message.attachments),
        defects=tuple(clean_line(defect) for defect in message.defects),
    )


def _clean_return_path(value: str | None, length: int) -> str | None:
    return "" if value == "" else clean_identifier(value, length)


def _cleaned_attachment(part: ParsedAttachment) -> ParsedAttachment:
    return replace(
        part,
        filename=clean_line(part.filename, _length(Attachment.__table__.c.filename)) or None,
        content_type=clean_line(part.content_type, _length(Attachment.__table__.c.content_type)),
    )
