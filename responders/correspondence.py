"""Correspondence: what we write to a resident about a case, turned into an outbox row.

The pipeline (acknowledgements) and the staff verbs (release, extension notices, a person's reply) all come here, so
the channel rule lives once (``reply_channel``): email when the case has an address we can write to, a
printed letter when it has only a postal address, and nothing otherwise (the case records why). The
resident's reasonable adjustments (``case.adjustments``) are honoured here, for every message alike:
* POST_ONLY: a letter even when an email address is known; with no postal address, nothing, and the
  case records that a person must tell them another way;
* LARGE_PRINT: the letter is printed in the large layout (decided by the printer, ``post.layout_for``);
* PHONE_CALL: the written message still goes (it is the record of the reference, the dates and the
  Ombudsman's details the Code asks for), and its event on the case says to call the resident too;
* INTERPRETER, OTHER: shown to staff on the case page; nothing changes automatically.
A Welsh case (``case.language``) is written to from the Welsh templates. Rows are added in the caller's
transaction; the sender and printer deliver them and tell ``casework.lifecycle``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import lifecycle
from casework.lifecycle import COMPLAINT_ACKS
from casework.models import Case, Clock, OutboxMessage, utcnow
from casework.policy import Policy
from casework.vocabulary import (
    RESPONSE_CLOCKS, AckKind, Actor, Adjustment, Channel, EventAction, OutboxStatus, Stage,
)
from core.settings import Settings
from responders.acknowledge import understood_excerpt
from responders.outbox import CAP_REASON, enqueue
from responders.post import enqueue_letter, letter_context, render_letter
from responders.render import RenderedMessage, TemplateSet, acknowledgement_context, extension_context

LIVE = (OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.SENT)
NO_ADDRESS = "no address to reply to"
POST_BUT_NO_ADDRESS = "resident asked for post but no postal address: tell them another way"
CALL_THE_RESIDENT = "the resident asked for a phone call: call them as well"


@dataclass
class Correspondence:
    settings: Settings
    templates: TemplateSet
    policy: Policy

    def acknowledge(
        self, session: Session, case: Case, kind: AckKind, *, submission_id: int | None, resident_text: str,
        in_reply_to: str | None = None, references: Sequence[str] = (), actor: str = Actor.SYSTEM,
        now: dt.datetime | None = None,
    ) -> OutboxMessage | None:
        """Queue this acknowledgement by the case's channel; None (and an event) when there is none."""
        now = now or utcnow()
        channel = channel_for(case)
        if channel is None:
            lifecycle.record(case, actor, EventAction.NO_ACKNOWLEDGEMENT, at=now, reason=why_no_channel(case))
            return None
        context = self._context(case, resident_text, channel, now)
        row = self._queue(session, case, kind, channel, context, submission_id, in_reply_to, references, now)
        promised = self._response_due(case, now) if kind in COMPLAINT_ACKS else None
        lifecycle.record(case, actor, EventAction.ACKNOWLEDGEMENT_QUEUED, at=now, kind=str(kind), channel=row.channel,
                         outbox_status=row.status, promised_response_due=promised, **call_note(case))
        return row

    def notify_extension(
        self, session: Session, case: Case, clock: Clock, previous_due: dt.datetime, reason: str, *, actor: str,
        now: dt.datetime | None = None,
    ) -> OutboxMessage | None:
        """Queue the extension notice the Code requires: the new date, why, and the Ombudsman's details."""
        zone = self.policy.calendar.zone
        return self._follow_on(session, case, AckKind.EXTENSION, EventAction.NOTICE_QUEUED, actor, now or utcnow(),
                               lambda channel, at: extension_context(self._context(case, "", channel, at), previous_due,
                                                                     clock.due_at, reason, zone))

    def reply(
        self, session: Session, case: Case, text: str, *, actor: str, now: dt.datetime | None = None,
    ) -> OutboxMessage | None:
        """Queue a person's own words to the resident (the ``reply`` template set). It is a person's
        deliberate answer, not an automatic acknowledgement, so the per-sender daily cap does not hold
        it back."""
        row = self._follow_on(session, case, AckKind.REPLY, EventAction.REPLY_QUEUED, actor, now or utcnow(),
                              lambda channel, at: self.reply_context(case, text, channel, at))
        if row is not None and row.status == OutboxStatus.SUPPRESSED and row.reason == CAP_REASON:
            row.status, row.reason = OutboxStatus.QUEUED, None
        return row

    def _follow_on(self, session: Session, case: Case, kind: AckKind, action: EventAction, actor: str,
                   now: dt.datetime, context_for) -> OutboxMessage | None:
        """A message after the acknowledgement, by the case's channel, threaded under the resident's first
        message; with no channel, an event says a person must tell the resident another way."""
        channel = channel_for(case)
        if channel is None:
            reason = (POST_BUT_NO_ADDRESS if asked_for_post(case)
                      else f"no address to send the {kind.value} to: tell the resident another way")
            lifecycle.record(case, actor, EventAction.NO_ACKNOWLEDGEMENT, at=now, kind=kind.value, reason=reason)
            return None
        first = _first_message_id(session, case)
        row = self._queue(session, case, kind, channel, context_for(channel, now), None, first,
                          [first] if first else [], now)
        lifecycle.record(case, actor, action, at=now, kind=kind.value, channel=row.channel, outbox_status=row.status,
                         subject=row.subject, **call_note(case))
        return row

    def channel(self, case: Case) -> Channel | None:
        """Where a message to this case's resident goes now (the channel rule); None: nowhere."""
        return channel_for(case)

    def why_no_channel(self, case: Case) -> str:
        return why_no_channel(case)

    def render_reply(self, case: Case, text: str, now: dt.datetime | None = None) -> tuple[Channel | None, RenderedMessage]:
        """The reply exactly as ``reply`` would queue it now (for a preview): its channel (None: nowhere
        to send it) and the rendered email, or the letter when the case has only a postal address."""
        now = now or utcnow()
        channel = channel_for(case)
        context = self.reply_context(case, text, channel or Channel.EMAIL, now)
        if channel == Channel.LETTER:
            return channel, render_letter(self.templates, AckKind.REPLY, context)
        return channel, self.templates.render(AckKind.REPLY, context)

    def reply_context(self, case: Case, text: str, channel: Channel, now: dt.datetime) -> dict:
        return {**self._context(case, "", channel, now), "reply_text": text}

    def _queue(self, session, case, kind, channel, context, submission_id, in_reply_to, references, now):
        if channel == Channel.EMAIL:
            rendered = self.templates.render(kind, context)
            return enqueue(
                session, case=case, submission_id=submission_id, kind=kind, to_address=case.resident_email,
                rendered=rendered, in_reply_to=in_reply_to, references=references, settings=self.settings.outbox,
                domain=self.domain, now=now,
            )
        rendered = render_letter(self.templates, kind, context)
        return enqueue_letter(
            session, case=case, submission_id=submission_id, kind=kind, postal_address=case.resident_address,
            rendered=rendered, domain=self.domain, now=now,
        )

    def preview_context(self, case: Case, channel: Channel, resident_text: str = "",
                        now: dt.datetime | None = None) -> dict:
        """The context a message about this case would be rendered with now on ``channel``, for the template
        editor's preview against a real case; nothing is queued or recorded."""
        return self._context(case, resident_text, channel, now or utcnow())

    def _context(self, case: Case, resident_text: str, channel: Channel, now: dt.datetime) -> dict:
        """The template context; a complaint's response date is projected from now until the
        acknowledgement is sent and starts the real clock (``lifecycle.acknowledged``)."""
        clocks = {clock.kind: clock.due_at for clock in case.clocks}
        clocks[RESPONSE_CLOCKS[Stage(case.stage)]] = self._response_due(case, now)
        if channel == Channel.EMAIL:
            return acknowledgement_context(case, self.settings.landlord, clocks, understood_excerpt(resident_text),
                                           self.policy.calendar.zone)
        return letter_context(case, self.settings.landlord, clocks, resident_text, self.policy.calendar.zone)

    def _response_due(self, case: Case, now: dt.datetime) -> dt.datetime:
        """The response date a message sent now gives: the running clock's, else projected from now (the
        acknowledgement starts the real clock when it is sent, never later than this date)."""
        running = next((c.due_at for c in case.clocks if c.kind == RESPONSE_CLOCKS[Stage(case.stage)]), None)
        return running or self.policy.response_clock(Stage(case.stage), case.received_at, now).due_at

    @property
    def domain(self) -> str:
        return self.settings.landlord.email.rpartition("@")[2]


def channel_for(case: Case) -> Channel | None:
    return reply_channel(case.resident_email, bool(case.resident_address), case.adjustments or ())


def reply_channel(email: str | None, has_postal_address: bool, adjustments: Sequence[str] = ()) -> Channel | None:
    """The one channel rule: email when we have an address, post when we only have a postal address,
    else none (the case then records that nothing could be sent). A resident who asked for post
    (``Adjustment.POST_ONLY``) gets a letter even when we know their email address, and nothing when we
    have no postal address."""
    if Adjustment.POST_ONLY in adjustments:
        return Channel.LETTER if has_postal_address else None
    if email:
        return Channel.EMAIL
    if has_postal_address:
        return Channel.LETTER
    return None


def asked_for_post(case: Case) -> bool:
    return Adjustment.POST_ONLY in (case.adjustments or ())


def why_no_channel(case: Case) -> str:
    """Why nothing can be sent to this case's resident, in words for the case's trail."""
    return POST_BUT_NO_ADDRESS if asked_for_post(case) else NO_ADDRESS


def call_note(case: Case) -> dict[str, str]:
    """For a resident who asked for a phone call: the note, on the event of what we wrote, that says to
    call them as well (an empty dict for everyone else, so their events stay as they were)."""
    return {"note": CALL_THE_RESIDENT} if Adjustment.PHONE_CALL in (case.adjustments or ()) else {}


def already_acknowledged(session: Session, case: Case, kind: AckKind) -> bool:
    """True when an acknowledgement of this kind is queued, on its way or sent for the case."""
    query = select(OutboxMessage.id).where(
        OutboxMessage.case_id == case.id, OutboxMessage.kind == AckKind(kind).value,
        OutboxMessage.status.in_([status.value for status in LIVE]),
    )
    return session.scalar(query.limit(1)) is not None


def _first_message_id(session: Session, case: Case) -> str | None:
    """The resident's first message on the case, so a notice threads under it in their mail client."""
    return next((submission.message_id for submission in case.submissions if submission.message_id), None)
