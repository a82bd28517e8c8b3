"""Fixtures for the responders tests: real databases (SQLite file, throwaway PostgreSQL) and a real
SMTP server. The lead may move the shared ones to tests/conftest.py."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from casework.db import Database
from casework.models import Case, Clock
from casework.settings import OutboxSettings
from casework.vocabulary import Category, ClockKind
from tests.smtp_server import SmtpTestServer

POSTGRES_SERVER = os.environ.get("INTAKE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def sqlite_db(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'intake.db'}")
    db.migrate()
    yield db
    db.engine.dispose()


@pytest.fixture
def postgresql_db():
    server = make_url(POSTGRES_SERVER)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"intake_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server here: say so rather than fail every test
        admin.dispose()
        pytest.skip(f"PostgreSQL not available at {server.render_as_string()}: {exc}")
    db = Database(server.set(database=name).render_as_string(hide_password=False))
    try:
        db.migrate()
        yield db
    finally:
        db.engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request):
    return request.getfixturevalue(f"{request.param}_db")


@pytest.fixture
def outbox_settings():
    return OutboxSettings(max_acks_per_sender_per_day=3, max_attempts=4, backoff_seconds=60, batch_size=10)


@pytest.fixture
def make_case(db):
    """A committed case with stage 1 clocks; returns its id."""

    def make(reference: str = "CMP-2026-000123", stage: int = 1, email: str = "resident@example.net") -> int:
        received = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
        with db.transaction() as session:
            case = Case(reference=reference, category=Category.COMPLAINT, stage=stage, received_at=received,
                        resident_email=email, resident_name="Sam Resident")
            case.clocks = [
                Clock(kind=ClockKind.ACK_STAGE1, starts_at=received, due_at=received + dt.timedelta(days=7), rule="5 working days"),
                Clock(kind=ClockKind.RESPONSE_STAGE1, starts_at=received, due_at=received + dt.timedelta(days=21), rule="10 working days"),
            ]
            session.add(case)
            session.flush()
            return case.id

    return make


@pytest.fixture
def smtp_server():
    server = SmtpTestServer().start()
    yield server
    server.close()


@pytest.fixture
def smtp_servers():
    """A factory for servers in other modes (AUTH, STARTTLS, implicit TLS); all closed afterwards."""
    made: list[SmtpTestServer] = []

    def make(**options) -> SmtpTestServer:
        made.append(SmtpTestServer(**options).start())
        return made[-1]

    yield make
    for server in made:
        server.close()
