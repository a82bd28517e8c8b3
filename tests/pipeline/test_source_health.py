"""Each poll is recorded in the source_health table, so the staff app (another process) can show it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

import scheduler
from casework.models import Submission
from casework.models import SourceHealth as SourceHealthRow
from casework.vocabulary import Disposition
from pipeline.runner import Runner
from tests.mail import deliver, make_mail, new_maildir


@pytest.fixture
def service(make_settings, tmp_path):
    good = new_maildir(tmp_path / "good")
    settings = make_settings(maildir=[{"name": "inbox", "path": good}, {"name": "lost", "path": tmp_path / "missing"}])
    service = scheduler.build(settings)
    service.good, service.missing = good, tmp_path / "missing"
    yield service
    service.db.engine.dispose()


def rows(service) -> dict[str, SourceHealthRow]:
    with service.db.sessions() as session:
        return {row.source: row for row in session.scalars(select(SourceHealthRow))}


def test_a_working_source_records_success_and_a_missing_one_records_its_error(service):
    before = dt.datetime.now(dt.UTC)
    service.run_once()
    health = rows(service)
    inbox, lost = health["inbox"], health["lost"]
    assert inbox.last_poll_at >= before and inbox.last_success_at == inbox.last_poll_at
    assert inbox.last_error is None and inbox.last_error_at is None
    assert lost.last_success_at is None and lost.last_error_at >= before
    assert str(service.missing) in lost.last_error
    assert service.runner.health.errors == {"lost": lost.last_error}  # what `intake run --once` prints


def test_a_later_good_poll_clears_the_error_but_keeps_when_it_last_went_wrong(service):
    service.run_once()
    failed_at = rows(service)["lost"].last_error_at
    new_maildir(service.missing)
    service.run_once()
    lost = rows(service)["lost"]
    assert lost.last_error is None and lost.last_error_at == failed_at
    assert lost.last_success_at > failed_at and lost.last_poll_at == lost.last_success_at
    assert service.runner.health.errors == {}


def test_a_source_bug_is_recorded_by_its_type_never_by_text_that_may_quote_a_message(db):
    class Broken:
        name = "broken"

        def fetch(self):
            raise ValueError("Dear landlord, my flat at 4 Elm Road is full of mould")
            yield  # a generator, as a real source's fetch is

    runner = Runner(db, [Broken()], pipeline=None)
    assert runner.poll(Broken()) == 0
    with db.sessions() as session:
        row = session.get(SourceHealthRow, "broken")
    assert row.last_error.startswith("ValueError") and "mould" not in row.last_error
    assert "mould" in runner.health.errors["broken"]  # the operator's own terminal still gets it


def test_a_database_error_while_recording_health_does_not_stop_polling(service):
    with service.db.transaction() as session:
        session.execute(text("DROP TABLE source_health"))
    deliver(service.good, make_mail(subject="Leak", body="The leak in my kitchen is back and nobody has come."))
    done = service.run_once()
    assert done["items"] >= 1
    with service.db.sessions() as session:
        [submission] = session.scalars(select(Submission)).all()
        assert submission.disposition != Disposition.PENDING
    assert "lost" in service.runner.health.errors
