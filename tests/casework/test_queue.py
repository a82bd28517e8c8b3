"""The staff queue's query (casework.queue), on SQLite and PostgreSQL: what is in it, its order, every
filter, the search, keyset paging (every case once, in order) and the counts.

Now is Thursday 12 November 2026, 12:00 (GMT = UTC). A stage 1 acknowledgement falls due 5 working
days after receipt, at 23:59:59; "this week" ends at midnight starting Monday 16 November."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

import scheduler
from casework import lifecycle
from casework.models import Clock, Submission
from casework.queue import (
    CLOCK, EMERGENCY, HELD, SAFEGUARDING, UNASSIGNED, Cursor, QueueFilter, counts, queue_count, queue_page, week_end,
)
from casework.vocabulary import AckKind, Disposition, Flag
from core.settings import Settings

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 12, 12, 0, tzinfo=UTC)
ALICE, BOB = "alice@landlord.org", "bob@landlord.org"
_keys = itertools.count()


@pytest.fixture
def casework(db, tmp_path):
    settings = Settings(var_dir=tmp_path / "var", database_url=db.engine.url.render_as_string(hide_password=False))
    return scheduler.build_casework(settings, db)


def day(d: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 11, d, hour, 0, tzinfo=UTC)


def make(casework, category="complaint", *, received=day(2), flags=(), held=None, assignee=None, channel="email",
         name="Sam Resident", email="resident@example.net", address=None, responded=False, closed=False,
         window=False) -> str:
    """A case as the pipeline and the verbs leave it, built with casework.lifecycle; its reference."""
    with casework.db.transaction() as session:
        case = lifecycle.open_case(session, casework.references, category=category, held=bool(held),
                                   received_at=received, now=received, resident_email=email, resident_name=name,
                                   resident_address=address, subject="Roof")
        case.submissions.append(Submission(
            source="test", kind=channel, natural_key=f"k{next(_keys)}", raw=b"x", raw_sha256="0" * 64,
            received_at=received, disposition=Disposition.HELD if held else Disposition.ACCEPTED))
        lifecycle.add_flags(case, flags, casework.policy, received)
        if category == "complaint":
            lifecycle.start_complaint_clocks(case, casework.policy, received)
        if held:
            lifecycle.hold(case, held)
        if responded:
            lifecycle.acknowledged(case, casework.policy, AckKind.COMPLAINT_STAGE1, received)
            lifecycle.responded(case, casework.policy, actor=BOB, at=received + dt.timedelta(days=1))
        if window:  # a window never puts a case in the queue, even one "past due"
            case.clocks.append(Clock(kind="escalation_window", starts_at=received, due_at=day(3), rule="window"))
        case.assignee = assignee
        if closed:
            lifecycle.close(case, "resolved", actor=BOB, at=received + dt.timedelta(days=2))
        session.flush()
        return case.reference


def refs(casework, filters=QueueFilter(), **kwargs) -> list[str]:
    with casework.db.sessions() as session:
        return [row.reference for row in queue_page(session, filters, now=NOW, limit=500, **kwargs).rows]


@pytest.fixture
def cases(casework):
    """One case of each kind the queue must tell apart, by name."""
    made = {
        "safeguarding": make(casework, received=day(10), flags=[Flag.SAFEGUARDING], assignee=BOB),
        "emergency": make(casework, received=day(11), flags=[Flag.EMERGENCY_HAZARD]),
        "overdue": make(casework, received=day(3), assignee=ALICE),  # ack due Tue 10 Nov
        "this_week": make(casework, received=day(6), channel="letter"),  # ack due Fri 13 Nov
        "next_week": make(casework, received=day(9), channel="phone", assignee=ALICE),  # ack due Mon 16 Nov
        "held_clock": make(casework, received=day(9, 11), held="classifier not confident (complaint, 0.41)"),
        "damp": make(casework, "service_request", received=day(10), flags=[Flag.DAMP_MOULD], assignee=BOB),
        "held": make(casework, "out_of_scope", received=day(4), held="looks like an auto-reply", channel="in_person",
                     name="Jo Bloggs", email="jo.bloggs@example.com", address=["Flat 2", "1 High Street", "sw1a 1aa"]),
        "unassigned": make(casework, "service_request", received=day(5)),
        # never in the queue:
        "assigned_no_clock": make(casework, "compliment", received=day(5), assignee=ALICE),
        "closed": make(casework, received=day(2), closed=True),
        "responded": make(casework, received=day(2), responded=True, window=True, assignee=BOB),
    }
    return made


def test_the_queue_holds_what_needs_a_person_most_urgent_first(casework, cases):
    # safeguarding, emergency, then by the nearest unmet clock, then held, then open and unassigned
    order = refs(casework)
    assert order[:2] == [cases["safeguarding"], cases["emergency"]]
    assert order[-2:] == [cases["held"], cases["unassigned"]]
    clocked = order[2:-2]
    assert set(clocked) == {cases[name] for name in ("overdue", "this_week", "next_week", "held_clock", "damp")}
    with casework.db.sessions() as session:
        rows = queue_page(session, now=NOW, limit=500).rows
    dues = [row.clock_due for row in rows[2:-2]]
    assert dues == sorted(dues) and all(due is not None for due in dues)
    assert [row.tier for row in rows] == [SAFEGUARDING, EMERGENCY] + [CLOCK] * 5 + [HELD, UNASSIGNED]
    # next_week (received Mon 9 10:00) and held_clock (Mon 9 11:00) fall due at the same moment: the older first
    assert clocked.index(cases["next_week"]) + 1 == clocked.index(cases["held_clock"])
    first = {row.reference: row for row in rows}
    assert first[cases["overdue"]].overdue and first[cases["overdue"]].clock_kind == "ack_stage1"
    assert not first[cases["this_week"]].overdue
    assert first[cases["held"]].held_reason == "looks like an auto-reply" and first[cases["held"]].clock_kind is None
    assert not {cases["assigned_no_clock"], cases["closed"], cases["responded"]} & set(order)


def test_every_filter(casework, cases):
    def only(**kwargs):
        return set(refs(casework, QueueFilter(**kwargs)))

    named = {ref: name for name, ref in cases.items()}

    def names(**kwargs):
        return {named[ref] for ref in only(**kwargs)}

    assert names(category="service_request") == {"damp", "unassigned"}
    assert names(stage=2) == set()
    assert names(flag="safeguarding") == {"safeguarding"}
    assert names(flag="emergency_hazard") == {"emergency"}
    assert names(flag="damp_mould") == {"damp"}
    assert names(assignee=ALICE) == {"overdue", "next_week"}
    assert names(assignee="unassigned") == {"emergency", "this_week", "held_clock", "held", "unassigned"}
    assert names(status="held") == {"held_clock", "held"}
    assert names(held_reason="AUTO-REPLY") == {"held"}
    assert names(held_reason="100%") == set()  # LIKE's wildcards are matched as themselves
    assert names(overdue=True) == {"overdue", "emergency"}  # the emergency's 24 hours ran out at 10:00 today
    assert names(due_this_week=True) >= {"overdue", "this_week"}
    assert not names(due_this_week=True) & {"next_week", "held_clock", "held", "unassigned"}
    assert names(channel="letter") == {"this_week"}
    assert names(channel="phone") == {"next_week"}
    assert names(channel="in_person") == {"held"}
    assert names(category="complaint", assignee=ALICE, overdue=True) == {"overdue"}


def test_due_this_week_ends_at_midnight_before_monday_in_landlord_time():
    assert week_end(NOW, "Europe/London") == dt.datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
    # in summer London is an hour ahead: midnight starting Monday 20 July is 23:00 UTC on Sunday
    assert week_end(dt.datetime(2026, 7, 19, 22, 30, tzinfo=UTC), "Europe/London") == dt.datetime(
        2026, 7, 19, 23, 0, tzinfo=UTC)
    # on Sunday evening after that moment, it is already the next week
    assert week_end(dt.datetime(2026, 7, 19, 23, 30, tzinfo=UTC), "Europe/London") == dt.datetime(
        2026, 7, 26, 23, 0, tzinfo=UTC)


def test_search_by_reference_name_email_or_postcode(casework, cases):
    held = cases["held"]
    assert refs(casework, QueueFilter(search=held)) == [held]
    assert refs(casework, QueueFilter(search=held.lower())) == [held]
    by_number = refs(casework, QueueFilter(search=held[-6:]))  # the number alone: each prefix's
    assert held in by_number and all(ref.endswith(held[-6:]) for ref in by_number)
    assert refs(casework, QueueFilter(search="bloggs")) == [held]
    assert refs(casework, QueueFilter(search="  JO   BLOGGS ")) == [held]
    assert refs(casework, QueueFilter(search="jo.bloggs@example")) == [held]
    assert refs(casework, QueueFilter(search="SW1A 1AA")) == [held]
    assert refs(casework, QueueFilter(search="sw1a1aa")) == [held]
    assert refs(casework, QueueFilter(search="Sw1A")) == [held]
    assert refs(casework, QueueFilter(search="SW1B 1AA")) == []
    assert refs(casework, QueueFilter(search="nobody@nowhere")) == []


def test_paging_returns_every_case_once_in_order(casework, cases):
    # more cases on the same due dates, so pages break inside runs of equal sort keys
    for n in range(14):
        make(casework, received=day(2 + n % 3), held="unsure" if n % 4 == 0 else None,
             flags=[Flag.SAFEGUARDING] if n % 7 == 0 else (), channel="letter" if n % 2 else "email")
    for filters in (QueueFilter(), QueueFilter(channel="letter"), QueueFilter(assignee="unassigned")):
        everything = refs(casework, filters)
        for size in (1, 3, 4):
            seen, cursor, pages = [], None, 0
            with casework.db.sessions() as session:
                while True:
                    page = queue_page(session, filters, after=cursor, now=NOW, limit=size)
                    seen += [row.reference for row in page.rows]
                    pages += 1
                    if page.next_cursor is None:
                        break
                    cursor = page.next_cursor
                    assert Cursor.decode(cursor) is not None
            assert seen == everything, (filters, size)
            assert pages == max(1, -(-len(everything) // size))
            with casework.db.sessions() as session:
                assert queue_count(session, filters, now=NOW) == len(everything)


def test_a_cursor_that_is_not_ours_starts_again_at_the_top(casework, cases):
    assert refs(casework, after="1;DROP TABLE cases") == refs(casework)


def test_counts_for_the_filter_bar(casework, cases):
    with casework.db.sessions() as session:
        bar = counts(session, ALICE, now=NOW)
    assert bar["held"] == 2
    assert bar["mine"] == 2
    assert bar["unassigned"] == 5
    assert bar["safeguarding"] == 1
    assert bar["emergency_hazard"] == 1
    assert bar["overdue"] == len(refs(casework, QueueFilter(overdue=True))) >= 1
    assert bar["due_this_week"] == len(refs(casework, QueueFilter(due_this_week=True))) >= 2
