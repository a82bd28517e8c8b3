"""`intake migrate`: bring the database to the code's schema, or with ``--check`` say whether it is there.

Every command that opens the database already migrates it on start (``core.db.migrate``); this command
is the deliberate step of an upgrade: run it once (the compose file's ``migrate`` service, or by hand)
before or while the new workers start. It upgrades under the same lock as theirs (a PostgreSQL advisory
lock, or a file lock beside a SQLite file), so workers already running or starting at the same time wait
for it and never migrate twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.settings import Settings

if TYPE_CHECKING:
    from core.db import Database

EXIT_OK = 0
EXIT_PENDING = 1  # --check: migrations are waiting (cli's EXIT_FAILED: the command ran and found a fault)


def add_parser(commands) -> None:
    migrate = commands.add_parser(
        "migrate", help="bring the database to the newest schema (Alembic), printing the revision before and after")
    migrate.add_argument("--check", action="store_true",
                         help="change nothing; exit 1 when migrations are pending (e.g. before starting workers)")
    migrate.set_defaults(handler=_migrate)


def _migrate(args, settings: Settings) -> int:
    from core.db import Database, code_head

    db = Database(settings.resolved_database_url)
    head = code_head()
    before = _database_revision(db)
    if args.check:
        return _report_check(before, head)
    print(f"database revision before: {_shown(before)}")
    db.migrate()
    after = _database_revision(db)
    print(f"database revision after: {_shown(after)}" + (" (already at head)" if before == after else ""))
    return EXIT_OK


def _report_check(current: str | None, head: str) -> int:
    if current == head:
        print(f"database revision {head}: at head, no migration pending")
        return EXIT_OK
    pending = _revisions_between(current, head)
    print(f"database revision {_shown(current)}; code's head {head}: {len(pending)} migration(s) pending"
          f" ({', '.join(pending)}); run `intake migrate`")
    return EXIT_PENDING


def _revisions_between(current: str | None, head: str) -> list[str]:
    """The revisions an upgrade from ``current`` (None: an empty database) to ``head`` applies, oldest first."""
    from core.db import migration_scripts

    return [script.revision for script in reversed(list(migration_scripts().walk_revisions(base=current or "base", head=head)))
            if script.revision != current]


def _database_revision(db: Database) -> str | None:
    from core.db import database_revision

    with db.engine.connect() as connection:
        return database_revision(connection)


def _shown(revision: str | None) -> str:
    return revision if revision is not None else "none (an empty database)"
