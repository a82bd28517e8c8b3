"""Shared fixtures: real databases (a SQLite file, a throwaway PostgreSQL database), settings,
and a worker built the way `intake run --once` builds it."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.db import Database
from core.settings import Settings
from tests.dovecot import Dovecot
from tests.smtp_server import SmtpTestServer

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
REAL_MAIL = FIXTURES / "real-mail"  # public test suites' messages; SOURCES.md names each file's origin and licence
POSTGRES_SERVER = os.environ.get("INTAKE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def create_postgres_database() -> str:
    """A new empty database on the test server; fails loudly (never skips) when there is none."""
    server = make_url(POSTGRES_SERVER)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"intake_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(make_url(POSTGRES_SERVER), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'intake.db'}"


@pytest.fixture
def postgresql_url():
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


def _migrated(url: str):
    db = Database(url)
    db.migrate()
    yield db
    db.engine.dispose()


@pytest.fixture
def sqlite_db(sqlite_url):
    yield from _migrated(sqlite_url)


@pytest.fixture
def postgresql_db(postgresql_url):
    yield from _migrated(postgresql_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request):
    return request.getfixturevalue(f"{request.param}_db")


@pytest.fixture
def make_settings(tmp_path, database_url):
    """Settings for a worker on this test's database, with local folders under tmp_path."""

    def make(**overrides) -> Settings:
        values = {"var_dir": tmp_path / "var", "database_url": database_url, **overrides}
        return Settings(**values)

    return make


@pytest.fixture
def dovecot():
    """A real Dovecot IMAP server on a free loopback port, thrown away afterwards."""
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def smtp():
    """A real aiosmtpd SMTP server on a free loopback port, collecting what it receives."""
    server = SmtpTestServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def endpoints():
    """A loopback OAuth2 token endpoint and token introspection endpoint (Dovecot's oauth2 passdb asks it)."""
    from tests.intake_sources.oauth_endpoints import OAuth2Endpoints

    server = OAuth2Endpoints().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def https_endpoints(monkeypatch):
    """The same over https, with requests (under MSAL) trusting the test's own certificate."""
    from tests.intake_sources.oauth_endpoints import OAuth2Endpoints

    server = OAuth2Endpoints(tls=True).start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(autouse=True)
def _intake_config_put_back(monkeypatch):
    """``load_settings(config_file=...)`` names its file in INTAKE_CONFIG for the whole process (that is how
    the TOML source finds it); a test that loads a file must not leave it for every test after it."""
    monkeypatch.setenv("INTAKE_CONFIG", os.environ.get("INTAKE_CONFIG", ""))  # recorded: put back after the test
    if not os.environ["INTAKE_CONFIG"]:
        monkeypatch.delenv("INTAKE_CONFIG")
