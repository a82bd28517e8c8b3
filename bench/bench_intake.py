"""Intake end to end against the floor: N resident emails on a real Dovecot, acknowledged through aiosmtpd.

Run: .venv/bin/python bench/bench_intake.py [--messages 2000] [--runs sqlite:1,postgresql:1,postgresql:2]
     .venv/bin/python bench/bench_intake.py --messages 10000 --runs sqlite:1     (memory with a backlog)
     .venv/bin/python bench/bench_intake.py --startup                            (start-up, empty mailbox)

Starts a throwaway Dovecot and aiosmtpd on loopback (the tests' helpers: run as root, like the tests),
seeds N generated resident emails with a realistic mix (many distinct senders; photos, PDFs, HTML
alternatives, 8-bit Latin-1 bodies, 5 % auto-replies; about 27 KB on average), then in the same run:
- the floor: a bare imapclient fetch of the folder (batches of 50) plus a stdlib parse of every part;
- for scale, the SMTP server's own floor: one acknowledgement-sized reply for each human message sent
  over one connection with smtplib (the same aiosmtpd the worker sends to, on the same two cores);
- `intake run --once` end to end (fetch, store, classify, open cases, send every acknowledgement over
  SMTP), as separate processes started together, on a fresh SQLite file or PostgreSQL database each
  time, the mailbox put back as it was between runs.
Prints a markdown table: seconds, messages/s, the ratio to the floor, peak RSS of the biggest worker,
and the checks: every message is exactly one submission (none pending or failed), and every
acknowledgement the database marks sent was received by the SMTP server exactly once. A failed
check is printed in the table and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import random
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from casework.models import OutboxMessage, Submission  # noqa: E402
from core.db import Database  # noqa: E402
from tests.conftest import REPO, create_postgres_database, drop_postgres_database  # noqa: E402
from tests.dovecot import Dovecot  # noqa: E402
from tests.e2e import imap_settings, smtp_settings, write_config  # noqa: E402
from tests.smtp_server import SmtpTestServer  # noqa: E402

FETCH_BATCH = 50
AUTO_REPLY_EVERY = 20  # 5 %


# -- the mailbox ------------------------------------------------------------------------------

def corpus(limit: int = 400) -> list[dict]:
    rows = []
    for path in sorted((REPO / "classifier" / "data").glob("corpus-*.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    usable = [row for row in rows if row.get("channel") == "email" and "auto_reply" not in row.get("flags", [])
              and row.get("body")]
    return usable[:: max(1, len(usable) // limit)][:limit]


def resident_mail(n: int, example: dict, rng: random.Random) -> bytes:
    """One resident's email; which kind it is follows n, so every run seeds the same mix."""
    sender, subject, body = f"Resident {n} <resident{n}@example.net>", example.get("subject") or "Repairs", example["body"]
    if n % AUTO_REPLY_EVERY == 0:
        return _mail(f"Away {n} <away{n}@example.com>", f"Automatic reply: {subject}",
                     "I am out of the office until Monday and will reply when I return.", n,
                     headers={"Auto-Submitted": "auto-replied"})
    kind = n % 10
    if kind == 1:  # 8-bit Latin-1, as some old clients still send it
        text = f"{body}\n\nI paid £45 for the café's plumber myself. Regards, Zoë\n"
        head = (f"From: {sender}\r\nTo: complaints@example.org\r\nSubject: {subject}\r\n"
                f"Date: Mon, 16 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench-{n}@mail.example.net>\r\n"
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n")
        return head.encode("ascii", "replace") + text.replace("\n", "\r\n").encode("latin-1", "replace")
    message = _message(sender, subject, body, n)
    if kind in (2, 3):
        html = "".join(f"<p>{line}</p>" for line in body.splitlines() if line.strip())
        message.add_alternative(f"<html><body>{html}<p>Sent from my phone</p></body></html>", subtype="html")
    if kind == 4:  # a photo of the damp, 100-250 KB
        message.add_attachment(b"\xff\xd8\xff\xe0" + rng.randbytes(rng.randint(100_000, 250_000)), maintype="image",
                               subtype="jpeg", filename=f"IMG_{n:04d}.jpg")
    if kind == 7:  # a letter or a report as a PDF, 20-80 KB
        message.add_attachment(b"%PDF-1.4\n" + rng.randbytes(rng.randint(20_000, 80_000)) + b"\n%%EOF\n",
                               maintype="application", subtype="pdf", filename=f"letter-{n}.pdf")
    return message.as_bytes()


def _message(sender: str, subject: str, body: str, n: int, headers: dict | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "complaints@example.org", subject
    message["Date"], message["Message-ID"] = "Mon, 16 Nov 2026 10:00:00 +0000", f"<bench-{n}@mail.example.net>"
    for key, value in (headers or {}).items():
        message[key] = value
    message.set_content(body)
    return message


def _mail(sender: str, subject: str, body: str, n: int, headers: dict | None = None) -> bytes:
    return _message(sender, subject, body, n, headers).as_bytes()


def seed(dovecot: Dovecot, count: int) -> tuple[int, int]:
    """N messages into INBOX; returns (total bytes, auto-replies)."""
    rng, examples = random.Random(14), corpus()
    raws = [resident_mail(n, examples[n % len(examples)], rng) for n in range(count)]
    client = dovecot.client()
    try:
        for raw in raws:
            client.append("INBOX", raw)
    finally:
        client.logout()
    return sum(map(len, raws)), sum(1 for n in range(count) if n % AUTO_REPLY_EVERY == 0)


def put_back(dovecot: Dovecot) -> None:
    """Everything a run moved to Processed back into INBOX (new UIDs: a fresh database sees new mail)."""
    client = dovecot.client()
    try:
        if client.folder_exists("Processed"):
            client.select_folder("Processed")
            uids = client.search("ALL")
            if uids:
                client.move(uids, "INBOX")
    finally:
        client.logout()


# -- the floor ---------------------------------------------------------------------------------

def floor(dovecot: Dovecot) -> float:
    """Seconds for a bare fetch of the folder in batches, plus a stdlib parse of every part."""
    started = time.perf_counter()
    client = dovecot.client()
    try:
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        for start in range(0, len(uids), FETCH_BATCH):
            for data in client.fetch(uids[start:start + FETCH_BATCH], [b"BODY.PEEK[]"]).values():
                parsed = email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default)
                for part in parsed.walk():
                    if not part.is_multipart():
                        part.get_content()
    finally:
        client.logout()
    return time.perf_counter() - started


def smtp_floor(smtp: SmtpTestServer, count: int) -> float:
    """Seconds to send ``count`` prebuilt acknowledgement-sized replies over one SMTP connection."""
    replies = []
    for n in range(count):
        reply = EmailMessage()
        reply["From"], reply["To"] = "Complaints <complaints@example.org>", f"resident{n}@example.net"
        reply["Subject"], reply["Message-ID"] = f"We have your message: CMP-2026-{n:06d}", f"<floor.{n}@example.org>"
        reply.set_content("Thank you for your message. We will reply by 12 January 2027.\n" * 25)
        reply.add_alternative("<p>Thank you for your message. We will reply by 12 January 2027.</p>" * 25, subtype="html")
        replies.append(reply)
    started = time.perf_counter()
    client = smtplib.SMTP("127.0.0.1", smtp.port)
    try:
        for reply in replies:
            client.send_message(reply)
    finally:
        client.quit()
    seconds = time.perf_counter() - started
    smtp.handler.received.clear()
    return seconds


# -- the worker --------------------------------------------------------------------------------

# `intake run --once` (cli.main, as `python -m cli` runs it), printing its own peak resident memory as it
# exits ("VmHWM: N kB"). Not wait4's ru_maxrss: a child's ru_maxrss includes its parent's high-water mark
# at the fork (exec records the old mm's), and this script holds the whole seeded mailbox at once.
WORKER = """
import atexit, sys
from cli import main

def report():
    with open("/proc/self/status") as status:
        sys.stderr.write("".join(line for line in status if line.startswith("VmHWM:")))

atexit.register(report)
sys.exit(main(["run", "--once"]))
"""


def run_workers(config: Path, workers: int) -> tuple[float, list[int], list[str]]:
    """Start ``workers`` `intake run --once` processes together; seconds until the last ends, each one's
    peak RSS (KB, as the worker reports it of itself) and the summary line each printed."""
    env = {**os.environ, "INTAKE_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
    outputs = [(tempfile.TemporaryFile(), tempfile.TemporaryFile()) for _ in range(workers)]
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER], cwd=REPO, env=env, stdout=out,
                              stderr=err) for out, err in outputs]
    peaks, lines = [], []
    for proc, (out, err) in zip(procs, outputs):
        proc.wait()
        out.seek(0), err.seek(0)
        errors = err.read().decode()
        if proc.returncode != 0:
            raise SystemExit(f"worker exited {proc.returncode}:\n{errors[-3000:]}")
        peaks.append(next(int(line.split()[1]) for line in errors.splitlines() if line.startswith("VmHWM:")))
        lines.append(out.read().decode().strip())
    return time.perf_counter() - started, peaks, lines


def checks(url: str, smtp: SmtpTestServer, count: int) -> list[str]:
    """What must hold after a run; each failure in words (none: [])."""
    problems = []
    db = Database(url)
    try:
        with db.sessions() as session:
            keys = list(session.scalars(select(Submission.message_id)))
            dispositions = Counter(session.scalars(select(Submission.disposition)))
            sent = list(session.scalars(select(OutboxMessage.message_id).where(OutboxMessage.status == "sent",
                                                                                OutboxMessage.channel == "email")))
            unsent = session.scalar(select(func.count(OutboxMessage.id))
                                    .where(OutboxMessage.status.in_(("queued", "sending", "failed"))))
    finally:
        db.engine.dispose()
    if len(keys) != count or len(set(keys)) != count:
        problems.append(f"{len(keys)} submissions for {count} messages ({len(set(keys))} distinct)")
    if dispositions["pending"] or dispositions["failed"]:
        problems.append(f"left: {dict(dispositions)}")
    received = Counter(str(message["Message-ID"]).strip("<>") for message in smtp.messages)
    if set(received) != set(sent) or any(times != 1 for times in received.values()):
        problems.append(f"{len(sent)} sent rows, {sum(received.values())} received ({len(received)} distinct)")
    if unsent:
        problems.append(f"{unsent} acknowledgements not sent")
    return problems


def one_run(dovecot: Dovecot, smtp: SmtpTestServer, tmp: Path, backend: str, workers: int, count: int) -> dict:
    url = f"sqlite:///{tmp / f'intake-{backend}-{workers}.db'}" if backend == "sqlite" else create_postgres_database()
    config = write_config(tmp / f"intake-{backend}-{workers}.toml", {
        "var_dir": tmp / f"var-{backend}-{workers}", "database_url": url, "log_level": "WARNING",
        "imap": [imap_settings(dovecot)], "smtp": smtp_settings(smtp),
    })
    Database(url).migrate()  # as `intake migrate` before the workers start (not timed)
    smtp.handler.received.clear()
    try:
        seconds, peaks, lines = run_workers(config, workers)
        problems = checks(url, smtp, count)
    finally:
        put_back(dovecot)
        if backend != "sqlite":
            drop_postgres_database(url)
    return {"seconds": seconds, "peak_mb": max(peaks) / 1024, "problems": problems, "summary": lines}


def startup(dovecot: Dovecot, smtp: SmtpTestServer, tmp: Path, runs: int = 5) -> list[tuple[float, int]]:
    """Seconds and peak RSS (KB) of each `intake run --once` on an empty mailbox, the database already
    migrated (as `intake migrate` leaves it before the workers start)."""
    url = f"sqlite:///{tmp / 'startup.db'}"
    config = write_config(tmp / "startup.toml", {
        "var_dir": tmp / "var-startup", "database_url": url, "log_level": "WARNING",
        "imap": [imap_settings(dovecot)], "smtp": smtp_settings(smtp),
    })
    Database(url).migrate()
    return [(seconds, peaks[0]) for seconds, peaks, _ in (run_workers(config, 1) for _ in range(runs))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", default="sqlite:1,postgresql:1,postgresql:2",
                        help="backend:workers, comma-separated")
    parser.add_argument("--startup", action="store_true", help="only time start-up on an empty mailbox")
    args = parser.parse_args()
    dovecot, smtp = Dovecot(), SmtpTestServer()
    dovecot.start()
    smtp.start()
    failed = False
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            if args.startup:
                runs = startup(dovecot, smtp, tmp)
                times = [seconds for seconds, _ in runs]
                print(f"`intake run --once`, empty mailbox (SQLite, IMAP, SMTP): median {statistics.median(times):.2f} s, "
                      f"min {min(times):.2f} s, max {max(times):.2f} s over {len(times)} runs; peak RSS "
                      f"{statistics.median(peak for _, peak in runs) / 1024:.0f} MB (median); load average "
                      f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
                return 0
            size, auto = seed(dovecot, args.messages)
            floor_seconds = floor(dovecot)
            print(f"{args.messages} messages, {size / args.messages / 1024:.0f} KB on average, {auto} auto-replies; "
                  f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
            print("| run | seconds | messages/s | ratio to floor | peak RSS MB (largest worker) | checks |")
            print("|---|---|---|---|---|---|")
            print(f"| floor: imapclient fetch + stdlib parse | {floor_seconds:.1f} | {args.messages / floor_seconds:.0f} "
                  f"| 1.00 | | |")
            human = args.messages - auto
            smtp_seconds = smtp_floor(smtp, human)
            print(f"| for scale: {human} bare SMTP sends to the same server, one connection | {smtp_seconds:.1f} "
                  f"| {human / smtp_seconds:.0f} | {floor_seconds / smtp_seconds:.2f} | | |")
            for spec in args.runs.split(","):
                backend, workers = spec.split(":")
                result = one_run(dovecot, smtp, tmp, backend, int(workers), args.messages)
                rate = args.messages / result["seconds"]
                ok = "; ".join(result["problems"]) or "one submission each, every acknowledgement received once"
                failed |= bool(result["problems"])
                print(f"| `intake run --once`, {backend}, {workers} worker{'s' if int(workers) > 1 else ''} "
                      f"| {result['seconds']:.1f} | {rate:.0f} | {floor_seconds / result['seconds']:.2f} "
                      f"| {result['peak_mb']:.0f} | {ok} |", flush=True)
                for line in result["summary"]:
                    print(f"<!-- {line} -->", flush=True)
    finally:
        smtp.close()
        dovecot.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
