"""/healthz over HTTP from a real `intake serve` on a database a real worker has used. /healthz is a machine
endpoint (load balancers, container health checks read its status and JSON), so an HTTP client is its
test, not the browser the staff pages are tested in."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import update

import scheduler
from casework.models import SourceHealth, utcnow
from tests.mail import deliver, make_mail, new_maildir
from tests.test_metrics import get, serving

SERVER_SAYS = "Login failed for Ms Harriet Quinceworth at imap.example.org"  # an error text that could quote anyone


@pytest.fixture
def worked(tmp_path, make_settings, database_url):
    """A worker that polled two Maildirs once, and the INTAKE_ settings a web process needs to see the same."""
    inbox, post = new_maildir(tmp_path / "inbox"), new_maildir(tmp_path / "post")
    deliver(inbox, make_mail())
    service = scheduler.build(make_settings(maildir=[{"name": "inbox", "path": inbox}, {"name": "post", "path": post}]))
    service.run_once()
    env = {"INTAKE_VAR_DIR": str(tmp_path / "web"), "INTAKE_DATABASE_URL": database_url,
           "INTAKE_MAILDIR": json.dumps([{"name": "inbox", "path": str(inbox)}, {"name": "post", "path": str(post)}])}
    (tmp_path / "web").mkdir()
    yield service, env
    service.db.engine.dispose()


@pytest.mark.timeout(180)
def test_healthz_is_200_when_the_database_answers_and_every_source_polled_recently(worked):
    service, env = worked
    started = utcnow()
    with serving(env) as url:
        status, body, headers = get(url + "/healthz")
    assert status == 200 and headers["Content-Type"] == "application/json"
    answer = json.loads(body)
    assert answer["status"] == "ok" and answer["database"] == "ok"
    assert [(s["name"], s["silent"], s["failing"]) for s in answer["sources"]] == [("inbox", False, False),
                                                                                  ("post", False, False)]
    for source in answer["sources"]:
        assert dt.datetime.fromisoformat(source["last_success_at"]) <= started


@pytest.mark.timeout(180)
def test_healthz_is_503_when_a_source_has_not_polled_successfully_for_too_long(worked):
    """poll_seconds is 60, so a source is silent after max(3 polls, 5 minutes) = 5 minutes; post's last
    success is set to 6 minutes ago and its last poll failed with an error text, which is not shown."""
    service, env = worked
    with service.db.transaction() as session:
        session.execute(update(SourceHealth).where(SourceHealth.source == "post").values(
            last_success_at=utcnow() - dt.timedelta(minutes=6), last_error=SERVER_SAYS, last_error_at=utcnow()))
    with serving(env) as url:
        status, body, _ = get(url + "/healthz")
    assert status == 503
    answer = json.loads(body)
    assert answer["status"] == "unhealthy" and answer["database"] == "ok"
    assert {s["name"]: (s["silent"], s["failing"]) for s in answer["sources"]} == {
        "inbox": (False, False), "post": (True, True)}
    assert "Quinceworth" not in body and "Login failed" not in body


@pytest.mark.timeout(180)
def test_a_source_never_polled_is_given_time_for_its_first_poll(worked, tmp_path):
    """A source added to the settings that the worker has not polled yet: the app has just started, so it is
    not silent yet (it would be once 5 minutes had passed since the app started)."""
    service, env = worked
    fresh = new_maildir(tmp_path / "fresh")
    sources = json.loads(env["INTAKE_MAILDIR"]) + [{"name": "fresh", "path": str(fresh)}]
    with serving(env | {"INTAKE_MAILDIR": json.dumps(sources)}) as url:
        status, body, _ = get(url + "/healthz")
    assert status == 200
    [fresh_state] = [s for s in json.loads(body)["sources"] if s["name"] == "fresh"]
    assert fresh_state == {"name": "fresh", "last_success_at": None, "silent": False, "failing": False}
