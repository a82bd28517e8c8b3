"""Pipeline throughput: messages a second from a Maildir to stored, classified, acknowledged cases.

Run: .venv/bin/python bench/bench_pipeline.py [--messages N]
Prints a markdown table row: messages, seconds to process, messages/second, peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scheduler  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.e2e import varied_mail  # noqa: E402
from tests.mail import deliver, make_mail, new_maildir  # noqa: E402


def mailbox(path: Path, count: int) -> Path:
    maildir = new_maildir(path)
    base = varied_mail(50)
    for n in range(count):
        raw = base[n % len(base)]
        deliver(maildir, make_mail(f"Resident {n} <r{n}@example.net>", f"Message {n}", raw.decode(errors="replace")[-800:]))
    return maildir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        maildir = mailbox(Path(tmp) / "maildir", args.messages)
        service = scheduler.build(Settings(var_dir=Path(tmp) / "var", maildir=[{"name": "bench", "path": maildir}]))
        started = time.perf_counter()
        done = service.run_once()
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| messages | seconds (store, process, send) | messages/s | peak RSS MB |")
    print("|---|---|---|---|")
    print(f"| {done['items'] // 2} | {seconds:.1f} | {args.messages / seconds:.0f} | {peak_mb:.0f} |")


if __name__ == "__main__":
    main()
