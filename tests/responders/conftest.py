"""Fixtures for the responders tests: cases to acknowledge and real SMTP servers.
The databases (`db`, `sqlite_db`, `postgresql_db`) come from tests/conftest.py."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.models import Case, Clock
from core.settings import OutboxSettings
from casework.vocabulary import Category, ClockKind
from tests.smtp_server import SmtpTestServer


@pytest.fixture
def outbox_settings():
    return OutboxSettings(max_acks_per_sender_per_day=3, max_interrupted_sends=4, backoff_seconds=60, batch_size=10)


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
