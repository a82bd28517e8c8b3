"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, collecting what it receives.

    server = SmtpTestServer(require_auth=True)   # or tls="starttls" / tls="implicit"
    server.start()
    ... server.messages ...                       # parsed EmailMessages, in arrival order
    server.stop(); server.start()                 # down and back up on the SAME port

Faults are injected by the handler, not by mocking: ``refuse_recipients`` maps an address to the
reply its RCPT TO gets (e.g. "550 5.1.1 No such user"), and ``data_reply`` answers every DATA.
TLS uses a self-signed certificate for 127.0.0.1 made with the ``openssl`` command; tests trust it
through ``client_ssl_context()``.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USERNAME = "intake"
PASSWORD = "correct horse battery staple"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    login: str | None

    @cached_property
    def message(self) -> EmailMessage:
        """The message as received, parsed when a test first reads it (not in the server's loop, whose
        time a benchmark counts as the SMTP server's)."""
        return email.message_from_bytes(self.raw, policy=email.policy.default)


@dataclass
class Handler:
    refuse_recipients: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse_recipients.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
                                          login))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate valid for 127.0.0.1 and localhost, and its key."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )
    return cert, key


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USERNAME
    ok = ok and auth_data.password.decode() == PASSWORD
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class SmtpTestServer:
    """aiosmtpd in a background thread; ``tls`` is None, "starttls" or "implicit"."""

    def __init__(self, *, require_auth: bool = False, tls: str | None = None, port: int | None = None) -> None:
        self.require_auth = require_auth
        self.tls = tls
        self.port = port or free_port()
        self.handler = Handler()
        self.controller: Controller | None = None
        self._certdir = tempfile.TemporaryDirectory(prefix="smtp-test-") if tls else None
        self.cert, self.key = make_certificate(Path(self._certdir.name)) if tls else (None, None)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def messages(self) -> list[EmailMessage]:
        return [item.message for item in self.handler.received]

    def start(self) -> SmtpTestServer:
        with warnings.catch_warnings():  # AUTH without TLS is what the "auth only" mode is for
            warnings.simplefilter("ignore", UserWarning)
            self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self._options())
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def close(self) -> None:
        self.stop()
        if self._certdir is not None:
            self._certdir.cleanup()

    def _options(self) -> dict:
        options: dict = {"auth_require_tls": self.tls is not None}
        if self.require_auth:
            options.update(authenticator=authenticate, auth_required=True)
        if self.tls == "starttls":
            options.update(tls_context=self._server_context(), require_starttls=True)
        if self.tls == "implicit":
            options.update(ssl_context=self._server_context())
        return options

    def _server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate and still checks the host name."""
        return ssl.create_default_context(cafile=str(self.cert))
