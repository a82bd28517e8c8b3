"""Split what a writer wrote now from quoted history, signatures and legal disclaimers.

Rules, in order:
- A forward ("---------- Forwarded message ---------", "Begin forwarded message:", an Outlook
  header block whose Subject starts "FW:") is different from a reply: the forwarded content IS
  what the resident wants us to read. new_text is the forwarder's note, then the forward's
  header lines and the forwarded message's own new text. Only the forwarded message's quoted
  history goes to quoted_text; both signatures go to signature.
- A reply marker ("On ... wrote:" on one or two lines, "-----Original Message-----", a line of
  underscores before "From:", an Outlook "From:/Sent:/To:/Subject:" block) starts the quoted
  history. After an "On ... wrote:" followed by "> " lines, only the "> " lines are quoted, so a
  bottom-posted answer is still new text. Lines starting with ">" are always quoted.
- In what is left, a signature starts at "-- ", "Sent from my ...", "Get Outlook for ...", a
  legal disclaimer, or a closing ("Kind regards") followed by at most four short lines.
  Disclaimers go to signature too.
- If nothing is left as new text, new_text falls back to the whole text.

Bounded work (resident text is hostile input): every rule is a `_LineRule`, which reads at most the
first MAX_RULE_LINE characters of a line, and a rule that must reach the end of the line ("Kind
regards" alone on its line, a row of underscores) never matches a longer line: such a line is prose.
No pattern nests or chains quantifiers over the same characters (leading whitespace is taken
possessively, ``\\s*+``), so each line costs time in proportion to its length and a whole body in
proportion to its size: a line of 80,000 spaces takes milliseconds (it took two minutes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_RULE_LINE = 1000  # characters of a line the rules read; no marker, header or closing is longer


class _LineRule:
    """A pattern matched at the start of one line, on at most MAX_RULE_LINE characters of it.

    ``whole_line``: the pattern ends with ``$``, so it is tried only on a line short enough to read whole
    (matching a cut line there would wrongly find its end)."""

    def __init__(self, pattern: str, flags: int = 0, *, whole_line: bool = False):
        self._pattern = re.compile(pattern, flags)
        self._whole_line = whole_line

    def match(self, line: str) -> re.Match[str] | None:
        if len(line) > MAX_RULE_LINE:
            if self._whole_line:
                return None
            line = line[:MAX_RULE_LINE]
        return self._pattern.match(line)


@dataclass(frozen=True)
class Split:
    new_text: str
    quoted_text: str
    signature: str


_WROTE = r"(wrote|writes|a écrit|schrieb|escribió|ha scritto|skrev)\s*:\s*$"
_ATTRIBUTION = _LineRule(r"^\s*+(On|Le|Am|El|Il|På)\b.{0,300}?" + _WROTE, re.I, whole_line=True)
_ATTRIBUTION_START = _LineRule(r"^\s*+(On|Le|Am|El|Il|På)\s.*\d", re.I)
_WROTE_END = _LineRule(r".{0,200}" + _WROTE, re.I, whole_line=True)
_ORIGINAL = _LineRule(r"^\s*+-{2,}+\s*(Original Message|Reply message|Original message)\s*-{2,}+\s*$", re.I,
                      whole_line=True)
_UNDERSCORES = _LineRule(r"^\s*+_{20,}+\s*$", whole_line=True)
_FROM = _LineRule(r"^\s*+\*?From\s*:", re.I)
_HEADER = _LineRule(r"^\s*+\*?(From|Sent|Date|To|Cc|Subject)\s*:\*?\s*(.*)$", re.I)
_FORWARD = _LineRule(
    r"^\s*+(-{3,}+\s*Forwarded message\s*-{3,}|-{3,}+\s*Forwarded Message\s*-{3,}|Begin forwarded message:"
    r"|-{3,}+\s*Forwarded by .*)\s*$", re.I, whole_line=True)
_FW_SUBJECT = _LineRule(r"^\s*+\*?Subject\s*:\*?\s*(FW|Fwd)\s*:", re.I)
_SIG_DASHES = _LineRule(r"^--\s?$", whole_line=True)
_SIG_MOBILE = _LineRule(
    r"^\s*+(Sent from my \w+|Sent from (Outlook|Mail|Yahoo Mail|Samsung|my mobile)|Sent from .* for (Windows|iOS|Android)"
    r"|Get Outlook for (iOS|Android)|Sent via .*(mobile|phone|Android|iPhone)|Sent using .*)\b.{0,60}$", re.I,
    whole_line=True)
# "\s*+" then "\W*": the whitespace is taken once (a run of spaces split every way between \s* and \W*
# was the backtracking that made a line of 40,000 spaces take 27 s).
_DISCLAIMER = _LineRule(
    r"^\s*+(\W*DISCLAIMER\b|CONFIDENTIALITY (NOTICE|NOTE)|This (e-?mail|message|communication)\b.{0,80}\b"
    r"(is|are|may be|may contain|contains?)\b.{0,40}\b(confidential|privileged|intended (solely )?for)"
    r"|The information (contained )?in this (e-?mail|message)\b.{0,60}\bconfidential)", re.I)
_CLOSING = _LineRule(
    r"^\s*+(kind(est)? regards|warm(est)? regards|best regards|regards|many thanks|thanks( again)?|thank you"
    r"|yours sincerely|yours faithfully|sincerely|best wishes|all the best|best|cheers|with thanks|respectfully)"
    r"\s*[,.!]?\s*$", re.I, whole_line=True)
_QUOTE_MARK = re.compile(r"^\s*+> ?")
_BLANK_RUN = re.compile(r"\n{3,}")
MAX_CLOSING_LINES = 4
MAX_DEPTH = 20
SHORT_LINE = 60


def split_reply(text: str) -> Split:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    try:
        new, quoted, signature = _split_lines(lines)
    except RecursionError:  # thousands of nested forwards or interleaved quotes: keep it all
        return Split(text.strip(), "", "")
    new_text = _join(new)
    if not new_text and text.strip():
        new_text = text.strip()
    return Split(new_text, _join(quoted), _join(signature))


def _split_lines(lines: list[str], depth: int = 0) -> tuple[list[str], list[str], list[str]]:
    if depth > MAX_DEPTH:  # dozens of nested forwards or interleaved quotes: keep the rest as it is
        return lines, [], []
    forward = _find_forward(lines)
    reply = _find_reply_marker(lines)
    if forward is not None and (reply is None or forward <= reply):
        return _split_forward(lines, forward, depth)
    return _separate_quotes(lines, reply, depth)


# ---------------------------------------------------------------- quoted history


def _find_reply_marker(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if _is_reply_marker(lines, i):
            return i
    return None


def _is_reply_marker(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _ATTRIBUTION.match(line) or _ORIGINAL.match(line):
        return True
    if _ATTRIBUTION_START.match(line) and i + 1 < len(lines) and _WROTE_END.match(lines[i + 1]):
        return True
    if _UNDERSCORES.match(line):
        return _header_block_at(lines, _next_nonblank(lines, i + 1))
    return _header_block_at(lines, i)


def _header_block_at(lines: list[str], i: int | None) -> bool:
    """An Outlook-style "From: / Sent: / To: / Subject:" block starting at line i."""
    if i is None or not _FROM.match(lines[i]):
        return False
    names = {m.group(1).lower() for m in (_HEADER.match(x) for x in lines[i + 1 : i + 6]) if m}
    return bool(names & {"sent", "date"}) and bool(names & {"to", "subject"})


def _next_nonblank(lines: list[str], start: int) -> int | None:
    return next((j for j in range(start, min(len(lines), start + 4)) if lines[j].strip()), None)


def _separate_quotes(lines: list[str], marker: int | None, depth: int) -> tuple[list[str], list[str], list[str]]:
    """Before the marker, lines not starting with ">" are new (less any signature); the rest is history."""
    end = len(lines) if marker is None else marker
    new, signature = _cut_signature([x for x in lines[:end] if not _is_quoted(x)])
    quoted = [x for x in lines[:end] if _is_quoted(x)]
    if marker is None:
        return new, quoted, signature
    history_end = _end_of_angle_quote(lines, marker)
    quoted += lines[marker:history_end]
    if history_end < len(lines):  # a bottom-posted answer below "On ... wrote:" and "> " lines
        rest = lines[history_end:]
        more = _split_lines(rest, depth + 1)
        new, quoted, signature = new + [""] + more[0], quoted + more[1], signature + more[2]
    return new, quoted, signature


def _end_of_angle_quote(lines: list[str], marker: int) -> int:
    """Where history that starts at marker ends: at the end, unless it is an angle-quoted block."""
    if not (_ATTRIBUTION.match(lines[marker]) or _ATTRIBUTION_START.match(lines[marker])):
        return len(lines)
    start = marker + (1 if _ATTRIBUTION.match(lines[marker]) else 2)
    first = _next_nonblank(lines, start)
    if first is None or not _is_quoted(lines[first]):
        return len(lines)
    j = first
    while j < len(lines) and (_is_quoted(lines[j]) or not lines[j].strip()):
        j += 1
    return j


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


# ---------------------------------------------------------------- forwards


def _find_forward(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if _FORWARD.match(line):
            return i
        if (_UNDERSCORES.match(line) or _ORIGINAL.match(line)) and _is_fw_block(lines, i + 1):
            return i
    return None


def _is_fw_block(lines: list[str], start: int) -> bool:
    return any(_FW_SUBJECT.match(x) for x in lines[start : start + 7])


def _split_forward(lines: list[str], at: int, depth: int) -> tuple[list[str], list[str], list[str]]:
    note, note_quoted, note_sig = _split_lines(lines[:at], depth + 1)
    block = _unquote_once(lines[at + 1 :])
    header_end = _end_of_headers(block)
    inner_new, inner_quoted, inner_sig = _split_lines(block[header_end:], depth + 1)
    new = note + ([""] if note else []) + [lines[at]] + block[:header_end] + inner_new
    return new, note_quoted + inner_quoted, note_sig + inner_sig


def _unquote_once(block: list[str]) -> list[str]:
    """Apple Mail quotes a forward with "> ": take one level off when every line has it."""
    filled = [x for x in block if x.strip()]
    if not filled or not all(_is_quoted(x) for x in filled):
        return block
    return [_QUOTE_MARK.sub("", x, count=1) for x in block]


def _end_of_headers(block: list[str]) -> int:
    i = 0
    while i < len(block) and not block[i].strip():
        i += 1
    while i < len(block) and (_HEADER.match(block[i]) or (block[i][:1] in " \t" and block[i].strip())):
        i += 1
    return i


# ---------------------------------------------------------------- signatures and disclaimers


def _cut_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    for i, line in enumerate(lines):
        if _SIG_DASHES.match(line) or _SIG_MOBILE.match(line) or _DISCLAIMER.match(line):
            body, closing = _cut_closing(lines[:i])
            return body, closing + lines[i:]
    return _cut_closing(lines)


def _cut_closing(lines: list[str]) -> tuple[list[str], list[str]]:
    """A closing ("Kind regards") followed by at most a few short lines up to the end."""
    filled = [i for i, x in enumerate(lines) if x.strip()]
    for i in filled[-(MAX_CLOSING_LINES + 1) :]:
        if _CLOSING.match(lines[i]) and i != filled[0]:
            tail = [x for x in lines[i + 1 :] if x.strip()]
            if len(tail) <= MAX_CLOSING_LINES and all(len(x.strip()) <= SHORT_LINE for x in tail):
                return lines[:i], lines[i:]
    return lines, []


def _join(lines: list[str]) -> str:
    return _BLANK_RUN.sub("\n\n", "\n".join(x.rstrip() for x in lines)).strip()
