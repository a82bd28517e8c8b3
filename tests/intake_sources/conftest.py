"""Fixtures for the source tests: a migrated SQLite database (Dovecot comes from tests/conftest.py)."""

from __future__ import annotations

import pytest

from core.db import Database


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'intake.db'}")
    database.migrate()
    try:
        yield database
    finally:
        database.engine.dispose()
