"""Arrival to acknowledgement: how long a resident waits for our reply with the worker running under IDLE.

Run: .venv/bin/python bench/bench_latency.py [--messages 200] [--minutes 3] [--database URL]

Starts a throwaway Dovecot and aiosmtpd on loopback (the tests' helpers: run as root, like the tests)
and the real worker (`intake run`, not --once) on a fresh SQLite file (or the PostgreSQL server given),
with `poll_seconds` at 300 so that only IMAP IDLE can make it quick. Then delivers N residents'
emails (distinct senders, plain repair requests) at random moments (exponential gaps averaging
``minutes * 60 / N`` seconds), each appended to the INBOX as it "arrives", and records when the SMTP
server received the acknowledgement that answers it (In-Reply-To). Prints the median, 90th and 99th
percentile and the worst wait, and how many went unanswered within the grace period after the last
delivery. Targets (issue 14): median <= 5 s, 99th percentile <= 30 s.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.db import Database  # noqa: E402
from tests.conftest import REPO  # noqa: E402
from tests.dovecot import Dovecot  # noqa: E402
from tests.e2e import imap_settings, smtp_settings, write_config  # noqa: E402
from tests.mail import make_mail  # noqa: E402
from tests.smtp_server import Handler, SmtpTestServer  # noqa: E402

REPAIRS = ["the kitchen tap is leaking", "the bathroom extractor fan has stopped", "the front door lock is stiff",
           "the boiler pressure keeps dropping", "a window in the bedroom will not close",
           "the communal light on the stairs is broken"]
GRACE_SECONDS = 60


@dataclass
class TimedHandler(Handler):
    """aiosmtpd's test handler, noting when each acknowledgement arrived, by the message it answers."""

    arrived: dict[str, float] = field(default_factory=dict)

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        with self.lock:
            answered = str(self.received[-1].message["In-Reply-To"] or "")
            self.arrived.setdefault(answered, time.monotonic())
        return reply


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--database", help="a database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    rng = random.Random(14)
    dovecot, smtp = Dovecot(), SmtpTestServer()
    smtp.handler = handler = TimedHandler()
    dovecot.start()
    smtp.start()
    worker = None
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            url = args.database or f"sqlite:///{tmp / 'intake.db'}"
            config = write_config(tmp / "intake.toml", {
                "var_dir": tmp / "var", "database_url": url, "log_level": "WARNING", "poll_seconds": 300,
                "imap": [imap_settings(dovecot)], "smtp": smtp_settings(smtp),
            })
            Database(url).migrate()
            env = {**os.environ, "INTAKE_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
            log = (tmp / "worker.log").open("wb")
            worker = subprocess.Popen([sys.executable, "-m", "cli", "run"], cwd=REPO, env=env,
                                      stdout=log, stderr=subprocess.STDOUT)
            time.sleep(15)  # let it start, poll the empty mailbox and settle into IDLE
            sent_at = deliver(dovecot, args.messages, args.minutes * 60 / args.messages, rng)
            deadline = time.monotonic() + GRACE_SECONDS
            while time.monotonic() < deadline and len(set(sent_at) & set(handler.arrived)) < len(sent_at):
                time.sleep(0.5)
            waits = [handler.arrived[mid] - at for mid, at in sent_at.items() if mid in handler.arrived]
            report(waits, len(sent_at), url)
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=120)
            worker = None
    finally:
        if worker is not None:
            worker.kill()
        smtp.close()
        dovecot.cleanup()
    return 0


def deliver(dovecot: Dovecot, count: int, mean_gap: float, rng: random.Random) -> dict[str, float]:
    """Append each email at its random moment; when each arrived (monotonic), by its Message-ID."""
    client = dovecot.client()
    sent_at: dict[str, float] = {}
    try:
        for n in range(count):
            time.sleep(rng.expovariate(1 / mean_gap))
            message_id = f"<latency-{n}@mail.example.net>"
            raw = make_mail(f"Resident {n} <latency{n}@example.net>", f"Repair at flat {n}",
                            f"Hello, {REPAIRS[n % len(REPAIRS)]} at flat {n}, Rowan Court. Please can someone "
                            f"come and look at it? Thank you.", message_id=message_id)
            client.append("INBOX", raw)
            sent_at[message_id] = time.monotonic()
    finally:
        client.logout()
    return sent_at


def report(waits: list[float], delivered: int, url: str) -> None:
    backend = url.split(":", 1)[0].split("+")[0]
    print(f"{delivered} emails delivered at random over the run, worker `intake run` under IMAP IDLE ({backend}); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print("| answered | median s | 90th percentile s | 99th percentile s | worst s |")
    print("|---|---|---|---|---|")
    if not waits:
        print(f"| 0 of {delivered} | | | | |")
        return
    print(f"| {len(waits)} of {delivered} | {statistics.median(waits):.1f} | {percentile(waits, 0.9):.1f} "
          f"| {percentile(waits, 0.99):.1f} | {max(waits):.1f} |")


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
