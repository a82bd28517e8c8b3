"""From a real IMAP mailbox (Dovecot) to acknowledgements received by a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email

from sqlalchemy import func, select

import scheduler
from casework.models import Case, OutboxMessage, Submission
from tests.e2e import imap_settings, is_machine_generated, smtp_settings, varied_mail


def test_fifty_messages_become_cases_and_acknowledgements_and_a_second_run_finds_nothing(make_settings, dovecot, smtp):
    mail = varied_mail(50)
    dovecot.append_many("INBOX", mail)
    service = scheduler.build(make_settings(imap=[imap_settings(dovecot)], smtp=smtp_settings(smtp)))

    service.run_once()

    human = [raw for raw in mail if not is_machine_generated(raw)]
    machine = [raw for raw in mail if is_machine_generated(raw)]
    with service.db.sessions() as session:
        assert session.scalar(select(func.count(Submission.id))) == 50
        references = set(session.scalars(select(Case.reference)))
        assert len(references) == len(human)
        assert session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status != "sent")) == 0
    received = smtp.messages
    assert len(received) == len(human)
    replied_to = {message["In-Reply-To"] for message in received}
    assert replied_to == {email.message_from_bytes(raw)["Message-ID"] for raw in human}
    for message in received:
        assert message["Auto-Submitted"] == "auto-replied"
        assert message["References"] and message["In-Reply-To"] in message["References"]
        assert any(reference in message["Subject"] for reference in references)
    machine_senders = {email.utils.parseaddr(email.message_from_bytes(raw)["From"])[1].lower() for raw in machine}
    assert not machine_senders & {address.lower() for m in received for address in [email.utils.parseaddr(m["To"])[1]]}
    assert dovecot.folder_uids("INBOX") == [] and len(dovecot.folder_uids("Processed")) == 50

    again = service.run_once()
    assert again["items"] == 0 and again["sent"] == 0 and len(smtp.messages) == len(human)
