"""A poison message: one that makes processing exceed a memory limit. It ends set aside for a person, and
the residents' mail behind it is answered. The real worker (``intake run --once``: ``cli.main``) in a subprocess,
a real Maildir, a real SQLite file and a real aiosmtpd.

The poison is real, not injected: a resident's email whose plain-text body is 30 MB (a pasted log, a
document pasted into the message). Body text is not capped like an attachment, and reading it (the
MIME parser's lines, the decoded text, the quoting rules' and cleaning's copies) took about 670 MB over
what the worker uses for ordinary mail, measured on this machine: enough to cross any limit set
between the two.

Each limit is measured, not written down: the same worker first runs on the four ordinary complaints
alone and reports, as it exits, its own peak address space (VmPeak) and peak resident memory (VmHWM);
the limit is that peak plus ``MARGIN_MB``. The margin covers what ordinary mail varies by and storing
the poison's 30 MB of raw bytes, and is far below what reading it needs, so the test keeps testing
the poison however much the worker's imports and libraries weigh (they change: on this machine the
ordinary peaks were 758 MB of address space and 374 MB resident while every worker imported the
letters' PDF and OCR libraries, 518 MB and 278 MB once only letters did; the poison adds ~630 MB to both).

Two kinds of limit, as a host would set them:
(a) ``RLIMIT_AS`` in the worker (``preexec_fn``): the allocation fails inside Python, as MemoryError,
    which the runner records as an ordinary failure: retried up to MAX_AUTOMATIC_ATTEMPTS, then it waits
    for a person. The worker never dies.
(b) an out-of-memory killer, as systemd's MemoryMax or the kernel's would: this test polls the worker's
    VmRSS every few milliseconds, SIGKILLs it past a threshold and starts it again, as systemd would.
    After ``[limits] set_aside_after_deaths`` deaths the message is set aside.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from casework.models import Submission
from core.db import Database
from tests.conftest import REPO
from tests.e2e import smtp_settings, write_config
from tests.mail import deliver, make_mail, new_maildir
from tests.smtp_server import SmtpTestServer

LINE = b"The mould in the bedroom is back again and nobody has come to look at it since March.\r\n"  # 88 bytes
POISON_BODY = LINE * (30 * 1024 * 1024 // len(LINE))  # 357,913 lines: 31,496,344 bytes, about 30 MB
RESIDENTS = ["Ann", "Bob", "Cat", "Dan"]
# Over the ordinary worker's own peak (its address space for (a), its resident memory for (b)): ordinary
# mail varies by a few MB, storing the poison's raw bytes takes less than the margin; reading it takes ~630 MB.
MARGIN_MB = 300
DEATHS = 2  # [limits] set_aside_after_deaths, the default


def poison() -> bytes:
    head = (b"From: Pat Resident <pat@example.net>\r\nTo: complaints@example.org\r\nSubject: the log you asked for\r\n"
            b"Date: Mon, 16 Nov 2026 10:00:00 +0000\r\nMessage-ID: <poison@mail.example.net>\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n")
    return head + POISON_BODY


def mailbox(tmp_path):
    """Two residents' complaints, the poison, two more: the last two are behind it."""
    maildir = new_maildir(tmp_path / "maildir")
    for raw in [_complaint(RESIDENTS[0]), _complaint(RESIDENTS[1]), poison(), _complaint(RESIDENTS[2]),
                _complaint(RESIDENTS[3])]:
        deliver(maildir, raw)
        time.sleep(0.002)  # Maildir keys start with the delivery time: this keeps the order
    return maildir


def _complaint(name: str) -> bytes:
    return make_mail(f"{name} Resident <{name.lower()}@example.net>", "Leak not fixed",
                     "I reported a leak three weeks ago and nobody has come. I am very unhappy.")


def config(tmp_path, smtp, maildir):
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    path = write_config(tmp_path / "intake.toml", {
        "var_dir": tmp_path / "var", "database_url": url, "log_level": "WARNING",
        "maildir": [{"name": "complaints", "path": maildir}], "smtp": smtp_settings(smtp),
        "limits": {"processing_seconds": 120, "set_aside_after_deaths": DEATHS},
    })
    return path, Database(url)


# `intake run --once` (cli.main, as `python -m cli` runs it), printing to stderr as it exits what its own
# process used at its peak: "VmPeak: N kB" (address space) and "VmHWM: N kB" (resident memory).
WORKER = """
import atexit, sys
from cli import main

def report():
    with open("/proc/self/status") as status:
        sys.stderr.write("".join(line for line in status if line.startswith(("VmPeak:", "VmHWM:"))))

atexit.register(report)
sys.exit(main(["run", "--once"]))
"""


def start_worker(config_path, preexec_fn=None) -> subprocess.Popen:
    env = {**os.environ, "INTAKE_CONFIG": str(config_path), "PYTHONUNBUFFERED": "1", "MALLOC_ARENA_MAX": "2"}
    return subprocess.Popen([sys.executable, "-c", WORKER], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=preexec_fn)


@dataclass(frozen=True)
class Peaks:
    address_space_kb: int
    resident_kb: int


@pytest.fixture(scope="module")
def ordinary_peaks(tmp_path_factory) -> Peaks:
    """The worker's own peaks on the four ordinary complaints alone (no poison, no limit): it reads,
    classifies (the model loaded) and acknowledges each, as the runs below do besides the poison."""
    tmp_path = tmp_path_factory.mktemp("ordinary")
    maildir = new_maildir(tmp_path / "maildir")
    for name in RESIDENTS:
        deliver(maildir, _complaint(name))
    smtp = SmtpTestServer().start()
    try:
        config_path, _ = config(tmp_path, smtp, maildir)
        worker = start_worker(config_path)
        _, errors = worker.communicate(timeout=300)
        assert worker.returncode == 0, errors.decode()[-3000:]
        assert len(smtp.messages) == len(RESIDENTS)  # the whole ordinary path ran: read, classify, send
    finally:
        smtp.close()
    return Peaks(_status_kb(errors, "VmPeak"), _status_kb(errors, "VmHWM"))


def _status_kb(stderr: bytes, field: str) -> int:
    line = next(line for line in stderr.decode().splitlines() if line.startswith(f"{field}:"))
    return int(line.split()[1])


def outcome(db: Database) -> dict[str, Submission]:
    with db.sessions() as session:
        return {_sender(s.raw): s for s in session.scalars(select(Submission))}


def _sender(raw: bytes) -> str:
    return raw.split(b"From: ", 1)[1].split(b" ", 1)[0].decode()


def assert_the_others_answered(db: Database, smtp) -> None:
    by_sender = outcome(db)
    for name in RESIDENTS:
        assert by_sender[name].disposition not in ("failed", "pending"), (name, by_sender[name].reason)
    answered = sorted(message["To"].addresses[0].username for message in smtp.messages)
    assert answered == sorted(name.lower() for name in RESIDENTS)  # each once; the poison's writer: no reply yet


def address_space_limit(limit_bytes: int):
    """A ``preexec_fn`` setting RLIMIT_AS in the worker before it starts."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return limit


def test_a_message_over_the_address_space_limit_fails_with_memory_error_and_the_mail_behind_it_is_answered(
        tmp_path, smtp, ordinary_peaks):
    config_path, db = config(tmp_path, smtp, mailbox(tmp_path))
    limit = (ordinary_peaks.address_space_kb + MARGIN_MB * 1024) * 1024

    worker = start_worker(config_path, preexec_fn=address_space_limit(limit))

    assert worker.wait(timeout=300) == 0, worker.stderr.read().decode()[-3000:]
    assert_the_others_answered(db, smtp)
    stuck = outcome(db)["Pat"]
    # MemoryError inside Python is an ordinary failure: tried MAX_AUTOMATIC_ATTEMPTS (3) times, then it
    # waits for a person (the operations page lists it, with Re-run). Never a death: nothing left counted.
    assert stuck.disposition == "failed" and "MemoryError" in stuck.error, stuck.error
    assert (stuck.attempts, stuck.unfinished_attempts) == (3, 0)
    assert stuck.raw.endswith(POISON_BODY)  # stored whole


def test_a_message_that_gets_the_worker_killed_is_set_aside_after_two_deaths_and_the_mail_behind_it_is_answered(
        tmp_path, smtp, ordinary_peaks):
    config_path, db = config(tmp_path, smtp, mailbox(tmp_path))
    rss_limit_kb = ordinary_peaks.resident_kb + MARGIN_MB * 1024

    kills, runs = 0, 0
    while runs < DEATHS + 3:  # started again after each death, as systemd's Restart=on-failure would
        runs += 1
        worker = start_worker(config_path)
        if not killed_over_rss(worker, rss_limit_kb):
            assert worker.returncode == 0, worker.stderr.read().decode()[-3000:]
            break
        kills += 1

    assert kills == DEATHS  # killed twice on the poison, then the third worker set it aside and went on
    assert_the_others_answered(db, smtp)
    stuck = outcome(db)["Pat"]
    assert stuck.disposition == "failed" and stuck.error is None
    assert f"stopped the worker {DEATHS} times" in stuck.reason
    assert stuck.raw.endswith(POISON_BODY)


def killed_over_rss(worker: subprocess.Popen, limit_kb: int, timeout: float = 300) -> bool:
    """Watch the worker until it ends; SIGKILL it (True) the moment its VmRSS passes ``limit_kb``."""
    deadline = time.monotonic() + timeout
    while worker.poll() is None and time.monotonic() < deadline:
        if _rss_kb(worker.pid) > limit_kb:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            return True
        time.sleep(0.003)
    if worker.poll() is None:
        worker.kill()
        raise AssertionError("the worker neither finished nor passed the limit")
    return False


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    except (FileNotFoundError, StopIteration, ProcessLookupError):
        return 0  # it has just ended
