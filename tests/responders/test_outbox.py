from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from casework.models import Case, OutboxMessage
from core.settings import Settings, SmtpSettings
from casework.vocabulary import AckKind, OutboxStatus
from responders.outbox import CAP_REASON, domain_of, enqueue, is_own_message_id
from responders.render import RenderedMessage
from responders.transport import FileTransport, SmtpTransport, make_transport

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
RENDERED = RenderedMessage(subject="Your complaint – reference CMP-2026-000123", text="Hello", html="<p>Hello</p>")


def add(session, outbox_settings, to="resident@example.net", now=NOW, case=None, **extra) -> OutboxMessage:
    options = dict(in_reply_to="<abc@mail.example.net>", references=["<first@mail.example.net>", "abc@mail.example.net"])
    options.update(extra)
    return enqueue(session, case=case, submission_id=None, kind=AckKind.COMPLAINT_STAGE1, to_address=to,
                   rendered=RENDERED, settings=outbox_settings, domain="example.org", now=now, **options)


def count_rows(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage))


def test_enqueue_adds_a_queued_row_in_the_callers_transaction(db, outbox_settings, make_case):
    case_id = make_case()
    with db.transaction() as session:
        row = add(session, outbox_settings, case=session.get(Case, case_id))
        session.flush()
        assert row.status == OutboxStatus.QUEUED and row.next_attempt_at == NOW
        assert row.case_id == case_id and row.subject == RENDERED.subject
        assert row.message_id.startswith("intake.") and row.message_id.endswith("@example.org")
        assert "<" not in row.message_id
        assert row.in_reply_to == "<abc@mail.example.net>"
        assert row.references == "<first@mail.example.net> <abc@mail.example.net>"
    assert count_rows(db) == 1


def test_nothing_is_queued_when_the_callers_transaction_rolls_back(db, outbox_settings):
    with pytest.raises(RuntimeError), db.transaction() as session:
        add(session, outbox_settings)
        raise RuntimeError("the case could not be opened")
    assert count_rows(db) == 0


def test_a_case_new_in_the_same_transaction_gets_its_id_onto_the_row(db, outbox_settings):
    with db.transaction() as session:
        case = Case(reference="CMP-2026-000999", category="complaint", received_at=NOW)
        session.add(case)
        row = add(session, outbox_settings, case=case)
        assert row.case_id == case.id is not None


def test_every_row_gets_its_own_message_id(db, outbox_settings):
    with db.transaction() as session:
        ids = {add(session, outbox_settings, to=f"r{n}@example.net").message_id for n in range(5)}
    assert len(ids) == 5


def test_the_fourth_acknowledgement_to_one_address_in_a_day_is_suppressed_with_a_reason(db, outbox_settings):
    addresses = ["Resident@Example.net", "resident@example.net", " RESIDENT@example.NET ", "resident@EXAMPLE.net"]
    with db.transaction() as session:
        rows = [add(session, outbox_settings, to=to, now=NOW + dt.timedelta(hours=n)) for n, to in enumerate(addresses)]
    assert [row.status for row in rows] == ["queued"] * 3 + ["suppressed"]
    assert rows[3].reason == CAP_REASON
    assert count_rows(db) == 4  # recorded, not sent


def test_another_address_is_not_affected_by_the_cap(db, outbox_settings):
    with db.transaction() as session:
        for _ in range(3):
            add(session, outbox_settings)
        assert add(session, outbox_settings, to="neighbour@example.net").status == OutboxStatus.QUEUED


def test_the_cap_counts_only_the_last_24_hours(db, outbox_settings):
    with db.transaction() as session:
        for hour in range(3):
            add(session, outbox_settings, now=NOW + dt.timedelta(hours=hour))
    with db.transaction() as session:
        assert add(session, outbox_settings, now=NOW + dt.timedelta(hours=24, minutes=1)).status == OutboxStatus.QUEUED


def test_failed_and_suppressed_rows_do_not_use_up_the_cap(db, outbox_settings):
    with db.transaction() as session:
        for _ in range(3):
            add(session, outbox_settings).status = OutboxStatus.FAILED
        assert add(session, outbox_settings).status == OutboxStatus.QUEUED


def test_our_own_message_ids_are_recognised_with_or_without_brackets(db, outbox_settings):
    with db.transaction() as session:
        message_id = add(session, outbox_settings).message_id
    with db.sessions() as session:
        assert is_own_message_id(session, message_id)
        assert is_own_message_id(session, f" <{message_id}> ")
        assert not is_own_message_id(session, "<someone.else@example.net>")
        assert not is_own_message_id(session, "<>")


def test_an_unusable_message_id_domain_is_refused(db, outbox_settings):
    with db.transaction() as session, pytest.raises(ValueError):
        enqueue(session, case=None, submission_id=None, kind="neutral", to_address="a@example.net", rendered=RENDERED,
                in_reply_to=None, references=[], settings=outbox_settings, domain="bad domain<>")


@pytest.mark.parametrize("address", ["", "   ", "no-at-sign", "a@example.net\r\nBcc: victim@example.com", "a@x, b@y"])
def test_an_address_that_could_not_be_sent_to_or_could_inject_a_header_is_refused(db, outbox_settings, address):
    with db.transaction() as session, pytest.raises(ValueError):
        add(session, outbox_settings, to=address)


def test_the_message_id_domain_comes_from_our_own_address():
    assert domain_of("Complaints@Example.ORG") == "example.org"


# -- the file transport ---------------------------------------------------------------------------


def message(message_id: str = "<intake.0123abcd@example.org>", body: str = "first") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = "a@example.org", "b@example.net", "Hi", message_id
    msg.set_content(body)
    return msg


def test_the_file_transport_writes_one_eml_file_per_message_id(tmp_path):
    transport = FileTransport(tmp_path / "outbox")
    transport.send(message())
    path = tmp_path / "outbox" / "intake.0123abcd@example.org.eml"
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == "<intake.0123abcd@example.org>"
    assert parsed.get_content().strip() == "first"


def test_sending_the_same_message_id_twice_overwrites_the_same_file(tmp_path):
    transport = FileTransport(tmp_path)
    transport.send(message(body="first"))
    transport.send(message(body="second"))
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == ["intake.0123abcd@example.org.eml"]  # no temporary files left either
    assert b"second" in files[0].read_bytes()


def test_a_hostile_message_id_cannot_escape_the_outbox_folder(tmp_path):
    FileTransport(tmp_path / "outbox").send(message("<../../etc/passwd@x>"))
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [".._.._etc_passwd@x.eml"]


def test_make_transport_uses_smtp_only_when_a_host_is_configured(tmp_path):
    assert isinstance(make_transport(Settings(var_dir=tmp_path)), FileTransport)
    assert make_transport(Settings(var_dir=tmp_path)).directory == tmp_path / "outbox"
    smtp = Settings(var_dir=tmp_path, smtp=SmtpSettings(host="mail.example.org"))
    assert isinstance(make_transport(smtp), SmtpTransport)
