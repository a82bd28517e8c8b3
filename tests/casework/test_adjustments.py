"""A resident's reasonable adjustments, on SQLite and PostgreSQL: set by a person (``Casework.adjust``,
``intake case adjust``), recorded with before and after, refused without writing anything when wrong,
merged (never dropped) when a later message asks for more, and followed by every reply: post-only
means a letter even when an email address is known, and nothing (with the reason on the case) when
there is no postal address; a phone call is asked for on the case's trail."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

import scheduler
from casework import lifecycle
from casework.guards import find
from casework.models import Case, OutboxMessage
from core.db import Database
from core.settings import Settings
from tests.casework.test_actions import RECEIVED, open_case, refused
from tests.conftest import REPO

ALICE = "alice@landlord.org"
ADDRESS = ["12 Heol y Bryn", "Carmarthen", "SA31 1AA"]


@pytest.fixture
def settings(tmp_path, database_url):
    return Settings(var_dir=tmp_path / "var", database_url=database_url)


@pytest.fixture
def casework(settings):
    return scheduler.build_casework(settings)


def with_address(casework, reference, address=ADDRESS):
    with casework.db.transaction() as session:
        find(session, reference).resident_address = list(address)


def events(casework, reference, action="adjustments_changed"):
    with casework.db.sessions() as session:
        return [(event.actor, event.detail, event.at) for event in find(session, reference).events
                if event.action == action]


def outbox(casework, reference):
    with casework.db.sessions() as session:
        case = find(session, reference)
        return [(row.kind, row.channel, row.to_address, row.postal_address)
                for row in session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id))]


def test_a_person_sets_adjustments_and_the_trail_gives_before_and_after(casework):
    reference = open_case(casework)
    on = dt.datetime(2026, 11, 3, 9, 30, tzinfo=dt.UTC)

    changed = casework.adjust(reference, ["post_only", "large_print"], "  Partially sighted: 16pt at least. ",
                              by=ALICE, on=on)

    assert changed is True
    with casework.db.sessions() as session:
        case = find(session, reference)
        # kept in the vocabulary's order (large print before post-only), whatever order they came in
        assert case.adjustments == ["large_print", "post_only"]
        assert case.adjustment_note == "Partially sighted: 16pt at least."
        assert case.language is None  # not given: unchanged (English)
    [(actor, detail, at)] = events(casework, reference)
    assert actor == ALICE and at == on
    assert detail == {"previous": [], "adjustments": ["large_print", "post_only"], "previous_note": None,
                      "note": "Partially sighted: 16pt at least."}


def test_the_same_adjustments_again_change_nothing_and_record_nothing(casework):
    reference = open_case(casework)
    casework.adjust(reference, ["phone_call"], "Mornings only", by=ALICE)
    assert casework.adjust(reference, ["phone_call"], "Mornings only", by=ALICE) is False
    assert len(events(casework, reference)) == 1


def test_clearing_adjustments_and_choosing_welsh_are_recorded(casework):
    reference = open_case(casework)
    casework.adjust(reference, ["interpreter"], "Polish interpreter", by=ALICE)
    casework.adjust(reference, [], None, by=ALICE, language="cy")
    with casework.db.sessions() as session:
        case = find(session, reference)
        assert (case.adjustments, case.adjustment_note, case.language) == ([], None, "cy")
    last = events(casework, reference)[-1][1]
    assert last["previous"] == ["interpreter"] and last["adjustments"] == []
    assert last["previous_language"] == "en" and last["language"] == "cy"
    casework.adjust(reference, [], None, by=ALICE, language="en")
    with casework.db.sessions() as session:
        assert find(session, reference).language is None  # English is the default, stored as None


@pytest.mark.parametrize(("call", "words"), [
    (lambda c, ref: c.adjust(ref, ["braille"], None, by=ALICE), "adjustment must be one of"),
    (lambda c, ref: c.adjust(ref, ["large_print"], None, by=ALICE, language="fr"), "language must be one of"),
    (lambda c, ref: c.adjust(ref, ["other"], "x" * 2001, by=ALICE), "2001 characters"),
    (lambda c, ref: c.adjust("CMP-2026-999999", ["other"], None, by=ALICE), "no case has the reference"),
    (lambda c, ref: c.adjust(ref, ["other"], None, by=ALICE, on=dt.date(2099, 1, 1)), "in the future"),
])
def test_a_wrong_adjustment_is_refused_and_changes_nothing(casework, call, words):
    reference = open_case(casework)
    assert words in refused(casework, call, casework, reference)
    with casework.db.sessions() as session:
        assert find(session, reference).adjustments == []


def test_post_only_sends_a_letter_even_when_an_email_address_is_known(casework):
    reference = open_case(casework, email="sian.jones@example.net")
    with_address(casework, reference)
    casework.adjust(reference, ["post_only"], None, by=ALICE)

    casework.reply(reference, "Our surveyor will call on Tuesday morning.", by=ALICE)
    casework.acknowledge(reference, "phone", by=ALICE)  # starts the response clock an extension needs
    casework.extend(reference, 5, "We are waiting for the roofer's report.", by=ALICE)

    assert outbox(casework, reference) == [("reply", "letter", None, ADDRESS), ("extension", "letter", None, ADDRESS)]


def test_post_only_without_a_postal_address_sends_nothing_and_says_so(casework):
    reference = open_case(casework, email="sian.jones@example.net", held=True)
    casework.adjust(reference, ["post_only"], None, by=ALICE)

    reason = refused(casework, casework.reply, reference, "Hello", by=ALICE)
    assert "resident asked for post but no postal address: tell them another way" in reason
    casework.release(reference, by=ALICE)  # the acknowledgement the released case deserves has nowhere to go

    assert outbox(casework, reference) == []
    [(_, detail, _)] = events(casework, reference, "no_acknowledgement")
    assert detail["reason"] == "resident asked for post but no postal address: tell them another way"


def test_a_phone_call_still_gets_the_written_message_and_the_trail_says_to_call(casework):
    reference = open_case(casework, email="sam@example.net")
    casework.adjust(reference, ["phone_call"], "Best after 2pm", by=ALICE)
    casework.reply(reference, "We have booked the roofer.", by=ALICE)

    assert outbox(casework, reference) == [("reply", "email", "sam@example.net", None)]
    [(_, detail, _)] = events(casework, reference, "reply_queued")
    assert detail["note"] == "the resident asked for a phone call: call them as well"


def test_a_later_message_adds_to_what_a_person_set_and_never_drops_it(casework):
    reference = open_case(casework)
    casework.adjust(reference, ["large_print"], "Partially sighted", by=ALICE, language="cy")
    with casework.db.transaction() as session:
        case = find(session, reference)
        lifecycle.add_adjustments(case, ["post_only"], "No email please", actor="system", at=RECEIVED,
                                  language="en", source="web")
        lifecycle.add_adjustments(case, ["post_only"], "No email please", actor="system", at=RECEIVED)
    with casework.db.sessions() as session:
        case = find(session, reference)
        assert case.adjustments == ["large_print", "post_only"]
        assert case.adjustment_note == "Partially sighted\nNo email please"
        assert case.language == "cy"  # a message read as English does not undo a person's choice
    assert len(events(casework, reference)) == 2  # the second, identical, request changed nothing


def test_intake_case_adjust_on_the_command_line(tmp_path):
    env = {**os.environ, "INTAKE_VAR_DIR": str(tmp_path / "var")}
    env.pop("INTAKE_CONFIG", None)
    settings = Settings(var_dir=tmp_path / "var")
    reference = open_case(scheduler.build_casework(settings))

    def intake(*args):
        return subprocess.run([sys.executable, "-m", "cli", "case", "adjust", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)

    done = intake(reference, "--adjustment", "large_print", "--adjustment", "post_only", "--note",
                  "Needs letters read over the phone too", "--by", ALICE, "--on", "2026-11-03")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{reference} adjustments: large_print, post_only"
    wrong = intake(reference, "--adjustment", "braille", "--by", ALICE)
    assert wrong.returncode == 2 and "invalid choice: 'braille'" in wrong.stderr and "Traceback" not in wrong.stderr

    db = Database(settings.resolved_database_url)
    with db.sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case.adjustments == ["large_print", "post_only"]
        assert case.adjustment_note == "Needs letters read over the phone too"
        [event] = [e for e in case.events if e.action == "adjustments_changed"]
        # --on a bare date: midday that day in London (GMT in November, so 12:00 UTC)
        assert event.actor == ALICE and event.at.replace(tzinfo=dt.UTC) == dt.datetime(2026, 11, 3, 12, 0, tzinfo=dt.UTC)
    db.engine.dispose()


def test_the_reply_preview_follows_the_adjustments_and_the_language(casework):
    reference = open_case(casework, email="sian.jones@example.net")
    with_address(casework, reference)
    casework.adjust(reference, ["post_only"], None, by=ALICE, language="cy")
    with casework.db.sessions() as session:
        channel, rendered = casework.correspondence.render_reply(find(session, reference), "Bydd y syrfëwr yn galw.")
    assert channel == "letter"  # an email address is known, but the resident asked for post
    assert rendered.subject.startswith("Ynglŷn â'ch neges / About your message")
    assert rendered.html == "" and "Bydd y syrfëwr yn galw." in rendered.text
