"""Fixtures for the letters tests: a letters folder, settings pointing at it, the source, and a real
migrated SQLite database. Scans are made by tests/letters/scans.py with real fonts; OCR is real."""

from __future__ import annotations

import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.db import Database
from core.settings import LetterSourceSettings, Settings
from intake.scans.source import LetterSource


@pytest.fixture
def letters_dir(tmp_path) -> Path:
    folder = tmp_path / "letters"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(tmp_path, letters_dir) -> Settings:
    return Settings(var_dir=tmp_path / "var", letters=LetterSourceSettings(path=letters_dir))


@pytest.fixture
def source(settings, tmp_path) -> LetterSource:
    made = LetterSource(settings.letters, tmp_path / "var", ZoneInfo(settings.policy.timezone))  # as scheduler.py
    yield made
    made.close()


@pytest.fixture
def sqlite_db(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'intake.db'}")
    db.migrate()
    yield db
    db.engine.dispose()


def settle(*paths: Path, seconds_ago: float = 5.0) -> None:
    """Give files a modification time in the past, as a finished scan has."""
    when = time.time() - seconds_ago
    for path in paths:
        os.utime(path, (when, when))


def set_mtime(path: Path, when) -> None:
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


def drain(source: LetterSource) -> list:
    """Two polls, as the scheduler makes them: a file is taken only once its size is stable."""
    first = list(source.fetch())
    return first + list(source.fetch())
