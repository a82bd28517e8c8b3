"""The app's words for the vocabulary, once: what a category, channel, clock, outcome, Awaab's Law
step, reasonable adjustment, language and audit action are called on every page."""

from __future__ import annotations

from casework.vocabulary import Adjustment, Category, Channel, ClockKind, EventAction, Flag, HazardStep, Language

CATEGORY_WORDS = {
    Category.COMPLAINT: "complaint", Category.SERVICE_REQUEST: "service request", Category.COMPLIMENT: "compliment",
    Category.OUT_OF_SCOPE: "out of scope",
}
CHANNEL_WORDS = {Channel.EMAIL: "email", Channel.LETTER: "letter", Channel.PHONE: "phone call",
                 Channel.IN_PERSON: "in person", Channel.WEB: "web form"}
ADJUSTMENT_WORDS = {
    Adjustment.LARGE_PRINT: "Large print letters", Adjustment.PHONE_CALL: "A phone call: call as well as writing",
    Adjustment.POST_ONLY: "Post, not email", Adjustment.INTERPRETER: "An interpreter or another language",
    Adjustment.OTHER: "Something else (see the note)",
}
LANGUAGE_WORDS = {Language.ENGLISH: "English", Language.WELSH: "Welsh (Cymraeg): we write in Welsh, then English"}
OUTCOME_WORDS = {"upheld": "upheld", "partly_upheld": "partly upheld", "not_upheld": "not upheld",
                 "resolved": "resolved", "withdrawn": "withdrawn", "merged": "merged"}
STEP_WORDS = {HazardStep.INVESTIGATED: "investigation concluded", HazardStep.SUMMARY_SENT: "written summary sent",
              HazardStep.MADE_SAFE: "made safe"}
CLOCK_WORDS = {
    ClockKind.ACK_STAGE1: "Stage 1 acknowledgement",
    ClockKind.RESPONSE_STAGE1: "Stage 1 response",
    ClockKind.ACK_STAGE2: "Stage 2 acknowledgement",
    ClockKind.RESPONSE_STAGE2: "Stage 2 response",
    ClockKind.EMERGENCY_HAZARD: "Emergency hazard: investigate and make safe (Awaab's Law)",
    ClockKind.DAMP_MOULD: "Damp and mould: investigate (Awaab's Law)",
    ClockKind.DAMP_MOULD_SUMMARY: "Damp and mould: written summary (Awaab's Law)",
    ClockKind.DAMP_MOULD_SAFE: "Damp and mould: make safe (Awaab's Law)",
    ClockKind.FRONTLINE: "Frontline step",
    ClockKind.ESCALATION_WINDOW: "Window for asking for stage 2",
    ClockKind.SATISFACTION_WINDOW: "Satisfaction window (the case then closes)",
}
ACTION_WORDS = {
    EventAction.CASE_OPENED: "case opened", EventAction.REPLY_RECEIVED: "resident's reply received",
    EventAction.AUTO_REPLY_RECEIVED: "automatic reply received", EventAction.CLASSIFIED: "classified",
    EventAction.SCANNING_LAG: "letter scanned late", EventAction.HELD_FOR_TRIAGE: "held for triage",
    EventAction.NO_ACKNOWLEDGEMENT: "nothing could be sent", EventAction.ACKNOWLEDGEMENT_QUEUED: "acknowledgement queued",
    EventAction.ACKNOWLEDGEMENT_SENT: "acknowledgement sent", EventAction.ACKNOWLEDGEMENT_FAILED: "sending failed",
    EventAction.LETTER_SENT_TO_PRINT: "letter sent to print", EventAction.NOTICE_QUEUED: "notice queued",
    EventAction.NOTICE_SENT: "notice sent", EventAction.REPLY_QUEUED: "reply to the resident queued",
    EventAction.CLOCK_OVERDUE: "clock overdue", EventAction.AUTO_CLOSED: "closed automatically",
    EventAction.ESCALATED: "escalated to stage 2", EventAction.RECATEGORISED: "became a complaint",
    EventAction.ASSIGNED: "assigned", EventAction.RECLASSIFIED: "reclassified", EventAction.RELEASED: "released",
    EventAction.ACKNOWLEDGED_OTHERWISE: "acknowledged another way", EventAction.CONTACT_LOGGED: "contact logged",
    EventAction.LINKED: "linked", EventAction.MERGED: "duplicate merged in", EventAction.MERGED_INTO: "merged into",
    EventAction.SPLIT: "split", EventAction.CLOCK_EXTENDED: "clock extended", EventAction.RESPONDED: "response recorded",
    EventAction.HAZARD_STEP: "Awaab's Law step", EventAction.CLOSED: "closed", EventAction.REOPENED: "reopened",
    EventAction.RERUN: "re-run requested", EventAction.ADJUSTMENTS_CHANGED: "adjustments or language changed",
    EventAction.OUTBOX_REQUEUED: "sending retried", EventAction.ACKNOWLEDGEMENT_AT_RISK: "acknowledgement at risk",
    EventAction.PROPERTY_SET: "home set", EventAction.LETTER_POSTED: "letter posted",
    EventAction.SUBJECT_ACCESS_EXPORTED: "subject access request exported",
}

# A check marker (the weaker tier of a safety flag, issue 13): what the line on the case calls it, and its state.
CHECK_WORDS = {Flag.SAFEGUARDING: "possible safeguarding concern", Flag.EMERGENCY_HAZARD: "possible emergency hazard",
               Flag.DAMP_MOULD: "possible damp or mould"}
CHECK_STATE_WORDS = {"open": "to check", "confirmed": "confirmed: now a flag", "dismissed": "dismissed"}
