"""`intake migrate` through the real command, on SQLite and PostgreSQL: the revision before and after,
`--check` failing while migrations are pending, and the upgrade waiting for the lock workers take."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from tests.conftest import REPO

VERSIONS = REPO / "casework" / "migrations" / "versions"
# The revisions as the migration files name them (0001_initial.py -> 0001), oldest first.
REVISIONS = sorted(path.name.split("_")[0] for path in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
HEAD = REVISIONS[-1]
MIGRATION_LOCK = 0x696E74616B65  # "intake": the advisory lock key every worker's migration takes


def intake(*args: str, url: str, tmp_path, **popen) -> subprocess.CompletedProcess | subprocess.Popen:
    env = {**os.environ, "INTAKE_DATABASE_URL": url, "INTAKE_VAR_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"}
    command_line = [sys.executable, "-m", "cli", "migrate", *args]
    if popen:
        return subprocess.Popen(command_line, cwd=REPO, env=env, text=True, **popen)
    return subprocess.run(command_line, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def upgrade_to(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", "casework:migrations")
    engine = create_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def test_an_empty_database_is_pending_then_migrated_to_head(database_url, tmp_path):
    check = intake("--check", url=database_url, tmp_path=tmp_path)
    assert check.returncode == 1
    assert check.stdout.strip() == (
        f"database revision none (an empty database); code's head {HEAD}: {len(REVISIONS)} migration(s) pending"
        f" ({', '.join(REVISIONS)}); run `intake migrate`")

    first = intake(url=database_url, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["database revision before: none (an empty database)",
                                         f"database revision after: {HEAD}"]

    again = intake(url=database_url, tmp_path=tmp_path)
    assert again.stdout.splitlines() == [f"database revision before: {HEAD}",
                                         f"database revision after: {HEAD} (already at head)"]
    check = intake("--check", url=database_url, tmp_path=tmp_path)
    assert (check.returncode, check.stdout.strip()) == (0, f"database revision {HEAD}: at head, no migration pending")


def test_check_names_the_migrations_an_older_database_lacks_and_changes_nothing(database_url, tmp_path):
    older = "0012"
    upgrade_to(database_url, older)
    pending = [revision for revision in REVISIONS if revision > older]
    check = intake("--check", url=database_url, tmp_path=tmp_path)
    assert check.returncode == 1
    assert f"database revision {older}; code's head {HEAD}: {len(pending)} migration(s) pending" in check.stdout
    assert f"({', '.join(pending)})" in check.stdout
    assert intake("--check", url=database_url, tmp_path=tmp_path).returncode == 1  # still pending: nothing changed

    upgraded = intake(url=database_url, tmp_path=tmp_path)
    assert upgraded.stdout.splitlines() == [f"database revision before: {older}", f"database revision after: {HEAD}"]


def test_the_upgrade_waits_for_the_lock_a_migrating_worker_holds(postgresql_url, tmp_path):
    """A worker migrating holds the advisory lock; `intake migrate` started meanwhile waits for it, then finds
    the work done or does it, never at the same time."""
    holder = create_engine(postgresql_url, isolation_level="AUTOCOMMIT")
    with holder.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        waiting = intake(url=postgresql_url, tmp_path=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            before = waiting.stdout.readline()  # printed just before it asks for the lock
            assert before == "database revision before: none (an empty database)\n"
            time.sleep(3)
            assert waiting.poll() is None  # still waiting for the lock
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
        out, err = waiting.communicate(timeout=120)
    holder.dispose()
    assert waiting.returncode == 0, err
    assert out.splitlines() == [f"database revision after: {HEAD}"]


def test_an_unreachable_database_is_one_line(tmp_path):
    result = intake("--check", url="postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("intake: cannot use the database postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert len(result.stderr.strip().splitlines()) == 1


def test_0016_gives_old_outbox_rows_their_mailbox_and_counts_their_deliveries_as_recorded(database_url):
    upgrade_to(database_url, "0015")
    engine = create_engine(database_url)
    sent_at = "2026-11-30 09:15:00"
    columns = ("id, kind, channel, to_address, subject, text_body, message_id, status, attempts, next_attempt_at, "
               "created_at, sent_at, possible_resends")
    with engine.begin() as connection:
        for outbox_id, address, status in [(1, "Sam+Rent@Example.NET", "sent"), (2, " kim@example.net", "queued"),
                                           (3, None, "sent")]:
            connection.execute(text(f"INSERT INTO outbox ({columns}) VALUES (:id, 'neutral', 'email', :to, 's', 't', "
                                    f":mid, :status, 1, :at, :at, :sent, 0)"),
                               {"id": outbox_id, "to": address, "mid": f"m{outbox_id}@example.org", "status": status,
                                "at": sent_at, "sent": sent_at if status == "sent" else None})
    engine.dispose()
    upgrade_to(database_url, "0016")
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, mailbox, delivery_recorded_at FROM outbox ORDER BY id")).all()
    engine.dispose()
    assert [(row.id, row.mailbox) for row in rows] == [(1, "sam@example.net"), (2, "kim@example.net"), (3, None)]
    # Sent before 0016: recorded in the same transaction as the send, so never recorded again.
    assert [row.delivery_recorded_at is not None for row in rows] == [True, False, True]
