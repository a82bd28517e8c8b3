"""pipeline.matching through the real worker (Maildir, SQLite file and PostgreSQL): a reference is
guessable, so it attaches mail only from an address on its case; a stranger quoting it is held and
linked, and nothing reaches the quoted case's resident because of it."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from sqlalchemy import select

import scheduler
from casework.models import Case, CaseLink, OutboxMessage, Submission
from casework.vocabulary import CaseStatus, Disposition, LinkKind
from tests.mail import deliver, make_mail, new_maildir

RESIDENT = "Sam Resident <sam.resident@example.net>"
STRANGER = "Alex Stranger <alex@elsewhere.example>"
LEAK = "I reported a leak from the flat above three weeks ago and nobody has come. I am very unhappy with how this has been handled."
ESCALATE = "I have read your stage 1 response and I am not satisfied with it. Please escalate my complaint to stage 2."


@pytest.fixture
def maildir(tmp_path) -> Path:
    return new_maildir(tmp_path / "maildir")


@pytest.fixture
def service(make_settings, maildir):
    service = scheduler.build(make_settings(maildir=[{"name": "mailbox", "path": maildir}]))
    yield service
    service.db.engine.dispose()


def sent(service) -> list[email.message.EmailMessage]:
    paths = sorted((service.settings.var_dir / "outbox").glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in paths]


def recipients(service) -> list[str]:
    return [message["To"].addresses[0].addr_spec for message in sent(service)]


def residents_case(service, maildir) -> str:
    deliver(maildir, make_mail(RESIDENT, subject="Leak still not fixed", body=LEAK))
    service.run_once()
    assert recipients(service) == ["sam.resident@example.net"]
    with service.db.sessions() as session:
        return session.scalars(select(Case.reference)).one()


def test_a_stranger_quoting_a_reference_is_held_on_a_new_linked_case_and_the_resident_hears_nothing(service, maildir):
    reference = residents_case(service, maildir)
    deliver(maildir, make_mail(STRANGER, subject=f"Re: {reference}", body=ESCALATE))
    service.run_once()

    with service.db.sessions() as session:
        quoted = session.scalars(select(Case).where(Case.reference == reference)).one()
        new = session.scalars(select(Case).where(Case.reference != reference)).one()
        assert [s.sender for s in quoted.submissions] == ["sam.resident@example.net"]  # never attached
        assert quoted.stage == 1 and quoted.status == CaseStatus.OPEN  # nothing moved on a stranger's word
        assert new.status == CaseStatus.HELD
        assert f"quotes {reference} from an address not on that case" in new.held_reason
        assert new.resident_email == "alex@elsewhere.example"
        link = session.scalars(select(CaseLink)).one()
        assert (link.case_id, link.other_case_id, link.kind) == (new.id, quoted.id, LinkKind.RELATED)
        assert {e.detail.get("other") for e in quoted.events if e.action == "linked"} == {new.reference}
        stranger = session.scalars(select(Submission).where(Submission.case_id == new.id)).one()
        assert stranger.disposition == Disposition.HELD
        assert {row.to_address for row in session.scalars(select(OutboxMessage))} == {
            "sam.resident@example.net", "alex@elsewhere.example"}
    # one acknowledgement each: the resident's first, then the stranger's own neutral one
    assert recipients(service) == ["sam.resident@example.net", "alex@elsewhere.example"]
    assert reference not in sent(service)[1]["Subject"]


def test_the_resident_quoting_the_reference_from_another_letter_case_or_plus_tag_is_attached(service, maildir):
    reference = residents_case(service, maildir)
    deliver(maildir, make_mail("Sam <Sam.Resident+housing@Example.NET>", subject=f"Re: {reference}",
                               body="Just to add, the ceiling is now stained."))
    service.run_once()
    with service.db.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert len(case.submissions) == 2 and session.scalar(select(CaseLink.id)) is None


def test_a_reference_only_in_the_body_of_a_strangers_message_is_not_a_match(service, maildir):
    reference = residents_case(service, maildir)
    deliver(maildir, make_mail(STRANGER, subject="Damp in my flat",
                               body=f"My neighbour told me about {reference}. {LEAK}"))
    service.run_once()
    with service.db.sessions() as session:
        quoted = session.scalars(select(Case).where(Case.reference == reference)).one()
        new = session.scalars(select(Case).where(Case.reference != reference)).one()
        assert len(quoted.submissions) == 1
        assert "quotes" not in (new.held_reason or "") and session.scalar(select(CaseLink.id)) is None
    assert recipients(service) == ["sam.resident@example.net", "alex@elsewhere.example"]


def test_the_residents_reference_in_the_body_still_attaches(service, maildir):
    reference = residents_case(service, maildir)
    deliver(maildir, make_mail(RESIDENT, subject="More about the leak",
                               body=f"About {reference}: the ceiling is now stained."))
    service.run_once()
    with service.db.sessions() as session:
        assert len(session.scalars(select(Case)).one().submissions) == 2


def test_a_reply_threaded_to_our_acknowledgement_from_the_resident_matches(service, maildir):
    residents_case(service, maildir)
    [ack] = sent(service)
    deliver(maildir, make_mail(RESIDENT, subject="Re: Leak still not fixed", body=ESCALATE, in_reply_to=ack["Message-ID"]))
    service.run_once()
    with service.db.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert len(case.submissions) == 2 and case.stage == 2
    assert recipients(service) == ["sam.resident@example.net"] * 2  # the stage 2 acknowledgement


def test_a_strangers_reply_in_the_thread_is_attached_but_held_and_nothing_is_sent(service, maildir):
    residents_case(service, maildir)
    [ack] = sent(service)
    deliver(maildir, make_mail(STRANGER, subject="Re: Leak still not fixed", body=ESCALATE, in_reply_to=ack["Message-ID"]))
    service.run_once()
    with service.db.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert len(case.submissions) == 2 and case.stage == 1 and case.status == CaseStatus.HELD
        assert "a reply in this case's thread from an address not on the case" in case.held_reason
    assert recipients(service) == ["sam.resident@example.net"]


def test_two_addresses_in_from_hold_the_case_and_send_nothing(service, maildir):
    deliver(maildir, make_mail("sam.resident@example.net, victim@example.com", subject="Leak", body=LEAK))
    service.run_once()
    with service.db.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert case.status == CaseStatus.HELD and case.resident_email is None
        assert "the sender's address is ambiguous (two addresses in From): a person decides who to answer" in \
            case.held_reason
        assert session.scalar(select(OutboxMessage.id)) is None
        assert "anonymous" not in case.flags
    assert sent(service) == []


def test_a_stranger_quoting_the_reference_with_an_ambiguous_from_is_held_and_nobody_answered(service, maildir):
    reference = residents_case(service, maildir)
    deliver(maildir, make_mail("sam.resident@example.net, alex@elsewhere.example", subject=f"Re: {reference}",
                               body=ESCALATE))
    service.run_once()
    with service.db.sessions() as session:
        quoted = session.scalars(select(Case).where(Case.reference == reference)).one()
        new = session.scalars(select(Case).where(Case.reference != reference)).one()
        assert len(quoted.submissions) == 1 and quoted.stage == 1
        assert f"quotes {reference}" in new.held_reason and "ambiguous" in new.held_reason
    assert recipients(service) == ["sam.resident@example.net"]
