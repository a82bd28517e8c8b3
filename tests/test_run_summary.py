"""`intake run --once`'s summary counts each thing once, and its exit status says when every source
failed. The real command in a subprocess, a real Maildir, SQLite and aiosmtpd."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO
from tests.e2e import smtp_settings, write_config
from tests.mail import deliver, make_mail, new_maildir

CAP = 2  # [outbox] max_acks_per_sender_per_day
REPAIRS = ["kitchen tap is leaking", "bathroom light has stopped working", "front door lock is stiff",
           "boiler pressure keeps dropping"]


def run_once(config) -> subprocess.CompletedProcess:
    env = {**os.environ, "INTAKE_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "cli", "run", "--once"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def config(tmp_path, smtp, maildirs: list[dict]):
    return write_config(tmp_path / "intake.toml", {
        "var_dir": tmp_path / "var", "database_url": f"sqlite:///{tmp_path / 'intake.db'}", "log_level": "WARNING",
        "maildir": maildirs, "smtp": smtp_settings(smtp), "outbox": {"max_acks_per_sender_per_day": CAP},
    })


def repair(name: str, n: int, what: str) -> bytes:
    return make_mail(f"{name} Resident <{name.lower()}@example.net>", f"Repair needed {n}",
                     f"Hello, the {what} at flat {n}, Rowan Court. Please can someone come and fix it? Thanks, {name}",
                     message_id=f"<{name.lower()}-{n}@mail.example.net>")


def test_each_message_is_counted_once_and_suppressed_acknowledgements_are_not_sent(tmp_path, smtp):
    maildir = new_maildir(tmp_path / "maildir")
    for n, name in enumerate(["Ann", "Bob", "Cat"]):  # three residents, one message each
        deliver(maildir, repair(name, n + 1, REPAIRS[n]))
    for n, what in enumerate(REPAIRS):  # one resident writes four times: the cap lets two replies go
        deliver(maildir, repair("Eve", 10 + n, what))
    deliver(maildir, make_mail("Dan Resident <dan@example.net>", "Out of office", "I am away until Monday.",
                               headers={"Auto-Submitted": "auto-replied"}))  # machine mail: never acknowledged
    path = config(tmp_path, smtp, [{"name": "mailbox", "path": maildir}])

    first = run_once(path)

    assert first.returncode == 0, first.stderr[-3000:]
    # 8 messages: stored 8, processed 8 (not 16); 3 + 2 acknowledgements sent, Eve's last 2 suppressed
    assert "stored 8 new items; processed 8 (" in first.stdout, first.stdout
    assert "1 discarded" in first.stdout, first.stdout
    assert "acknowledgements: 5 sent, 2 suppressed (per-sender cap), 0 to retry, 0 failed" in first.stdout, first.stdout
    assert "0 letters printed" in first.stdout
    assert len(smtp.messages) == 5
    assert sorted(str(m["To"]) for m in smtp.messages).count("eve@example.net") == CAP

    again = run_once(path)

    assert again.returncode == 0, again.stderr[-3000:]
    assert "stored 0 new items; processed 0; acknowledgements: 0 sent, 0 suppressed" in again.stdout, again.stdout
    assert len(smtp.messages) == 5


def test_every_source_failing_exits_3_and_names_each(tmp_path, smtp):
    path = config(tmp_path, smtp, [{"name": "gone", "path": tmp_path / "no-such-maildir"},
                                   {"name": "also-gone", "path": tmp_path / "nor-this"}])

    result = run_once(path)

    assert result.returncode == 3, (result.stdout, result.stderr[-3000:])
    assert "source gone:" in result.stderr and "source also-gone:" in result.stderr
    assert "stored 0 new items" in result.stdout


def test_one_source_failing_while_another_works_exits_0(tmp_path, smtp):
    maildir = new_maildir(tmp_path / "maildir")
    deliver(maildir, repair("Ann", 1, REPAIRS[0]))
    path = config(tmp_path, smtp, [{"name": "gone", "path": tmp_path / "no-such-maildir"},
                                   {"name": "mailbox", "path": maildir}])

    result = run_once(path)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "source gone:" in result.stderr
    assert "stored 1 new items; processed 1 (" in result.stdout and "1 sent" in result.stdout, result.stdout
