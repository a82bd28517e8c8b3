"""Transports hand a finished EmailMessage to the world: an SMTP server, or .eml files on disk.

A transport raises TemporaryDeliveryFailure (try again later) or PermanentDeliveryFailure (this
message can never go as it is; staff must act). The sender decides what to do with each.

How SMTP errors are classified:
  - cannot connect, timeouts, dropped connections, TLS failures, any 4xx reply: temporary;
  - recipient refused with 5xx, message refused with 5xx: permanent;
  - login refused or required (530, 534, 535, 538): TEMPORARY. The message is fine; our
    configuration is wrong, and once staff fix the password every queued acknowledgement should go
    without anyone re-queuing rows by hand. A refused login is logged at ERROR so it is noticed, and
    rows left unsent as their case's clock nears are marked at risk for staff (responders.sender).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from contextlib import contextmanager, nullcontext
from email.message import EmailMessage
from pathlib import Path
from typing import ContextManager, Iterator, Protocol

from core.errors import PermanentDeliveryFailure, TemporaryDeliveryFailure
from core.files import write_private
from core.oauth import smtp_login
from core.settings import Settings, SmtpSettings

log = logging.getLogger(__name__)

# 530 authentication required, 534 mechanism too weak, 535 credentials invalid, 538 encryption
# required: our configuration is wrong, not the message (see the module docstring).
LOGIN_PROBLEMS = frozenset({530, 534, 535, 538})


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver or raise TemporaryDeliveryFailure / PermanentDeliveryFailure."""


def batch(transport: Transport) -> ContextManager:
    """``transport.batch()`` where it has one (SMTP: one connection for the sends inside it), else nothing."""
    opened = getattr(transport, "batch", None)
    return opened() if opened is not None else nullcontext()


class SmtpTransport:
    """One SMTP connection per message, or per batch of sends inside ``with transport.batch():``.

    A batch's connection is opened by its first send and closed (QUIT) when the batch ends, so no
    connection is held between batches. Any failure closes it (the next send opens a new one). A reused
    connection the server has since dropped (SMTPServerDisconnected: an idle timeout, a limit of
    messages per connection) is tried once more on a new connection, as a new connection would have
    been tried; any other failure is classified as below. One transport is used by one thread."""

    def __init__(self, settings: SmtpSettings, ssl_context: ssl.SSLContext | None = None) -> None:
        if not settings.host:
            raise ValueError("SmtpTransport needs settings.host")
        self.settings = settings
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._batching = self._reusing = False
        self._session: smtplib.SMTP | None = None  # the batch's open connection

    @contextmanager
    def batch(self) -> Iterator[None]:
        self._batching = True
        try:
            yield
        finally:
            self._batching = False
            self._end_session()

    def send(self, message: EmailMessage) -> None:
        try:
            try:
                self._send(message)
            except smtplib.SMTPServerDisconnected:
                if not self._reusing:
                    raise
                self._send(message)  # the kept connection had gone stale: once more on a fresh one
        except smtplib.SMTPAuthenticationError as exc:
            log.error("SMTP server %s refused our login: %s", self.settings.host, exc)
            check = ("the [smtp.oauth2] app's access to the mailbox" if self.settings.oauth2
                     else "the username and password")
            raise TemporaryDeliveryFailure(f"SMTP login refused (check {check}): {exc}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise _classify_refused(exc) from exc
        except smtplib.SMTPResponseException as exc:
            raise _classify_reply(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryDeliveryFailure(f"{type(exc).__name__}: {exc}") from exc

    def _send(self, message: EmailMessage) -> None:
        self._reusing = self._session is not None
        smtp, self._session = self._session or self._connect(), None
        try:
            if self._reusing:
                smtp.send_message(message)
                self._keep_or_close(smtp)
                return
            if self.settings.security == "starttls":
                smtp.starttls(context=self.ssl_context)
            if self.settings.username:
                smtp_login(smtp, self.settings)  # the password, or AUTH XOAUTH2 with a token from [smtp.oauth2]
            smtp.send_message(message)
        except BaseException:
            _close_quietly(smtp)
            raise
        self._keep_or_close(smtp)

    def _keep_or_close(self, smtp: smtplib.SMTP) -> None:
        """After an accepted message: keep the connection for the batch's next send, else QUIT."""
        if self._batching:
            self._session = smtp
        else:
            _close_quietly(smtp)

    def _end_session(self) -> None:
        smtp, self._session = self._session, None
        if smtp is not None:
            _close_quietly(smtp)

    def _connect(self) -> smtplib.SMTP:
        host, port, timeout = self.settings.host, self.settings.port, self.settings.timeout_seconds
        if self.settings.security == "tls":
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=self.ssl_context)
        return smtplib.SMTP(host, port, timeout=timeout)


def _close_quietly(smtp: smtplib.SMTP) -> None:
    """Once the message is accepted, a failed QUIT must not turn into a retry (a duplicate)."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _classify_reply(code: int, error: bytes | str) -> TemporaryDeliveryFailure | PermanentDeliveryFailure:
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    if code in LOGIN_PROBLEMS:
        return TemporaryDeliveryFailure(f"SMTP {code} (check the SMTP username and password): {text}")
    if 500 <= code < 600:
        return PermanentDeliveryFailure(f"SMTP {code}: {text}")
    return TemporaryDeliveryFailure(f"SMTP {code}: {text}")


def _classify_refused(exc: smtplib.SMTPRecipientsRefused) -> TemporaryDeliveryFailure | PermanentDeliveryFailure:
    """Every recipient was refused; if any refusal was temporary (4xx), the whole send is retried."""
    failures = [_classify_reply(code, error) for code, error in exc.recipients.values()]
    temporary = [failure for failure in failures if isinstance(failure, TemporaryDeliveryFailure)]
    reason = "recipient refused: " + "; ".join(str(failure) for failure in failures)
    return TemporaryDeliveryFailure(reason) if temporary else PermanentDeliveryFailure(reason)


class FileTransport:
    """Writes each message to ``<directory>/<message-id>.eml``, for development and for test runs.

    The write is atomic (a temporary file renamed into place), private (0600 in a 0700 folder: the
    messages name residents) and idempotent: the same Message-ID always lands in the same file, so a
    re-send overwrites rather than duplicates.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> None:
        try:
            write_private(self.path_for(message), message.as_bytes())
        except OSError as exc:
            raise TemporaryDeliveryFailure(f"cannot write to {self.directory}: {exc}") from exc

    def path_for(self, message: EmailMessage) -> Path:
        message_id = str(message.get("Message-ID", "")).strip().strip("<>")
        if not message_id:
            raise PermanentDeliveryFailure("message has no Message-ID")
        return self.directory / f"{safe_filename(message_id)}.eml"


def safe_filename(message_id: str) -> str:
    """A Message-ID as a file name: only letters, digits, '.', '_', '-', '@' survive."""
    return re.sub(r"[^A-Za-z0-9._@-]", "_", message_id)[:200]


def make_transport(settings: Settings) -> Transport:
    if settings.smtp.host:
        return SmtpTransport(settings.smtp)
    return FileTransport(settings.var_dir / "outbox")
