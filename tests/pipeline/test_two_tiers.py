"""pipeline.decide with safety flags in two tiers (issue 13), and the held reasons that now acknowledge.

Each row is worked out by hand from the rules in pipeline/decide.py's docstring and categories.md:
an urgent flag is the case's flag (safeguarding holds; hazards are flags for their clocks); a check is a
line for staff that never holds, except a safeguarding check on an out-of-scope message; a confident
complaint asking to escalate with no case found gets the stage 1 acknowledgement and a line for staff; a
complaint that may be out of time is still held and gets the neutral acknowledgement, which promises no
response date."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from casework.policy import Policy
from casework.vocabulary import AckKind, Channel
from classifier import Classification, RuleHit
from core.settings import PolicySettings
from intake.message import ParsedMessage
from pipeline.decide import CaseFacts, FollowUp, MatchedCase, check_flags, decide

RECEIVED = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
THRESHOLD = 0.9
ENGLAND = Policy(PolicySettings())
EMAIL = CaseFacts(received_at=RECEIVED, threshold=THRESHOLD, reply_address="sam@example.net")

SAFEGUARDING = "safeguarding concern: a person must look at once"
LATE = "may be outside the time limit for raising a complaint: a person decides"
RISK = "out of scope but reports a risk: a person decides"
MAYBE_SAFEGUARDING = "out of scope but may report a safeguarding concern (a check marker): a person decides"
NOT_A_COMPLAINT = ("asks to escalate but no existing case was found and it does not read as a complaint: "
                   "a person decides")
FIND_IT = ("asks to escalate but no existing case was found: acknowledged as a new stage 1 complaint; "
           "find the earlier complaint, then link or merge and escalate")
REPLY_SAFEGUARDING = "safeguarding concern in a reply: a person must look at once"


def message(text: str = "The leak is still not fixed.") -> ParsedMessage:
    return ParsedMessage(
        message_id="m1@example.net", in_reply_to=None, references=(), sender="sam@example.net", sender_name="Sam",
        reply_to=None, to=("complaints@example.org",), subject="", date=None, text=text, new_text=text,
        quoted_text="", signature="", headers=(), content_type="text/plain", return_path=None,
    )


def given(category: str = "complaint", confidence: float = 0.97, flags: tuple[str, ...] = (),
          checks: tuple[str, ...] = ()) -> Classification:
    rules = tuple(RuleHit(f"RULE_{flag.upper()}", flag, "the words") for flag in (*flags, *checks))
    return Classification(category=category, confidence=confidence, flags=frozenset(flags), model_version="test",
                          checks=frozenset(checks), rules=rules)


NEW = [
    # id, text, classification -> holds, acknowledgement, flags, checks, lines for staff
    ("a safeguarding check on a confident complaint: acknowledged at stage 1, a line for staff",
     None, given(checks=("safeguarding",)),
     (), AckKind.COMPLAINT_STAGE1, set(), {"safeguarding"}, ()),
    ("an urgent safeguarding flag still holds, neutral acknowledgement",
     None, given(flags=("safeguarding",)),
     (SAFEGUARDING,), AckKind.NEUTRAL, {"safeguarding"}, set(), ()),
    ("an urgent emergency hazard on a confident service request: acknowledged, flagged for its clock",
     None, given("service_request", 0.95, flags=("emergency_hazard",)),
     (), AckKind.SERVICE_REQUEST, {"emergency_hazard"}, set(), ()),
    ("a damp and mould check on a confident service request: acknowledged, no flag",
     None, given("service_request", 0.95, checks=("damp_mould",)),
     (), AckKind.SERVICE_REQUEST, set(), {"damp_mould"}, ()),
    ("a flag in both tiers is urgent only",
     None, given(flags=("emergency_hazard",), checks=("emergency_hazard", "damp_mould")),
     (), AckKind.COMPLAINT_STAGE1, {"emergency_hazard"}, {"damp_mould"}, ()),
    ("an unsure message with a check: held for the confidence alone",
     None, given("complaint", 0.6, checks=("safeguarding",)),
     ("classifier not confident (complaint, 0.60)",), AckKind.NEUTRAL, set(), {"safeguarding"}, ()),
    ("out of scope with an urgent hazard: held as before",
     None, given("out_of_scope", 0.97, flags=("emergency_hazard",)),
     (RISK,), AckKind.NEUTRAL, {"emergency_hazard"}, set(), ()),
    ("out of scope with a safeguarding check: held, never an automatic out-of-scope reply to it",
     None, given("out_of_scope", 0.97, checks=("safeguarding",)),
     (MAYBE_SAFEGUARDING,), AckKind.NEUTRAL, set(), {"safeguarding"}, ()),
    ("out of scope with a hazard check: a line for staff, acknowledged as out of scope",
     None, given("out_of_scope", 0.97, checks=("emergency_hazard",)),
     (), AckKind.OUT_OF_SCOPE, set(), {"emergency_hazard"}, ()),
    ("escalation with no case, a confident complaint: stage 1 acknowledgement and a line for staff",
     None, given(flags=("escalation_request",)),
     (), AckKind.COMPLAINT_STAGE1, {"escalation_request"}, set(), (FIND_IT,)),
    ("escalation with no case that is not a complaint: held, neutral",
     None, given("out_of_scope", 0.97, flags=("escalation_request",)),
     (NOT_A_COMPLAINT,), AckKind.NEUTRAL, {"escalation_request"}, set(), ()),
    ("escalation with no case, an unsure complaint: held for the confidence, the line still there",
     None, given("complaint", 0.7, flags=("escalation_request",)),
     ("classifier not confident (complaint, 0.70)",), AckKind.NEUTRAL, {"escalation_request"}, set(), (FIND_IT,)),
    ("a complaint about something two years ago: still held, the neutral acknowledgement promises no date",
     "The leak started two years ago and nobody came.", given(),
     (LATE,), AckKind.NEUTRAL, {"late"}, set(), ()),
    ("late and asking to escalate with no case: held for the time limit, the line for staff too",
     "I complained two years ago, please escalate it.", given(flags=("escalation_request",)),
     (LATE,), AckKind.NEUTRAL, {"late", "escalation_request"}, set(), (FIND_IT,)),
]


@pytest.mark.parametrize("text, classification, holds, ack, flags, checks, notes", [row[1:] for row in NEW],
                         ids=[row[0] for row in NEW])
def test_a_new_message(text, classification, holds, ack, flags, checks, notes):
    decision = decide(message(text or "The leak is still not fixed."), classification, EMAIL, ENGLAND)
    assert decision.holds == holds
    assert decision.acknowledgement == ack
    assert decision.channel == Channel.EMAIL
    assert set(decision.flags) == flags
    assert set(decision.checks) == checks
    assert decision.for_staff == notes


FOLLOW_UPS = [
    # id, classification, case -> follow-up, holds, acknowledgement, flags, checks
    ("a safeguarding check in a reply: no hold, a line for staff",
     given("service_request", 0.99, checks=("safeguarding",)), MatchedCase("service_request", 1),
     FollowUp.NONE, (), None, set(), {"safeguarding"}),
    ("an urgent safeguarding flag in a reply still holds",
     given("service_request", 0.99, flags=("safeguarding",)), MatchedCase("service_request", 1),
     FollowUp.NONE, (REPLY_SAFEGUARDING,), None, {"safeguarding"}, set()),
    ("an escalation with a hazard check moves the case and carries the check",
     given("complaint", 0.97, flags=("escalation_request",), checks=("emergency_hazard",)), MatchedCase("complaint", 1),
     FollowUp.ESCALATE, (), AckKind.COMPLAINT_STAGE2, set(), {"emergency_hazard"}),
]


@pytest.mark.parametrize("classification, case, follow_up, holds, ack, flags, checks",
                         [row[1:] for row in FOLLOW_UPS], ids=[row[0] for row in FOLLOW_UPS])
def test_a_follow_up(classification, case, follow_up, holds, ack, flags, checks):
    facts = dataclasses.replace(EMAIL, case=case)
    decision = decide(message(), classification, facts, ENGLAND)
    assert (decision.follow_up, decision.holds, decision.acknowledgement) == (follow_up, holds, ack)
    assert (set(decision.flags), set(decision.checks)) == (flags, checks)


def test_the_check_tier_never_holds_whatever_flag_it_names():
    for flag in ("safeguarding", "emergency_hazard", "damp_mould"):
        decision = decide(message(), given(checks=(flag,)), EMAIL, ENGLAND)
        assert not decision.held and decision.acknowledgement == AckKind.COMPLAINT_STAGE1, flag


def test_check_flags_leave_out_what_is_urgent():
    assert check_flags(given(flags=("safeguarding",), checks=("safeguarding", "damp_mould"))) == {"damp_mould"}
    assert check_flags(given()) == frozenset()
