"""What the end-to-end and fault tests share: a mailbox of varied residents' mail and a worker
wired to a real Dovecot and a real aiosmtpd."""

from __future__ import annotations

import email
import json
from pathlib import Path

from tests.conftest import REPO
from tests.mail import make_mail

DEMO_MAIL = REPO / "demo" / "mail"
AUTO_REPLIES = [
    make_mail("Jo Bloggs <jo.bloggs@example.com>", "Out of Office: Repairs", "I am on leave until 1 December.",
              headers={"Auto-Submitted": "auto-replied"}),
    make_mail("Notifications <no-reply@portal.example.com>", "Your password was changed",
              "Your account password was changed. If this was not you, contact support."),
]


def varied_mail(count: int = 50) -> list[bytes]:
    """The demo mailbox, plus training examples sent from their own addresses, plus auto-replies."""
    messages = [path.read_bytes() for path in sorted(DEMO_MAIL.glob("*.eml"))] + list(AUTO_REPLIES)
    for n, example in enumerate(_corpus_examples(count - len(messages))):
        sender = f"Resident {n} <resident{n}@example.net>"
        messages.append(make_mail(sender, example["subject"] or "(no subject)", example["body"] or "(empty)"))
    return messages[:count]


def _corpus_examples(count: int) -> list[dict]:
    rows = []
    for path in sorted((REPO / "classifier" / "data").glob("corpus-*.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    usable = [row for row in rows if row.get("channel") == "email" and "auto_reply" not in row.get("flags", [])]
    return usable[:: max(1, len(usable) // count)][:count]


def is_machine_generated(raw: bytes) -> bool:
    message = email.message_from_bytes(raw)
    sender = (message["From"] or "").lower()
    return bool(
        message["Auto-Submitted"] or message["Precedence"] or message["Return-Path"] == "<>"
        or "mailer-daemon" in sender or "no-reply" in sender
    )


def imap_settings(dovecot, name: str = "complaints", password: str | None = None) -> dict:
    return {
        "name": name, "host": dovecot.host, "port": dovecot.port, "security": "none",
        "username": dovecot.user, "password": password or dovecot.password,
        "folder": "INBOX", "processed_folder": "Processed", "timeout_seconds": 5,
    }


def smtp_settings(smtp) -> dict:
    return {"host": "127.0.0.1", "port": smtp.port, "security": "none", "timeout_seconds": 5}


def write_config(path: Path, settings: dict) -> Path:
    """A TOML file for a worker run as a separate process."""
    lines = []
    scalars = {k: v for k, v in settings.items() if not isinstance(v, (dict, list))}
    lines += [f"{key} = {json.dumps(str(value))}" for key, value in scalars.items()]
    for key, value in settings.items():
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in value.items()]
        elif isinstance(value, list):
            for table in value:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {json.dumps(v if not isinstance(v, Path) else str(v))}" for k, v in table.items()]
    path.write_text("\n".join(lines) + "\n")
    return path
