"""`intake doctor`: is this installation well? (issue 16; owned by the health work)"""

from __future__ import annotations

from core.settings import Settings


def add_parser(commands) -> None:
    commands.add_parser("doctor", help="check settings, database, mailboxes, SMTP, Tesseract, model and templates"
                        ).set_defaults(handler=_doctor)


def _doctor(args, settings: Settings) -> int:
    raise NotImplementedError("intake doctor is being built")
