"""What the case page shows, read in one session into plain values: the resident's reasonable adjustments
and language (the banner at the top), the messages in order, each classification, the clocks in words
with what met them and any extension, and the audit trail in the landlord's time zone. Words for the
vocabulary live in triage/words.py, once."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from casework.guards import find
from casework.models import Attachment, Case, CaseEvent, OutboxMessage, Submission
from casework.properties import same_home_cases
from casework.queries import case_view
from casework.vocabulary import (
    CLOSING_OUTCOMES, WINDOWS, Adjustment, CaseStatus, Category, Channel, EventAction, Flag, HazardStep, Language,
)
from pipeline.tiers import check_lines, urgent_rules
from triage.render import when
from triage.words import (
    ACTION_WORDS, ADJUSTMENT_WORDS, CATEGORY_WORDS, CHANNEL_WORDS, CHECK_STATE_WORDS, CHECK_WORDS, CLOCK_WORDS,
    LANGUAGE_WORDS, OUTCOME_WORDS, STEP_WORDS,
)

HAZARD_FLAGS = (Flag.EMERGENCY_HAZARD, Flag.DAMP_MOULD)

# The detail of an event worth a line in the trail, in this order; the rest stays in `intake case show --json`.
DETAIL_KEYS = ("category", "flags", "reason", "assignee", "previous", "adjustments", "outcome", "kind", "channel",
               "outbox_status", "subject", "days", "new_due", "other", "into", "duplicate", "new_case", "from_case",
               "step", "note", "previous_note", "language", "previous_language", "reasons", "handler", "window",
               "stage", "previous_reason", "previous_outcome", "error", "uprn", "how", "address_filled", "checks",
               "for_staff")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")



def case_page(session, reference: str, now: dt.datetime, zone: ZoneInfo) -> dict:
    """Everything the page shows, read in one session: plain values, nothing lazy."""
    base = case_view(session, reference)
    case = find(session, reference)
    events = list(case.events)
    return {
        **base, "confidence": case.confidence, "model_version": case.model_version, "subject": case.subject,
        "category_words": CATEGORY_WORDS.get(case.category, case.category),
        "hazard": any(flag in case.flags for flag in HAZARD_FLAGS),
        **_how_to_write(case),
        **_home(session, case),
        "messages": _messages(session, case),
        "classifications": [_classified(event) for event in events if event.action == EventAction.CLASSIFIED],
        **_two_tiers(case, events),
        "clocks": [_clock(clock, events, now) for clock in case.clocks],
        "trail": [_event(event, zone) for event in events],
    }


def _home(session, case: Case) -> dict:
    """The home (stock list) the case is about, and the other open cases about it, whatever their channel."""
    home = case.property
    return {"home": {"uprn": home.uprn, "address": home.lines} if home is not None else None,
            "same_home": [{"reference": other.reference, "category": CATEGORY_WORDS.get(other.category, other.category),
                           "status": other.status} for other in same_home_cases(session, case)]}


def _how_to_write(case: Case) -> dict:
    """The resident's adjustments in words (vocabulary order), the note as they gave it, the language."""
    chosen = list(case.adjustments or [])
    language = case.language or Language.ENGLISH.value
    return {"adjustments": chosen,
            "adjustment_words": [ADJUSTMENT_WORDS[item] for item in Adjustment if item.value in chosen],
            "adjustment_note": case.adjustment_note, "language": language,
            "language_words": LANGUAGE_WORDS[Language(language)],
            "call_the_resident": Adjustment.PHONE_CALL.value in chosen}


def _messages(session, case: Case) -> list[dict]:
    """The submissions and our outbox rows, oldest first, interleaved by time."""
    inbound = [{
        "direction": "in", "at": submission.received_at, "id": submission.id,
        "channel": CHANNEL_WORDS.get(submission.kind, submission.kind), "sender": submission.sender,
        "subject": submission.subject, "text": submission.extracted_text or "", "disposition": submission.disposition,
        "reason": submission.reason,
        "attachments": [_attachment(a, submission) for a in submission.attachments],
    } for submission in case.submissions]
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id).order_by(OutboxMessage.id))
    outbound = [{
        "direction": "out", "at": row.created_at, "id": row.id, "kind": row.kind.replace("_", " "),
        "channel": CHANNEL_WORDS.get(row.channel, row.channel),
        "to": row.to_address or ", ".join(row.postal_address or []), "subject": row.subject, "text": row.text_body,
        "status": row.status, "reason": row.reason, "sent_at": row.sent_at,
    } for row in rows]
    return sorted(inbound + outbound, key=lambda message: (message["at"], message["direction"] == "out"))


def _attachment(attachment: Attachment, submission: Submission) -> dict:
    page_image = (submission.kind == Channel.LETTER and attachment.content_type == "image/png"
                  and (attachment.filename or "").startswith("page-") and attachment.data is not None)
    return {"id": attachment.id, "filename": attachment.filename or f"attachment-{attachment.id}",
            "content_type": attachment.content_type, "size": attachment.size, "stored": attachment.data is not None,
            "truncated": attachment.truncated, "page": page_image}


def _classified(event: CaseEvent) -> dict:
    detail = event.detail or {}
    return {"at": event.at, "submission_id": event.submission_id, "category": detail.get("category"),
            "confidence": event.confidence, "model_version": event.model_version,
            "flags": detail.get("flags") or [], "explanation": detail.get("explanation") or [],
            "checks": detail.get("checks") or [],
            "rules": [{"rule_id": str(hit.get("rule_id", "")), "flag": str(hit.get("flag", "")),
                       "words": str(hit.get("words", ""))} for hit in detail.get("rules") or []]}


def _two_tiers(case: Case, events: list[CaseEvent]) -> dict:
    """The check markers (open, confirmed or dismissed; pipeline/tiers.py), the rules behind each urgent
    flag the case still has, and the lines the pipeline left for staff. The rules' words are the
    resident's: the template shows them as text."""
    checks = [{"flag": line.flag, "words": CHECK_WORDS.get(line.flag, line.flag.replace("_", " ")),
               "state": line.state, "state_words": CHECK_STATE_WORDS[line.state], "open": line.open,
               "rules": [{"rule_id": rule.rule_id, "words": rule.words} for rule in line.rules],
               "raised_at": line.raised_at, "by": line.by, "decided_at": line.decided_at}
              for line in check_lines(events)]
    flagged_by: dict[str, list[dict]] = {}
    for flag, rule in urgent_rules(events):
        if flag in case.flags and rule.rule_id not in {seen["rule_id"] for seen in flagged_by.get(flag, [])}:
            flagged_by.setdefault(flag, []).append({"rule_id": rule.rule_id, "words": rule.words})
    notes = [note for event in events if event.action == EventAction.CLASSIFIED
             for note in (event.detail or {}).get("for_staff") or []]
    return {"checks": checks, "open_checks": [check for check in checks if check["open"]],
            "flagged_by": flagged_by, "for_staff": notes}


def _clock(clock, events: list[CaseEvent], now: dt.datetime) -> dict:
    extensions = [event.detail for event in events
                  if event.action == EventAction.CLOCK_EXTENDED and (event.detail or {}).get("clock") == clock.kind]
    return {"kind": clock.kind, "words": CLOCK_WORDS.get(clock.kind, clock.kind.replace("_", " ")),
            "starts_at": clock.starts_at, "due_at": clock.due_at, "met_at": clock.met_at, "rule": clock.rule,
            "window": clock.kind in WINDOWS, "extended_by_days": clock.extended_by_days,
            "overdue": clock.met_at is None and clock.kind not in WINDOWS and clock.due_at < now,
            "met_late": clock.met_at is not None and clock.met_at > clock.due_at,
            "extensions": [{"days": e.get("days"), "reason": e.get("reason")} for e in extensions]}


def _event(event: CaseEvent, zone: ZoneInfo) -> dict:
    detail = event.detail or {}
    parts = [(key.replace("_", " "), _value(detail[key], zone)) for key in DETAIL_KEYS if detail.get(key) not in (None, "", [])]
    return {"at": event.at, "actor": event.actor, "action": event.action,
            "words": ACTION_WORDS.get(event.action, event.action.replace("_", " ")), "detail": parts}


def _value(value: Any, zone: ZoneInfo) -> str:
    """A detail value for people: lists joined, a stored moment written in the landlord's time zone."""
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {_plain(v)}" for k, v in value.items() if v not in (None, "", []))
    if isinstance(value, str) and ISO.match(value):
        try:
            return when(dt.datetime.fromisoformat(value), zone)
        except ValueError:
            return value
    return _plain(value)


def _plain(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def choices() -> dict:
    return {"categories": [(str(c), CATEGORY_WORDS[c]) for c in Category], "flag_choices": [str(f) for f in Flag],
            "outcomes": [(str(o), OUTCOME_WORDS[o]) for o in CLOSING_OUTCOMES],
            "steps": [(str(s), STEP_WORDS[s]) for s in HazardStep],
            "ack_channels": [(str(c), CHANNEL_WORDS[c]) for c in (Channel.PHONE, Channel.IN_PERSON, Channel.LETTER,
                                                                  Channel.EMAIL)],
            "statuses": CaseStatus,
            "adjustment_choices": [(str(a), ADJUSTMENT_WORDS[a]) for a in Adjustment],
            "languages": [(str(language), LANGUAGE_WORDS[language].partition(":")[0]) for language in Language]}
