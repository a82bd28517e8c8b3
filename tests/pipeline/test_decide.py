"""pipeline.decide: holds, acknowledgement and channel, one line per case, independent of the shipped model."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from casework.policy import Policy
from casework.vocabulary import AckKind, Channel
from classifier import Classification
from core.settings import PolicySettings
from intake.message import ParsedMessage
from pipeline.decide import CaseFacts, FollowUp, MatchedCase, decide

RECEIVED = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
THRESHOLD = 0.9
ENGLAND = Policy(PolicySettings())
SIX_MONTHS = Policy(PolicySettings(time_limit_months=6))

SAFEGUARDING = "safeguarding concern: a person must look at once"
MACHINE = "reads like machine-generated mail but its headers do not say so: a person decides"
LATE = "may be outside the time limit for raising a complaint: a person decides"
NO_CASE = "asks to escalate but no existing case was found and it does not read as a complaint: a person decides"
RISK = "out of scope but reports a risk: a person decides"
OCR = "poor OCR confidence (41/100): a person should read the page images"
REPLY_SAFEGUARDING = "safeguarding concern in a reply: a person must look at once"
UNSURE = "reply may ask to escalate or raise a new complaint: a person decides"


def message(text: str = "The leak is still not fixed.", sender: str | None = "sam@example.net",
            reply_to: str | None = None) -> ParsedMessage:
    return ParsedMessage(
        message_id="m1@example.net", in_reply_to=None, references=(), sender=sender, sender_name="Sam",
        reply_to=reply_to, to=("complaints@example.org",), subject="", date=None, text=text, new_text=text,
        quoted_text="", signature="", headers=(), content_type="text/plain", return_path=None,
    )


def result(category: str = "complaint", confidence: float = 0.97, *flags: str) -> Classification:
    return Classification(category=category, confidence=confidence, flags=frozenset(flags), model_version="test")


EMAIL = CaseFacts(received_at=RECEIVED, threshold=THRESHOLD, reply_address="sam@example.net")
LETTER = CaseFacts(received_at=RECEIVED, threshold=THRESHOLD, channel=Channel.LETTER, postal_address=True)
NOWHERE = CaseFacts(received_at=RECEIVED, threshold=THRESHOLD, channel=Channel.LETTER)
STAGE1 = MatchedCase(category="complaint", stage=1)
REQUEST = MatchedCase(category="service_request", stage=1)


def on(facts: CaseFacts, **changes) -> CaseFacts:
    return dataclasses.replace(facts, **changes)


NEW = [
    # id, text, sender, classification, facts, policy -> holds, acknowledgement, channel
    ("confident complaint by email", None, "sam@example.net", result(), EMAIL, ENGLAND,
     (), AckKind.COMPLAINT_STAGE1, Channel.EMAIL),
    ("confident service request", None, "sam@example.net", result("service_request", 0.95), EMAIL, ENGLAND,
     (), AckKind.SERVICE_REQUEST, Channel.EMAIL),
    ("confident compliment", None, "sam@example.net", result("compliment", 0.99), EMAIL, ENGLAND,
     (), AckKind.COMPLIMENT, Channel.EMAIL),
    ("unsure", None, "sam@example.net", result("complaint", 0.6), EMAIL, ENGLAND,
     ("classifier not confident (complaint, 0.60)",), AckKind.NEUTRAL, Channel.EMAIL),
    ("confidence exactly at the threshold", None, "sam@example.net", result("complaint", THRESHOLD), EMAIL, ENGLAND,
     (), AckKind.COMPLAINT_STAGE1, Channel.EMAIL),
    ("safeguarding", None, "sam@example.net", result("complaint", 0.99, "safeguarding"), EMAIL, ENGLAND,
     (SAFEGUARDING,), AckKind.NEUTRAL, Channel.EMAIL),
    ("unsure safeguarding gives one reason", None, "sam@example.net", result("out_of_scope", 0.4, "safeguarding"),
     EMAIL, ENGLAND, (SAFEGUARDING, RISK), AckKind.NEUTRAL, Channel.EMAIL),
    ("text reads like an auto-reply", "I am out of the office until Monday.", "sam@example.net",
     result("out_of_scope", 0.99, "auto_reply"), EMAIL, ENGLAND, (MACHINE,), None, Channel.EMAIL),
    ("headers say auto-reply", None, "sam@example.net", result("out_of_scope", 0.99), on(EMAIL, auto_reply="Auto-Submitted: auto-replied"),
     ENGLAND, (), None, Channel.EMAIL),
    ("letter with a postal address only", None, None, result(), LETTER, ENGLAND,
     (), AckKind.COMPLAINT_STAGE1, Channel.LETTER),
    ("letter with no address at all", None, None, result(), NOWHERE, ENGLAND,
     (), None, None),
    ("late complaint, 12-month limit", "The leak started two years ago.", "sam@example.net", result(), EMAIL, ENGLAND,
     (LATE,), AckKind.NEUTRAL, Channel.EMAIL),
    ("8 months old, 12-month limit", "The leak started 8 months ago.", "sam@example.net", result(), EMAIL, ENGLAND,
     (), AckKind.COMPLAINT_STAGE1, Channel.EMAIL),
    ("8 months old, 6-month limit", "The leak started 8 months ago.", "sam@example.net", result(), EMAIL, SIX_MONTHS,
     (LATE,), AckKind.NEUTRAL, Channel.EMAIL),
    ("a dated month, 6-month limit", "The damage happened in March 2026.", "sam@example.net", result(), EMAIL,
     SIX_MONTHS, (LATE,), AckKind.NEUTRAL, Channel.EMAIL),
    ("ongoing since a year is not late", "The roof has leaked since 2019.", "sam@example.net", result(), EMAIL,
     ENGLAND, (), AckKind.COMPLAINT_STAGE1, Channel.EMAIL),
    ("only a complaint can be late", "The bins were missed two years ago.", "sam@example.net",
     result("service_request", 0.95), EMAIL, ENGLAND, (), AckKind.SERVICE_REQUEST, Channel.EMAIL),
    ("the classifier's own late flag is not the decision", None, "sam@example.net", result("complaint", 0.97, "late"),
     EMAIL, ENGLAND, (), AckKind.COMPLAINT_STAGE1, Channel.EMAIL),
    ("escalation without a case: a complaint at stage 1 (no stage 0)", None, "sam@example.net",
     result("complaint", 0.97, "escalation_request"), EMAIL, ENGLAND, (), AckKind.COMPLAINT_STAGE1, Channel.EMAIL),
    ("escalation without a case that is not a complaint", None, "sam@example.net",
     result("service_request", 0.97, "escalation_request"), EMAIL, ENGLAND, (NO_CASE,), AckKind.NEUTRAL, Channel.EMAIL),
    ("out of scope with a hazard", None, "sam@example.net", result("out_of_scope", 0.97, "emergency_hazard"), EMAIL,
     ENGLAND, (RISK,), AckKind.NEUTRAL, Channel.EMAIL),
    ("out of scope with nothing risky", None, "sam@example.net", result("out_of_scope", 0.97), EMAIL, ENGLAND,
     (), AckKind.OUT_OF_SCOPE, Channel.EMAIL),
    ("poor OCR", None, None, result(), on(LETTER, poor_ocr=41.2), ENGLAND, (OCR,), AckKind.NEUTRAL, Channel.LETTER),
    ("an address we cannot write to", None, "noreply@example.net", result(), on(EMAIL, reply_address=None), ENGLAND,
     ("the sender's address 'noreply@example.net' cannot be replied to: a person decides",), None, None),
    ("late, unsure and risky: every reason, in order", "It flooded two years ago.", "sam@example.net",
     result("complaint", 0.5, "escalation_request"), EMAIL, ENGLAND,
     ("classifier not confident (complaint, 0.50)", LATE), AckKind.NEUTRAL, Channel.EMAIL),
]


@pytest.mark.parametrize(
    "text, sender, classification, facts, policy, holds, ack, channel", [row[1:] for row in NEW], ids=[row[0] for row in NEW]
)
def test_a_new_message(text, sender, classification, facts, policy, holds, ack, channel):
    decision = decide(message(text or "The leak is still not fixed.", sender), classification, facts, policy)
    assert (decision.holds, decision.acknowledgement, decision.channel) == (holds, ack, channel)
    assert decision.follow_up == FollowUp.NONE


FOLLOW_UPS = [
    # id, classification, case -> follow-up, holds, acknowledgement
    ("asks to escalate a stage 1 complaint", result("complaint", 0.97, "escalation_request"), STAGE1,
     FollowUp.ESCALATE, (), AckKind.COMPLAINT_STAGE2),
    ("complains on a service request", result("complaint", 0.97), REQUEST,
     FollowUp.COMPLAINT, (), AckKind.COMPLAINT_STAGE1),
    ("asks to escalate a stage 2 complaint", result("complaint", 0.97, "escalation_request"),
     MatchedCase("complaint", 2), FollowUp.UNSURE, (UNSURE,), AckKind.NEUTRAL),
    ("unsure complaint on a service request", result("complaint", 0.5), REQUEST,
     FollowUp.UNSURE, (UNSURE,), AckKind.NEUTRAL),
    ("adds to a complaint", result("complaint", 0.97), STAGE1, FollowUp.NONE, (), None),
    ("says thanks", result("compliment", 0.99), REQUEST, FollowUp.NONE, (), None),
    ("safeguarding in a reply", result("service_request", 0.99, "safeguarding"), REQUEST,
     FollowUp.NONE, (REPLY_SAFEGUARDING,), None),
    ("escalates a case already held", result("complaint", 0.97, "escalation_request"),
     MatchedCase("complaint", 1, held=True), FollowUp.ESCALATE, (), AckKind.NEUTRAL),
    ("machine-like wording asking to escalate", result("complaint", 0.97, "escalation_request", "auto_reply"), STAGE1,
     FollowUp.UNSURE, (UNSURE,), None),
]


@pytest.mark.parametrize(
    "classification, case, follow_up, holds, ack", [row[1:] for row in FOLLOW_UPS], ids=[row[0] for row in FOLLOW_UPS]
)
def test_a_follow_up(classification, case, follow_up, holds, ack):
    decision = decide(message(), classification, on(EMAIL, case=case), ENGLAND)
    assert (decision.follow_up, decision.holds, decision.acknowledgement) == (follow_up, holds, ack)


def test_a_follow_up_goes_by_post_when_the_case_has_only_a_postal_address():
    decision = decide(message(), result("complaint", 0.97), on(LETTER, case=REQUEST), ENGLAND)
    assert (decision.acknowledgement, decision.channel) == (AckKind.COMPLAINT_STAGE1, Channel.LETTER)


@pytest.mark.parametrize("facts, anonymous", [(EMAIL, False), (LETTER, False), (NOWHERE, True)])
def test_anonymous_is_a_fact_about_the_addresses_not_the_words(facts, anonymous):
    decision = decide(message(sender=None), result("complaint", 0.97, "anonymous"), facts, ENGLAND)
    assert ("anonymous" in decision.flags) is anonymous


def test_late_is_measured_from_the_day_received_not_today():
    received_long_ago = on(EMAIL, received_at=dt.datetime(2024, 12, 1, 10, 0, tzinfo=dt.UTC))
    decision = decide(message("The damage happened in March 2024."), result(), received_long_ago, ENGLAND)
    assert "late" not in decision.flags and decision.acknowledgement == AckKind.COMPLAINT_STAGE1


def test_no_acknowledgement_says_why():
    assert decide(message(), result(), NOWHERE, ENGLAND).no_acknowledgement == "no address to reply to"
    machine = decide(message(), result("out_of_scope", 0.99, "auto_reply"), EMAIL, ENGLAND)
    assert machine.no_acknowledgement == "reads like machine-generated mail"
    assert decide(message(), result(), EMAIL, ENGLAND).no_acknowledgement is None


WEB = CaseFacts(received_at=RECEIVED, threshold=THRESHOLD, channel=Channel.WEB)


@pytest.mark.parametrize("facts, anonymous, representative", [
    (WEB, True, False),  # the form with no email, address or phone: nobody to identify
    (on(WEB, phone=True), False, False),  # a phone number identifies them, though nothing can be written
    (on(WEB, reply_address="sam@example.net", representative=True), False, True),  # "I write for my mother"
], ids=["no way to reach them", "a phone number only", "a representative with an email"])
def test_the_form_says_who_can_be_reached_and_who_wrote(facts, anonymous, representative):
    decision = decide(message(sender=facts.reply_address), result(), facts, ENGLAND)
    assert ("anonymous" in decision.flags, "representative" in decision.flags) == (anonymous, representative)


def test_a_phone_number_only_says_to_phone_the_resident():
    decision = decide(message(sender=None), result(), on(WEB, phone=True), ENGLAND)
    assert (decision.acknowledgement, decision.channel) == (None, None)
    assert decision.no_acknowledgement == "no address to write to: phone the resident on the number they gave"


# -- issue 15: the right recipient, or none -----------------------------------------------------------

TWO_IN_FROM = "the sender's address is ambiguous (two addresses in From)"
QUOTES = "quotes CMP-2026-000123 from an address not on that case: a person decides whether it belongs there"
STRANGER = "a reply in this case's thread from an address not on the case: a person decides"


def unclear(problem: str = TWO_IN_FROM) -> ParsedMessage:
    """What intake.addresses gives for an ambiguous From: no single sender, and why."""
    return dataclasses.replace(message(sender=None), address_problem=problem)


ADDRESSES = [
    # id, message, facts, classification -> holds, acknowledgement, channel
    ("two addresses in From: held, nothing sent", unclear(), on(EMAIL, reply_address=None), result(),
     (f"{TWO_IN_FROM}: a person decides who to answer",), None, None),
    ("a malformed Reply-To, even with a confident complaint", unclear("the sender's address is malformed "
     "(Reply-To: invalid address in address-list)"), on(EMAIL, reply_address=None), result("complaint", 0.99),
     ("the sender's address is malformed (Reply-To: invalid address in address-list): a person decides who to answer",),
     None, None),
    ("an ambiguous From and not confident: both reasons, still nothing sent", unclear(),
     on(EMAIL, reply_address=None), result("complaint", 0.5),
     ("classifier not confident (complaint, 0.50)", f"{TWO_IN_FROM}: a person decides who to answer"), None, None),
    ("quotes another case's reference: held, the neutral acknowledgement to the sender only", message(),
     on(EMAIL, quotes="CMP-2026-000123"), result(), (QUOTES,), AckKind.NEUTRAL, Channel.EMAIL),
]


@pytest.mark.parametrize("msg, facts, classification, holds, ack, channel", [row[1:] for row in ADDRESSES],
                         ids=[row[0] for row in ADDRESSES])
def test_a_new_message_whose_sender_is_unclear(msg, facts, classification, holds, ack, channel):
    decision = decide(msg, classification, facts, ENGLAND)
    assert (decision.holds, decision.acknowledgement, decision.channel) == (holds, ack, channel)


def test_an_unclear_sender_is_not_anonymous_and_says_why_nothing_went():
    decision = decide(unclear(), result(), on(EMAIL, reply_address=None), ENGLAND)
    assert "anonymous" not in decision.flags
    assert decision.no_acknowledgement == f"{TWO_IN_FROM}: nothing is sent until a person decides who to answer"


def test_reply_address_is_none_when_the_addresses_are_unclear():
    from pipeline.decide import reply_address
    with_reply_to = dataclasses.replace(message(reply_to="victim@example.com"), address_problem=TWO_IN_FROM)
    assert reply_address(with_reply_to) is None
    assert reply_address(message(reply_to="home@example.com")) == "home@example.com"


UNCLEAR_FOLLOW_UPS = [
    # id, message, facts, classification -> follow-up, holds
    ("a stranger in the thread asks to escalate: never escalated, a person decides", message(),
     on(EMAIL, case=STAGE1, stranger=True), result("complaint", 0.97, "escalation_request"),
     FollowUp.UNSURE, (STRANGER, UNSURE)),
    ("a stranger in the thread adds words: held, case unchanged", message(), on(EMAIL, case=STAGE1, stranger=True),
     result("complaint", 0.97), FollowUp.NONE, (STRANGER,)),
    ("the resident's reply with an ambiguous From complains: a person decides", unclear(),
     on(EMAIL, case=REQUEST), result("complaint", 0.97),
     FollowUp.UNSURE, (f"{TWO_IN_FROM}: a person decides who to answer", UNSURE)),
]


@pytest.mark.parametrize("msg, facts, classification, follow_up, holds", [row[1:] for row in UNCLEAR_FOLLOW_UPS],
                         ids=[row[0] for row in UNCLEAR_FOLLOW_UPS])
def test_a_follow_up_from_an_unclear_writer_sends_nothing_to_the_resident(msg, facts, classification, follow_up,
                                                                         holds):
    decision = decide(msg, classification, facts, ENGLAND)
    assert (decision.follow_up, decision.holds) == (follow_up, holds)
    assert (decision.acknowledgement, decision.channel) == (None, None)
