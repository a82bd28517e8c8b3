"""Peak memory of processing one big email: a 30 MB attachment (over the 10 MiB cap) in a 43 MB message.

Run: .venv/bin/python bench/bench_big_message.py [--before REV] [--attachment-mb 30]

Each figure is the peak RSS (``ru_maxrss``) of a fresh process:
- floor: the worker's modules imported and the message file read into memory, nothing else;
- processing: the same modules, then ``Service.run_once()`` (what ``intake run --once`` does) on a
  Maildir holding just that message: stored raw, parsed, classified, acknowledged (file transport).
With ``--before REV`` the processing figure is also measured on that revision's code (exported with
``git archive`` into a temporary directory), so the table shows before and after side by side.
"""

from __future__ import annotations

import argparse
import base64
import random
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import resource, sys
from pathlib import Path
sys.path.insert(0, ".")
import scheduler
from core.settings import Settings
from tests.mail import deliver, new_maildir

mode, eml, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
if mode == "floor":
    raw = eml.read_bytes()
    outcome = f"read {len(raw) / 1e6:.1f} MB"
else:
    maildir = new_maildir(work / "maildir")
    deliver(maildir, eml.read_bytes())
    service = scheduler.build(Settings(var_dir=work / "var", maildir=[{"name": "big", "path": maildir}]))
    done = service.run_once()
    from sqlalchemy import select
    from casework.models import Attachment, Submission
    with service.db.sessions() as session:
        submission = session.scalars(select(Submission)).one()
        parts = [(a.filename, a.size, a.truncated, a.data is None) for a in session.scalars(select(Attachment))]
    outcome = f"{submission.disposition}; attachments {parts}; sent {done['sent']}"
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, outcome)
"""


def big_message(attachment_mb: int) -> bytes:
    """A resident's complaint with a photo-sized PDF attached: random bytes, so base64 is all it costs."""
    message = EmailMessage()
    message["From"] = "Sam Resident <sam.resident@example.net>"
    message["To"] = "Example Homes <complaints@example.org>"
    message["Subject"] = "Damp in the bedroom: survey attached"
    message["Date"] = "Mon, 16 Nov 2026 10:00:00 +0000"
    message["Message-ID"] = "<big-message-bench@mail.example.net>"
    message.set_content("The damp in the bedroom is back and the mould is spreading. The survey is attached.")
    data = random.Random(15).randbytes(attachment_mb * 1024 * 1024)
    message.add_attachment(data, maintype="application", subtype="pdf", filename="damp-survey.pdf")
    return bytes(message)


def peak(code_dir: Path, mode: str, eml: Path) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as work:
        result = subprocess.run([sys.executable, "-c", CHILD, mode, str(eml), work], cwd=code_dir,
                                capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"{mode} in {code_dir} failed:\n{result.stderr[-2000:]}")
    megabytes, outcome = result.stdout.strip().splitlines()[-1].split(" ", 1)
    return float(megabytes), outcome


def exported(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", rev], cwd=REPO, capture_output=True, check=True).stdout
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attachment-mb", type=int, default=30)
    parser.add_argument("--before", help="a git revision to measure too, e.g. the commit before a change")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        eml = Path(tmp) / "big.eml"
        eml.write_bytes(big_message(args.attachment_mb))
        rows = [("floor: modules imported, file read", *peak(REPO, "floor", eml))]
        if args.before:
            rows.append((f"processing, before ({args.before})", *peak(exported(args.before, Path(tmp) / "before"), "process", eml)))
        rows.append(("processing, this code", *peak(REPO, "process", eml)))
        size = eml.stat().st_size / 1e6
    print(f"One message of {size:.1f} MB ({args.attachment_mb} MiB attachment, cap 10 MiB):\n")
    print("| run | peak RSS MB | outcome |")
    print("|---|---|---|")
    for name, megabytes, outcome in rows:
        print(f"| {name} | {megabytes:.0f} | {outcome} |")


if __name__ == "__main__":
    main()
