"""Is this mail machine-generated? Answer with a reason a person can read, or None.

Auto-replies, bounces, read receipts and list mail are stored but never acknowledged: answering
them is how mail loops start. Signals come from RFC 3834 and the headers real mail systems add;
a subject alone counts only for patterns no person writes at the start of a subject.
"""

from __future__ import annotations

import re
from typing import Callable, Collection

from intake.message import ParsedMessage

_AUTORESPONDER_HEADERS = ("x-autoreply", "x-autorespond", "x-autoreply-from", "x-mail-autoreply")
_BULK_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}
_SUPPRESS_TOKENS = {"all", "oof", "autoreply", "dr", "rn", "nrn"}
_SYSTEM_LOCAL = re.compile(r"^(mailer-daemon|postmaster)$|no-?reply|do-?not-?reply|dont-?reply", re.I)
_SYSTEM_NAME = re.compile(r"^mail delivery (system|subsystem)$", re.I)
_REPORT_PARTS = {"message/delivery-status", "message/disposition-notification"}
_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply\s*:|auto-?reply\s*:|autoreply\s*:|auto response\s*:"
    r"|out of (the )?office( autoreply| auto reply| reply)?\s*:|undeliverable\s*:"
    r"|undelivered mail returned to sender|delivery status notification \((failure|delay)\)"
    r"|mail delivery failed\s*:|returned mail\s*:|delivery failure\s*:|failure notice\s*$)",
    re.I,
)
_READ_SUBJECT = re.compile(r"^\s*(not )?read\s*:", re.I)
_READ_BODY = re.compile(r"\bwas read on\b|\bwas deleted without being read\b", re.I)


def detect_auto_reply(
    message: ParsedMessage,
    own_addresses: Collection[str] = (),
    is_own_message_id: Callable[[str], bool] = lambda _: False,
) -> str | None:
    """None for a person's mail, else the first signal found, e.g. "Auto-Submitted: auto-replied"."""
    checks = (
        _auto_submitted, _autoresponder_header, _precedence, _suppress, _loop, _mailing_list,
        _report, _failed_recipients, _null_return_path, _system_sender, _subject, _read_receipt,
    )
    for check in checks:
        reason = check(message)
        if reason:
            return reason
    return _ours(message, own_addresses, is_own_message_id)


def _auto_submitted(m: ParsedMessage) -> str | None:
    value = (m.header("auto-submitted") or "").strip()
    keyword = value.split(";")[0].strip().lower()
    return f"Auto-Submitted: {keyword}" if keyword and keyword != "no" else None


def _autoresponder_header(m: ParsedMessage) -> str | None:
    for name in _AUTORESPONDER_HEADERS:
        value = m.header(name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return f"{_title(name)} header present (autoresponder)"
    return None


def _precedence(m: ParsedMessage) -> str | None:
    value = (m.header("precedence") or "").strip().lower()
    return f"Precedence: {value}" if value in _BULK_PRECEDENCE else None


def _suppress(m: ParsedMessage) -> str | None:
    value = m.header("x-auto-response-suppress")
    tokens = {t.lower() for t in re.split(r"[\s,;]+", value or "") if t}
    found = sorted(tokens & _SUPPRESS_TOKENS)
    return f"X-Auto-Response-Suppress: {', '.join(found)}" if found else None


def _loop(m: ParsedMessage) -> str | None:
    return "X-Loop header present (mail loop guard)" if m.header("x-loop") is not None else None


def _mailing_list(m: ParsedMessage) -> str | None:
    for name in ("list-id", "list-unsubscribe"):
        if (m.header(name) or "").strip():
            return f"mailing list ({_title(name)} header)"
    return None


def _report(m: ParsedMessage) -> str | None:
    if m.content_type == "multipart/report":
        kind = _report_type(m) or "unknown"
        return f"multipart/report ({kind}): a delivery or read report"
    parts = {a.content_type for a in m.attachments} & _REPORT_PARTS
    return f"{sorted(parts)[0]} part: a delivery or read report" if parts else None


def _report_type(m: ParsedMessage) -> str | None:
    found = re.search(r"report-type\s*=\s*\"?([\w.-]+)", m.header("content-type") or "", re.I)
    return found.group(1).lower() if found else None


def _failed_recipients(m: ParsedMessage) -> str | None:
    return "X-Failed-Recipients header present (bounce)" if m.header("x-failed-recipients") else None


def _null_return_path(m: ParsedMessage) -> str | None:
    return "null Return-Path <> (sent by a mail system)" if m.return_path == "" else None


def _system_sender(m: ParsedMessage) -> str | None:
    local = (m.sender or "").rpartition("@")[0]
    if local and _SYSTEM_LOCAL.search(local):
        return f"sent from a system address ({local}@…)"
    if m.sender_name and _SYSTEM_NAME.match(m.sender_name.strip()):
        return f"sent by {m.sender_name.strip()}"
    return None


def _subject(m: ParsedMessage) -> str | None:
    found = _AUTO_SUBJECT.match(m.subject or "")
    return f"subject starts {found.group(1).strip()!r}" if found else None


def _read_receipt(m: ParsedMessage) -> str | None:
    if not _READ_SUBJECT.match(m.subject or ""):
        return None
    if _READ_BODY.search(m.text[:2000]):
        return "read receipt (Read: subject and receipt wording)"
    return None


def _ours(m: ParsedMessage, own: Collection[str], is_own_id: Callable[[str], bool]) -> str | None:
    if m.sender and m.sender.lower() in {a.strip().lower() for a in own}:
        return f"sent from our own address ({m.sender})"
    if m.message_id and is_own_id(m.message_id):
        return "Message-ID is one we sent: our own mail came back"
    return None


def _title(name: str) -> str:
    return "-".join(part.capitalize() if part != "id" else "Id" for part in name.split("-"))
