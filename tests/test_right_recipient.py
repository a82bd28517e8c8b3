"""Issue 15, "the right recipient, or none", through the real worker: a Maildir in, a real aiosmtpd
server out, on a SQLite file and on PostgreSQL. Every acknowledgement goes to the writer's own
address and to nobody else; a stranger quoting a resident's reference never reaches that resident;
the per-sender cap counts a mailbox's plus-addresses and letter case as one sender."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

import scheduler
from casework.models import Case, OutboxMessage, Submission
from casework.vocabulary import CaseStatus, Disposition, OutboxStatus
from responders.outbox import CAP_REASON, canonical_address, enqueue, recent_count
from responders.render import RenderedMessage
from core.settings import OutboxSettings
from tests.e2e import smtp_settings
from tests.mail import deliver, make_mail, new_maildir

LEAK = "I reported a leak from the flat above three weeks ago and nobody has come. I am very unhappy with how this has been handled."
ESCALATE = "I have read your stage 1 response and I am not satisfied with it. Please escalate my complaint to stage 2."
MAIL = "To: complaints@example.org\r\nSubject: {subject}\r\nDate: Mon, 16 Nov 2026 10:00:00 +0000\r\n" \
       "Message-ID: <{n}@mail.example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"


def raw(from_lines: bytes, n: int, subject: str = "Leak not fixed", body: str = LEAK) -> bytes:
    return from_lines + b"\r\n" + MAIL.format(subject=subject, n=n, body=body).encode()


@pytest.fixture
def maildir(tmp_path) -> Path:
    return new_maildir(tmp_path / "maildir")


@pytest.fixture
def worker(make_settings, maildir, smtp):
    def build(**overrides):
        service = scheduler.build(make_settings(maildir=[{"name": "mailbox", "path": maildir}],
                                                smtp=smtp_settings(smtp), **overrides))
        built.append(service)
        return service

    built: list = []
    yield build
    for service in built:
        service.db.engine.dispose()


def envelopes(smtp) -> list[str]:
    return [to for item in smtp.received for to in item.rcpt_tos]


def test_acknowledgements_go_only_to_the_sender_and_never_to_the_quoted_cases_resident(worker, maildir, smtp):
    service = worker()
    deliver(maildir, make_mail("Sam Resident <sam.resident@example.net>", subject="Leak still not fixed", body=LEAK))
    service.run_once()
    with service.db.sessions() as session:
        reference = session.scalars(select(Case.reference)).one()
    assert envelopes(smtp) == ["sam.resident@example.net"]

    tricks = [
        # a quoted, folded display name holding the resident's address: the real address is alex's
        raw(b'From: "Sam Resident\r\n <sam.resident@example.net>" <alex@elsewhere.example>', 1),
        # an encoded display name with ':' in it: not group syntax, the address is kept
        raw(b"From: =?utf-8?q?Re:_Housing_Team:_Sam?= <pat@elsewhere.example>", 2),
        # a stranger quoting the resident's (guessable) reference and asking to escalate it
        raw(b"From: Chris <chris@elsewhere.example>", 3, subject=f"Re: {reference}", body=ESCALATE),
        # two addresses in From, one of them the resident's: held, nobody answered
        raw(b"From: sam.resident@example.net, dee@elsewhere.example", 4, subject=f"Re: {reference}", body=ESCALATE),
        # a Reply-To naming the resident as well as the writer: ambiguous, nobody answered
        raw(b"From: eve@elsewhere.example\r\nReply-To: eve@elsewhere.example, sam.resident@example.net", 5),
    ]
    for message in tricks:
        deliver(maildir, message)
    service.run_once()

    # one acknowledgement to each writer whose address is clear, each to that writer alone;
    # the resident has had exactly one, their own, and nothing because of the stranger's message
    received = envelopes(smtp)
    assert sorted(received) == ["alex@elsewhere.example", "chris@elsewhere.example", "pat@elsewhere.example",
                                "sam.resident@example.net"]
    assert all(len(item.rcpt_tos) == 1 and item.message["To"].addresses[0].addr_spec == item.rcpt_tos[0]
               for item in smtp.received)
    with service.db.sessions() as session:
        quoted = session.scalars(select(Case).where(Case.reference == reference)).one()
        assert len(quoted.submissions) == 1 and quoted.stage == 1 and quoted.status == CaseStatus.OPEN
        dispositions = dict(session.execute(select(Submission.message_id, Submission.disposition)).all())
        assert dispositions["3@mail.example.net"] == dispositions["4@mail.example.net"] == Disposition.HELD
        assert dispositions["5@mail.example.net"] == Disposition.HELD
        assert Disposition.FAILED not in dispositions.values()
        chris = session.scalars(select(Case).where(Case.resident_email == "chris@elsewhere.example")).one()
        assert f"quotes {reference} from an address not on that case" in chris.held_reason


def test_plus_addresses_and_letter_case_share_one_daily_cap(worker, maildir, smtp):
    service = worker(outbox={"max_acks_per_sender_per_day": 2})
    for n, sender in enumerate(["sam@example.net", "Sam <sam+1@example.net>", "SAM <Name+2@example.net>",
                                "Sam <Sam+2@Example.NET>", "Kim <kim+1@example.net>"]):
        deliver(maildir, make_mail(sender, subject=f"Leak {n}", body=f"{LEAK} This is message number {n}."))
        service.run_once()  # one at a time, so the order of the rows is the order written here
    with service.db.sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        statuses = [(row.to_address, row.status) for row in rows]
    # sam@, sam+1@ fill sam's cap of 2; sam+2@ (as Sam+2@Example.NET) is the third: suppressed.
    # name+2@ is another mailbox (name@), and kim+1@ is kim's: both sent.
    assert statuses == [("sam@example.net", OutboxStatus.SENT), ("sam+1@example.net", OutboxStatus.SENT),
                        ("name+2@example.net", OutboxStatus.SENT), ("sam+2@example.net", OutboxStatus.SUPPRESSED),
                        ("kim+1@example.net", OutboxStatus.SENT)]
    assert rows[3].reason == CAP_REASON
    assert sorted(envelopes(smtp)) == ["kim+1@example.net", "name+2@example.net", "sam+1@example.net",
                                       "sam@example.net"]


@pytest.mark.parametrize("address, mailbox", [
    ("Sam+rent@Example.NET", "sam@example.net"),
    (" sam@example.net ", "sam@example.net"),
    ("sam+a+b@example.net", "sam@example.net"),
    ("+sam@example.net", "+sam@example.net"),  # nothing before the +: the local part is kept whole
])
def test_canonical_address(address, mailbox):
    assert canonical_address(address) == mailbox


def test_the_cap_query_counts_stored_forms_and_treats_like_wildcards_as_letters(make_settings):
    service = scheduler.build(make_settings())
    settings = OutboxSettings(max_acks_per_sender_per_day=100)
    now = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    rendered = RenderedMessage(subject="s", text="t", html=None)
    stored = ["Sam+1@Example.net", "sam+2@example.net", "sam@example.net",  # sam's mailbox: 3
              "s_m@example.net", "s%m+1@example.net", "sam@example.net.evil", "samuel+1@example.net"]
    try:
        with service.db.transaction() as session:
            for n, to in enumerate(stored):
                enqueue(session, case=None, submission_id=None, kind="neutral", to_address=to, rendered=rendered,
                        in_reply_to=None, references=[], settings=settings, domain="example.org",
                        now=now - dt.timedelta(minutes=n))
            old = enqueue(session, case=None, submission_id=None, kind="neutral", to_address="sam+9@example.net",
                          rendered=rendered, in_reply_to=None, references=[], settings=settings,
                          domain="example.org", now=now - dt.timedelta(hours=25))  # outside the 24-hour window
        with service.db.sessions() as session:
            assert recent_count(session, "SAM+7@example.NET", now) == 3
            assert recent_count(session, "s_m@example.net", now) == 1  # '_' is a letter, not any character
            assert recent_count(session, "s%m@example.net", now) == 1  # the s%m+1 row only
            assert old.status == OutboxStatus.QUEUED
    finally:
        service.db.engine.dispose()
