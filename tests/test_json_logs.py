"""Structured logs (`log_format = "json"`): one JSON object per line with time, level, logger and message
(and any ids given with ``extra=``), and never a word a resident wrote, even at DEBUG: the worker takes a
real message from a real Dovecot mailbox and acknowledges it through aiosmtpd with the root logger at
DEBUG, writing JSON, and the output is searched for the message's subject, body and sender (as
tests/test_privacy.py does for the text format)."""

from __future__ import annotations

import email
import email.policy
import io
import json
import logging
import datetime as dt

import pytest
from sqlalchemy import select

import scheduler
from casework.models import OutboxMessage, Submission
from casework.vocabulary import OutboxStatus
from cli import _configure_logging
from core.logs import JsonFormatter
from tests.mail import make_mail

SUBJECT = "Vellichorian boiler leaking onto the Quimbleford stairs"
BODY = ("Water from the Vellichorian boiler runs down the Quimbleford stairs every morning and my son "
        "Thaddeus slipped on it yesterday. Flat 14C, Ormsworth House. Please help.")
SENDER = "Perpetua Glendinning-Vasquez <perpetua.gv@example.net>"
SECRETS = ("Vellichorian", "Quimbleford", "Thaddeus", "Flat 14C", "Ormsworth", "Perpetua", "Glendinning",
           "perpetua.gv", "slipped on it")
TEST_SERVERS = ("mail.log",)  # aiosmtpd's own logger: the test's SMTP server, not the service


@pytest.fixture
def json_logs():
    """The root logger at DEBUG writing JSON into a buffer, as `intake run` configures it."""
    stream = io.StringIO()
    handler = _configure_logging("DEBUG", "json", stream)
    yield stream
    logging.getLogger().removeHandler(handler)


@pytest.mark.timeout(180)
def test_the_worker_at_debug_writes_json_lines_with_no_word_of_the_resident(json_logs, make_settings, dovecot, smtp):
    dovecot.append("INBOX", make_mail(SENDER, SUBJECT, BODY))
    service = scheduler.build(make_settings(
        log_level="DEBUG", log_format="json",
        imap=[{"name": "complaints", "host": dovecot.host, "port": dovecot.port, "security": "none",
               "username": dovecot.user, "password": dovecot.password}],
        smtp={"host": "127.0.0.1", "port": smtp.port, "security": "none"}))

    service.run_once()

    with service.db.sessions() as session:
        assert session.scalar(select(Submission.subject)) == SUBJECT  # the message really went through
        [ack] = session.scalars(select(OutboxMessage)).all()
        assert ack.status == OutboxStatus.SENT
    assert [message["To"] for message in smtp.messages] == ["perpetua.gv@example.net"]
    entries = [json.loads(line) for line in json_logs.getvalue().splitlines()]  # every line is one JSON object
    ours = [entry for entry in entries if entry["logger"] not in TEST_SERVERS]
    assert ours, "the worker logged nothing"
    assert any(entry["level"] == "DEBUG" for entry in entries)  # DEBUG really was on
    for entry in ours:
        assert {"time", "level", "logger", "message"} <= set(entry)
        assert dt.datetime.fromisoformat(entry["time"]).utcoffset() == dt.timedelta(0)
        text = json.dumps(entry, ensure_ascii=False).lower()
        leaked = [secret for secret in SECRETS if secret.lower() in text]
        assert not leaked, f"{entry['logger']} logged {leaked} at {entry['level']}: {text[:300]}"


def test_ids_given_as_extra_are_fields_and_an_exception_is_described_without_its_message():
    logger = logging.getLogger("tests.json_logs")
    record = logger.makeRecord("tests.json_logs", logging.ERROR, __file__, 1, "submission %s failed", (12,),
                               None, extra={"submission_id": 12, "outbox_id": None})
    try:
        raise ValueError(f"cannot read {SUBJECT!r} from {SENDER}")  # as a parser's error may quote a message
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "submission 12 failed" and entry["level"] == "ERROR"
    assert entry["submission_id"] == 12 and entry["outbox_id"] is None
    assert entry["error"].startswith("ValueError (builtins)") and "tests/test_json_logs.py" in entry["error"]
    assert not [secret for secret in SECRETS if secret.lower() in json.dumps(entry).lower()]
    assert "\n" not in JsonFormatter().format(record)  # one line, whatever the traceback


def test_the_text_format_is_unchanged():
    stream = io.StringIO()
    handler = _configure_logging("INFO", "text", stream)
    try:
        logging.getLogger("tests.json_logs").info("outbox row %s sent", 7)
    finally:
        logging.getLogger().removeHandler(handler)
    assert stream.getvalue().rstrip().endswith(" INFO tests.json_logs: outbox row 7 sent")
