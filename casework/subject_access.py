"""A subject access request: everything held about one resident, as one zip (``intake sar EMAIL``).

Who is the resident: an email address, compared case-insensitively and whole (``ann@example.org`` is
not ``joann@example.org`` nor ``ann@example.org.uk``). Their cases are the cases whose contact email
(``Case.resident_email``) is that address; their messages are every submission they sent (``sender``)
and every submission on their cases (a letter, a logged call, a representative's email about them);
what we wrote to them is every outbox row on their cases or addressed to them.

Invariants:
- The zip holds those and nothing else: no message, case or letter of another resident, even one on
  a case their message was filed on (their own message is included, that case is not).
- Each of their cases records ``EventAction.SUBJECT_ACCESS_EXPORTED`` with who made the export, once
  the file is written (not before: an export that failed is not in the audit trail).
- The zip is written privately (0600 in a 0700 folder, ``core.files``), atomically.

The zip's layout (README.txt inside says the same for the person receiving it):
``messages/<received date>-<id>.<eml|json|pdf|png|...>`` the raw messages as received;
``attachments/<submission id>/<attachment id>-<file name>``; ``cases/<reference>.json`` (the case
with its clocks, events and links); ``correspondence/<outbox id>-<kind>.txt`` (and ``.html``) what
we wrote; ``letters/<file>.pdf`` printed letters; ``index.json`` a list of all of it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from casework import lifecycle
from casework.models import Case, OutboxMessage, Submission
from casework.queries import case_links, clock_record, event_record
from casework.vocabulary import Channel, EventAction
from core.db import Database
from core.files import write_private

# The printed PDF of a letter row, or None when it is not (or no longer) in the print folder.
LetterFile = Callable[[str, str, int], Path | None]
RAW_SUFFIX = {Channel.EMAIL: ".eml", Channel.WEB: ".json", Channel.PHONE: ".json", Channel.IN_PERSON: ".json"}


@dataclass
class Holdings:
    """What is held about one address."""

    email: str
    cases: list[Case] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    links: dict[int, list[dict]] = field(default_factory=dict)  # case id → its links (both directions), by reference


@dataclass(frozen=True)
class Export:
    path: Path
    cases: list[str]
    messages: int
    attachments: int
    sent: int
    letters: int


def normalised(email: str) -> str:
    return email.strip().lower()


def holdings(session: Session, email: str) -> Holdings:
    """Everything held about ``email`` (see the module's rule), loaded with what the zip needs."""
    address = normalised(email)
    held = Holdings(email=address)
    held.cases = list(session.scalars(
        select(Case).where(func.lower(Case.resident_email) == address)
        .options(selectinload(Case.events), selectinload(Case.clocks)).order_by(Case.id)))
    case_ids = [case.id for case in held.cases]
    held.submissions = list(session.scalars(
        select(Submission).where(or_(func.lower(Submission.sender) == address, Submission.case_id.in_(case_ids)))
        .options(selectinload(Submission.attachments)).order_by(Submission.received_at, Submission.id)))
    held.outbox = list(session.scalars(
        select(OutboxMessage).where(or_(func.lower(OutboxMessage.to_address) == address,
                                        OutboxMessage.case_id.in_(case_ids))).order_by(OutboxMessage.id)))
    held.links = {case.id: case_links(session, case) for case in held.cases}
    return held


def export(db: Database, email: str, out: Path, *, by: str, letter_file: LetterFile,
           now: dt.datetime | None = None) -> Export:
    """Write the resident's zip to ``out`` (0600), then record the export on each of their cases."""
    now = now or dt.datetime.now(dt.UTC)
    with db.sessions() as session:
        held = holdings(session, email)
        archive, summary = _zip(held, letter_file, now)
    write_private(out, archive)
    references = [case.reference for case in held.cases]
    if references:
        with db.transaction() as session:
            for case in session.scalars(select(Case).where(Case.reference.in_(references))):
                lifecycle.record(case, by, EventAction.SUBJECT_ACCESS_EXPORTED, at=now, file=out.name, **summary)
    return Export(out, references, **summary)


def _zip(held: Holdings, letter_file: LetterFile, now: dt.datetime) -> tuple[bytes, dict[str, int]]:
    buffer = io.BytesIO()
    index: dict[str, Any] = {"email": held.email, "exported_at": now.isoformat(), "cases": [], "messages": [],
                             "attachments": [], "correspondence": [], "letters": []}
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for submission in held.submissions:
            _add_submission(archive, index, submission)
        for case in held.cases:
            name = f"cases/{_safe(case.reference)}.json"
            archive.writestr(name, _json(_case_record(case, held.links.get(case.id, []))))
            index["cases"].append({"reference": case.reference, "file": name})
        for row in held.outbox:
            _add_outbox_row(archive, index, row, held, letter_file)
        archive.writestr("index.json", _json(index))
        archive.writestr("README.txt", _readme(held, index, now))
    summary = {"messages": len(index["messages"]), "attachments": len(index["attachments"]),
               "sent": len(index["correspondence"]), "letters": len(index["letters"])}
    return buffer.getvalue(), summary


def _add_submission(archive: zipfile.ZipFile, index: dict, submission: Submission) -> None:
    name = f"messages/{submission.received_at:%Y-%m-%d}-{submission.id}{_raw_suffix(submission)}"
    archive.writestr(name, submission.raw)
    index["messages"].append({"file": name, "id": submission.id, "kind": submission.kind,
                              "received_at": submission.received_at.isoformat(),
                              "case": submission.case.reference if submission.case else None})
    for attachment in submission.attachments:
        entry = {"submission": submission.id, "filename": attachment.filename, "content_type": attachment.content_type,
                 "size": attachment.size, "file": None}
        if attachment.data is not None:
            entry["file"] = f"attachments/{submission.id}/{attachment.id}-{_safe(attachment.filename or 'attachment')}"
            archive.writestr(entry["file"], attachment.data)
        else:
            entry["note"] = "over the size limit: not kept apart from the raw message, which holds it"
        index["attachments"].append(entry)


def _add_outbox_row(archive: zipfile.ZipFile, index: dict, row: OutboxMessage, held: Holdings,
                    letter_file: LetterFile) -> None:
    base = f"correspondence/{row.id}-{_safe(row.kind)}"
    archive.writestr(f"{base}.txt", f"Subject: {row.subject}\n\n{row.text_body}")
    if row.html_body:
        archive.writestr(f"{base}.html", row.html_body)
    index["correspondence"].append({"file": f"{base}.txt", "id": row.id, "channel": row.channel, "kind": row.kind,
                                    "status": row.status, "to": row.to_address, "postal_address": row.postal_address,
                                    "created_at": _iso(row.created_at), "sent_at": _iso(row.sent_at),
                                    "posted_at": _iso(row.posted_at)})
    reference = next((case.reference for case in held.cases if case.id == row.case_id), None)
    printed = letter_file(reference, row.kind, row.id) if row.channel == Channel.LETTER and reference else None
    if printed is not None:
        name = f"letters/{printed.name}"
        archive.write(printed, name)
        index["letters"].append({"file": name, "outbox_id": row.id})


def _case_record(case: Case, links: list[dict]) -> dict[str, Any]:
    columns = {column.key: getattr(case, column.key) for column in Case.__table__.columns}
    record = {key: _plain(value) for key, value in columns.items()}
    record["clocks"] = [clock_record(clock) for clock in case.clocks]
    record["events"] = [{**event_record(event), "submission": event.submission_id} for event in case.events]
    record["links"] = links
    return record


def _readme(held: Holdings, index: dict, now: dt.datetime) -> str:
    if not (index["messages"] or index["cases"] or index["correspondence"]):
        return (f"Subject access export for {held.email}, made {now:%Y-%m-%d %H:%M} UTC.\n\n"
                "Nothing is held about this email address.\n")
    return (
        f"Subject access export for {held.email}, made {now:%Y-%m-%d %H:%M} UTC.\n\n"
        f"messages/        {len(index['messages'])} message(s) as received (emails as .eml, forms and logged calls as .json,\n"
        "                  letters as scanned)\n"
        f"attachments/     {len(index['attachments'])} attachment(s) of those messages\n"
        f"cases/           {len(index['cases'])} case(s): the case, its deadlines (clocks), its history (events), links\n"
        f"correspondence/  {len(index['correspondence'])} message(s) and letter(s) we wrote\n"
        f"letters/         {len(index['letters'])} printed letter(s) as PDF\n"
        "index.json       all of the above, listed\n\n"
        "Before release: a case may hold other people's words (a representative's email, a neighbour named in a\n"
        "complaint); check it under the Data Protection Act 2018's rules on third parties' data.\n"
    )


def _raw_suffix(submission: Submission) -> str:
    if submission.kind == Channel.LETTER:
        return Path(submission.filename or "").suffix.lower() or ".bin"
    return RAW_SUFFIX.get(submission.kind, ".bin")


def _safe(name: str) -> str:
    """A name safe inside a zip on any system: no folders, no odd characters."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name)[:120] or "file"


def _plain(value: Any) -> Any:
    return _iso(value) if isinstance(value, dt.datetime) else value


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, default=str)
