"""pipeline.runner's start step: a start another worker is still on is theirs, not a death; a dead
worker's start (a process gone from this host, or an old start from another host) is a death, and
enough deaths set the message aside. On a real SQLite file and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess

import pytest
from sqlalchemy import update

from casework.models import Submission, utcnow
from casework.vocabulary import Channel, Disposition
from core.settings import LimitsSettings
from pipeline.runner import Runner



def waiting_submission(db) -> int:
    with db.transaction() as session:
        submission = Submission(source="test", kind=Channel.EMAIL, natural_key="k1", raw=b"x", raw_sha256="0" * 64,
                                received_at=utcnow(), disposition=Disposition.PENDING)
        session.add(submission)
        session.flush()
        return submission.id


def runner(db, stalled: float = 60) -> Runner:
    # _start never touches the sources or the pipeline
    return Runner(db, [], pipeline=None, limits=LimitsSettings(set_aside_after_deaths=2, stalled_after_seconds=stalled))


def started(db, submission_id: int, seconds_ago: float, by: str = "another-host:4242") -> None:
    """As if the last start was ``seconds_ago`` by worker ``by`` (one that then died, or one still at work)."""
    with db.transaction() as session:
        session.execute(update(Submission).where(Submission.id == submission_id)
                        .values(started_at=utcnow() - dt.timedelta(seconds=seconds_ago), started_by=by))


def gone_process() -> str:
    """The worker id of a process on this host that has ended (killed by a supervisor, or out of memory)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}"


def state(db, submission_id: int) -> tuple:
    with db.sessions() as session:
        row = session.get(Submission, submission_id)
        return row.unfinished_attempts, row.disposition


def test_three_workers_racing_for_one_message_count_one_start_and_never_set_it_aside(db):
    submission_id = waiting_submission(db)
    first, second, third = runner(db), runner(db), runner(db)
    assert first._start(submission_id) is True
    assert second._start(submission_id) is None  # the first is on it: left to it, not counted
    assert third._start(submission_id) is None
    assert state(db, submission_id) == (1, Disposition.PENDING)


def test_a_stale_start_is_a_death_and_the_second_death_sets_the_message_aside(db):
    submission_id = waiting_submission(db)
    assert runner(db)._start(submission_id) is True  # a worker starts, then is killed
    started(db, submission_id, seconds_ago=61)  # 61 s later, past the 60 s a live worker could take
    assert runner(db)._start(submission_id) is True  # one death counted; this worker tries again, and dies
    assert state(db, submission_id) == (2, Disposition.PENDING)
    started(db, submission_id, seconds_ago=61)
    assert runner(db)._start(submission_id) == Disposition.FAILED  # two deaths: set aside for a person
    assert state(db, submission_id) == (0, Disposition.FAILED)


def test_a_start_younger_than_the_stall_window_is_left_alone_even_after_a_death(db):
    submission_id = waiting_submission(db)
    assert runner(db)._start(submission_id) is True
    started(db, submission_id, seconds_ago=30)  # 30 s < 60 s: a worker may still be reading it
    assert runner(db)._start(submission_id) is None
    assert state(db, submission_id) == (1, Disposition.PENDING)


def test_a_start_by_a_process_gone_from_this_host_is_a_death_at_once(db):
    submission_id = waiting_submission(db)
    assert runner(db)._start(submission_id) is True
    started(db, submission_id, seconds_ago=1, by=gone_process())  # SIGKILLed a second ago; restarted now
    assert runner(db)._start(submission_id) is True
    assert state(db, submission_id) == (2, Disposition.PENDING)
