"""/metrics against what the worker really did: the worker (built as `intake run --once` builds it) takes
real mail from two Maildirs and acknowledges it through aiosmtpd; then a real `intake serve` process on
the same database is scraped over HTTP, and every figure is checked against the figures worked out by
hand below. /metrics is a machine endpoint (Prometheus reads it), so an HTTP client is its test, not a
browser. Run on SQLite and on PostgreSQL: the figures are SQL at scrape time, with one expression per
backend for the processing time."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from email.message import Message
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

import scheduler
from casework.models import Case, Clock, OutboxMessage, Submission, utcnow
from tests.conftest import REPO
from tests.letters.scans import LETTER, save_corrupt_pdf
from tests.mail import deliver, make_mail, new_maildir
from tests.smtp_server import free_port

LEAK = "I reported a leak three weeks ago and nobody has come. I am very unhappy with the service."
SAFEGUARDING = ("The old man at number 9 hasn't been seen for over a week, his post is piling up and I think he may be "
                "being neglected by his carer. I heard him crying for help last night. I'm really worried about his "
                "safety.")


# -- a real `intake serve` ---------------------------------------------------------------------------------


@contextmanager
def serving(env: dict, seconds: float = 90):
    """`intake serve` on a free port with these INTAKE_ settings; yields its URL once it answers at all
    (/healthz may rightly say 503)."""
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("INTAKE_")} | env
    log = open(Path(env["INTAKE_VAR_DIR"]) / "serve.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], cwd=REPO,
                               env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + seconds
        while True:
            assert process.poll() is None, f"intake serve exited with {process.returncode}"
            assert time.monotonic() < deadline, "intake serve did not answer in time"
            try:
                get(url + "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def get(url: str, headers: dict | None = None) -> tuple[int, str, Message]:
    """Status, body and headers of a GET; an HTTP error status is an answer, not an exception."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers


def samples(body: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a Prometheus text exposition as {(name, sorted labels): value}."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body) for sample in family.samples}


def by_label(found: dict, name: str, label: str) -> dict[str, float]:
    return {dict(labels)[label]: value for (sample, labels), value in found.items() if sample == name}


# -- the test ------------------------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_metrics_scraped_over_http_match_what_the_worker_did(make_settings, database_url, tmp_path, smtp):
    inbox, letters = new_maildir(tmp_path / "inbox"), tmp_path / "letters"
    letters.mkdir()
    deliver(inbox, make_mail("Sam Resident <sam@example.net>", "Leak still not fixed", LEAK))  # complaint, acked
    deliver(inbox, make_mail("Lena <lena@example.net>", "Worried about my neighbour", SAFEGUARDING))  # held, neutral ack
    deliver(inbox, make_mail("Away <away@example.net>", "Automatic reply: Leak", "I am out of the office.",
                             headers={"Auto-Submitted": "auto-replied"}))  # discarded, never answered
    deliver(inbox, make_mail("Refused <refused@example.net>", "Repairs ignored", LEAK))  # 550: failed row
    deliver(inbox, make_mail("Later <later@example.net>", "Still waiting for the repair", LEAK))  # 450: still queued
    save_corrupt_pdf(letters / "2026-11-17_scan-001.pdf", LETTER)  # unreadable: quarantined, a failed submission
    smtp.handler.refuse_recipients = {"refused@example.net": "550 5.1.1 No such user",
                                      "later@example.net": "450 4.2.0 Mailbox busy"}
    settings = make_settings(maildir=[{"name": "inbox", "path": inbox}], letters={"path": letters},
                             smtp={"host": "127.0.0.1", "port": smtp.port, "security": "none"})
    service = scheduler.build(settings)
    polled_from = utcnow()
    service.run_once()  # a scan is taken once its size is the same on two polls, as `intake run --once` twice
    service.run_once()
    polled_to = utcnow()

    # What the test sets by hand, so the times are known: the queued row waited two hours, one complaint's
    # response clock is two days past due, and one submission took 100 seconds from storing to its end.
    two_hours_ago = utcnow() - dt.timedelta(hours=2)
    with service.db.transaction() as session:
        [later] = session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == "later@example.net"))
        later.created_at = two_hours_ago
        sam = session.scalar(select(Case).where(Case.resident_email == "sam@example.net"))
        session.execute(update(Clock).where(Clock.case_id == sam.id, Clock.kind == "response_stage1")
                        .values(due_at=utcnow() - dt.timedelta(days=2)))
        away = session.scalar(select(Submission).where(Submission.sender == "away@example.net"))
        away.processed_at = away.stored_at + dt.timedelta(seconds=100)
        clocks = {(case_email, kind): met for case_email, kind, met in session.execute(
            select(Case.resident_email, Clock.kind, Clock.met_at).join(Case, Case.id == Clock.case_id))}
    service.db.engine.dispose()

    # Worked out by hand from the five messages and the scan above:
    # received: inbox 5 emails, letters 1 letter.
    # dispositions: accepted 3 (Sam, Refused, Later: complaints), held 1 (Lena, safeguarding), discarded 1
    #   (the out-of-office), failed 1 (the unreadable scan), pending 0.
    # cases held: 1 (Lena's). Acknowledgements sent by email: 2 (Sam's complaint, Lena's neutral one);
    #   Refused's was refused for good (failed), Later's is waiting after a 450 (queued).
    # outbox: sent 2, failed 1, queued 1, sending 0, suppressed 0; depth 1, oldest 2 hours.
    # clocks: each complaint has its stage 1 acknowledgement clock; Sam's is met, so his response clock is
    #   running (made 2 days overdue above); Refused's and Later's acknowledgement clocks are unmet and due in
    #   days. Lena's held case: whatever clocks the worker gave it, listed in `clocks` and counted below.
    assert clocks[("sam@example.net", "ack_stage1")] is not None
    assert clocks[("refused@example.net", "ack_stage1")] is None and clocks[("later@example.net", "ack_stage1")] is None
    lena_unmet = [kind for (who, kind), met in clocks.items() if who == "lena@example.net" and met is None
                  and kind not in ("escalation_window", "satisfaction_window")]
    # processing: 5 submissions reached a disposition through processing (the failed one too); the
    #   out-of-office took 100 s (set above), the others well under 60 s.

    env = {"INTAKE_VAR_DIR": str(tmp_path / "web"), "INTAKE_DATABASE_URL": database_url}
    (tmp_path / "web").mkdir()
    with serving(env) as url:
        status, body, headers = get(url + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version="), (status, body)
    found = samples(body)
    assert found[("intake_database_up", ())] == 1
    assert by_label(found, "intake_submissions_received_total", "source") == {"inbox": 5, "letters": 1}
    assert by_label(found, "intake_submissions_received_total", "channel") == {"email": 5, "letter": 1}
    assert by_label(found, "intake_submissions", "disposition") == {
        "pending": 0, "accepted": 3, "held": 1, "discarded": 1, "failed": 1}
    assert found[("intake_cases_held", ())] == 1
    assert by_label(found, "intake_acknowledgements_sent_total", "channel") == {"email": 2}
    assert len(smtp.messages) == 2  # what aiosmtpd really received agrees
    assert by_label(found, "intake_outbox_messages", "status") == {
        "queued": 1, "sending": 0, "sent": 2, "failed": 1, "suppressed": 0}
    assert found[("intake_outbox_depth", ())] == 1
    assert 7200 <= found[("intake_outbox_oldest_age_seconds", ())] < 7200 + 120
    due = by_label(found, "intake_clocks_due", "kind")
    breached = by_label(found, "intake_clocks_breached", "kind")
    assert breached == {"response_stage1": 1}
    assert due.get("ack_stage1", 0) == 2 + lena_unmet.count("ack_stage1")
    assert due.get("response_stage1", 0) == lena_unmet.count("response_stage1")
    assert sum(due.values()) == 2 + len(lena_unmet)
    for source in ("inbox", "letters"):
        last = found[("intake_source_last_success_timestamp_seconds", (("source", source),))]
        assert polled_from.timestamp() - 1 <= last <= polled_to.timestamp() + 1
        assert found[("intake_source_failing", (("source", source),))] == 0
    assert found[("intake_processing_seconds_count", ())] == 6
    assert found[("intake_processing_seconds_bucket", (("le", "60.0"),))] == 5
    assert found[("intake_processing_seconds_bucket", (("le", "300.0"),))] == 6
    assert found[("intake_processing_seconds_bucket", (("le", "+Inf"),))] == 6
    assert 100 <= found[("intake_processing_seconds_sum", ())] < 100 + 5 * 60


@pytest.mark.timeout(120)
def test_a_set_metrics_token_is_required_and_oauth2_secrets_days_left_are_shown(tmp_path):
    """A Microsoft 365 mailbox whose client secret ends in 10 days (UTC dates) and a Gmail SMTP login whose
    refresh token ended 2 days ago; the web app never logs in to either, so no token endpoint is needed."""
    today = dt.datetime.now(dt.UTC).date()
    env = {"INTAKE_VAR_DIR": str(tmp_path / "web"),
           "INTAKE_ALERTS__METRICS_TOKEN": "s3cret-token-for-prometheus",
           "INTAKE_IMAP": json.dumps([{"name": "m365", "host": "outlook.office365.com", "username": "c@landlord.org",
                                       "oauth2": {"provider": "microsoft", "tenant_id": "t", "client_id": "c",
                                                  "client_secret": "x", "secret_expires_on": str(today + dt.timedelta(days=10))}}]),
           "INTAKE_SMTP": json.dumps({"host": "smtp.gmail.com", "username": "c@landlord.org",
                                      "oauth2": {"provider": "google", "client_id": "c", "client_secret": "x",
                                                 "refresh_token": "r",
                                                 "refresh_token_expires_on": str(today - dt.timedelta(days=2))}})}
    (tmp_path / "web").mkdir()
    with serving(env) as url:
        assert get(url + "/metrics")[0] == 401
        assert get(url + "/metrics", {"Authorization": "Bearer wrong"})[0] == 401
        status, body, _ = get(url + "/metrics", {"Authorization": "Bearer s3cret-token-for-prometheus"})
    assert status == 200 and samples(body)[("intake_database_up", ())] == 1
    days = {(dict(labels)["owner"], dict(labels)["credential"]): value for (name, labels), value in samples(body).items()
            if name == "intake_oauth2_credential_days_left"}
    assert days == {("imap:m365", "client_secret"): 10, ("smtp", "refresh_token"): -2}


@pytest.mark.timeout(120)
def test_metrics_answer_database_down_when_postgresql_is_unreachable(tmp_path, postgresql_url):
    """The app starts on a working database, which then goes away (dropped): the scrape still answers."""
    from tests.conftest import drop_postgres_database

    env = {"INTAKE_VAR_DIR": str(tmp_path / "web"), "INTAKE_DATABASE_URL": postgresql_url}
    (tmp_path / "web").mkdir()
    with serving(env) as url:
        drop_postgres_database(postgresql_url)
        status, body, _ = get(url + "/metrics")
        health_status, health, _ = get(url + "/healthz")
    assert status == 200 and samples(body) == {("intake_database_up", ()): 0}
    assert health_status == 503 and '"database":"unreachable"' in health.replace(" ", "")
