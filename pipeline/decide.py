"""The decision: hold a message for a person or not, and how to acknowledge it. One pure function.

``decide(message, classification, facts, policy) -> Decision`` is used by the pipeline (which then acts
on it: opens or moves the case, holds it for each reason, starts clocks, queues the acknowledgement) and
by ``intake classify --json`` (which prints it). Nothing here touches the database.

A new message is held for each rule in NEW_MESSAGE_HOLDS that gives a reason (the idiom of
intake/autoreply.py: small named checks, each a reason or None). It gets the category's
acknowledgement only when nothing holds it, the neutral one when something does, and none when its
words read like machine mail, its headers say so, or there is nowhere to write to.

Safety flags come in two tiers (classifier.Classification): an urgent flag (``flags``) is the case's
flag (safeguarding holds it and tops the queue; an emergency hazard or damp and mould starts its Awaab's
Law clock); a check (``checks``) is a weaker signal that becomes a line on the case for staff
(``Decision.checks``) and neither holds it nor moves it up the queue — except a safeguarding check on a
message the classifier calls out of scope, which holds: categories.md forbids an automatic "out of
scope" reply to a safeguarding concern. (A hazard or damp check there stays a line for staff: measured
through the worker, none of 11 such checks on 770 messages was a real hazard.)

Some things a person should see do not need the resident kept waiting: they are lines for staff
(``Decision.for_staff``, each in NEW_MESSAGE_NOTES) on a case that is acknowledged as usual. A request
to escalate that matches no case is one when the message is a confident complaint: the Code has no
stage 0, so the resident gets the stage 1 complaint acknowledgement and staff look for the earlier
case. A complaint that may be outside the time limit still holds: whether it is accepted is a person's
decision, and the stage 1 acknowledgement would log it and promise a response date the landlord may
refuse, so it gets the neutral acknowledgement (reference, "a member of our team will contact you")
until a person releases it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Callable

from casework.policy import Policy
from casework.vocabulary import AckKind, Category, Channel, Flag, Stage
from classifier import Classification
from classifier.rules import issue_date_in, may_acknowledge_by_category
from classifier.text import prepare
from intake.message import ParsedMessage
from responders.acknowledge import choose_acknowledgement
from responders.correspondence import reply_channel
from responders.outbox import can_reply_to

ADDRESS_TO_CONFIRM = "address to confirm"
SAFETY_FLAGS = frozenset({Flag.SAFEGUARDING, Flag.EMERGENCY_HAZARD, Flag.DAMP_MOULD})
_DECIDED_HERE = frozenset({Flag.ANONYMOUS, Flag.LATE})  # facts about the submission and the policy, not the words


class FollowUp(StrEnum):
    """What a message on an existing case does to it (categories.md rule 3)."""

    NONE = "none"  # added to the case; nothing changes, nothing is sent
    ESCALATE = "escalate"  # stage 2
    COMPLAINT = "complaint"  # the case becomes a stage 1 complaint
    UNSURE = "unsure"  # may ask to escalate or complain: a person decides


@dataclass(frozen=True)
class MatchedCase:
    """The existing case a follow-up belongs to, as it was before this message."""

    category: str
    stage: int
    held: bool = False  # already in the triage queue


@dataclass(frozen=True)
class CaseFacts:
    """What the pipeline knows about a message apart from its words."""

    received_at: dt.datetime
    threshold: float  # the classifier's confidence threshold (Classifier.threshold)
    channel: Channel = Channel.EMAIL  # how it reached us (the submission's kind)
    reply_address: str | None = None  # an email address we can write to (for a follow-up: the case's)
    postal_address: bool = False  # a postal address is known (for a follow-up: the case's)
    phone: bool = False  # a phone number was given (the complaints form): the resident can be identified
    representative: bool = False  # someone wrote for the resident and said so (the complaints form)
    auto_reply: str | None = None  # why its headers say it is machine mail (the pipeline never decides those)
    poor_ocr: float | None = None  # a scan read with low OCR confidence: that confidence, 0..100
    case: MatchedCase | None = None  # None: a new message
    quotes: str | None = None  # the reference of another case it quotes from an address not on that case
    stranger: bool = False  # a follow-up threaded to its case from an address not on that case
    # A letter answered by post: True when its address is well formed and (with a stock list loaded)
    # matches a home; False when a person must confirm it first (address_doubt says why); None when
    # the answer would not be printed (an email address, or no address at all).
    postal_address_confirmed: bool | None = None
    address_doubt: str | None = None


@dataclass(frozen=True)
class Decision:
    holds: tuple[str, ...]  # why a person must look, in words a person can read; empty: nobody need
    acknowledgement: AckKind | None
    channel: Channel | None  # where an acknowledgement would go: email, letter or nowhere
    flags: frozenset[str]  # the case's flags (new message), or those a follow-up adds to its case
    follow_up: FollowUp = FollowUp.NONE  # for a message on an existing case
    no_acknowledgement: str | None = None  # why none goes out, when one was owed
    checks: frozenset[str] = frozenset()  # check markers: weaker signals, a line for staff, never a hold
    for_staff: tuple[str, ...] = ()  # what a person should look at, in words, without holding the case

    @property
    def held(self) -> bool:
        return bool(self.holds)


@dataclass(frozen=True)
class _Seen:
    """What a hold rule looks at."""

    message: ParsedMessage
    classification: Classification
    facts: CaseFacts
    flags: frozenset[str]
    checks: frozenset[str] = frozenset()

    @property
    def confident(self) -> bool:
        return may_acknowledge_by_category(self.classification.confidence, self.facts.threshold, self.flags)


def decide(message: ParsedMessage, classification: Classification, facts: CaseFacts, policy: Policy) -> Decision:
    """Hold or not, and which acknowledgement by which channel, for a new message or a follow-up."""
    if facts.case is not None:
        return _follow_up(message, classification, facts)
    flags = final_flags(message, classification, facts, policy)
    seen = _Seen(message, classification, facts, flags, check_flags(classification) - flags)
    holds = tuple(reason for rule in NEW_MESSAGE_HOLDS if (reason := rule(seen)))
    notes = tuple(note for rule in NEW_MESSAGE_NOTES if (note := rule(seen)))
    channel = None if message.address_problem or facts.postal_address_confirmed is False else channel_of(facts)
    machine_like = Flag.AUTO_REPLY in flags
    kind = choose_acknowledgement(classification.category, Stage.ONE, confident=not holds,
                                  auto_reply=machine_like, channel=channel)
    return Decision(holds, kind, channel, flags, no_acknowledgement=_why_none(kind, facts, machine_like, message),
                    checks=seen.checks, for_staff=notes)


def check_flags(classification: Classification) -> frozenset[str]:
    """The check tier: the classifier's weaker signals that are not also urgent flags (a flag is in one
    tier or neither; should a classifier give both, urgent wins)."""
    return frozenset(classification.checks) - frozenset(classification.flags)


def final_flags(message: ParsedMessage, classification: Classification, facts: CaseFacts, policy: Policy) -> frozenset:
    """The classifier's flags, with ANONYMOUS when there is no address and no phone number (no way to
    identify the resident), REPRESENTATIVE when the form said someone writes for the resident, LATE from
    the policy's time limit and AUTO_REPLY when the headers say so."""
    flags = set(classification.flags) - _DECIDED_HERE
    if (not facts.reply_address and not facts.postal_address and not facts.phone and not message.address_problem
            and facts.postal_address_confirmed is None):
        flags.add(Flag.ANONYMOUS)
    if facts.representative:
        flags.add(Flag.REPRESENTATIVE)
    if classification.category == Category.COMPLAINT and _late(message, facts, policy):
        flags.add(Flag.LATE)
    if facts.auto_reply:
        flags.add(Flag.AUTO_REPLY)
    return frozenset(flags)


def _late(message: ParsedMessage, facts: CaseFacts, policy: Policy) -> bool:
    received_on = policy.calendar.local(facts.received_at).date()
    issue_date = issue_date_in(prepare(message.subject, message.new_text), received_on)
    return issue_date is not None and policy.is_late(issue_date, facts.received_at)


def channel_of(facts: CaseFacts) -> Channel | None:
    return reply_channel(facts.reply_address, facts.postal_address)


def reply_address(message: ParsedMessage) -> str | None:
    """Where an answer would go; None when there is none we could ever send to, or when From or
    Reply-To is ambiguous or malformed (a person decides who to answer)."""
    if message.address_problem:
        return None
    address = message.reply_to or message.sender
    return address if can_reply_to(address) else None


# -- hold rules for a new message: each returns a reason or None ---------------------------------------


def safeguarding(seen: _Seen) -> str | None:
    if Flag.SAFEGUARDING in seen.flags:
        return "safeguarding concern: a person must look at once"
    return None


def reads_like_machine_mail(seen: _Seen) -> str | None:
    if Flag.AUTO_REPLY in seen.flags and not seen.facts.auto_reply:
        return "reads like machine-generated mail but its headers do not say so: a person decides"
    return None


def not_confident(seen: _Seen) -> str | None:
    if seen.confident or {Flag.SAFEGUARDING, Flag.AUTO_REPLY} & seen.flags:
        return None  # the two rules above have said why already
    return f"classifier not confident ({seen.classification.category}, {seen.classification.confidence:.2f})"


def late(seen: _Seen) -> str | None:
    if Flag.LATE in seen.flags:
        return "may be outside the time limit for raising a complaint: a person decides"
    return None


def escalation_without_a_case(seen: _Seen) -> str | None:
    """Held only when the message is not a complaint: what it is and where it belongs is a person's call.
    A complaint is acknowledged at stage 1 (there is no stage 0) with a line for staff (below)."""
    if Flag.ESCALATION_REQUEST in seen.flags and seen.classification.category != Category.COMPLAINT:
        return "asks to escalate but no existing case was found and it does not read as a complaint: a person decides"
    return None


def out_of_scope_with_a_risk(seen: _Seen) -> str | None:
    if seen.classification.category != Category.OUT_OF_SCOPE:
        return None
    if seen.flags & SAFETY_FLAGS:
        return "out of scope but reports a risk: a person decides"
    if Flag.SAFEGUARDING in seen.checks:
        return "out of scope but may report a safeguarding concern (a check marker): a person decides"
    return None


def poor_ocr(seen: _Seen) -> str | None:
    if seen.facts.channel == Channel.LETTER and seen.facts.poor_ocr is not None:
        return f"poor OCR confidence ({seen.facts.poor_ocr:.0f}/100): a person should read the page images"
    return None


def unanswerable_address(seen: _Seen) -> str | None:
    written = seen.message.reply_to or seen.message.sender
    if written and not seen.facts.reply_address and not seen.message.address_problem:
        return f"the sender's address {written!r} cannot be replied to: a person decides"
    return None


def ambiguous_address(seen: _Seen) -> str | None:
    """Two, grouped or malformed From/Reply-To addresses (intake/addresses.py): nobody is answered."""
    return address_hold(seen.message)


def quotes_another_case(seen: _Seen) -> str | None:
    """It quotes a case's reference from an address not on that case (pipeline/matching.py): never
    attached to it, and nothing goes to that case's resident because of it."""
    if seen.facts.quotes:
        return f"quotes {seen.facts.quotes} from an address not on that case: a person decides whether it belongs there"
    return None


def address_to_confirm(seen: _Seen) -> str | None:
    """A reply by post goes only to an address the letter gives that we are sure of (pipeline/process.py
    works out ``postal_address_confirmed``): otherwise nothing is printed until a person confirms it."""
    if seen.facts.postal_address_confirmed is False:
        return f"{ADDRESS_TO_CONFIRM}: {seen.facts.address_doubt or 'a person confirms where to write'}"
    return None


def address_hold(message: ParsedMessage) -> str | None:
    if message.address_problem:
        return f"{message.address_problem}: a person decides who to answer"
    return None


NEW_MESSAGE_HOLDS: tuple[Callable[[_Seen], str | None], ...] = (
    safeguarding, reads_like_machine_mail, not_confident, late, escalation_without_a_case,
    out_of_scope_with_a_risk, poor_ocr, unanswerable_address, ambiguous_address, quotes_another_case,
    address_to_confirm,
)


# -- lines for staff on a new message that is not held for them: each returns a line or None ------------


def escalation_to_find(seen: _Seen) -> str | None:
    """A complaint asking to escalate with no case found: acknowledged at stage 1; staff find the earlier
    complaint (another channel, before this service, or no reference quoted) and link, merge or escalate."""
    if Flag.ESCALATION_REQUEST in seen.flags and seen.classification.category == Category.COMPLAINT:
        return ("asks to escalate but no existing case was found: acknowledged as a new stage 1 complaint; "
                "find the earlier complaint, then link or merge and escalate")
    return None


NEW_MESSAGE_NOTES: tuple[Callable[[_Seen], str | None], ...] = (escalation_to_find,)


# -- a follow-up on an existing case -------------------------------------------------------------------


def follow_up_effect(case: MatchedCase, classification: Classification, confident: bool) -> FollowUp:
    """What a message does to its case: nothing, escalate, make it a complaint, or a person decides."""
    asks_to_escalate = Flag.ESCALATION_REQUEST in classification.flags
    complains = classification.category == Category.COMPLAINT
    is_complaint = case.category == Category.COMPLAINT
    if asks_to_escalate and is_complaint and case.stage == Stage.TWO:
        return FollowUp.UNSURE
    if (asks_to_escalate or complains) and not confident:
        return FollowUp.UNSURE
    if asks_to_escalate and is_complaint:
        return FollowUp.ESCALATE
    if (complains or asks_to_escalate) and not is_complaint:
        return FollowUp.COMPLAINT
    return FollowUp.NONE


def _follow_up(message: ParsedMessage, classification: Classification, facts: CaseFacts) -> Decision:
    case = facts.case
    flags = frozenset(classification.flags & SAFETY_FLAGS)
    checks = check_flags(classification)  # a line for staff on the case, as on a new message
    confident = may_acknowledge_by_category(classification.confidence, facts.threshold, classification.flags)
    effect = follow_up_effect(case, classification, confident)
    holds = []
    if Flag.SAFEGUARDING in flags:
        holds.append("safeguarding concern in a reply: a person must look at once")
    writer = _writer_holds(message, facts)
    if writer:
        return dataclasses.replace(_unclear_writer(effect, [*holds, *writer], flags), checks=checks)
    if effect == FollowUp.UNSURE:
        holds.append("reply may ask to escalate or raise a new complaint: a person decides")
    channel = channel_of(facts)
    if effect == FollowUp.NONE:
        return Decision(tuple(holds), None, channel, flags, effect, checks=checks)
    stage = Stage.TWO if effect == FollowUp.ESCALATE else case.stage
    category = case.category if effect == FollowUp.UNSURE else Category.COMPLAINT
    machine_like = Flag.AUTO_REPLY in classification.flags or bool(facts.auto_reply)
    kind = choose_acknowledgement(category, stage, confident=not (holds or case.held), auto_reply=machine_like,
                                  channel=channel)
    return Decision(tuple(holds), kind, channel, flags, effect, _why_none(kind, facts, machine_like), checks=checks)


def _unclear_writer(effect: FollowUp, holds: list[str], flags: frozenset) -> Decision:
    """Held, nothing sent (channel None), and the case never moved on its word: an escalation or a
    new complaint from someone we cannot tell is the resident becomes a question for a person."""
    if effect == FollowUp.NONE:
        return Decision(tuple(holds), None, None, flags, effect)
    holds.append("reply may ask to escalate or raise a new complaint: a person decides")
    return Decision(tuple(holds), None, None, flags, FollowUp.UNSURE,
                    "who wrote is not clear: nothing is sent until a person decides")


def _writer_holds(message: ParsedMessage, facts: CaseFacts) -> list[str]:
    """A follow-up sends nothing to the case's resident when its own addresses are ambiguous, or
    when it replies in the case's thread from an address not on the case."""
    holds = [reason] if (reason := address_hold(message)) else []
    if facts.stranger:
        holds.append("a reply in this case's thread from an address not on the case: a person decides")
    return holds


def _why_none(kind: AckKind | None, facts: CaseFacts, machine_like: bool,
              message: ParsedMessage | None = None) -> str | None:
    if kind is not None:
        return None
    if message is not None and message.address_problem:
        return f"{message.address_problem}: nothing is sent until a person decides who to answer"
    if facts.auto_reply:
        return f"machine-generated ({facts.auto_reply}); never acknowledged"
    if facts.postal_address_confirmed is False:
        return f"{ADDRESS_TO_CONFIRM}: nothing is printed until a person confirms where to write"
    if machine_like:
        return "reads like machine-generated mail"
    return "no address to write to: phone the resident on the number they gave" if facts.phone else "no address to reply to"
