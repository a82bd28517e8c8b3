"""Fixtures for the source tests: a real Dovecot and a migrated SQLite database.

(The lead may move these to tests/conftest.py so other packages can share them.)
"""

from __future__ import annotations

import pytest

from casework.db import Database
from tests.dovecot import Dovecot


@pytest.fixture
def dovecot():
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'intake.db'}")
    database.migrate()
    try:
        yield database
    finally:
        database.engine.dispose()
