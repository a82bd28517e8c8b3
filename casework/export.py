"""The records as one portable file, and back (``intake export FILE``, ``intake restore FILE``).

A backup beside the database's own (pg_dump, or SQLite's ``.backup``) that any backend can read: a
zip holding ``manifest.json`` (format, the schema's migration revision, when, each table's row count)
and ``tables/<table>.jsonl``, one JSON object per row, every column by name (bytes in base64,
datetimes in ISO 8601 with their offset). It carries the raw messages (``submissions.raw``), their
attachments, the cases with their clocks, events, links and outbox rows, the stock list, staff
accounts (password hashes only), saved templates, corrections and commentaries. It leaves out what
is no record: signed-in browsers, the public pages' rate-limit counts, leases and source health.

Invariants:
- Restore goes into an empty database at the same migration revision as the export, all rows in one
  transaction (all or nothing), parents before children; afterwards every table reads back exactly
  as it was exported, and on PostgreSQL each id sequence continues after the highest id restored.
- A table the schema has and the export lacks (a newer export format) is refused, not skipped.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from sqlalchemy import Column, Connection, Table, func, select, text
from sqlalchemy.types import TypeDecorator

from casework.models import Base
from core.db import Database, database_revision
from core.errors import RestoreRefused
from core.files import FILE_MODE, private_dir

FORMAT = "housing-intake-export"
VERSION = 1
# Not records: signed-in browsers, the public pages' rate-limit counts, who holds which poller's lease
# now, and each source's last poll (a restored copy would claim polls this system never made).
NOT_RECORDS = ("web_sessions", "public_attempts", "leases", "source_health")
BATCH = 500


@dataclass(frozen=True)
class Summary:
    revision: str
    rows: dict[str, int]


def tables() -> list[Table]:
    """The tables exported and restored, parents before children."""
    return [table for table in Base.metadata.sorted_tables if table.name not in NOT_RECORDS]


# -- export ------------------------------------------------------------------------------------------------


def export(db: Database, out: Path, now: dt.datetime | None = None) -> Summary:
    """Write every record to the zip ``out`` (0600, written beside it then renamed into place), from one
    consistent snapshot (a single repeatable-read transaction on PostgreSQL)."""
    out = Path(out)
    private_dir(out.parent)
    partial = out.with_name(f".{out.name}.partial")
    rows: dict[str, int] = {}
    try:
        with _snapshot(db) as connection, _private_file(partial) as file, \
                zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            schema = database_revision(connection)
            for table in tables():
                with archive.open(f"tables/{table.name}.jsonl", "w", force_zip64=True) as member:
                    rows[table.name] = _write_rows(connection, table, member)
            manifest = {"format": FORMAT, "version": VERSION, "revision": schema, "rows": rows,
                        "exported_at": (now or dt.datetime.now(dt.UTC)).isoformat()}
            archive.writestr("manifest.json", json.dumps(manifest, indent=1))
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return Summary(schema, rows)


@contextmanager
def _snapshot(db: Database) -> Iterator[Connection]:
    """One read-only transaction: on PostgreSQL repeatable read, so every table is read as of one moment."""
    with db.engine.connect() as connection:
        if db.is_postgresql:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin() as transaction:
            yield connection
            transaction.rollback()  # nothing was written


@contextmanager
def _private_file(path: Path) -> Iterator[BinaryIO]:
    """A new file readable by the service's user only (0600 whatever the umask), synced on closing."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        yield file
        file.flush()
        os.fsync(file.fileno())


def _write_rows(connection: Connection, table: Table, member) -> int:
    count = 0
    ordered = select(table).order_by(*table.primary_key.columns)
    for row in connection.execution_options(yield_per=BATCH).execute(ordered).mappings():
        member.write(json.dumps({key: _encode(value) for key, value in row.items()}, ensure_ascii=False).encode())
        member.write(b"\n")
        count += 1
    return count


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return value


# -- restore -----------------------------------------------------------------------------------------------


def restore(db: Database, path: Path) -> Summary:
    """Load the export at ``path`` into ``db`` (migrated, empty), or raise RestoreRefused saying why."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise RestoreRefused(f"cannot read {path} as an export: {exc}") from None
    with archive, db.engine.begin() as connection:
        manifest = _manifest(archive, path)
        _check_target(connection, manifest, archive)
        for table in tables():
            _insert_rows(connection, table, _read_rows(archive, table))
        if connection.dialect.name == "postgresql":
            _continue_sequences(connection)
    return Summary(manifest["revision"], manifest["rows"])


def _manifest(archive: zipfile.ZipFile, path: Path) -> dict:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError):
        raise RestoreRefused(f"{path} is not an intake export (no manifest.json)") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise RestoreRefused(f"{path} is not an intake export of version {VERSION}")
    return manifest


def _check_target(connection: Connection, manifest: dict, archive: zipfile.ZipFile) -> None:
    here = database_revision(connection)
    if manifest["revision"] != here:
        raise RestoreRefused(f"the export is at migration {manifest['revision']}, this database at {here}: restore "
                             "with the version of intake that made it, then upgrade")
    names = set(archive.namelist())
    for table in tables():
        if f"tables/{table.name}.jsonl" not in names:
            raise RestoreRefused(f"the export has no table {table.name}")
        if connection.execute(select(func.count()).select_from(table)).scalar_one():
            raise RestoreRefused(f"restore needs an empty database: {table.name} has rows already")


def _read_rows(archive: zipfile.ZipFile, table: Table) -> Iterator[dict[str, Any]]:
    decoders = {column.name: _decoder(column) for column in table.columns}
    with archive.open(f"tables/{table.name}.jsonl") as member:
        for line in io.TextIOWrapper(member, encoding="utf-8"):
            row = json.loads(line)
            yield {name: decoders[name](value) if value is not None else None for name, value in row.items()}


def _decoder(column: Column):
    kind = _python_type(column)
    if kind is bytes:
        return base64.b64decode
    if kind is dt.datetime:
        return dt.datetime.fromisoformat
    if kind is dt.date:
        return dt.date.fromisoformat
    if kind is dt.time:
        return dt.time.fromisoformat
    return lambda value: value


def _python_type(column: Column) -> type | None:
    """The Python type a column holds; a TypeDecorator's (``UtcDateTime``) is its implementation's."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def _insert_rows(connection: Connection, table: Table, rows: Iterator[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            connection.execute(table.insert(), batch)
            batch = []
    if batch:
        connection.execute(table.insert(), batch)


def _continue_sequences(connection: Connection) -> None:
    """Each serial id's sequence set past the highest id restored (explicit ids do not move it)."""
    for table in tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True or (column.autoincrement == "auto" and _python_type(column) is int
                                                and len(table.primary_key.columns) == 1):
                connection.execute(text(
                    f'SELECT setval(pg_get_serial_sequence(:table, :column), COALESCE(MAX("{column.name}"), 1), '
                    f'MAX("{column.name}") IS NOT NULL) FROM "{table.name}"'), {"table": table.name, "column": column.name})
