"""`intake export` and `intake restore`: records made by the real worker, exported from one backend and
restored into a fresh database on the other, read back the same, table by table and row by row."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
import zipfile

import pytest
from sqlalchemy import select

import scheduler
from casework.export import NOT_RECORDS, export, restore, tables
from casework.models import Case, Submission
from casework.retention import years_before
from core.db import Database
from core.errors import RestoreRefused
from tests.conftest import REPO, create_postgres_database, drop_postgres_database
from tests.mail import deliver, new_maildir

DEMO = REPO / "demo" / "mail"


def every_row(db: Database) -> dict[str, list[tuple]]:
    """Each exported table's rows as the models read them, in primary-key order."""
    with db.engine.connect() as connection:
        return {table.name: [tuple(row) for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns))] for table in tables()}


@pytest.fixture
def other_database(database_url, tmp_path):
    """A fresh, migrated database on the other backend from the test's own."""
    url = create_postgres_database() if database_url.startswith("sqlite") else f"sqlite:///{tmp_path / 'other.db'}"
    db = Database(url)
    db.migrate()
    yield db
    db.engine.dispose()
    if url.startswith("postgresql"):
        drop_postgres_database(url)


def test_a_worker_s_records_survive_export_and_restore_on_the_other_backend(make_settings, tmp_path, other_database):
    maildir = new_maildir(tmp_path / "mail")
    demo = sorted(DEMO.glob("*.eml"))
    for path in demo:
        deliver(maildir, path.read_bytes())
    service = scheduler.build(make_settings(maildir=[{"name": "office", "path": maildir}]))
    service.run_once()
    source = service.db
    with source.sessions() as session:  # what the worker made, and what retention never deletes: none closed
        assert len(session.scalars(select(Submission)).all()) == len(demo)
        assert session.scalars(select(Case)).all()

    out = tmp_path / "backups" / "intake-export.zip"
    exported = export(source, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not list(out.parent.glob(".*partial"))
    assert exported.rows["submissions"] == len(demo)
    with zipfile.ZipFile(out) as archive:
        assert {f"tables/{name}.jsonl" for name in NOT_RECORDS}.isdisjoint(archive.namelist())

    restored = restore(other_database, out)
    assert restored.rows == exported.rows
    before, after = every_row(source), every_row(other_database)
    assert after["cases"] == before["cases"] and after["submissions"] == before["submissions"]
    assert after == before  # every table, every column, every row

    with other_database.transaction() as session:  # ids continue after the restored ones (PostgreSQL sequences)
        case = session.scalars(select(Case).order_by(Case.id.desc())).first()
        copy = Case(reference="CMP-2099-000001", category="complaint", received_at=case.received_at)
        session.add(copy)
        session.flush()
        assert copy.id == case.id + 1


def test_restore_refuses_a_database_with_records_and_a_file_that_is_not_an_export(sqlite_db, tmp_path):
    out = tmp_path / "export.zip"
    export(sqlite_db, out)
    with sqlite_db.transaction() as session:
        session.add(Case(reference="CMP-2026-000001", category="complaint", received_at=dt.datetime.now(dt.UTC)))
    with pytest.raises(RestoreRefused, match="restore needs an empty database: cases has rows already"):
        restore(sqlite_db, out)
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(RestoreRefused, match="cannot read"):
        restore(sqlite_db, junk)


def test_the_commands_round_trip_and_a_refusal_is_one_line(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    db = Database(f"sqlite:///{first / 'intake.db'}")
    db.migrate()
    when = years_before(dt.datetime.now(dt.UTC), 1)
    with db.transaction() as session:
        session.add(Case(reference="CMP-2025-000042", category="complaint", received_at=when, resident_name="Ms Ada Bee"))
    out = tmp_path / "export.zip"
    made = intake(first, "export", str(out))
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f"{out}: migration {revision(db)}, 1 cases"
    done = intake(second, "restore", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"restored 1 cases at migration {revision(db)}"
    again = intake(second, "restore", str(out))
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert again.stderr.strip() == "intake: restore needs an empty database: cases has rows already"
    copy = Database(f"sqlite:///{second / 'intake.db'}")
    assert every_row(copy)["cases"] == every_row(db)["cases"]


def revision(db: Database) -> str:
    """Read here, not by the code under test: the one row Alembic stamps."""
    from sqlalchemy import text

    with db.engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def intake(var, *args: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith("INTAKE_")}
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**env, "INTAKE_VAR_DIR": str(var)})
