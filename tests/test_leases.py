"""Leases on real SQLite and PostgreSQL: one holder at a time, renewed, taken over after expiry or at
once from a dead process, released; and a race of many workers for one lease has one winner."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from casework.leases import Leases, holders, source_lease
from casework.models import Case, Lease, Submission
from core.workers import worker_id

OTHER_HOST_A, OTHER_HOST_B = "machine-a:101", "machine-b:202"  # workers on other machines: judged by expiry


def row(db, name):
    with db.sessions() as session:
        return session.scalars(select(Lease).where(Lease.name == name)).one_or_none()


def test_the_first_worker_takes_a_lease_and_the_second_is_refused_while_it_is_renewed(db):
    first, second = Leases(db, 30, holder=OTHER_HOST_A), Leases(db, 30, holder=OTHER_HOST_B)
    assert first.hold("source:mailbox") is True
    assert second.hold("source:mailbox") is False
    taken = row(db, "source:mailbox")
    assert taken.holder == OTHER_HOST_A
    assert 29 <= (taken.expires_at - taken.renewed_at).total_seconds() <= 31

    time.sleep(0.05)
    assert first.hold("source:mailbox") is True  # a renewal
    renewed = row(db, "source:mailbox")
    assert renewed.acquired_at == taken.acquired_at  # still the same holding
    assert renewed.renewed_at > taken.renewed_at and renewed.expires_at > taken.expires_at
    assert second.hold("source:mailbox") is False
    assert first.holds() == ["source:mailbox"] and second.holds() == []


def test_a_holder_that_stops_renewing_is_taken_over_after_the_lease_time_and_then_knows_it(db):
    first, second = Leases(db, 0.6, holder=OTHER_HOST_A), Leases(db, 0.6, holder=OTHER_HOST_B)
    assert first.hold("clocks")
    time.sleep(0.3)
    assert second.hold("clocks") is False  # 0.3 s without renewal: still the first's
    time.sleep(0.5)  # 0.8 s since the first renewed, more than 0.6
    assert second.hold("clocks") is True
    assert row(db, "clocks").holder == OTHER_HOST_B
    assert first.keep("clocks") is False  # its last renewal is stale, so it asks, and is told
    assert first.holds() == []


def test_keep_believes_a_fresh_renewal_without_asking_and_asks_once_it_is_a_third_of_the_lease_old(db):
    first, second = Leases(db, 0.9, holder=OTHER_HOST_A), Leases(db, 0.9, holder=OTHER_HOST_B)
    assert first.keep("print-batch")
    with db.transaction() as session:  # the lease is taken from under it (as by a statement elsewhere)
        session.get(Lease, "print-batch").holder = OTHER_HOST_B
    assert first.keep("print-batch") is True  # under 0.3 s since its renewal: it does not ask
    time.sleep(0.35)
    assert first.keep("print-batch") is False  # now it asks, and the row says another holds it
    assert second.keep("print-batch") is True


def test_released_leases_are_taken_at_once_and_release_all_gives_up_only_this_workers(db):
    first, second = Leases(db, 30, holder=OTHER_HOST_A), Leases(db, 30, holder=OTHER_HOST_B)
    assert first.hold("source:a") and first.hold("source:b") and second.hold("source:c")
    first.release("source:a")
    assert second.hold("source:a") is True
    first.release_all()
    assert set(holders(db)) == {"source:a", "source:c"}
    assert second.hold("source:b") is True
    assert {name: holder for name, (holder, _) in holders(db).items()} == {
        "source:a": OTHER_HOST_B, "source:b": OTHER_HOST_B, "source:c": OTHER_HOST_B}


def test_a_lease_held_by_a_dead_process_on_this_host_is_taken_over_at_once(db):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = f"{socket.gethostname()}:{gone.pid}"
    assert Leases(db, 300, holder=dead).hold(source_lease("mailbox"))
    mine = Leases(db, 300)  # this process: the holder id is core.workers.worker_id()
    assert mine.hold("source:mailbox") is True
    assert row(db, "source:mailbox").holder == worker_id()


def test_a_live_process_on_this_host_keeps_its_lease(db):
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert Leases(db, 300, holder=f"{socket.gethostname()}:{alive.pid}").hold("clocks")
        assert Leases(db, 300).hold("clocks") is False
    finally:
        alive.kill()
        alive.wait()


@pytest.mark.parametrize("expired_first", [False, True], ids=["new lease", "expired lease"])
def test_many_workers_racing_for_one_lease_have_exactly_one_winner(db, expired_first):
    """Eight threads, each its own worker, released together on twenty leases: one winner each."""
    names = [f"source:race-{n}" for n in range(20)]
    if expired_first:
        stale = Leases(db, 0.01, holder="machine-gone:1")
        for name in names:
            assert stale.hold(name)
        time.sleep(0.05)
    workers = [Leases(db, 30, holder=f"machine-{n}:{n}") for n in range(8)]
    won: dict[str, list[str]] = {name: [] for name in names}
    errors: list[BaseException] = []
    for name in names:
        start = threading.Barrier(len(workers))

        def race(leases: Leases, name=name, start=start) -> None:
            try:
                start.wait()
                if leases.hold(name):
                    won[name].append(leases.holder)
            except BaseException as exc:  # noqa: BLE001 - shown by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=race, args=(worker,)) for worker in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert all(len(winners) == 1 for winners in won.values()), won
    assert {name: winners[0] for name, winners in won.items()} == {
        name: holder for name, (holder, _) in holders(db).items()}


def _case_with_clocks(session, reference: str, clocks: dict[str, dt.datetime], status: str = "open") -> None:
    from casework.models import Case, Clock

    case = Case(reference=reference, category="complaint", status=status, received_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC))
    session.add(case)
    session.flush()
    for kind, due in clocks.items():
        session.add(Clock(case_id=case.id, kind=kind, starts_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC), due_at=due,
                          rule="set by the test"))


def test_two_workers_running_the_clock_job_at_once_note_each_overdue_clock_once_and_close_each_case_once(db, monkeypatch):
    """The lease keeps the clock job in one worker; the writes are idempotent too, for the moment a lease
    changes hands mid-job. A fault injected widens the race: each job pauses after reading, so both
    read before either commits."""
    from casework import clocks as clock_job
    from casework.models import CaseEvent

    overdue, later = dt.datetime(2026, 11, 2, 17, tzinfo=dt.UTC), dt.datetime(2026, 12, 30, tzinfo=dt.UTC)
    with db.transaction() as session:
        _case_with_clocks(session, "CMP-1", {"ack_stage1": overdue, "response_stage1": overdue})
        _case_with_clocks(session, "CMP-2", {"ack_stage1": overdue, "response_stage1": later})
        _case_with_clocks(session, "CMP-3", {"satisfaction_window": overdue})
    # Worked by hand: CMP-1 two overdue clocks, CMP-2 one, CMP-3 none (a window); CMP-3 closes.
    noted_by_hand, closed_by_hand = {("CMP-1", "ack_stage1"), ("CMP-1", "response_stage1"), ("CMP-2", "ack_stage1")}, {"CMP-3"}

    def slowly(real):
        def paused(*args, **kwargs):
            time.sleep(0.3)
            return real(*args, **kwargs)
        return paused

    monkeypatch.setattr(clock_job, "_already_noted", slowly(clock_job._already_noted))
    monkeypatch.setattr(clock_job, "_response_outcome", slowly(clock_job._response_outcome))
    now = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    start, results, errors = threading.Barrier(2), [], []

    def run() -> None:
        try:
            start.wait()
            results.append(clock_job.watch_clocks(db, now=now))
        except BaseException as exc:  # noqa: BLE001 - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [0, len(noted_by_hand) + len(closed_by_hand)]  # one did it all, the other nothing
    with db.sessions() as session:
        events = session.execute(select(CaseEvent.action, CaseEvent.detail, CaseEvent.case_id)).all()
        references = dict(session.execute(select(Case.id, Case.reference)).all())
        closed = set(session.scalars(select(Case.reference).where(Case.status == "closed")))
    noted = [(references[case_id], detail["clock"]) for action, detail, case_id in events if action == "clock_overdue"]
    assert sorted(noted) == sorted(noted_by_hand)  # each once
    assert [references[case_id] for action, _, case_id in events if action == "auto_closed"] == ["CMP-3"]
    assert closed == closed_by_hand


def test_run_once_polls_only_the_sources_whose_lease_it_takes_and_gives_its_leases_up(make_settings, tmp_path):
    """A second `intake run --once` while another worker (here: one on another machine) holds the
    mailbox's lease processes and sends, but does not poll; once the lease is free it polls."""
    import scheduler
    from tests.mail import deliver, make_mail, new_maildir

    maildir = new_maildir(tmp_path / "maildir")
    for n in range(2):
        deliver(maildir, make_mail(f"Resident {n} <r{n}@example.net>", "Leak", f"My kitchen tap is leaking, flat {n}."))
    service = scheduler.build(make_settings(maildir=[{"name": "mailbox", "path": maildir}]))
    elsewhere = Leases(service.db, 300, holder=OTHER_HOST_A)
    assert elsewhere.hold("source:mailbox")

    assert service.run_once()["items"] == 0
    assert len(list((maildir / "new").iterdir())) == 2  # not read: another worker polls it
    with service.db.sessions() as session:
        assert session.scalar(select(func.count(Submission.id))) == 0
    assert set(holders(service.db)) == {"source:mailbox"}  # its own clocks lease given up; the other's kept

    elsewhere.release_all()
    service.run_once()
    with service.db.sessions() as session:
        assert session.scalar(select(func.count(Submission.id))) == 2
        assert session.scalar(select(func.count(Submission.id)).where(Submission.disposition == "pending")) == 0
    assert holders(service.db) == {}
