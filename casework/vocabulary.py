"""The words of categories.md and design.md as types, so there is one spelling of each."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Category(StrEnum):
    COMPLAINT = "complaint"
    SERVICE_REQUEST = "service_request"
    COMPLIMENT = "compliment"
    OUT_OF_SCOPE = "out_of_scope"


class Flag(StrEnum):
    SAFEGUARDING = "safeguarding"
    EMERGENCY_HAZARD = "emergency_hazard"
    DAMP_MOULD = "damp_mould"
    ESCALATION_REQUEST = "escalation_request"
    AUTO_REPLY = "auto_reply"
    REPRESENTATIVE = "representative"
    ANONYMOUS = "anonymous"
    LATE = "late"


class Disposition(StrEnum):
    """How a submission's trip through the pipeline ended."""

    PENDING = "pending"  # stored, not yet (or not successfully) processed
    ACCEPTED = "accepted"
    HELD = "held"  # held for triage: a person decides
    DISCARDED = "discarded"  # stored, never answered (auto-replies, duplicates, spam)
    FAILED = "failed"  # an exception: stored with its error, re-runnable


class CaseStatus(StrEnum):
    OPEN = "open"
    HELD = "held"  # waiting in the triage queue for a person
    CLOSED = "closed"


class Stage(IntEnum):
    """The Code has exactly two stages; there is no stage 0 or informal stage."""

    ONE = 1
    TWO = 2


class Channel(StrEnum):
    """How something reached us (a submission's kind) or goes out (an outbox row's channel)."""

    EMAIL = "email"
    LETTER = "letter"  # a scanned letter in, a printed letter out
    PHONE = "phone"  # a contact logged by staff
    IN_PERSON = "in_person"  # a contact logged by staff
    WEB = "web"  # the public complaints form (/report)


LOGGED_CHANNELS = (Channel.PHONE, Channel.IN_PERSON)


class Outcome(StrEnum):
    """How a case was closed. MERGED is set only by a merge, never offered to `close`."""

    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    NOT_UPHELD = "not_upheld"
    RESOLVED = "resolved"  # resolved at the frontline
    WITHDRAWN = "withdrawn"
    MERGED = "merged"


CLOSING_OUTCOMES = tuple(outcome for outcome in Outcome if outcome != Outcome.MERGED)


class LinkKind(StrEnum):
    RELATED = "related"
    DUPLICATE = "duplicate"  # merged into the other case
    SPLIT = "split"  # one message made into two cases


class Actor(StrEnum):
    """The machine's actors in the audit trail; a person acts under their login (an email address)."""

    SYSTEM = "system"
    CLASSIFIER = "classifier"


class EventAction(StrEnum):
    """Every action the audit trail records, by the worker or by a person."""

    # the worker
    CASE_OPENED = "case_opened"
    REPLY_RECEIVED = "reply_received"
    AUTO_REPLY_RECEIVED = "auto_reply_received"
    CLASSIFIED = "classified"
    SCANNING_LAG = "scanning_lag"
    HELD_FOR_TRIAGE = "held_for_triage"
    NO_ACKNOWLEDGEMENT = "no_acknowledgement"
    ACKNOWLEDGEMENT_QUEUED = "acknowledgement_queued"
    ACKNOWLEDGEMENT_SENT = "acknowledgement_sent"
    ACKNOWLEDGEMENT_FAILED = "acknowledgement_failed"
    ACKNOWLEDGEMENT_AT_RISK = "acknowledgement_at_risk"  # still not sent as its clock nears: staff alerted
    LETTER_SENT_TO_PRINT = "letter_sent_to_print"
    NOTICE_QUEUED = "notice_queued"
    NOTICE_SENT = "notice_sent"
    REPLY_QUEUED = "reply_queued"  # a person's reply to the resident, queued in the outbox
    CLOCK_OVERDUE = "clock_overdue"
    AUTO_CLOSED = "auto_closed"
    # the worker or a person
    ESCALATED = "escalated_to_stage_2"
    RECATEGORISED = "recategorised"
    PROPERTY_SET = "property_set"  # the home the case is about (stock list), matched or corrected
    # a person
    ASSIGNED = "assigned"
    RECLASSIFIED = "reclassified"
    RELEASED = "released"
    ACKNOWLEDGED_OTHERWISE = "acknowledged_otherwise"
    CONTACT_LOGGED = "contact_logged"
    LINKED = "linked"
    MERGED = "merged"
    MERGED_INTO = "merged_into"
    SPLIT = "split"
    CLOCK_EXTENDED = "clock_extended"
    RESPONDED = "responded"
    HAZARD_STEP = "hazard_step"
    CLOSED = "closed"
    REOPENED = "reopened"
    RERUN = "rerun_requested"
    OUTBOX_REQUEUED = "outbox_requeued"
    ADJUSTMENTS_CHANGED = "adjustments_changed"  # the resident's reasonable adjustments, set or changed
    LETTER_POSTED = "letter_posted"  # a printed letter recorded as posted by the post room
    SUBJECT_ACCESS_EXPORTED = "subject_access_exported"  # what is held about the resident, exported for a SAR


class Adjustment(StrEnum):
    """A reasonable adjustment a resident asks for (on the form, or told to staff); replies honour them."""

    LARGE_PRINT = "large_print"  # letters printed in large print
    PHONE_CALL = "phone_call"  # a call instead of letters
    POST_ONLY = "post_only"  # letters, no email
    INTERPRETER = "interpreter"  # another language (which one: the case's adjustment note)
    OTHER = "other"  # described in the case's adjustment note


class Language(StrEnum):
    """The language a resident is answered in; Welsh only where the landlord switches it on."""

    ENGLISH = "en"
    WELSH = "cy"


class HazardStep(StrEnum):
    """Awaab's Law steps a person records: each meets a clock, and the investigation starts two more."""

    INVESTIGATED = "investigated"
    SUMMARY_SENT = "summary_sent"
    MADE_SAFE = "made_safe"


class AckKind(StrEnum):
    """Which template set an outgoing message uses (acknowledgements, and the extension notice)."""

    COMPLAINT_STAGE1 = "complaint_stage1"
    COMPLAINT_STAGE2 = "complaint_stage2"
    SERVICE_REQUEST = "service_request"
    COMPLIMENT = "compliment"
    OUT_OF_SCOPE = "out_of_scope"
    NEUTRAL = "neutral"
    EXTENSION = "extension"  # a clock was extended: the new date, why, and the Ombudsman's details
    REPLY = "reply"  # a person's own words to the resident (``reply_text``), sent from the case page


# What meets an acknowledgement clock when it is delivered: not the extension notice, nor a person's reply.
ACKNOWLEDGEMENTS = tuple(kind for kind in AckKind if kind not in (AckKind.EXTENSION, AckKind.REPLY))
# A confirmed category's acknowledgement (a complaint's depends on its stage).
ACK_BY_CATEGORY = {
    Category.SERVICE_REQUEST: AckKind.SERVICE_REQUEST,
    Category.COMPLIMENT: AckKind.COMPLIMENT,
    Category.OUT_OF_SCOPE: AckKind.OUT_OF_SCOPE,
}


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a sender
    SENT = "sent"
    FAILED = "failed"  # permanent failure, shown to staff
    SUPPRESSED = "suppressed"  # not sent by rule (e.g. per-sender daily cap)


class ClockKind(StrEnum):
    ACK_STAGE1 = "ack_stage1"
    RESPONSE_STAGE1 = "response_stage1"
    ACK_STAGE2 = "ack_stage2"
    RESPONSE_STAGE2 = "response_stage2"
    EMERGENCY_HAZARD = "emergency_hazard"  # Awaab's Law: investigate and make safe
    DAMP_MOULD = "damp_mould"  # Awaab's Law: investigate
    DAMP_MOULD_SUMMARY = "damp_mould_summary"  # written summary after the investigation concludes
    DAMP_MOULD_SAFE = "damp_mould_safe"  # made safe after the investigation concludes
    FRONTLINE = "frontline"  # a landlord's frontline step before stage 1 registration (breaches the Code)
    ESCALATION_WINDOW = "escalation_window"  # the landlord's window for asking for stage 2
    SATISFACTION_WINDOW = "satisfaction_window"  # after it, the case closes by itself


RESPONSE_CLOCKS = {Stage.ONE: ClockKind.RESPONSE_STAGE1, Stage.TWO: ClockKind.RESPONSE_STAGE2}
ACK_CLOCKS = {Stage.ONE: ClockKind.ACK_STAGE1, Stage.TWO: ClockKind.ACK_STAGE2}
# Windows are not deadlines the landlord can miss: they are never "overdue".
WINDOWS = (ClockKind.ESCALATION_WINDOW, ClockKind.SATISFACTION_WINDOW)


class Role(StrEnum):
    """What a person may do in the staff app; each role may do everything the roles before it may."""

    STAFF = "staff"  # work cases
    MANAGER = "manager"  # also templates and figures
    ADMIN = "admin"  # also people and settings views


ROLE_ORDER = (Role.STAFF, Role.MANAGER, Role.ADMIN)
