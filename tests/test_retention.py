"""Retention on both backends, with hand-set dates: which cases and submissions go, what goes with them,
what never goes; ``intake retention --dry-run`` lists without deleting and names no resident."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

from sqlalchemy import func, select

from casework.models import (
    Attachment, Case, CaseEvent, CaseLink, Clock, LabelCorrection, OutboxMessage, Submission,
)
from casework.retention import delete_expired, expired, years_before
from casework.vocabulary import CaseStatus, Disposition, EventAction, LinkKind, OutboxStatus
from core.db import Database
from core.settings import RetentionSettings
from tests.conftest import REPO

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
RESIDENT = "Mrs Harriet Quill"


def at(year: int, month: int = 1, day: int = 1, hour: int = 12) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


_keys = iter(range(1, 10_000))


def submission(session, case: Case | None, received: dt.datetime, disposition=Disposition.ACCEPTED,
               attachment: bool = False) -> Submission:
    key = next(_keys)
    row = Submission(source="office", kind="email", natural_key=f"k{key}", raw=b"From: x\r\n\r\nwords",
                     raw_sha256=f"{key:064d}", received_at=received, sender="h.quill@example.net",
                     subject="My damp flat", disposition=disposition, case=case)
    if attachment:
        row.attachments.append(Attachment(filename="photo.jpg", content_type="image/jpeg", size=3, data=b"jpg"))
    session.add(row)
    session.flush()
    return row


def case(session, reference: str, *, closed: dt.datetime | None = None, received: dt.datetime = at(2015)) -> Case:
    row = Case(reference=reference, category="complaint", received_at=received, opened_at=received,
               status=CaseStatus.CLOSED if closed else CaseStatus.OPEN, closed_at=closed,
               resident_email="h.quill@example.net", resident_name=RESIDENT, subject="My damp flat")
    session.add(row)
    session.flush()
    return row


def with_everything(session, row: Case, received: dt.datetime) -> None:
    """Two messages (one with a photo), an event on each, a clock, a printed letter, an email, a correction."""
    first = submission(session, row, received, attachment=True)
    second = submission(session, row, received + dt.timedelta(days=3))
    for message in (first, second):
        session.add(CaseEvent(case=row, actor="system", action=EventAction.REPLY_RECEIVED, submission_id=message.id))
    session.add(Clock(case=row, kind="ack_stage1", starts_at=received, due_at=received + dt.timedelta(days=5),
                      rule="5 working days"))
    for channel in ("letter", "email"):
        session.add(OutboxMessage(case_id=row.id, submission_id=first.id, kind="complaint_stage1", channel=channel,
                                  subject="Your complaint", text_body="Dear Mrs Quill", status=OutboxStatus.SENT,
                                  message_id=f"<{row.reference}-{channel}@example.org>"))
    session.add(LabelCorrection(submission_id=first.id, case_id=row.id, text="damp", category="complaint",
                                corrected_by="staff@example.org"))


def seed(db: Database) -> dict[str, int]:
    """The cases and caseless submissions whose fate the tests work out by hand; their ids by name."""
    with db.transaction() as session:
        expired_case = case(session, "CMP-2020-000001", closed=at(2020, 6, 1))  # before 2020-12-07 12:00: goes
        with_everything(session, expired_case, at(2020, 1, 6))
        recent = case(session, "CMP-2021-000002", closed=at(2021, 1, 1))  # after the cutoff: stays
        with_everything(session, recent, at(2020, 11, 2))
        on_the_day = case(session, "CMP-2020-000003", closed=years_before(NOW, 6))  # exactly at the cutoff: stays
        submission(session, on_the_day, at(2020, 9, 1))
        still_open = case(session, "CMP-2015-000004")  # received 2015, never closed: never goes
        submission(session, still_open, at(2015))
        split_from = case(session, "CMP-2019-000005", closed=at(2019))  # closed long ago ...
        first = submission(session, split_from, at(2018))
        split_to = case(session, "SR-2019-000006")  # ... but split into a case still open: both stay
        session.add(CaseLink(case_id=split_to.id, other_case_id=split_from.id, kind=LinkKind.SPLIT,
                             created_by="staff@example.org"))
        session.add(CaseEvent(case=split_to, actor="staff@example.org", action=EventAction.SPLIT,
                              submission_id=first.id))
        merged = case(session, "CMP-2018-000007", closed=at(2018))  # merged into another closed long ago: both go
        into = case(session, "CMP-2018-000008", closed=at(2019, 3, 1))
        submission(session, into, at(2018))
        session.add(CaseLink(case_id=merged.id, other_case_id=into.id, kind=LinkKind.DUPLICATE,
                             created_by="staff@example.org"))
        old_spam = submission(session, None, at(2025, 6, 1), Disposition.DISCARDED, attachment=True)  # goes
        new_spam = submission(session, None, at(2026, 6, 1), Disposition.DISCARDED)  # under a year old: stays
        unprocessed = submission(session, None, at(2024), Disposition.PENDING)  # never processed: stays
        needed = submission(session, None, at(2024), Disposition.DISCARDED)  # an open case refers to it: stays
        session.add(CaseEvent(case=still_open, actor="system", action=EventAction.AUTO_REPLY_RECEIVED,
                              submission_id=needed.id))
        return {"old_spam": old_spam.id, "new_spam": new_spam.id, "unprocessed": unprocessed.id, "needed": needed.id}


def count(db: Database, model) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def references(db: Database) -> set[str]:
    with db.sessions() as session:
        return set(session.scalars(select(Case.reference)))


def test_the_plan_names_what_goes_and_deleting_it_leaves_the_rest_whole(db):
    ids = seed(db)
    counts = {model: count(db, model) for model in (Case, Submission, Attachment, CaseEvent, OutboxMessage, Clock,
                                                     CaseLink, LabelCorrection)}
    with db.transaction() as session:
        plan = expired(session, RetentionSettings(), NOW)
        assert plan.case_cutoff == at(2020, 12, 7) and plan.submission_cutoff == at(2025, 12, 7)
        assert [(c.reference, c.closed_at) for c in plan.cases] == [
            ("CMP-2018-000007", at(2018)), ("CMP-2018-000008", at(2019, 3, 1)), ("CMP-2020-000001", at(2020, 6, 1))]
        assert plan.kept_for_links == ["CMP-2019-000005"]
        assert [s.id for s in plan.submissions] == [ids["old_spam"]]
        deleted = delete_expired(session, plan)
    # CMP-2020-000001's two messages, CMP-2018-000008's one, the old spam: 4; their photos: 2
    assert (deleted.cases, deleted.submissions, deleted.attachments) == (3, 4, 2)
    assert (deleted.events, deleted.outbox_rows) == (2, 2)
    assert [(letter.reference, letter.kind) for letter in deleted.printed_letters] == [
        ("CMP-2020-000001", "complaint_stage1")]
    assert references(db) == {"CMP-2021-000002", "CMP-2020-000003", "CMP-2015-000004", "CMP-2019-000005",
                              "SR-2019-000006"}
    expected_left = {Case: counts[Case] - 3, Submission: counts[Submission] - 4, Attachment: counts[Attachment] - 2,
                     CaseEvent: counts[CaseEvent] - 2, OutboxMessage: counts[OutboxMessage] - 2,
                     Clock: counts[Clock] - 1, CaseLink: counts[CaseLink] - 1,
                     LabelCorrection: counts[LabelCorrection] - 1}
    assert {model: count(db, model) for model in expected_left} == expected_left
    with db.sessions() as session:
        left = set(session.scalars(select(Submission.id).where(Submission.case_id.is_(None))))
    assert left == {ids["new_spam"], ids["unprocessed"], ids["needed"]}


def test_a_longer_retention_keeps_everything_a_shorter_one_takes_more(db):
    seed(db)
    with db.transaction() as session:
        longer = expired(session, RetentionSettings(closed_case_years=10, caseless_submission_days=1000), NOW)
        assert longer.cases == [] and longer.submissions == []
    with db.transaction() as session:
        shorter = expired(session, RetentionSettings(closed_case_years=1), NOW)
        # closed before 2025-12-07: all but the open ones, less the one kept by its link to an open case
        assert {c.reference for c in shorter.cases} == {"CMP-2018-000007", "CMP-2018-000008", "CMP-2020-000001",
                                                        "CMP-2021-000002", "CMP-2020-000003"}


def test_years_before_a_leap_day_is_the_28th():
    assert years_before(dt.datetime(2028, 2, 29, 9, tzinfo=dt.UTC), 6) == dt.datetime(2022, 2, 28, 9, tzinfo=dt.UTC)


# -- the command ------------------------------------------------------------------------------------------


def intake(var, *args: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith("INTAKE_")}
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**env, "INTAKE_VAR_DIR": str(var)})


def test_the_command_lists_on_a_dry_run_then_deletes_and_removes_the_printed_letter(tmp_path):
    var = tmp_path / "var"
    db = Database(f"sqlite:///{var / 'intake.db'}")
    db.migrate()
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        old = case(session, "CMP-2019-000011", closed=now - dt.timedelta(days=7 * 366))
        with_everything(session, old, now - dt.timedelta(days=7 * 366 + 40))
        young = case(session, "CMP-2024-000012", closed=now - dt.timedelta(days=2 * 365))
        with_everything(session, young, now - dt.timedelta(days=2 * 365 + 40))
        letters = session.execute(select(OutboxMessage.id, Case.reference).join(Case)
                                  .where(OutboxMessage.channel == "letter")).all()
    printed = {reference: var / "print" / f"{reference}-complaint_stage1-{row_id}.pdf" for row_id, reference in letters}
    for path in printed.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4")
    dry = intake(var, "retention", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    closed_on = (now - dt.timedelta(days=7 * 366)).date().isoformat()
    assert f"would delete case CMP-2019-000011 closed {closed_on}" in dry.stdout.splitlines()
    assert "CMP-2024-000012" not in dry.stdout
    for personal in ("Quill", "example.net", "damp", "Dear"):
        assert personal not in dry.stdout + dry.stderr
    assert references(db) == {"CMP-2019-000011", "CMP-2024-000012"} and printed["CMP-2019-000011"].exists()

    done = intake(var, "retention")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == ("deleted 1 case(s), 2 submission(s), 1 attachment(s), 2 event(s),"
                                            " 2 outbox row(s), 1 printed letter file(s)")
    assert references(db) == {"CMP-2024-000012"}
    assert not printed["CMP-2019-000011"].exists() and printed["CMP-2024-000012"].exists()
