"""`intake doctor`: is this installation well? One line per check, each ``ok`` or ``PROBLEM``, in plain
words: the settings, the database and its migrations, each mailbox's login (and its OAuth2 secrets' end
dates), SMTP, where alerts go, Tesseract and the [letters] languages, the classifier's model and the
templates.

Invariants: the doctor changes nothing and sends nothing. It logs in to each mailbox and to SMTP and
leaves (SMTP: EHLO, STARTTLS and AUTH when configured, then QUIT; never MAIL FROM); it reads the
database's migration stamp without migrating (connecting to a SQLite file that does not exist yet
creates it empty, as every command does). Every check is bounded by a timeout, and a check that fails
in an unforeseen way is one PROBLEM line, never a traceback: the other checks still run.

Exit status: 0 when every check is ok; 1 when any check found a problem; 2 when the settings cannot be
loaded at all (said by ``cli.main`` before the doctor runs).
"""

from __future__ import annotations

import smtplib
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, TextIO

from core.settings import ImapSourceSettings, Settings

EXIT_WELL = 0
EXIT_PROBLEM = 1  # cli's EXIT_FAILED: the command ran and found a fault
OK, PROBLEM = "ok", "PROBLEM"


@dataclass(frozen=True)
class Finding:
    check: str  # what was checked: "database", "imap inbox", "smtp", "tesseract", ...
    problem: bool
    words: str  # what was found, in plain words

    def line(self) -> str:
        return f"{PROBLEM if self.problem else OK:<8} {self.check}: {self.words}"


def add_parser(commands) -> None:
    commands.add_parser("doctor", help="check settings, database, mailboxes, SMTP, Tesseract, model and templates"
                        ).set_defaults(handler=_doctor)


def _doctor(args, settings: Settings) -> int:
    return doctor(settings, sys.stdout)


def doctor(settings: Settings, out: TextIO) -> int:
    """Print one line per check, then a summary; EXIT_PROBLEM when any check found a problem."""
    problems = 0
    for finding in examine(settings):
        print(finding.line(), file=out, flush=True)
        problems += finding.problem
    print(f"{problems} problem(s) found" if problems else "all well", file=out)
    return EXIT_PROBLEM if problems else EXIT_WELL


def examine(settings: Settings) -> Iterable[Finding]:
    """Every check in turn (a generator, so each line shows as soon as its check is done)."""
    for check in (settings_findings, database_findings, mailbox_findings, smtp_findings, alert_findings,
                  tesseract_findings, model_findings, template_findings):
        yield from _guarded(check, settings)


def _guarded(check: Callable[[Settings], list[Finding]], settings: Settings) -> list[Finding]:
    """A check that breaks in a way it did not foresee is a problem line naming the check, not a traceback."""
    try:
        return check(settings)
    except Exception as exc:  # noqa: BLE001 - the doctor reports; the other checks still run
        name = check.__name__.removesuffix("_findings")
        return [Finding(name, True, f"the check itself failed: {type(exc).__name__}: {_first_line(exc)}")]


# -- settings ----------------------------------------------------------------------------------------


def settings_findings(settings: Settings) -> list[Finding]:
    """What `intake check` finds in the settings themselves (policy, folders, landlord, references), and
    each OAuth2 secret near or past its end date."""
    from cli.check import folder_problems, landlord_problems, policy_problems, reference_problems
    from core.oauth import credential_warnings

    problems = [*policy_problems(settings), *folder_problems(settings), *landlord_problems(settings),
                *reference_problems(settings)]
    findings = [Finding("settings", True, problem) for problem in problems]
    findings += [Finding("oauth2", True, warning) for warning in credential_warnings(settings)]
    return findings or [Finding("settings", False, "loaded; policy, folders, landlord and references fine")]


# -- the database ------------------------------------------------------------------------------------


def database_findings(settings: Settings) -> list[Finding]:
    """Reachable, and stamped with the newest migration this code carries."""
    from sqlalchemy.exc import SQLAlchemyError

    from cli.check import short_reason, with_connect_timeout, without_password
    from core.db import Database, code_head, database_revision

    url = settings.resolved_database_url
    shown = without_password(url)
    engine = None
    try:
        engine = Database(with_connect_timeout(url)).engine
        with engine.connect() as connection:
            current = database_revision(connection)
    except (SQLAlchemyError, ImportError, OSError, ValueError) as exc:
        return [Finding("database", True, f"cannot connect to {shown}: {short_reason(exc, url)}")]
    finally:
        if engine is not None:
            engine.dispose()
    head = code_head()
    if current == head:
        return [Finding("database", False, f"{shown} answers, at migration {head} (the newest)")]
    stamp = f"at migration {current}" if current else "empty (never migrated)"
    return [Finding("database", True, f"{shown} is {stamp}; this version needs {head}: run `intake migrate`")]


# -- mailboxes ---------------------------------------------------------------------------------------


def mailbox_findings(settings: Settings) -> list[Finding]:
    """Each IMAP mailbox: log in, open its folder, log out. Maildirs are covered by the folder check."""
    return [_imap_finding(imap) for imap in settings.imap]


def _imap_finding(imap: ImapSourceSettings) -> Finding:
    from imapclient import IMAPClient
    from imapclient.exceptions import IMAPClientError, LoginError

    from core.oauth import TokenUnavailable, imap_login

    check, where = f"imap {imap.name}", f"{imap.username} on {imap.host}:{imap.port}"
    how = "XOAUTH2 login" if imap.oauth2 is not None else "login"
    try:
        client = IMAPClient(imap.host, port=imap.port, ssl=imap.security == "tls", timeout=imap.timeout_seconds)
    except (OSError, IMAPClientError) as exc:
        return Finding(check, True, f"cannot connect to {imap.host}:{imap.port}: {_first_line(exc)}")
    try:
        if imap.security == "starttls":
            client.starttls(ssl.create_default_context())
        imap_login(client, imap)
        client.select_folder(imap.folder, readonly=True)
    except LoginError:
        refused = "the server refused the OAuth2 token" if imap.oauth2 is not None else "wrong username or password"
        return Finding(check, True, f"{how} refused for {where} ({refused})")
    except TokenUnavailable as exc:
        return Finding(check, True, f"no OAuth2 token to log in as {where}: {exc}")
    except (OSError, IMAPClientError) as exc:
        return Finding(check, True, f"{where}: {_first_line(exc)}")
    finally:
        _quietly(client.logout)
    return Finding(check, False, f"{how} as {where} works; folder {imap.folder} opens")


# -- SMTP --------------------------------------------------------------------------------------------


def smtp_findings(settings: Settings) -> list[Finding]:
    """Connect, EHLO, STARTTLS and log in as the sender would, then QUIT: nothing is sent."""
    smtp = settings.smtp
    if not smtp.host:
        return [Finding("smtp", False, f"no [smtp] host: acknowledgements are written as .eml files to "
                        f"{Path(settings.var_dir) / 'outbox'}, not sent")]
    from core.oauth import TokenUnavailable, smtp_login
    from core.errors import TemporaryDeliveryFailure

    where = f"{smtp.host}:{smtp.port}"
    try:
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_seconds,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    except (OSError, smtplib.SMTPException) as exc:
        return [Finding("smtp", True, f"cannot connect to {where}: {_first_line(exc)}")]
    try:
        client.ehlo()
        if smtp.security == "starttls":
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if smtp.username:
            smtp_login(client, smtp)
    except smtplib.SMTPAuthenticationError as exc:
        return [Finding("smtp", True, f"{where} refused the login of {smtp.username} ({exc.smtp_code})")]
    except (TokenUnavailable, TemporaryDeliveryFailure) as exc:
        return [Finding("smtp", True, f"{where}: {_first_line(exc)}")]
    except (OSError, smtplib.SMTPException) as exc:
        return [Finding("smtp", True, f"{where}: {type(exc).__name__}: {_first_line(exc)}")]
    finally:
        _quietly(client.quit)
    login = f", login as {smtp.username} accepted" if smtp.username else " (no login configured)"
    return [Finding("smtp", False, f"{where} answers{', STARTTLS' if smtp.security == 'starttls' else ''}{login}")]


def alert_findings(settings: Settings) -> list[Finding]:
    """Where alert emails go: nowhere is allowed (said, not a problem); to files is a problem, as nobody
    would read them."""
    to = settings.alerts.to
    if not to:
        return [Finding("alerts", False, "no [alerts] to: no alert emails (/healthz and /metrics still tell)")]
    if not settings.smtp.host:
        return [Finding("alerts", True, f"[alerts] to is {to} but there is no [smtp] host: alerts would be "
                        "written as .eml files, and nobody would see them")]
    return [Finding("alerts", False, f"alert emails go to {to} through {settings.smtp.host}")]


# -- Tesseract ---------------------------------------------------------------------------------------


def tesseract_findings(settings: Settings) -> list[Finding]:
    """With a [letters] source: Tesseract runs and has every language ``ocr_languages`` names."""
    if settings.letters is None:
        return [Finding("tesseract", False, "not needed (no [letters] source)")]
    from intake.scans.ocr import OcrUnavailable, installed_languages

    wanted = [language for language in settings.letters.ocr_languages.split("+") if language]
    try:
        installed = installed_languages()
    except OcrUnavailable as exc:
        return [Finding("tesseract", True, f"{exc}: install it (Debian: apt-get install tesseract-ocr)")]
    missing = [language for language in wanted if language not in installed]
    if missing:
        packages = " ".join(f"tesseract-ocr-{language}" for language in missing)
        return [Finding("tesseract", True, f"[letters] ocr_languages needs {', '.join(missing)}, not installed "
                        f"(installed: {', '.join(sorted(installed - {'osd'})) or 'none'}); Debian: "
                        f"apt-get install {packages}")]
    return [Finding("tesseract", False, f"runs, with {', '.join(wanted)}")]


# -- the model and the templates ---------------------------------------------------------------------


def model_findings(settings: Settings) -> list[Finding]:
    """The classifier's model loads and its checksum matches (``Classifier.load`` verifies both)."""
    from classifier.model import Classifier
    from core.errors import ModelUnavailable

    try:
        model = Classifier.load(settings.classifier.model_path, threshold=settings.classifier.confidence_threshold)
    except ModelUnavailable as exc:
        return [Finding("model", True, _first_line(exc))]
    return [Finding("model", False, f"loads and verifies (version {model.model_version})")]


def template_findings(settings: Settings) -> list[Finding]:
    """The templates render and pass the Code's checks, shipped and with managers' saved versions."""
    from cli.check import template_problems

    problems = template_problems(settings)
    return [Finding("templates", True, problem) for problem in problems] or [
        Finding("templates", False, "every email and letter template renders and passes its checks")]


# -- helpers -----------------------------------------------------------------------------------------


def _first_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__


def _quietly(close: Callable[[], object]) -> None:
    try:
        close()
    except Exception:  # noqa: BLE001 - leaving a server that already hung up
        pass

