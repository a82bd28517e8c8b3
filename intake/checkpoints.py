"""A small key-value store a source uses to remember where it got to."""

from __future__ import annotations

from sqlalchemy import select

from core.db import Database
from casework.models import SourceCheckpoint


class Checkpoints:
    def __init__(self, db: Database, source: str) -> None:
        self.db = db
        self.source = source

    def get(self, key: str) -> str | None:
        with self.db.sessions() as session:
            row = session.get(SourceCheckpoint, (self.source, key))
            return row.value if row else None

    def set(self, key: str, value: str) -> None:
        with self.db.transaction() as session:
            row = session.get(SourceCheckpoint, (self.source, key))
            if row is None:
                session.add(SourceCheckpoint(source=self.source, key=key, value=value))
            else:
                row.value = value

    def all(self) -> dict[str, str]:
        with self.db.sessions() as session:
            rows = session.scalars(select(SourceCheckpoint).where(SourceCheckpoint.source == self.source))
            return {row.key: row.value for row in rows}
