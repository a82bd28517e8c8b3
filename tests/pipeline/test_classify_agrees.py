"""`intake classify --json` says what the pipeline does: for every message of the training corpus, the
acknowledgement it prints ("category", "neutral" or "none") is the one the real worker queues.

The worker side is one drain of a real Maildir into SQLite (a new sender per message, so neither the
duplicate check nor the per-sender cap gets in the way); the CLI side reads the same bytes from .eml files.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

import scheduler
from casework.models import OutboxMessage, Submission
from classifier.corpus import load_corpus
from core.settings import Settings
from pipeline.classify_files import classify_file
from responders.acknowledge import acknowledgement_label
from tests.mail import deliver, make_mail, new_maildir

# Corpus messages quote references such as CMP-2026-000123: with the usual prefixes some would thread into
# a case the same drain had just opened, where classify (which knows no cases) treats every file as new.
UNQUOTED_PREFIXES = {"complaint": "QZC", "service_request": "QZS", "compliment": "QZP", "out_of_scope": "QZG"}


@pytest.fixture(scope="module")
def corpus_mail(tmp_path_factory) -> dict[str, bytes]:
    """Message-ID (without brackets) -> the mail, one per corpus example."""
    mail = {}
    for n, example in enumerate(load_corpus()):
        message_id = f"corpus-{n}@example.net"
        mail[message_id] = make_mail(f"Resident {n} <resident{n}@example.net>", example.subject or "(no subject)",
                                     example.body, message_id=f"<{message_id}>")
    return mail


def worker_labels(service, maildir, mail: dict[str, bytes]) -> dict[str, str]:
    """Message-ID -> the acknowledgement the worker queued, for messages that opened a case of their own or
    were discarded as machine mail (no case); not for one that threaded into another message's case."""
    for raw in mail.values():
        deliver(maildir, raw)
    while service.runner.run_once():
        pass
    with service.db.sessions() as session:
        kinds = dict(session.execute(select(OutboxMessage.submission_id, OutboxMessage.kind)).all())
        rows = session.execute(select(Submission.id, Submission.message_id, Submission.case_id)
                               .order_by(Submission.id)).all()
    opened = {}  # case id -> the submission that opened it
    for submission_id, _, case_id in rows:
        opened.setdefault(case_id, submission_id)
    return {message_id: acknowledgement_label(kinds.get(submission_id))
            for submission_id, message_id, case_id in rows if case_id is None or opened[case_id] == submission_id}


def test_classify_json_gives_the_acknowledgement_the_worker_queues_for_every_corpus_message(
        sqlite_url, tmp_path, corpus_mail):
    maildir = new_maildir(tmp_path / "maildir")
    settings = Settings(var_dir=tmp_path / "var", database_url=sqlite_url, maildir=[{"name": "mailbox", "path": maildir}],
                        references={"prefixes": UNQUOTED_PREFIXES})
    service = scheduler.build(settings)
    try:
        worker = worker_labels(service, maildir, corpus_mail)
        classifier = service.runner.pipeline.classifier
    finally:
        service.db.engine.dispose()
    assert len(worker) == len(corpus_mail)  # none threaded into another's case (classify treats each as new)
    files = tmp_path / "files"
    files.mkdir()
    disagreements = []
    for message_id, label in worker.items():
        path = files / f"{message_id}.eml"
        path.write_bytes(corpus_mail[message_id])
        printed = classify_file(path, classifier, settings)["acknowledgement"]
        if printed != label:
            disagreements.append((message_id, printed, label))
    assert disagreements == []
