"""`intake doctor` as an administrator runs it (the real command, in a process of its own) against a real
installation: a migrated database, a real Dovecot mailbox, aiosmtpd asking for a login, Tesseract with the
[letters] languages, the shipped model and templates. Healthy, every line is ok and it exits 0; then one
fault at a time (faults are made real: a closed port, a wrong password, a stopped server, a tessdata folder
without the language, a damaged model file), exactly that check says PROBLEM in plain words and it exits 1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.db import Database
from tests.conftest import REPO
from tests.dovecot import Dovecot
from tests.smtp_server import PASSWORD, USERNAME, SmtpTestServer, free_port

MODEL = REPO / "classifier" / "models"
TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")


@pytest.fixture(scope="module")
def mailbox():
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def smtp_server():
    server = SmtpTestServer(require_auth=True).start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def installation(tmp_path, mailbox, smtp_server):
    """The environment of a healthy installation: INTAKE_ settings for everything the doctor checks."""
    var, letters = tmp_path / "var", tmp_path / "letters"
    letters.mkdir()
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    db = Database(url)
    db.migrate()
    db.engine.dispose()
    return {
        "INTAKE_VAR_DIR": str(var), "INTAKE_DATABASE_URL": url,
        "INTAKE_IMAP": json.dumps([{"name": "complaints", "host": mailbox.host, "port": mailbox.port,
                                    "security": "none", "username": mailbox.user, "password": mailbox.password,
                                    "timeout_seconds": 10}]),
        "INTAKE_SMTP": json.dumps({"host": "127.0.0.1", "port": smtp_server.port, "security": "none",
                                   "username": USERNAME, "password": PASSWORD, "timeout_seconds": 10}),
        "INTAKE_LETTERS": json.dumps({"path": str(letters), "ocr_languages": "eng"}),
        "INTAKE_ALERTS": json.dumps({"to": "ops@landlord.org"}),
        "INTAKE_LANDLORD": json.dumps({"name": "Riverside Housing Trust",
                                       "address": ["Riverside Housing Trust", "2 Canal Street", "Northam", "NM1 2AB"]}),
    }


def doctor(env: dict) -> tuple[int, list[str]]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("INTAKE_")} | env
    result = subprocess.run([sys.executable, "-m", "cli", "doctor"], cwd=REPO, env=environment, capture_output=True,
                            text=True, timeout=180)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout.splitlines()


def problems(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("PROBLEM")]


@pytest.mark.timeout(200)
def test_a_healthy_installation_is_all_ok(installation, smtp_server):
    status, lines = doctor(installation)
    assert status == 0, lines
    checks = [line.split(":")[0].split(maxsplit=1) for line in lines[:-1]]
    assert checks == [["ok", "settings"], ["ok", "database"], ["ok", "imap complaints"], ["ok", "smtp"],
                      ["ok", "alerts"], ["ok", "tesseract"], ["ok", "model"], ["ok", "templates"]], lines
    assert lines[-1] == "all well"
    assert "at migration" in lines[1] and "(the newest)" in lines[1]
    assert f"login as {USERNAME} accepted" in lines[3]
    assert lines[4] == "ok       alerts: alert emails go to ops@landlord.org through 127.0.0.1"
    assert smtp_server.received == []  # the doctor logs in to SMTP and sends nothing


@pytest.mark.timeout(200)
def test_database_down(installation):
    closed = free_port()  # nothing listens here
    status, lines = doctor(installation | {"INTAKE_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{closed}/intake"})
    assert status == 1
    [problem] = problems(lines)
    assert problem.startswith("PROBLEM  database: cannot connect to postgresql+psycopg://postgres@127.0.0.1:")
    assert "Connection refused" in problem and lines[-1] == "1 problem(s) found"


@pytest.mark.timeout(200)
def test_a_database_not_migrated_is_named(installation, tmp_path):
    status, lines = doctor(installation | {"INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"})
    assert status == 1
    [problem] = problems(lines)
    assert "is empty (never migrated)" in problem and "run `intake migrate`" in problem


@pytest.mark.timeout(200)
def test_wrong_imap_password(installation, mailbox):
    [imap] = json.loads(installation["INTAKE_IMAP"])
    status, lines = doctor(installation | {"INTAKE_IMAP": json.dumps([imap | {"password": "not-the-password"}])})
    assert status == 1
    [problem] = problems(lines)
    assert problem == (f"PROBLEM  imap complaints: login refused for {mailbox.user} on {mailbox.host}:{mailbox.port} "
                       "(wrong username or password)")
    assert "not-the-password" not in "\n".join(lines)


@pytest.mark.timeout(200)
def test_smtp_down(installation, smtp_server):
    smtp_server.stop()
    try:
        status, lines = doctor(installation)
    finally:
        smtp_server.start()
    assert status == 1
    [problem] = problems(lines)
    assert problem.startswith(f"PROBLEM  smtp: cannot connect to 127.0.0.1:{smtp_server.port}:")
    assert "Connection refused" in problem


@pytest.mark.timeout(200)
def test_wrong_smtp_password(installation):
    smtp = json.loads(installation["INTAKE_SMTP"])
    status, lines = doctor(installation | {"INTAKE_SMTP": json.dumps(smtp | {"password": "nope"})})
    assert status == 1
    [problem] = problems(lines)
    assert problem.startswith(f"PROBLEM  smtp: 127.0.0.1:{smtp['port']} refused the login of {USERNAME} (535)")


@pytest.mark.timeout(200)
def test_alerts_with_nowhere_to_send_them(installation):
    environment = {key: value for key, value in installation.items() if key != "INTAKE_SMTP"}
    status, lines = doctor(environment)
    assert status == 1
    [problem] = problems(lines)
    assert problem == ("PROBLEM  alerts: [alerts] to is ops@landlord.org but there is no [smtp] host: alerts would "
                       "be written as .eml files, and nobody would see them")


@pytest.mark.timeout(200)
def test_a_missing_tesseract_language(installation, tmp_path):
    """Welsh asked for, on a Tesseract whose tessdata folder holds English only (as on a machine without
    tesseract-ocr-cym)."""
    tessdata = tmp_path / "tessdata"
    tessdata.mkdir()
    shutil.copy(TESSDATA / "eng.traineddata", tessdata)
    letters = json.loads(installation["INTAKE_LETTERS"])
    status, lines = doctor(installation | {"TESSDATA_PREFIX": str(tessdata),
                                           "INTAKE_LETTERS": json.dumps(letters | {"ocr_languages": "eng+cym"})})
    assert status == 1
    [problem] = problems(lines)
    assert problem == ("PROBLEM  tesseract: [letters] ocr_languages needs cym, not installed (installed: eng); "
                       "Debian: apt-get install tesseract-ocr-cym")


@pytest.mark.timeout(200)
def test_a_corrupt_model_file(installation, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(MODEL, models)
    skops = models / "current.skops"
    data = bytearray(skops.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one damaged byte, as a bad copy leaves it
    skops.write_bytes(bytes(data))
    status, lines = doctor(installation | {"INTAKE_CLASSIFIER": json.dumps({"model_path": str(skops)})})
    assert status == 1
    [problem] = problems(lines)
    assert problem.startswith(f"PROBLEM  model: model file {skops} fails its checksum")
    assert problem.endswith("it was changed or damaged")


@pytest.mark.timeout(200)
def test_settings_that_cannot_load_exit_2_before_any_check(installation):
    result = subprocess.run([sys.executable, "-m", "cli", "doctor"], cwd=REPO, capture_output=True, text=True,
                            timeout=120, env={**{k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")},
                                              **installation, "INTAKE_POLL_SECONDS": "-5"})
    assert result.returncode == 2 and result.stdout == ""
    assert "poll_seconds" in result.stderr and "Traceback" not in result.stderr
