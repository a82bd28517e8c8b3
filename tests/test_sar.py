"""A subject access request: the zip holds every message of the resident (matched by address in any case)
and nothing of anyone else, even residents with look-alike addresses; the export is in the audit trail
of each of their cases and the file is private."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

from sqlalchemy import select

from casework.models import Attachment, Case, CaseEvent, CaseLink, OutboxMessage, Submission
from casework.subject_access import export
from casework.vocabulary import CaseStatus, Disposition, EventAction, LinkKind, OutboxStatus
from core.db import Database
from tests.conftest import REPO

ANN = "ann.lee@example.org"
LOOK_ALIKES = ("joann.lee@example.org", "ann.lee@example.org.uk", "ann.lee@example.com")
WHEN = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
_numbers = iter(range(1, 10_000))


def eml(sender: str, words: str) -> bytes:
    return f"From: {sender}\r\nTo: complaints@example.org\r\nSubject: {words}\r\n\r\n{words}\r\n".encode()


def message(session, sender: str | None, words: str, case: Case | None = None, *, kind: str = "email",
            filename: str | None = None, photo: bytes | None = None) -> Submission:
    number = next(_numbers)
    raw = eml(sender or "", words) if kind == "email" else words.encode()
    row = Submission(source="office", kind=kind, natural_key=f"k{number}", raw=raw, raw_sha256=f"{number:064d}",
                     received_at=WHEN + dt.timedelta(hours=number), sender=sender, subject=words, filename=filename,
                     disposition=Disposition.ACCEPTED if case else Disposition.DISCARDED, case=case)
    if photo is not None:
        row.attachments.append(Attachment(filename="../../photo of mould.jpg", content_type="image/jpeg",
                                          size=len(photo), data=photo))
    session.add(row)
    session.flush()
    return row


def a_case(session, reference: str, email: str | None) -> Case:
    row = Case(reference=reference, category="complaint", received_at=WHEN, status=CaseStatus.OPEN,
               resident_email=email, resident_name="R", subject="s")
    session.add(row)
    session.flush()
    return row


def letter_row(session, case: Case, to: str | None, words: str, channel: str = "email") -> OutboxMessage:
    row = OutboxMessage(case_id=case.id, kind="complaint_stage1", channel=channel, to_address=to, subject=words,
                        text_body=words, status=OutboxStatus.SENT, message_id=f"<{next(_numbers)}@example.org>")
    session.add(row)
    session.flush()
    return row


def seed(db: Database) -> dict:
    """Ann's messages, cases and letters (their markers by kind), and everyone else's markers."""
    with db.transaction() as session:
        ann_case = a_case(session, "CMP-2026-000001", "Ann.Lee@Example.org")  # the case's contact, as typed
        jo_case = a_case(session, "CMP-2026-000002", "joann.lee@example.org")
        mine = [
            message(session, ANN, "ANN-FIRST damp in the bedroom", ann_case, photo=b"ANN-PHOTO"),
            message(session, "ANN.LEE@EXAMPLE.ORG", "ANN-SECOND still damp", ann_case),
            message(session, None, "ANN-LETTER scanned letter", ann_case, kind="letter", filename="scan 1.PDF"),
            message(session, ANN, "ANN-AUTO out of office"),  # discarded, no case: hers all the same
            message(session, ANN, "ANN-ON-JO about my neighbour", jo_case),  # hers, filed on Jo's case
        ]
        others = [
            message(session, "joann.lee@example.org", "JO-FIRST broken boiler", jo_case, photo=b"JO-PHOTO"),
            message(session, "ann.lee@example.org.uk", "UK-ONLY a different Ann"),
            message(session, "ann.lee@example.com", "COM-ONLY yet another Ann"),
        ]
        ann_email = letter_row(session, ann_case, ANN, "ANN-ACK we have your complaint")
        ann_letter = letter_row(session, ann_case, None, "ANN-POSTED letter", channel="letter")
        letter_row(session, jo_case, "joann.lee@example.org", "JO-ACK we have your complaint")
        return {"raws": {row.raw for row in mine}, "others": ["JO-", "UK-ONLY", "COM-ONLY"],
                "letter": ("CMP-2026-000001", "complaint_stage1", ann_letter.id), "email_id": ann_email.id,
                "other_ids": [row.id for row in others]}


def contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_zip_holds_every_message_of_the_resident_and_nothing_of_anyone_else(db, tmp_path):
    seeded = seed(db)
    pdf = tmp_path / "print" / "CMP-2026-000001-complaint_stage1-x.pdf"
    pdf.parent.mkdir()
    pdf.write_bytes(b"%PDF-1.4 ANN-PDF")
    found = {seeded["letter"]: pdf}
    done = export(db, "  ANN.Lee@example.ORG ", tmp_path / "out" / "sar.zip", by="dpo@example.org",
                  letter_file=lambda *key: found.get(key))
    files = contents(done.path)
    messages = {name: data for name, data in files.items() if name.startswith("messages/")}
    assert set(messages.values()) == seeded["raws"]  # all five of hers, nothing else
    assert any(name.endswith(".pdf") for name in messages)  # the scan keeps its kind, in lower case
    assert files["letters/CMP-2026-000001-complaint_stage1-x.pdf"] == b"%PDF-1.4 ANN-PDF"
    photos = [data for name, data in files.items() if name.startswith("attachments/")]
    assert photos == [b"ANN-PHOTO"] and all("photo_of_mould.jpg" in name for name in files if "attachments/" in name)
    assert sorted(name for name in files if name.startswith("cases/")) == ["cases/CMP-2026-000001.json"]
    case = json.loads(files["cases/CMP-2026-000001.json"])
    assert case["reference"] == "CMP-2026-000001" and isinstance(case["events"], list)
    assert sorted(name for name in files if name.startswith("correspondence/")) == sorted([
        f"correspondence/{seeded['email_id']}-complaint_stage1.txt",
        f"correspondence/{seeded['letter'][2]}-complaint_stage1.txt"])
    everything = b"".join(files.values())
    for marker in seeded["others"]:
        assert marker.encode() not in everything, marker
    assert (done.messages, done.attachments, done.sent, done.letters, done.cases) == (5, 1, 2, 1, ["CMP-2026-000001"])
    assert stat.S_IMODE(done.path.stat().st_mode) == 0o600
    with db.sessions() as session:
        events = session.scalars(select(CaseEvent).where(
            CaseEvent.action == EventAction.SUBJECT_ACCESS_EXPORTED)).all()
        assert [(event.case.reference, event.actor, event.detail["file"], event.detail["messages"])
                for event in events] == [("CMP-2026-000001", "dpo@example.org", "sar.zip", 5)]


def test_the_other_case_is_named_only_as_where_her_message_was_filed(db, tmp_path):
    seed(db)
    files = contents(export(db, ANN, tmp_path / "sar.zip", by="dpo", letter_file=lambda *key: None).path)
    index = json.loads(files["index.json"])
    assert [entry["case"] for entry in index["messages"]].count("CMP-2026-000002") == 1
    assert [case["reference"] for case in index["cases"]] == ["CMP-2026-000001"]


def test_an_address_nobody_used_gets_a_zip_that_says_so_and_no_event(db, tmp_path):
    seed(db)
    done = export(db, "nobody@example.org", tmp_path / "sar.zip", by="dpo", letter_file=lambda *key: None)
    files = contents(done.path)
    assert sorted(files) == ["README.txt", "index.json"]
    assert b"Nothing is held about this email address." in files["README.txt"]
    with db.sessions() as session:
        assert session.scalars(select(CaseEvent).where(CaseEvent.action == EventAction.SUBJECT_ACCESS_EXPORTED)).all() == []


def test_the_command_writes_the_zip_privately_and_says_what_is_in_it(tmp_path):
    var = tmp_path / "var"
    db = Database(f"sqlite:///{var / 'intake.db'}")
    db.migrate()
    seeded = seed(db)
    reference, kind, outbox_id = seeded["letter"]
    printed = var / "print" / f"{reference}-{kind}-{outbox_id}.pdf"  # where the printer puts it
    printed.parent.mkdir(parents=True)
    printed.write_bytes(b"%PDF-1.4 ANN-PDF")
    env = {name: value for name, value in os.environ.items() if not name.startswith("INTAKE_")}
    out = tmp_path / "requests" / "sar-ann.zip"
    result = subprocess.run([sys.executable, "-m", "cli", "sar", "Ann.Lee@example.org", "--by", "dpo@example.org",
                             "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={**env, "INTAKE_VAR_DIR": str(var)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (f"{out}: 5 message(s), 1 attachment(s), 1 case(s), 2 message(s) and letter(s)"
                                     " we wrote, 1 printed letter(s)")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and stat.S_IMODE(out.parent.stat().st_mode) == 0o700
    assert contents(out)[f"letters/{printed.name}"] == b"%PDF-1.4 ANN-PDF"
    assert "ann" not in result.stderr.lower()  # nothing of hers in the log


def test_a_link_made_from_another_case_to_hers_is_in_her_case_too(db, tmp_path):
    """A link is stored once, on the case it was made from: Jo's case linked to Ann's is in Ann's export."""
    seed(db)
    with db.transaction() as session:
        ann_case, jo_case = session.scalars(select(Case).order_by(Case.id)).all()[:2]
        session.add(CaseLink(case_id=jo_case.id, other_case_id=ann_case.id, kind=LinkKind.RELATED, created_by="sam"))
    files = contents(export(db, ANN, tmp_path / "sar.zip", by="dpo", letter_file=lambda *key: None).path)
    case = json.loads(files["cases/CMP-2026-000001.json"])
    assert case["links"] == [{"reference": "CMP-2026-000002", "kind": "related"}]
