"""The words of categories.md and design.md as types, so there is one spelling of each."""

from __future__ import annotations

from enum import StrEnum


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


class AckKind(StrEnum):
    """Which acknowledgement template set a case gets."""

    COMPLAINT_STAGE1 = "complaint_stage1"
    COMPLAINT_STAGE2 = "complaint_stage2"
    SERVICE_REQUEST = "service_request"
    COMPLIMENT = "compliment"
    OUT_OF_SCOPE = "out_of_scope"
    NEUTRAL = "neutral"


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
    EMERGENCY_HAZARD = "emergency_hazard"
    DAMP_MOULD = "damp_mould"
