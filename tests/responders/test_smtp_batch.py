"""A batch of sends over one SMTP connection (responders.transport ``batch``), against a real aiosmtpd:
one connection for the sender's batch, a connection the server dropped replaced once, and each message
still its own connection outside a batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage

from core.settings import SmtpSettings
from responders.transport import SmtpTransport
from tests.responders.test_sender import drain, queue_ack, row, smtp_sender
from tests.smtp_server import Handler, SmtpTestServer


@dataclass
class PeerHandler(Handler):
    """Notes the client's address and port of each message: one per connection."""

    peers: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


def counting_server() -> SmtpTestServer:
    server = SmtpTestServer()
    server.handler = PeerHandler()
    return server.start()


def message(n: int) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "complaints@example.org", f"r{n}@example.net", f"Reference {n}"
    mail["Message-ID"] = f"<batch-{n}@example.org>"
    mail.set_content("We have your message.")
    return mail


def transport(server: SmtpTestServer) -> SmtpTransport:
    return SmtpTransport(SmtpSettings(host="127.0.0.1", port=server.port, security="none", timeout_seconds=5))


def test_the_sender_sends_its_batch_over_one_connection(db, outbox_settings, make_case):
    server = counting_server()
    try:
        queued = [queue_ack(db, make_case(reference=f"CMP-2026-00012{n}", email=f"r{n}@example.net"), outbox_settings,
                            to=f"r{n}@example.net") for n in range(5)]
        assert drain(smtp_sender(db, server, outbox_settings)) == 5  # batch_size 10: one batch
        assert len(server.received) == 5
        assert len(set(server.handler.peers)) == 1
        assert {row(db, q.id).status for q in queued} == {"sent"}
    finally:
        server.close()


def test_a_connection_the_server_dropped_is_replaced_and_the_message_sent_once():
    server = counting_server()
    smtp = transport(server)
    try:
        with smtp.batch():
            smtp.send(message(1))
            server.stop()  # the server goes away (an idle timeout, a restart) with our connection open
            server.start()
            smtp.send(message(2))
            smtp.send(message(3))
        assert [str(m["Message-ID"]) for m in server.messages] == ["<batch-1@example.org>", "<batch-2@example.org>",
                                                                   "<batch-3@example.org>"]
        assert len(set(server.handler.peers)) == 2  # the first connection, then one new one for the rest
    finally:
        server.close()


def test_outside_a_batch_each_message_has_its_own_connection():
    server = counting_server()
    smtp = transport(server)
    try:
        for n in range(3):
            smtp.send(message(n))
        assert len(server.received) == 3
        assert len(set(server.handler.peers)) == 3
    finally:
        server.close()
