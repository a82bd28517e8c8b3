"""Privacy: no resident's text in any log, at any level, when processing fails; and every file holding
residents' data (the database, printed letters, filed and quarantined scans, .eml files) readable by
the service's user only, whatever the umask."""

from __future__ import annotations

import email
import email.policy
import logging
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

import scheduler
from casework.models import Case, OutboxMessage, Submission
from casework.references import References
from casework.vocabulary import Disposition
from core.settings import Settings
from pipeline.process import Pipeline
from tests.letters.scans import LETTER, save_corrupt_pdf, save_png
from tests.mail import deliver, make_mail, new_maildir

# Words no log may contain: the resident's subject, body and name, each unusual enough that no
# module, SQL statement or path could contain it by chance.
SUBJECT = "Zanzibarian radiator still broken"
BODY = ("My neighbour Quentavious floods flat 7B every night and the damp has reached "
        "my daughter's bedroom. Please send someone, I am desperate. Plinthwaite Close.")
NAME = "Ottoline Wragglesworth"
PHOTO = "Plinthwaite Close bedroom damp.jpg"  # an attachment's name, which a library could log at DEBUG
SECRETS = ("Zanzibarian", "radiator still", "Quentavious", "flat 7B", "daughter", "desperate", "Plinthwaite",
           "Ottoline", "Wragglesworth", "ottoline.w@example.net")


def residents_mail() -> bytes:
    message = email.message_from_bytes(make_mail(f"{NAME} <ottoline.w@example.net>", SUBJECT, BODY),
                                       policy=email.policy.default)
    message.add_attachment(b"\xff\xd8\xff\xe0 not really a photo", maintype="image", subtype="jpeg", filename=PHOTO)
    return bytes(message)


def refuse_the_case(monkeypatch) -> None:
    """The database refuses the new case (no reference: NOT NULL, on SQLite and PostgreSQL alike); the
    refused INSERT's parameters hold the resident's subject, name and address."""
    monkeypatch.setattr(References, "allocate", lambda self, session, category, at: None)


def classifier_quotes_the_message(monkeypatch) -> None:
    """A step fails with an exception whose message quotes the resident, as a parser's error may."""

    def fail(self, message):
        raise ValueError(f"cannot classify {message.subject!r}: {message.new_text}")

    monkeypatch.setattr(Pipeline, "_classify", fail)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fault", [refuse_the_case, classifier_quotes_the_message], ids=["database", "step"])
def test_a_failed_submission_logs_its_id_and_the_error_class_but_no_word_of_the_resident(
        fault, make_settings, tmp_path, caplog, monkeypatch):
    maildir = new_maildir(tmp_path / "Maildir")
    deliver(maildir, residents_mail())
    service = scheduler.build(make_settings(log_level="DEBUG", maildir=[{"name": "mailbox", "path": maildir}]))
    fault(monkeypatch)
    caplog.set_level(logging.DEBUG)  # the root logger, so every library logs at DEBUG unless kept quiet

    service.run_once()

    with service.db.sessions() as session:
        [submission] = session.scalars(select(Submission)).all()
        assert submission.disposition == Disposition.FAILED and session.scalar(select(Case.id)) is None
        assert "[parameters" not in submission.error  # SQLAlchemy shows no parameters (hide_parameters)
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures, "the failure was not logged at all"
    logged = failures[0].getMessage()
    expected_class = "IntegrityError" if fault is refuse_the_case else "ValueError"
    assert f"submission {submission.id} failed" in logged and expected_class in logged  # the diagnostics stay
    assert "pipeline/process.py" in logged or "pipeline\\process.py" in logged  # where it happened
    assert logging.getLogger("pipeline.runner").isEnabledFor(logging.DEBUG)  # the worker really was at DEBUG
    for record in caplog.records:
        everything = " ".join([record.getMessage(), repr(record.args), record.exc_text or "", str(record.msg)])
        leaked = [secret for secret in SECRETS if secret.lower() in everything.lower()]
        assert not leaked, f"{record.name} logged {leaked} at {record.levelname}: {everything[:300]}"
    assert not [secret for secret in SECRETS if secret.lower() in caplog.text.lower()]


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


@pytest.fixture
def umask_022():
    """The usual umask, under which files are created world-readable unless the service says otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.timeout(240)
def test_the_database_letters_scans_and_emails_are_readable_by_the_service_user_only(tmp_path, umask_022):
    maildir = new_maildir(tmp_path / "Maildir")
    deliver(maildir, make_mail(subject="Mould in the bathroom", body="The mould in my bathroom is back again."))
    letters = tmp_path / "letters"
    letters.mkdir()
    scan = save_png(letters / "2026-11-16_scan-001.png", LETTER)  # a postal address only: a printed reply
    corrupt = save_corrupt_pdf(letters / "2026-11-17_scan-002.pdf", LETTER)  # unreadable: quarantined
    assert not private(scan) and not private(corrupt)  # as the scanner left them under umask 022
    var = tmp_path / "var"
    service = scheduler.build(Settings(var_dir=var, maildir=[{"name": "mailbox", "path": maildir}],
                                       letters={"path": letters}))  # the default: a SQLite file in var_dir

    service.run_once()  # a scan is taken once its size is the same on two polls (as `intake run --once` twice)
    service.run_once()

    with service.db.sessions() as session:
        channels = sorted(row.channel for row in session.scalars(select(OutboxMessage)))
        assert channels == ["email", "letter"]
    database = var / "intake.db"
    [pdf] = (var / "print").glob("*.pdf")
    [eml] = (var / "outbox").glob("*.eml")
    quarantined = sorted((letters / "quarantine").iterdir())
    filed = [path for path in (letters / "processed").rglob("*")]
    assert [p.name for p in quarantined] == ["2026-11-17_scan-002.pdf", "2026-11-17_scan-002.pdf.why.txt"]
    assert any(p.name == "2026-11-16_scan-001.png" for p in filed)
    assert (var / "intake.db-wal").exists()  # WAL mode: SQLite made it with the database file's mode
    must_be_private = [var, database, var / "intake.db-wal", var / "print", pdf, var / "outbox", eml,
                       letters / "quarantine", *quarantined, letters / "processed", *filed]
    everything_in_var = list(var.rglob("*"))
    loose = [str(p) for p in [*must_be_private, *everything_in_var] if not private(p)]
    assert not loose, f"readable by others: {loose}"
    service.db.engine.dispose()
