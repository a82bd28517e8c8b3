"""Turn a submission's raw bytes into a ParsedMessage.

The standard library's email package builds the MIME tree (compat32, which keeps a mislabelled
resident's bytes as written) and reports its defects; the rest (headers, addresses, dates) is read
here, because a resident's mail must be read even when it is mislabelled. mail-parser is not used:
it re-folds every header of a forwarded message, quadratic in the header's length (a 60 KB 8-bit
header took 108 s). Nothing here raises except UnreadableSubmission for input with nothing in it.

What this returns is not yet fit for a database (it may hold NUL, or values longer than a column):
``intake.message.cleaned`` does that, once, in ``pipeline.read.read_submission``.
"""

from __future__ import annotations

import datetime as dt
import email
import email.feedparser
import email.message
import email.utils
import hashlib
import re
from email.message import Message

from core.errors import UnreadableSubmission
from intake.addresses import read_addresses
from intake.headers import raw_8bit, raw_values
from intake.message import ParsedAttachment, ParsedMessage
from text.quoting import split_reply
from text.decoding import charset_label, note_defect, decode_bytes, guess_text, html_to_text

MAX_DEPTH = 40
MAX_DEFECTS = 50  # defects kept for staff: enough to see what was wrong
FEED_CHUNK = 64 * 1024  # bytes given to the MIME parser at a time
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)\s+(=\?)")
_MSGID = re.compile(r"<([^<>\s]+)>")


# ---------------------------------------------------------------- headers


def decode_header(value: str | None, defects: list[str] | None = None) -> str:
    """Unfold a header and decode RFC 2047 words and raw 8-bit bytes."""
    if value is None:
        return ""
    text = raw_8bit(str(value))
    text = re.sub(r"\r?\n[ \t]*", " ", text)
    text = _BETWEEN_WORDS.sub(r"\1\2", text)
    return _ENCODED_WORD.sub(lambda m: _decode_word(m, defects), text).strip()


def _decode_word(match: re.Match, defects: list[str] | None) -> str:
    charset, encoding, payload = match.group(1).split("*")[0], match.group(2).upper(), match.group(3)
    try:
        if encoding == "B":
            data = email.base64mime.decode(payload + "=" * (-len(payload) % 4))
        else:
            data = email.quoprimime.header_decode(payload).encode("latin-1")
    except (ValueError, UnicodeError):
        note_defect(defects, "a header has a broken encoded word; kept as written")
        return match.group(0)
    return decode_bytes(data, charset, defects)


def _headers(msg: Message, defects: list[str]) -> tuple[tuple[str, str], ...]:
    return tuple((str(k).lower(), decode_header(v, defects)) for k, v in msg.raw_items())


def _raw_header(msg: Message, name: str) -> str | None:
    return next(iter(raw_values(msg, name)), None)


def _addresses(msg: Message, name: str, defects: list[str]) -> list[tuple[str, str]]:
    try:
        pairs = email.utils.getaddresses(raw_values(msg, name))
    except Exception:  # the stdlib's address parser has raised on hostile input before
        note_defect(defects, f"the {name} header could not be parsed")
        return []
    return [(decode_header(n, defects), a.strip().lower()) for n, a in pairs if "@" in a]


def _message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    found = _MSGID.findall(value)
    return found or value.split()[:1]


def _date(msg: Message, defects: list[str]) -> dt.datetime | None:
    value = _raw_header(msg, "Date")
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        note_defect(defects, "the Date header could not be read")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _return_path(msg: Message) -> str | None:
    value = _raw_header(msg, "Return-Path")
    if value is None:
        return None
    found = re.search(r"<([^<>]*)>", value)
    return (found.group(1) if found else value).strip().lower()


# ---------------------------------------------------------------- body and attachments


class _Body:
    def __init__(self, cap: int, defects: list[str]):
        self.cap, self.defects = cap, defects
        self.texts: list[str] = []
        self.attachments: list[ParsedAttachment] = []

    def visit(self, part: Message, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            note_defect(self.defects, "MIME parts nested too deeply; the rest was not read")
        elif part.get_content_maintype() == "multipart" and isinstance(part.get_payload(), list):
            self._multipart(part, depth)
        elif part.get_content_maintype() == "multipart":  # no parts found: read it as plain text
            self._text(part)
        elif _is_body_text(part):
            self._text(part)
        else:
            self._attachment(part)

    def _multipart(self, part: Message, depth: int) -> None:
        children = part.get_payload()
        if part.get_content_subtype() != "alternative":
            for child in children:
                self.visit(child, depth + 1)
            return
        chosen = _preferred_alternative(children)
        for child in children:
            sub = _Body(self.cap, self.defects)
            sub.visit(child, depth + 1)
            self.attachments.extend(sub.attachments)
            if child is chosen:
                self.texts.extend(sub.texts)

    def _text(self, part: Message) -> None:
        data = _payload(part, self.defects)
        text = decode_bytes(data, part.get_content_charset(), self.defects)
        if part.get_content_subtype() == "html":
            text = html_to_text(text)
        if text.strip():
            self.texts.append(text.replace("\r\n", "\n").replace("\r", "\n"))

    def _attachment(self, part: Message) -> None:
        """Recorded with its bytes, or, over the cap, with its size and no bytes. An over-cap part is
        never decoded: its size is read from what the parser holds (``_size_unread``)."""
        size = _size_unread(part)
        data = None if size is not None and size > self.cap else _payload(part, self.defects)
        size = len(data) if data is not None else size
        over = size > self.cap
        self.attachments.append(
            ParsedAttachment(
                filename=_filename(part, self.defects),
                content_type=part.get_content_type(),
                size=size,
                data=None if over else data,
                truncated=over,
            )
        )


def _is_body_text(part: Message) -> bool:
    if part.get_content_type() not in ("text/plain", "text/html"):
        return False
    return part.get_content_disposition() != "attachment" and not part.get_param("filename", header="content-disposition") and not part.get_param("name")


def _preferred_alternative(children: list[Message]) -> Message | None:
    """Plain text beats HTML (it is what the writer typed); otherwise the richest part."""
    for child in children:
        if child.get_content_type() == "text/plain" and _payload(child, None).strip():
            return child
    return children[-1] if children else None


def _payload(part: Message, defects: list[str] | None) -> bytes:
    if part.get_content_type() == "message/rfc822" or part.is_multipart():
        return _message_bytes(part)
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: keep what is there
        note_defect(defects, f"{part.get_content_type()} part has a broken transfer encoding")
        data = str(part.get_payload()).encode("utf-8", "surrogateescape")
    return data if isinstance(data, bytes) else b""


_BASE64_NOT_DATA = ("\r", "\n", " ", "\t", "=")  # what a well-formed base64 body holds besides its data


def _size_unread(part: Message) -> int | None:
    """A part's decoded size without decoding it, or None when only decoding can tell (quoted-printable,
    uuencode). Base64: 3 bytes for every 4 characters of data, exact for a well-formed body (counted
    with str.count, no copy); 7bit, 8bit, binary: its length; a forwarded message or a multipart
    attachment: the characters of its headers and bodies as parsed (its size as written, give or take
    line endings). This is what lets a 30 MB attachment pass the cap without its 40 MB of base64 being
    copied, split into lines, joined and decoded (about 200 MB)."""
    if part.is_multipart() or part.get_content_type() == "message/rfc822":
        return _tree_chars(part)
    payload = _undecoded(part)
    if not isinstance(payload, str):
        return None
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding == "base64":
        return (len(payload) - sum(payload.count(c) for c in _BASE64_NOT_DATA)) * 3 // 4
    return len(payload) if encoding in ("", "7bit", "8bit", "binary") else None


def _tree_chars(part: Message) -> int:
    """Characters in a part's headers and bodies as parsed, walked without recursion (the tree may be deep)."""
    total, stack = 0, [part]
    while stack:
        node = stack.pop()
        total += sum(len(str(name)) + len(str(value)) + 4 for name, value in node.raw_items())
        payload = _undecoded(node)
        if isinstance(payload, list):
            stack.extend(child for child in payload if isinstance(child, Message))
        elif isinstance(payload, str):
            total += len(payload)
    return total


def _undecoded(part: Message) -> str | list | None:
    """The body as the parser holds it (a str, or a list of parts). ``get_payload()`` would decode a
    body holding raw 8-bit bytes with its charset: a copy, and a charset lookup."""
    return part._payload  # noqa: SLF001 - compat32's attribute; the public accessor copies


def _message_bytes(part: Message) -> bytes:
    inner = part.get_payload()
    inner = inner[0] if isinstance(inner, list) and len(inner) == 1 else inner
    try:
        return inner.as_bytes() if isinstance(inner, Message) else str(inner).encode("utf-8", "surrogateescape")
    except Exception:
        pass
    try:
        return str(part).encode("utf-8", "surrogateescape")
    except Exception:  # RecursionError on a deep forwarded chain: the part's bytes are in the raw message
        return b""


def _filename(part: Message, defects: list[str]) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name and "\ufffd" in name:  # raw 8-bit in the header: compat32 replaced it, read it ourselves
        name = _raw_filename(part) or name
    return decode_header(str(name), defects) or None if name else None


def _raw_filename(part: Message) -> str | None:
    for key, value in part.raw_items():
        if key.lower() in ("content-disposition", "content-type"):
            found = re.search(r'\b(?:file)?name\s*=\s*"?([^";\r\n]+)', raw_8bit(str(value)), re.I)
            if found:
                return found.group(1).strip()
    return None


# ---------------------------------------------------------------- the whole message


def parse_message(raw: bytes, attachment_max_bytes: int = 10 * 1024 * 1024) -> ParsedMessage:
    """Parse as best we can; record what was wrong in defects instead of raising."""
    if not raw or not raw.strip():
        raise UnreadableSubmission("the submission is empty")
    defects: list[str] = []
    msg = _mime_tree(raw, defects)
    if msg is None:
        return _unstructured(raw, defects)
    if not msg.keys() and not _payload_present(msg):
        raise UnreadableSubmission("the submission has no headers and no body")
    return _build(msg, attachment_max_bytes, defects)


class _Part(Message):
    """compat32's Message, except that every charset label it reads is usable or unknown, never an
    exception: a Content-Type ``charset`` and the charset of an RFC 2231 value (``name*=x%00y''…``)
    pass through ``text.decoding.charset_label``, and an RFC 2231 ``charset*=`` is read as the plain
    label it names. The email package decodes with these labels in get_payload, get_content_charset
    and get_filename, and catches only LookupError (a NUL in a label raised ValueError, a raw 8-bit
    byte UnicodeEncodeError, an RFC 2231 charset TypeError). ``_get_params_preserve`` is the one
    method every parameter is read through (get_param and get_params). When its RFC 2231 decoding
    raises (``name*=`` beside ``name*0*=`` is a TypeError), the parameters are read as written."""

    def _get_params_preserve(self, failobj, header):
        try:
            params = super()._get_params_preserve(failobj, header)
        except Exception:  # noqa: BLE001 - the stdlib's RFC 2231 decoding on broken continuations
            params = _params_as_written(self.get(header))
        return params if params is failobj else [(name, _usable_param(name, value)) for name, value in params]


def _params_as_written(value) -> list[tuple[str, str]]:
    """The header's ``name=value`` pieces, undecoded: an RFC 2231 name keeps its ``*``, so it is not found."""
    pieces = (piece.split("=", 1) if "=" in piece else [piece, ""] for piece in email.message._parseparam(str(value)))
    return [(name.strip(), text.strip()) for name, text in pieces]


def _usable_param(name: str, value: str | tuple) -> str | tuple:
    if isinstance(value, tuple):  # RFC 2231: (charset, language, value)
        charset, language, text = value
        value = (charset_label(charset) if charset else charset, language, text)
        if name.lower() != "charset":
            return value
        value = email.utils.collapse_rfc2231_value(value)
    return charset_label(value) if name.lower() == "charset" else value


def _mime_tree(raw: bytes, defects: list[str]) -> Message | None:
    """The MIME tree, fed to the parser in chunks: ``email.message_from_bytes`` would first decode the
    whole message into one str and copy that into a StringIO (4 bytes a character): 210 MB for 42 MB."""
    try:
        msg = _feed(raw)
    except Exception as exc:  # RecursionError on very deep nesting, among others: read it as text
        note_defect(defects, f"the MIME structure could not be parsed ({type(exc).__name__})")
        return None
    for defect in _mime_defects(msg):
        note_defect(defects, defect)
    return msg


def _feed(raw: bytes) -> Message:
    parser = email.feedparser.BytesFeedParser(_factory=_Part)
    for start in range(0, len(raw), FEED_CHUNK):
        parser.feed(raw[start:start + FEED_CHUNK])
    return parser.close()


def _mime_defects(msg: Message) -> list[str]:
    """What the parser found wrong, part by part, as "content/type: DefectClass: what it means";
    no deeper than MAX_DEPTH and at most MAX_DEFECTS of them."""
    found: list[str] = []
    stack = [(msg, 0)]
    while stack and len(found) < MAX_DEFECTS:
        part, depth = stack.pop()
        found.extend(f"{part.get_content_type()}: {type(d).__name__}: {(d.__doc__ or '').strip()}"[:200]
                     for d in part.defects)
        if depth < MAX_DEPTH and part.is_multipart():  # get_payload() of a leaf would decode it: a copy
            stack.extend((child, depth + 1) for child in reversed(part.get_payload()) if isinstance(child, Message))
    return list(dict.fromkeys(found))[:MAX_DEFECTS]


def _payload_present(msg: Message) -> bool:
    payload = msg.get_payload()
    return bool(payload.strip()) if isinstance(payload, str) else bool(payload)


def _build(msg: Message, cap: int, defects: list[str]) -> ParsedMessage:
    body = _Body(cap, defects)
    body.visit(msg)
    text = "\n\n".join(t.strip("\n") for t in body.texts)
    addresses = read_addresses(msg)
    split = split_reply(text)
    return ParsedMessage(
        message_id=(_message_ids(_raw_header(msg, "Message-ID")) or [None])[0],
        in_reply_to=(_message_ids(_raw_header(msg, "In-Reply-To")) or [None])[0],
        references=tuple(_message_ids(_raw_header(msg, "References"))),
        sender=addresses.sender,
        sender_name=addresses.sender_name,
        reply_to=addresses.reply_to,
        address_problem=addresses.problem,
        to=tuple(a for _, a in _addresses(msg, "To", defects)),
        subject=decode_header(_raw_header(msg, "Subject"), defects),
        date=_date(msg, defects),
        text=text,
        new_text=split.new_text,
        quoted_text=split.quoted_text,
        signature=split.signature,
        headers=_headers(msg, defects),
        content_type=msg.get_content_type(),
        return_path=_return_path(msg),
        attachments=tuple(body.attachments),
        defects=tuple(defects),
        body_sha256=body_hash(text),
    )


def _unstructured(raw: bytes, defects: list[str]) -> ParsedMessage:
    text = guess_text(raw)
    split = split_reply(text)
    return ParsedMessage(
        message_id=None, in_reply_to=None, references=(), sender=None, sender_name=None,
        reply_to=None, to=(), subject="", date=None, text=text, new_text=split.new_text,
        quoted_text=split.quoted_text, signature=split.signature, headers=(),
        content_type="text/plain", return_path=None, defects=tuple(defects),
        body_sha256=body_hash(text),
    )


def body_hash(text: str) -> str:
    """SHA-256 of the text with all whitespace collapsed, so re-wrapping does not change it."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()
