"""The bad-input corpus (tests/fixtures/bad-mail/, described in its README) through the real worker,
on SQLite and on PostgreSQL: a Maildir source, a real SMTP server (aiosmtpd). For every file: its raw
bytes stored exactly, never `failed`, the same disposition on both backends, an acknowledgement to no
address but the sender's own (none at all for the ambiguous ones), no header added to it by the
resident's text, no template evaluated, and no message processed for longer than its budget."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

import scheduler
from casework.models import OutboxMessage, Submission
from casework.vocabulary import Disposition
from core.settings import Settings
from tests.conftest import REPO
from tests.e2e import smtp_settings
from tests.mail import deliver, new_maildir

CORPUS = REPO / "tests" / "fixtures" / "bad-mail"
MANIFEST: dict[str, dict] = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
BUDGET_SECONDS = 10  # per message: a bound that an unbounded regex or parser breaks, not a speed test
EVALUATED = "54439"  # 7 * 7777, what `{{ 7*7777 }}` would render as if a template ever evaluated it
# The headers our acknowledgements carry (responders/sender.py); anything else was injected.
ACK_HEADERS = {"from", "to", "subject", "date", "message-id", "in-reply-to", "references", "auto-submitted",
               "mime-version", "content-type", "content-transfer-encoding", "x-auto-response-suppress",
               "reply-to", "precedence"}


@dataclass
class Run:
    """What one backend did with the corpus, by file name."""

    dispositions: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str | None] = field(default_factory=dict)
    raw: dict[str, bytes] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    outbox: dict[str, list[OutboxMessage]] = field(default_factory=dict)
    received: list = field(default_factory=list)  # (file name, tests.smtp_server.Received)


def run_corpus(tmp_path: Path, url: str, smtp) -> Run:
    tmp_path.mkdir(parents=True, exist_ok=True)
    maildir = new_maildir(tmp_path / "maildir")
    files = sorted(MANIFEST)
    for name in files:  # delivered in name order, so both backends store and process in the same order
        deliver(maildir, (CORPUS / name).read_bytes())
    settings = Settings(var_dir=tmp_path / "var", database_url=url, smtp=smtp_settings(smtp),
                        maildir=[{"name": "bad-mail", "path": maildir}])
    service = scheduler.build(settings)
    already_received = len(smtp.received)
    for source in service.runner.sources:
        service.runner.poll(source)
    run = Run()
    with service.db.sessions() as session:
        ids = list(session.scalars(select(Submission.id).order_by(Submission.id)))
    timings = {}
    for submission_id in ids:
        started = time.monotonic()
        service.runner.process(submission_id)
        timings[submission_id] = time.monotonic() - started
    while service.send() > 0:
        pass
    by_raw = {(CORPUS / name).read_bytes(): name for name in files}
    with service.db.sessions() as session:
        by_id = {}
        for submission in session.scalars(select(Submission).order_by(Submission.id)):
            name = by_raw.get(submission.raw, f"unknown submission #{submission.id}")
            by_id[submission.id] = name
            run.dispositions[name] = submission.disposition
            run.reasons[name] = submission.reason
            run.raw[name] = submission.raw
            run.seconds[name] = timings.get(submission.id, 0.0)
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
    by_message_id = {}
    for row in rows:
        name = by_id.get(row.submission_id, f"no submission (row #{row.id})")
        run.outbox.setdefault(name, []).append(row)
        by_message_id[row.message_id.strip("<>")] = name
    for received in smtp.received[already_received:]:
        run.received.append((by_message_id.get(str(received.message["Message-ID"]).strip("<>"), "?"), received))
    service.db.engine.dispose()
    return run


@pytest.mark.slow
def test_the_bad_mail_corpus_gets_the_same_answer_on_sqlite_and_postgresql(tmp_path, sqlite_url, postgresql_url,
                                                                            smtp):
    assert len(MANIFEST) >= 80 and all((CORPUS / name).exists() for name in MANIFEST)
    runs = {"sqlite": run_corpus(tmp_path / "sqlite", sqlite_url, smtp),
            "postgresql": run_corpus(tmp_path / "postgresql", postgresql_url, smtp)}
    for backend, run in runs.items():
        headers = sorted({key.lower() for _, received in run.received for key in received.message.keys()})
        print(f"\n{backend}: {dict(Counter(run.dispositions.values()))}, {len(run.received)} acknowledgements "
              f"sent (headers {headers}), slowest "
              f"{max(run.seconds.values()):.2f} s ({max(run.seconds, key=run.seconds.get)})")
        for kind in sorted({entry['kind'] for entry in MANIFEST.values()}):
            counted = Counter(run.dispositions[n] for n, e in MANIFEST.items() if e["kind"] == kind and n in run.dispositions)
            print(f"  {kind}: {dict(sorted(counted.items()))}")

    problems = []
    for backend, run in runs.items():
        problems += check_run(backend, run)
    sqlite, postgresql = runs["sqlite"], runs["postgresql"]
    problems += [f"{name}: {sqlite.dispositions.get(name)} on SQLite but {postgresql.dispositions.get(name)} on "
                 f"PostgreSQL ({sqlite.reasons.get(name)!r} / {postgresql.reasons.get(name)!r})"
                 for name in sorted(MANIFEST) if sqlite.dispositions.get(name) != postgresql.dispositions.get(name)]
    assert not problems, "\n".join(problems)


def check_run(backend: str, run: Run) -> list[str]:
    """Every broken promise of one run, as a line naming the backend and the file."""
    problems = [f"{backend}: {name} was not stored" for name in MANIFEST if name not in run.raw]
    problems += [f"{backend}: {name} is not a corpus file" for name in run.raw if name not in MANIFEST]
    for name, raw in run.raw.items():
        if name in MANIFEST and raw != (CORPUS / name).read_bytes():
            problems.append(f"{backend}: {name}'s stored bytes differ from the file")
    problems += [f"{backend}: {name} ended failed ({run.reasons[name]})"
                 for name, disposition in run.dispositions.items() if disposition == Disposition.FAILED]
    problems += [f"{backend}: {name} took {seconds:.1f} s, over the {BUDGET_SECONDS} s budget"
                 for name, seconds in run.seconds.items() if seconds > BUDGET_SECONDS]
    for name, rows in run.outbox.items():
        allowed = set(MANIFEST.get(name, {}).get("may_answer", []))
        for row in rows:
            if row.channel == "email" and row.to_address not in allowed:
                problems.append(f"{backend}: {name}: an acknowledgement to {row.to_address!r}, "
                                f"allowed: {sorted(allowed) or 'nobody'}")
            if any(EVALUATED in (text or "") for text in (row.subject, row.text_body, row.html_body)):
                problems.append(f"{backend}: {name}: a template was evaluated from the resident's text")
            if row.status == "failed":
                problems.append(f"{backend}: {name}: its acknowledgement failed ({row.reason})")
    for name, received in run.received:
        allowed = {address.lower() for address in MANIFEST.get(name, {}).get("may_answer", [])}
        if {address.lower() for address in received.rcpt_tos} - allowed:
            problems.append(f"{backend}: {name}: SMTP envelope to {received.rcpt_tos}, allowed: {sorted(allowed)}")
        names = [key.lower() for key in received.message.keys()]
        extra = set(names) - ACK_HEADERS
        if extra or names.count("to") != 1:
            problems.append(f"{backend}: {name}: the acknowledgement has headers {sorted(extra)} "
                            f"and {names.count('to')} To")
        if any("\n" in str(value) or "\r" in str(value) for value in received.message.values()):
            problems.append(f"{backend}: {name}: a header value holds a line break")
    return problems
