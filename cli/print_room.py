"""`intake print ...`: the post room's commands.

``intake print batch [--date D]`` writes (or re-writes) day D's batch file (default: today, local time)
and prints its path: a cover sheet with the date, how many letters, how many in large print, each
reference and the page it starts on, then every letter printed since the day before's cut
(``[letters] print_batch_time``). The worker writes it itself just after the cut; cron may run this too.

``intake print posted --date D --by X`` records every letter in day D's batch not yet recorded as
posted as posted by X, with an event on each case. A bad date is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from zoneinfo import ZoneInfo

from core.settings import Settings


def add_parser(commands) -> None:
    room = commands.add_parser("print", help="the post room: the day's batch file, and letters posted")
    verbs = room.add_subparsers(required=True, metavar="VERB")
    batch = verbs.add_parser("batch", help="write the day's batch file (cover sheet + every letter) and print its path")
    batch.add_argument("--date", type=_date, metavar="DATE", help="the batch's day, YYYY-MM-DD (default: today)")
    batch.set_defaults(handler=_batch)
    posted = verbs.add_parser("posted", help="record the day's batch of letters as posted")
    posted.add_argument("--date", type=_date, metavar="DATE", help="the batch's day, YYYY-MM-DD (default: today)")
    posted.add_argument("--by", required=True, metavar="WHO", help="who posted them (recorded on each case)")
    posted.set_defaults(handler=_posted)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)") from None


def _day(args, settings: Settings) -> dt.date:
    return args.date or dt.datetime.now(ZoneInfo(settings.policy.timezone)).date()


def _database(settings: Settings):
    from core.db import Database

    db = Database(settings.resolved_database_url)
    db.migrate()
    return db


def _batch(args, settings: Settings) -> int:
    from responders.post import write_day_batch

    batch = write_day_batch(settings, _database(settings), _day(args, settings))
    print(batch.path)
    pages = sum(letter.pages for letter in batch.letters)
    print(f"{len(batch.letters)} letters ({batch.large_print} large print), {batch.cover_pages} cover page(s) and "
          f"{pages} letter pages", file=sys.stderr)
    for letter in batch.missing:
        print(f"letter {letter.outbox_id} ({letter.reference}) is missing from the print folder: print it again",
              file=sys.stderr)
    return 0


def _posted(args, settings: Settings) -> int:
    from casework.operations import record_posted
    from responders.post import batch_cut, batch_window, printed_letters

    db, day = _database(settings), _day(args, settings)
    start, end = batch_window(day, batch_cut(settings), ZoneInfo(settings.policy.timezone))
    with db.transaction() as session:
        ids = [outbox_id for outbox_id, _, _ in printed_letters(session, start, end)]
        recorded = record_posted(session, ids, args.by)
    print(f"{len(recorded)} letters of the {day.isoformat()} batch recorded as posted by {args.by}"
          f" ({len(ids) - len(recorded)} already were)")
    return 0
