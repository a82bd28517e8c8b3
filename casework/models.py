"""Storage: SQLAlchemy 2.0 typed models. Migrations in casework/migrations follow these."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from casework.vocabulary import CaseStatus, Disposition, OutboxStatus


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UtcDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Submission(Base):
    """One raw inbound item, stored byte for byte before anything else runs."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("source", "natural_key", name="uq_submission_source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # "email" or "letter"
    natural_key: Mapped[str] = mapped_column(String(500))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    raw_sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[dt.datetime]
    stored_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    dedupe_key: Mapped[str | None] = mapped_column(String(64), index=True)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    disposition: Mapped[str] = mapped_column(String(20), default=Disposition.PENDING, index=True)
    reason: Mapped[str | None] = mapped_column(Text)  # why held/discarded, readable by a person
    error: Mapped[str | None] = mapped_column(Text)  # the exception when failed
    attempts: Mapped[int] = mapped_column(default=0)
    # Processing runs started and never finished (each counted and committed before it starts; the
    # worker died): pipeline.runner sets the submission aside at [limits] set_aside_after_deaths.
    unfinished_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    started_at: Mapped[dt.datetime | None]  # the last start of processing (pipeline.runner._start)
    started_by: Mapped[str | None] = mapped_column(String(100))  # the worker (core.workers.worker_id) that started it
    processed_at: Mapped[dt.datetime | None]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    extracted_text: Mapped[str | None] = mapped_column(Text)  # OCR or parsed text, for re-runs and staff
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # OCR confidence, letter address …

    case: Mapped[Case | None] = relationship(back_populates="submissions")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="submission", cascade="all")


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    filename: Mapped[str | None] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    data: Mapped[bytes | None] = mapped_column(LargeBinary)  # None when over the size cap
    truncated: Mapped[bool] = mapped_column(default=False)

    submission: Mapped[Submission] = relationship(back_populates="attachments")


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    category: Mapped[str] = mapped_column(String(30))
    flags: Mapped[list[str]] = mapped_column(default=list)
    stage: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.OPEN, index=True)
    held_reason: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None]
    model_version: Mapped[str | None] = mapped_column(String(100))
    resident_email: Mapped[str | None] = mapped_column(String(320), index=True)
    resident_name: Mapped[str | None] = mapped_column(String(300))
    resident_address: Mapped[list[str] | None] = mapped_column(JSON)
    subject: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime]  # when it reached the landlord (not when we processed it)
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None]
    priority: Mapped[int] = mapped_column(default=0, index=True)  # higher is more urgent
    assignee: Mapped[str | None] = mapped_column(String(320), index=True)  # a staff login
    stage1_handler: Mapped[str | None] = mapped_column(String(320))  # who recorded the stage 1 response
    outcome: Mapped[str | None] = mapped_column(String(30))  # an Outcome, once closed
    closed_at: Mapped[dt.datetime | None]
    adjustments: Mapped[list[str]] = mapped_column(default=list)  # Adjustment values
    adjustment_note: Mapped[str | None] = mapped_column(Text)  # e.g. which language, what else helps
    language: Mapped[str | None] = mapped_column(String(8))  # a Language; None: English
    # Check markers (issue 13): every weaker-signal flag the classifier raised on this case (Flag values,
    # sorted) that was not an urgent flag. A check neither holds the case nor moves it up the queue; the
    # CLASSIFIED event that raised it names the rules that fired, and a person's later reclassification
    # confirms (the flag is set) or dismisses it (pipeline/tiers.py reads which).
    checks: Mapped[list[str]] = mapped_column(default=list, server_default="[]")

    submissions: Mapped[list[Submission]] = relationship(back_populates="case")
    clocks: Mapped[list[Clock]] = relationship(back_populates="case", cascade="all, delete-orphan", order_by="Clock.due_at")
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", cascade="all", order_by="CaseEvent.id")


class Clock(Base):
    """A deadline with the rule that set it."""

    __tablename__ = "clocks"
    __table_args__ = (UniqueConstraint("case_id", "kind", name="uq_clock_case_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    starts_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime]
    rule: Mapped[str] = mapped_column(Text)
    met_at: Mapped[dt.datetime | None]
    extended_by_days: Mapped[int] = mapped_column(default=0)  # working days added by agreed extensions

    case: Mapped[Case] = relationship(back_populates="clocks")


class CaseEvent(Base):
    """The audit trail: who or what did what, when."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # when it happened (a person may give an earlier date)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # when it was written down here
    actor: Mapped[str] = mapped_column(String(320))  # an Actor ("system", "classifier") or a staff login
    action: Mapped[str] = mapped_column(String(50))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    model_version: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[float | None]

    case: Mapped[Case] = relationship(back_populates="events")


class CaseLink(Base):
    """Two cases that belong together: related, one merged into the other, or split from one message."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("case_id", "other_case_id", name="uq_case_link_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    other_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # a LinkKind, read from case_id towards other_case_id
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320))


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),
                      Index("ix_outbox_mailbox_created", "mailbox", "created_at"),
                      Index("ix_outbox_status_recorded", "status", "delivery_recorded_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    kind: Mapped[str] = mapped_column(String(30))  # an AckKind
    channel: Mapped[str] = mapped_column(String(10), default="email")  # "email" or "letter"
    to_address: Mapped[str | None] = mapped_column(String(320), index=True)
    # to_address's mailbox (responders.outbox.canonical_address), set with it: the per-sender cap's key
    mailbox: Mapped[str | None] = mapped_column(String(320))
    postal_address: Mapped[list[str] | None] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)  # stable across retries
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.QUEUED)
    reason: Mapped[str | None] = mapped_column(Text)  # why suppressed or failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    # When the case heard of the delivery (responders.sender.record_delivery): a sent row without it
    # is recorded by the next sender run, so a death between the two loses nothing
    delivery_recorded_at: Mapped[dt.datetime | None]
    at_risk_since: Mapped[dt.datetime | None]  # still unsent as its case's clock neared; staff were alerted
    # Claims found stale (the sender died mid-send): each may have reached the resident already
    possible_resends: Mapped[int] = mapped_column(default=0, server_default="0")
    # A letter (channel "letter") once printed: when the post room posted it and who recorded that
    posted_at: Mapped[dt.datetime | None]
    posted_by: Mapped[str | None] = mapped_column(String(320))


class ReferenceCounter(Base):
    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class SourceCheckpoint(Base):
    """Where a source got to, e.g. an IMAP folder's UIDVALIDITY and last UID seen."""

    __tablename__ = "source_checkpoints"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Lease(Base):
    """A job only one worker may run at a time (polling one source, the clocks, the print batch): which
    worker holds it and until when. Invariant: it is taken, renewed and taken over only by one atomic
    statement each (casework/leases.py), so two workers never both believe they hold it."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)  # "source:<name>", "clocks", "print-batch"
    holder: Mapped[str] = mapped_column(String(100))  # core.workers.worker_id(): host:pid
    acquired_at: Mapped[dt.datetime]  # when this holder took it
    renewed_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]  # renewed_at + [workers] lease_seconds: after this, any worker may take it


class LabelCorrection(Base):
    """A staff member's corrected category and flags for a message, used to retrain the classifier."""

    __tablename__ = "label_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    text: Mapped[str] = mapped_column(Text)  # what the resident wrote now (quoted history split off)
    subject: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(30))
    flags: Mapped[list[str]] = mapped_column(default=list)
    corrected_by: Mapped[str] = mapped_column(String(100))
    corrected_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    previous_category: Mapped[str | None] = mapped_column(String(30))
    previous_flags: Mapped[list[str] | None] = mapped_column(JSON)


class User(Base):
    """A person who signs in to the staff app; their email is their login and their name in the audit trail."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, never the password
    role: Mapped[str] = mapped_column(String(20))  # a Role
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[dt.datetime | None]


class WebSession(Base):
    """A signed-in browser. Only the token's SHA-256 is stored; deleting the row signs it out at once."""

    __tablename__ = "web_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """Every sign-in attempt, kept to slow down guessing and for the record."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    client: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    succeeded: Mapped[bool] = mapped_column(default=False)


class SourceHealth(Base):
    """Each source's last poll as the worker saw it, so the staff app (another process) can show it."""

    __tablename__ = "source_health"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_poll_at: Mapped[dt.datetime | None]
    last_success_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None]


class TemplateVersion(Base):
    """A manager's saved version of one template file. The newest version of a path wins over the file
    shipped in ``templates/`` (which stays the default); versions are never changed or deleted, so any
    can be viewed, compared and restored (a restore is a new version naming the one it copied)."""

    __tablename__ = "template_versions"
    __table_args__ = (Index("ix_template_versions_path_id", "path", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(200))  # relative to templates/, e.g. "email/neutral/body.txt"
    source: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[str] = mapped_column(String(320))  # a staff login
    saved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    restored_from: Mapped[int | None]  # the version this one restored, if it is a restore


class PublicAttempt(Base):
    """A use of a public page (the complaints form, the status page) by one client address, kept to
    rate-limit abuse; holds no personal data beyond the address, and can be pruned after a day."""

    __tablename__ = "public_attempts"
    __table_args__ = (Index("ix_public_attempts_page_client_at", "page", "client", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(String(20))  # "report" or "status"
    client: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    succeeded: Mapped[bool] = mapped_column(default=False)


class ReportCommentary(Base):
    """A manager's commentary and self-assessment for one year's annual complaints performance and
    service improvement report. Every save is a new row, never changed or deleted; the newest row of a
    year is the one the report prints, and the rows before it are its history."""

    __tablename__ = "report_commentaries"
    __table_args__ = (Index("ix_report_commentaries_year_id", "year", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]  # the financial year by its first calendar year: 2025 is April 2025 to March 2026
    text: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[str] = mapped_column(String(320))  # a staff login
    saved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Property(Base):
    """One of the landlord's homes, from the stock list (``intake stock import``). The UPRN is the key
    a re-import updates by; the postcode is stored normalised ("NM1 2AB") so a letter's matches it."""

    __tablename__ = "properties"

    id: Mapped[int] = mapped_column(primary_key=True)
    uprn: Mapped[str] = mapped_column(String(20), unique=True)
    address_1: Mapped[str] = mapped_column(String(200))
    address_2: Mapped[str | None] = mapped_column(String(200))
    address_3: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(10), index=True)
    tenancy_ref: Mapped[str | None] = mapped_column(String(50), index=True)
    tenant_names: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def lines(self) -> list[str]:
        """The address as it is written on an envelope, postcode last."""
        return [line for line in (self.address_1, self.address_2, self.address_3, self.town, self.postcode) if line]


# The home a case is about (pipeline/process.py sets it; staff correct it with Casework.set_property).
Case.property_id = mapped_column(ForeignKey("properties.id"), index=True, nullable=True)
Case.property = relationship(Property, foreign_keys=[Case.property_id])
