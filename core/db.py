"""The database: engine, sessions and migrations, for SQLite (default) or PostgreSQL.

Alembic is imported only to change the schema or walk the migrations: every process imports this
module, and a worker starting on a database already at head (the usual start) reads the stamped
revision and the code's head without it (tests/test_imports.py).
"""

from __future__ import annotations

import ast
import fcntl
import os
import sqlite3
import time
from importlib.resources import files
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.files import private_database_file
from core.logs import quiet_data_loggers

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

# A package resource path, so this module imports nothing above it; the migrations describe casework.models.
MIGRATIONS = "casework:migrations"
VERSION_TABLE = "alembic_version"  # where Alembic stamps the database's revision (its default)


def make_engine(url: str) -> Engine:
    """The engine. Invariant: it never shows a statement's parameters (residents' text) in an error or a
    log (``hide_parameters``), and a SQLite file it creates is readable by the service's user only."""
    quiet_data_loggers()
    if url.startswith("sqlite:///"):
        database = make_url(url).database
        if database and database != ":memory:":
            private_database_file(Path(database))
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL, foreign keys and a 30 s busy wait on every connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    _wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _wal(cursor, tries: int = 100, pause: float = 0.05) -> None:
    """The journal mode set to WAL (only when it is not WAL already). Reading or setting it can meet a
    lock SQLite does not wait for (another connection closing the database checkpoints it), so workers
    opening one database at the same moment could fail with "database is locked": it is tried again,
    for up to ``tries`` x ``pause`` seconds, before the error is let through."""
    for attempt in range(tries):
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == tries - 1:
                raise
            time.sleep(pause)


# pg_advisory_xact_lock's key for "migrating this database" (any fixed bigint; ours spells "intake").
MIGRATION_LOCK = 0x696E74616B65


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration. Invariant: several workers starting at once on an
    empty database migrate it once. On PostgreSQL the upgrade runs under a transaction-level advisory
    lock (the others wait, then find it at head); on SQLite, under an exclusive lock on a file beside
    the database. A database already at head is left as it is, without taking the lock or importing
    Alembic (a schema is never taken back down, so "at head" stays true)."""
    with engine.connect() as connection:
        if database_revision(connection) == code_head():
            return
    from alembic import command

    config = _alembic_config()
    with _sqlite_migration_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config


def migration_scripts() -> ScriptDirectory:
    """The migrations this code carries. Invariant: they form one line, so there is one head."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())


def code_head() -> str:
    """The newest migration revision the installed code carries: the one revision no script names as
    its ``down_revision``, read from the scripts' assignments without importing Alembic (a test holds
    it to Alembic's own answer). Where that is not exactly one, Alembic's answer, or its error."""
    package, _, folder = MIGRATIONS.partition(":")
    revisions, downs = set(), set()
    for script in files(package).joinpath(folder, "versions").iterdir():
        if script.name.endswith(".py"):
            names = _assignments(script.read_text(encoding="utf-8"))
            revisions.add(names.get("revision"))
            downs.add(names.get("down_revision"))
    heads = revisions - downs
    if len(heads) == 1 and None not in heads:
        return heads.pop()
    return migration_scripts().get_current_head()


def _assignments(source: str) -> dict[str, object]:
    """A script's module-level ``name = <literal>`` (or ``name: type = <literal>``) assignments."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            continue
        for target in (target for target in targets if isinstance(target, ast.Name)):
            try:
                found[target.id] = ast.literal_eval(node.value)
            except ValueError:
                continue  # not a literal (a computed name): not a revision
    return found


def database_revision(connection: Connection) -> str | None:
    """The revision stamped in the database (``alembic_version``), or None for one never migrated: the
    one reading that migrating, `intake migrate`, `intake doctor` and export/restore share."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """flock on ``<database>.migrate-lock`` (private, kept) for a SQLite file; nothing otherwise."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    descriptor = os.open(f"{database}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


class Database:
    """An engine and its session factory, made once and passed in."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        migrate(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any exception."""
        with self.sessions() as session, session.begin():
            yield session

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"
