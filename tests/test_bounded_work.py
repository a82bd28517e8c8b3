"""Bounded work per message: the regex bombs measured in issue 15 finish, and give the right answer.

No test asserts a time: each runs under a generous ``pytest.mark.timeout``, which is how a backtracking
pattern fails here (before the fix a line of 40,000 spaces took 27 s in the quoting rules, 80,000 two
minutes; "a." repeated over a megabyte before an "@" took about half an hour in the classifier's text).
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from classifier.rules import issue_date_in, rule_flags
from classifier.text import MAX_CLASSIFIED_CHARS, prepare
from pipeline.budget import OverBudget, time_budget
from text.quoting import split_reply

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("width", [40_000, 80_000])
def test_a_line_of_spaces_is_read_as_blank_not_backtracked_over(width):
    split = split_reply("The ceiling leaks.\n" + " " * width + "\nKind regards\nSam")
    assert split.new_text == "The ceiling leaks."
    assert split.signature == "Kind regards\nSam"


def test_a_line_of_tabs_is_read_in_linear_time_and_a_disclaimer_after_it_is_prose():
    bomb = "\t" * 80_000 + "DISCLAIMER: this email is confidential"
    split = split_reply(f"Mould in the bedroom.\n{bomb}")
    # the rules read the first 1,000 characters of a line: this one is all tabs there, so it is text
    assert split.new_text == f"Mould in the bedroom.\n{bomb}"
    # a disclaimer behind a short indent is still a disclaimer
    split = split_reply("Mould in the bedroom.\n" + "\t" * 900 + "DISCLAIMER: this email is confidential")
    assert split.new_text == "Mould in the bedroom."


def test_a_megabyte_on_one_line_is_new_text():
    body = "mould " * 170_000  # 1,020,000 characters, no line break
    assert split_reply(body).new_text == body.strip()


def test_a_hundred_thousand_quoted_lines_are_all_history():
    split = split_reply("Still broken.\nOn Mon, 2 Mar 2026, Housing wrote:\n" + "> \n" * 100_000)
    assert split.new_text == "Still broken."
    assert split.quoted_text.startswith("On Mon, 2 Mar 2026, Housing wrote:")


def test_a_closing_line_longer_than_the_rules_read_is_prose():
    # "Kind regards" followed by 2,000 spaces and a word: 2,017 characters, over MAX_RULE_LINE (1,000)
    long_line = "Kind regards" + " " * 2000 + "mould"
    assert split_reply(f"Leak in the kitchen.\n{long_line}").signature == ""


@pytest.mark.parametrize("bomb", [
    "a." * 500_000 + "@",  # an address-shaped run with no address: tried once, not at every dot
    "we have received your complaint " * 32_000,  # our boilerplate with no full stop, a megabyte of it
    "0 " * 500_000,
    "cmp-2026-" * 110_000,
])
def test_the_classifier_reads_at_most_its_share_of_a_bomb(bomb):
    prepared = prepare("Subject", bomb)
    assert len(prepared) < MAX_CLASSIFIED_CHARS  # 20,000
    rule_flags(prepared)
    assert issue_date_in(prepared, dt.date(2026, 3, 2)) is None


def test_addresses_are_still_masked_as_before():
    assert prepare("", "write to sam.resident@example.net or .x@y.org") == "write to emailtok or . emailtok"


def test_prepared_text_prepared_again_is_unchanged_even_when_cut():
    once = prepare("Damp", "mould everywhere " * 5_000)  # 85,000 characters, cut to under 20,000
    assert prepare("", once) == once


def test_the_budget_interrupts_a_backtracking_regex_in_the_main_thread():
    import re
    bomb = re.compile(r"(a|aa)*b")
    with pytest.raises(OverBudget):
        with time_budget(0.5):
            bomb.match("a" * 60)  # 2**40-odd paths: hours without the budget


def test_the_budget_interrupts_a_python_loop_in_another_thread():
    outcome = []

    def work():
        try:
            with time_budget(0.5):
                while True:
                    time.sleep(0.001)
        except OverBudget:
            outcome.append("over budget")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=30)
    assert outcome == ["over budget"]


def test_work_within_the_budget_is_never_interrupted_afterwards():
    with time_budget(0.2):
        result = sum(range(1000))
    time.sleep(0.5)  # the timer was disarmed when the block ended
    assert result == 499500


def test_a_message_whose_reading_overruns_the_budget_is_set_aside_and_the_next_is_answered(make_settings, tmp_path):
    """Through the real runner and pipeline: the classifier is made to hang on one message (a fault
    injected, standing in for a slow case nobody foresaw); that message is set aside with its reason,
    nothing of it is half-written, and the message behind it is processed and acknowledged."""
    import scheduler
    from sqlalchemy import func, select

    from casework.models import Case, OutboxMessage, Submission
    from tests.mail import deliver, make_mail, new_maildir

    maildir = new_maildir(tmp_path / "maildir")
    deliver(maildir, make_mail("Slow Sam <sam@example.net>", "Leak", "HANG my kitchen tap is leaking, can someone come?"))
    deliver(maildir, make_mail("Quick Kim <kim@example.net>", "Leak", "My bathroom tap is leaking, can someone come?"))
    service = scheduler.build(make_settings(maildir=[{"name": "mailbox", "path": maildir}],
                                            limits={"processing_seconds": 0.5}))
    classifier = service.runner.pipeline.classifier
    real, real_many = classifier.classify, classifier.classify_many

    def hangs_on_one(subject, text):
        while "HANG" in text:  # a pure-Python loop: interrupted in any thread
            pass
        return real(subject, text)

    def hangs_on_a_batch_holding_it(items):  # the worker classifies a batch at once, then each alone
        items = list(items)
        while any("HANG" in text for _, text in items):
            pass
        return real_many(items)

    classifier.classify, classifier.classify_many = hangs_on_one, hangs_on_a_batch_holding_it
    service.run_once()

    with service.db.sessions() as session:
        slow, quick = session.scalars(select(Submission).order_by(Submission.id)).all()
        assert (slow.disposition, slow.error, slow.case_id) == ("failed", None, None)
        assert "took longer than the 0.5 s budget" in slow.reason
        assert quick.disposition in ("accepted", "held") and quick.case_id is not None
        assert session.scalar(select(func.count(Case.id))) == 1
        assert session.scalar(select(OutboxMessage.to_address)) == "kim@example.net"
