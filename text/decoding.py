"""Bytes and HTML to readable text, whatever the label on them says.

Residents' mail is often mislabelled: cp1252 sent as iso-8859-1 or us-ascii, 8-bit text with no
charset, charset names Python does not know. These helpers never raise on such input.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_LATIN1_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1", "cp819"}
_ASCII_LABELS = {"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us"}
_C1 = re.compile(rb"[\x80-\x9f]")
_NOT_IN_A_LABEL = re.compile(r"[^\x20-\x7e]")


# ---------------------------------------------------------------- text and charsets


def charset_label(label: str) -> str:
    """A charset label as written, with anything but printable ASCII escaped (NUL as ``\\x00``, a raw
    8-bit byte as ``\\udcff``), so junk in a label makes it an unknown charset, never an exception:
    Python's codec lookup raises ValueError for a NUL and UnicodeEncodeError for a surrogate, where the
    email package expects only LookupError. No codec's name holds a backslash, so an escaped label is
    never read as another charset (dropping the NUL from ``utf\\x00-8`` would have made it utf-8)."""
    return _NOT_IN_A_LABEL.sub(lambda found: ascii(found.group())[1:-1], label)


def decode_bytes(data: bytes, charset: str | None, defects: list[str] | None = None) -> str:
    """Decode bytes the way a person would expect, whatever the label says."""
    label = charset_label((charset or "").strip().strip("\"'").lower())
    if label in _LATIN1_LABELS or label in _ASCII_LABELS:
        if label in _ASCII_LABELS and not data.isascii():
            return guess_text(data)
        return _cp1252(data) if _C1.search(data) else data.decode("latin-1")
    if not label:
        return guess_text(data)
    try:
        return data.decode(label)
    except UnicodeError:
        note_defect(defects, f"text is not valid '{label}'; decoded as utf-8 or cp1252")
    except LookupError:  # junk in the label is escaped above: an unknown charset too
        note_defect(defects, f"unknown charset '{label}'; decoded as utf-8 or cp1252")
    return guess_text(data)


def guess_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _cp1252(data)


def _cp1252(data: bytes) -> str:
    # cp1252 leaves five bytes undefined; those keep their latin-1 meaning.
    return "".join(_cp1252_char(b) for b in data) if not _cp1252_ok(data) else data.decode("cp1252")


def _cp1252_ok(data: bytes) -> bool:
    return not any(b in data for b in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"))


def _cp1252_char(byte: int) -> str:
    return bytes([byte]).decode("cp1252", errors="ignore") or chr(byte)


def note_defect(defects: list[str] | None, text: str) -> None:
    if defects is not None and text not in defects:
        defects.append(text)


# ---------------------------------------------------------------- HTML to text


class _HtmlText(HTMLParser):
    """Readable text from HTML: no script/style, line breaks kept, blockquotes as "> "."""

    SKIP = {"script", "style", "head", "title", "template"}
    BLOCK = {"p", "div", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
             "blockquote", "pre", "hr", "section", "article", "header", "footer", "dd", "dt"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: list[str] = []
        self.skip = self.quote = self.pre = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
        elif tag == "br":
            self.flush(force=True)
        elif tag in self.BLOCK:
            self.flush()
            self.quote += tag == "blockquote"
            self.pre += tag == "pre"
            if tag == "li":
                self.line.append("- ")
        elif tag == "td":
            self.line.append(" ")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCK:
            self.flush()
            if tag == "p":
                self.lines.append(self.prefix())
            self.quote -= tag == "blockquote" and self.quote > 0
            self.pre -= tag == "pre" and self.pre > 0

    def handle_data(self, data):
        if self.skip:
            return
        if not self.pre:
            self.line.append(re.sub(r"\s+", " ", data.replace("\xa0", " ")))
            return
        first, *rest = data.split("\n")
        self.line.append(first)
        for piece in rest:
            self.flush(force=True)
            self.line.append(piece)

    def prefix(self) -> str:
        return "> " * self.quote

    def flush(self, force: bool = False):
        text = "".join(self.line).strip()
        if text or force:
            self.lines.append(self.prefix() + text)
        self.line = []

    def text(self) -> str:
        self.flush()
        joined = "\n".join(line.rstrip() for line in self.lines)
        return re.sub(r"\n{3,}", "\n\n", joined).strip()


def html_to_text(markup: str) -> str:
    """Convert HTML to readable plain text without a new dependency."""
    parser = _HtmlText()
    try:
        parser.feed(markup)
        parser.close()
        return parser.text()
    except Exception:  # html.parser has raised on broken markup before: strip tags instead
        stripped = re.sub(r"(?is)<(script|style)\b.*?</\1>|<[^>]+>", " ", markup)
        return html.unescape(stripped).strip()
