"""Fuzzing the parser and the quoting rules with hypothesis: no exception escapes (a message we cannot
read is an ``UnreadableSubmission``, the one refusal the pipeline expects) and no input goes over the
budget (each example runs under ``time_budget``; hypothesis' own deadline is the finer check).
Bounded to well under a minute in total: a few hundred examples each.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from classifier.rules import issue_date_in, rule_flags
from classifier.text import prepare
from core.errors import UnreadableSubmission
from intake.parse import parse_message
from pipeline.budget import time_budget
from text.quoting import split_reply

BUDGET_SECONDS = 10  # [limits] processing_seconds' default
FUZZ = settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
pytestmark = pytest.mark.timeout(120)

# Lines that exercise the quoting rules: markers, headers, closings, quotes, runs of what used to backtrack.
_LINES = st.one_of(
    st.sampled_from([
        "On Mon, 2 Mar 2026 at 10:00, Housing <h@example.org> wrote:", "-----Original Message-----",
        "---------- Forwarded message ---------", "Begin forwarded message:", "From: Sam", "Sent: Monday",
        "To: Housing", "Subject: FW: leak", "_" * 30, "-- ", "Sent from my iPhone", "Kind regards", "Sam",
        "DISCLAIMER: this email is confidential", "> quoted", ">", "", "the mould is back",
    ]),
    st.text(max_size=80),
    st.builds(lambda c, n: c * n, st.sampled_from([" ", "\t", "-", "_", ">", "> ", "a.", "On "]),
              st.integers(0, 20_000)),
)
_BODIES = st.lists(_LINES, max_size=40).map("\n".join)

_HEADER_NAMES = st.sampled_from(["From", "To", "Subject", "Reply-To", "Content-Type", "Content-Transfer-Encoding",
                                 "MIME-Version", "Message-ID", "In-Reply-To", "Auto-Submitted", "X-Weird"])
_HEADER_VALUES = st.one_of(
    st.text(max_size=120).map(lambda s: s.replace("\n", " ").replace("\r", " ")),
    st.sampled_from(["multipart/mixed; boundary=b", "text/plain; charset=utf-16", "text/html; charset=\"x\x00y\"",
                     "=?utf-8?b?AA==?= <a@b.c>", "\"a, b\" <x@y.z>, c@d", "base64", "quoted-printable",
                     "message/rfc822", "multipart/report; report-type=delivery-status"]),
)


@st.composite
def raw_mail(draw) -> bytes:
    headers = draw(st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=10))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8", "surrogateescape")
    body = draw(st.one_of(_BODIES.map(lambda s: s.encode("utf-8", "surrogatepass")), st.binary(max_size=2000)))
    parts = draw(st.sampled_from([b"", b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n",
                                  b"\r\n--b\r\n" * 50]))
    return head + b"\r\n" + body + parts


@FUZZ
@given(raw_mail())
def test_the_parser_reads_any_bytes_within_the_budget_or_says_it_cannot(raw):
    with time_budget(BUDGET_SECONDS):
        try:
            parsed = parse_message(raw)
        except UnreadableSubmission:
            return
        split_reply(parsed.text)


@FUZZ
@given(st.binary(max_size=4000))
def test_the_parser_survives_random_bytes(raw):
    with time_budget(BUDGET_SECONDS):
        try:
            parse_message(raw)
        except UnreadableSubmission:
            pass


@FUZZ
@given(_BODIES)
def test_the_quoting_rules_split_any_text_within_the_budget_and_lose_nothing(text):
    with time_budget(BUDGET_SECONDS):
        split = split_reply(text)
        prepared = prepare("subject", split.new_text)
        rule_flags(prepared)
        issue_date_in(prepared, dt.date(2026, 3, 2))
    # every non-blank line ends up in one of the three parts (the forward's header is new text)
    kept = "\n".join([split.new_text, split.quoted_text, split.signature])
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):  # as split_reply reads lines
        if line.strip():
            assert line.strip() in kept or line.strip().lstrip("> ").strip() in kept
