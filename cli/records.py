"""Records: `intake retention [--dry-run]`, `intake sar EMAIL`, `intake export FILE` and `intake restore FILE`.

``intake retention`` deletes what is past its keeping time (casework/retention.py says what, and when)
and the PDFs of its printed letters; ``--dry-run`` lists what would go (references, ids and dates, no
personal data) and deletes nothing. ``intake sar EMAIL --by WHO`` writes everything held about one
resident to a private zip for a subject access request and records it on each of their cases.
``intake export FILE`` and ``intake restore FILE`` copy the records between databases (a backup
beside pg_dump, or a move from SQLite to PostgreSQL).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from core.settings import Settings

log = logging.getLogger(__name__)


def add_parsers(commands) -> None:
    retention = commands.add_parser(
        "retention", help="delete closed cases and caseless submissions past [retention]'s keeping time")
    retention.add_argument("--dry-run", action="store_true",
                           help="list what would go (references and dates only) and delete nothing")
    retention.set_defaults(handler=_retention)
    sar = commands.add_parser("sar", help="a subject access request: everything held about one resident, as a zip")
    sar.add_argument("email", help="the resident's email address (any case)")
    sar.add_argument("--by", required=True, metavar="WHO", help="who makes the export (recorded on each case)")
    sar.add_argument("--out", type=Path, metavar="FILE",
                     help="the zip to write (default: var_dir/subject-access/sar-<time>.zip)")
    sar.set_defaults(handler=_sar)
    export = commands.add_parser("export", help="every record (raw messages, cases, ...) to one portable zip, for backups")
    export.add_argument("file", type=Path, help="the zip to write (0600)")
    export.set_defaults(handler=_export)
    restore = commands.add_parser("restore", help="load an `intake export` zip into an empty database")
    restore.add_argument("file", type=Path, help="the zip `intake export` wrote")
    restore.set_defaults(handler=_restore)


def _database(settings: Settings):
    from core.db import Database

    db = Database(settings.resolved_database_url)
    db.migrate()
    return db


def _retention(args, settings: Settings) -> int:
    from casework.models import utcnow
    from casework.retention import delete_expired, expired

    db = _database(settings)
    with db.transaction() as session:
        plan = expired(session, settings.retention, utcnow())
        _print_plan(plan, "would delete" if args.dry_run else "deleting")
        if args.dry_run:
            session.rollback()
            print(f"would delete {len(plan.cases)} case(s) and {len(plan.submissions)} submission(s) with no case;"
                  " nothing deleted (--dry-run)")
            return 0
        deleted = delete_expired(session, plan)
    removed = _remove_printed_letters(settings, deleted.printed_letters)
    log.info("retention deleted %d cases, %d submissions", deleted.cases, deleted.submissions)
    print(f"deleted {deleted.cases} case(s), {deleted.submissions} submission(s), {deleted.attachments} attachment(s),"
          f" {deleted.events} event(s), {deleted.outbox_rows} outbox row(s), {removed} printed letter file(s)")
    return 0


def _print_plan(plan, verb: str) -> None:
    print(f"cases closed before {plan.case_cutoff:%Y-%m-%d %H:%M} UTC and submissions with no case received before"
          f" {plan.submission_cutoff:%Y-%m-%d %H:%M} UTC")
    for case in plan.cases:
        print(f"{verb} case {case.reference} closed {case.closed_at:%Y-%m-%d}")
    for submission in plan.submissions:
        print(f"{verb} submission {submission.id} received {submission.received_at:%Y-%m-%d} ({submission.disposition})")
    for reference in plan.kept_for_links:
        print(f"keeping case {reference}: closed long enough, but linked to a case that stays")


def _remove_printed_letters(settings: Settings, letters) -> int:
    """The deleted letters' PDFs in the print folder (the day's batch files are the post room's)."""
    from responders.post import letter_file_name, print_folder

    folder = print_folder(settings)
    removed = 0
    for letter in letters:
        path = folder / letter_file_name(letter.reference, letter.kind, letter.outbox_id)
        if path.exists():
            path.unlink()
            removed += 1
    return removed


def _sar(args, settings: Settings) -> int:
    from casework.models import utcnow
    from casework.subject_access import export

    now = utcnow()
    out = args.out or Path(settings.var_dir) / "subject-access" / f"sar-{now:%Y%m%d-%H%M%S}.zip"
    done = export(_database(settings), args.email, out, by=args.by, letter_file=_printed_letter(settings), now=now)
    log.info("subject access export: %d cases, %d messages", len(done.cases), done.messages)
    print(f"{done.path}: {done.messages} message(s), {done.attachments} attachment(s), {len(done.cases)} case(s),"
          f" {done.sent} message(s) and letter(s) we wrote, {done.letters} printed letter(s)")
    if not done.cases and done.messages:
        print("no case holds this address, so no audit trail records the export", file=sys.stderr)
    return 0


def _printed_letter(settings: Settings):
    """A letter row's PDF in the print folder, if it is there."""
    from responders.post import letter_file_name, print_folder

    folder = print_folder(settings)

    def find(reference: str, kind: str, outbox_id: int) -> Path | None:
        path = folder / letter_file_name(reference, kind, outbox_id)
        return path if path.is_file() else None

    return find


def _export(args, settings: Settings) -> int:
    from casework.export import export

    done = export(_database(settings), args.file)
    print(f"{args.file}: migration {done.revision}, {_rows(done.rows)}")
    return 0


def _restore(args, settings: Settings) -> int:
    from casework.export import restore

    done = restore(_database(settings), args.file)
    print(f"restored {_rows(done.rows)} at migration {done.revision}")
    return 0


def _rows(rows: dict[str, int]) -> str:
    return ", ".join(f"{count} {table}" for table, count in rows.items() if count) or "no rows"
