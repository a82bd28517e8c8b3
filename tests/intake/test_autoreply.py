"""detect_auto_reply: every signal positively, and a close-but-human message that must pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.autoreply import detect_auto_reply
from intake.parse import parse_message

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mail"
OUR_IDS = {"ack-CMP-2026-000123@riversidehomes.org.uk"}


def fixture(name: str):
    return parse_message((FIXTURES / name).read_bytes())


def mail(
    headers: str = "",
    subject: str = "Leak in the bathroom",
    sender: str = "Jo Bloggs <jo.bloggs@example.co.uk>",
    body: str = "The leak is back, please send someone.",
    content_type: str = "text/plain; charset=utf-8",
):
    raw = (
        f"From: {sender}\r\nTo: complaints@riversidehomes.org.uk\r\nSubject: {subject}\r\n"
        f"Date: Tue, 10 Nov 2026 09:00:00 +0000\r\nMessage-ID: <m1@example.co.uk>\r\n{headers}"
        f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n{body}\r\n"
    )
    return parse_message(raw.encode())


# ---------------------------------------------------------------- people


def test_it_passes_a_persons_first_message():
    assert detect_auto_reply(mail()) is None


def test_it_passes_a_residents_reply_to_our_acknowledgement():
    reply = fixture("gmail_reply.eml")
    assert reply.in_reply_to in OUR_IDS
    assert detect_auto_reply(reply, ["complaints@riversidehomes.org.uk"], OUR_IDS.__contains__) is None


@pytest.mark.parametrize(
    "name", ["outlook_reply.eml", "apple_reply.eml", "html_only.eml", "forwarded_gmail.eml",
             "solicitor_disclaimer.eml", "attachments_rfc2231.eml", "human_out_of_hours.eml"],
)
def test_it_passes_every_hand_written_resident_message(name):
    assert detect_auto_reply(fixture(name)) is None


@pytest.mark.parametrize(
    "subject",
    ["Re: Out of office hours repair", "Re: your out of office", "Out of office hours emergency - no heating",
     "Automatic reply not helpful", "Re: Automatic reply: We have received your message",
     "Undeliverable parcel left in the stairwell", "Read the letter you sent me", "Returned mail from the council",
     "Delivery Status Notification - my parcel"],
)
def test_it_passes_human_subjects_that_look_a_little_automatic(subject):
    assert detect_auto_reply(mail(subject=subject)) is None


def test_it_passes_a_person_whose_name_contains_noreply_looking_words():
    assert detect_auto_reply(mail(sender="Noreen Reilly <noreen.reilly@example.co.uk>")) is None


def test_it_passes_auto_submitted_no():
    assert detect_auto_reply(mail("Auto-Submitted: no\r\n")) is None


def test_it_passes_x_auto_response_suppress_without_a_suppressing_token():
    assert detect_auto_reply(mail("X-Auto-Response-Suppress: None\r\n")) is None


def test_it_passes_precedence_first_class():
    assert detect_auto_reply(mail("Precedence: first-class\r\n")) is None


def test_it_passes_a_person_writing_read_in_the_subject_without_a_receipt():
    assert detect_auto_reply(mail(subject="Read: my letter from last week")) is None


def test_it_passes_mail_that_only_replies_to_our_message_id():
    message = mail("In-Reply-To: <ack-CMP-2026-000123@riversidehomes.org.uk>\r\n")
    assert detect_auto_reply(message, is_own_message_id=OUR_IDS.__contains__) is None


# ---------------------------------------------------------------- machines


@pytest.mark.parametrize("value", ["auto-replied", "auto-generated", "auto-notified; owner-email=x@y"])
def test_it_flags_auto_submitted(value):
    assert detect_auto_reply(mail(f"Auto-Submitted: {value}\r\n")) == f"Auto-Submitted: {value.split(';')[0]}"


@pytest.mark.parametrize("value", ["bulk", "list", "junk", "auto_reply", "Bulk"])
def test_it_flags_precedence(value):
    assert detect_auto_reply(mail(f"Precedence: {value}\r\n")) == f"Precedence: {value.lower()}"


@pytest.mark.parametrize("value", ["All", "OOF, AutoReply", "DR", "RN, NRN"])
def test_it_flags_x_auto_response_suppress(value):
    assert detect_auto_reply(mail(f"X-Auto-Response-Suppress: {value}\r\n")).startswith("X-Auto-Response-Suppress")


@pytest.mark.parametrize("header", ["X-Autoreply: yes", "X-Autorespond: Vacation", "X-AutoReply-From: a@b.c",
                                    "X-Mail-Autoreply: yes"])
def test_it_flags_autoresponder_headers(header):
    assert "autoresponder" in detect_auto_reply(mail(header + "\r\n"))


def test_it_flags_x_loop():
    assert "X-Loop" in detect_auto_reply(mail("X-Loop: helpdesk@example.org\r\n"))


@pytest.mark.parametrize("header", ["List-Id: Residents News <news.riverside.example>",
                                    "List-Unsubscribe: <mailto:unsub@example.org>"])
def test_it_flags_mailing_lists(header):
    assert detect_auto_reply(mail(header + "\r\n")).startswith("mailing list")


def test_it_flags_a_delivery_status_report():
    assert detect_auto_reply(fixture("bounce.eml")) == "Auto-Submitted: auto-replied"
    stripped = (FIXTURES / "bounce.eml").read_bytes().replace(b"Auto-Submitted: auto-replied\n", b"")
    assert detect_auto_reply(parse_message(stripped)).startswith("multipart/report (delivery-status)")


def test_it_flags_a_read_receipt():
    assert "disposition-notification" in detect_auto_reply(fixture("read_receipt.eml"))


def test_it_flags_a_plain_read_receipt_by_subject_and_wording():
    receipt = mail(subject="Read: Your complaint", body="Your message was read on 11/11/2026 18:22.")
    assert "read receipt" in detect_auto_reply(receipt)


def test_it_flags_a_delivery_status_part_inside_a_mixed_message():
    body = ("--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Status: 5.1.1\r\n--b--")
    assert "message/delivery-status" in detect_auto_reply(mail(content_type="multipart/mixed; boundary=b", body=body))


def test_it_flags_a_null_return_path():
    assert "Return-Path" in detect_auto_reply(parse_message(b"Return-Path: <>\r\nFrom: a@b.c\r\nSubject: hi\r\n\r\nx"))


def test_it_flags_x_failed_recipients():
    assert "bounce" in detect_auto_reply(mail("X-Failed-Recipients: jo@example.co.uk\r\n"))


@pytest.mark.parametrize(
    "sender",
    ["MAILER-DAEMON@mx.example.org", "postmaster@example.org", "noreply@gov.uk", "no-reply@housing.example",
     "do-not-reply@council.example", "DoNotReply@bank.example", "alerts-noreply@example.com"],
)
def test_it_flags_system_senders(sender):
    assert "system address" in detect_auto_reply(mail(sender=sender))


def test_it_flags_a_mail_delivery_system_sender_name():
    assert detect_auto_reply(mail(sender="Mail Delivery Subsystem <bounces@x.org>")).startswith("sent by Mail Delivery")


def test_it_flags_our_own_address_whatever_its_case():
    message = mail(sender="Riverside Homes <Complaints@RiversideHomes.org.uk>")
    assert "our own address" in detect_auto_reply(message, ["complaints@riversidehomes.org.uk"])


def test_it_flags_our_own_message_coming_back():
    message = parse_message(
        b"From: someone@example.co.uk\r\nMessage-ID: <ack-CMP-2026-000123@riversidehomes.org.uk>\r\n\r\nx"
    )
    assert "one we sent" in detect_auto_reply(message, is_own_message_id=OUR_IDS.__contains__)


@pytest.mark.parametrize(
    "subject",
    ["Automatic reply: We have received your message", "Auto-Reply: Re: repairs", "AutoReply: hello",
     "Out of Office: Re: CMP-2026-000140", "Out of Office AutoReply: leak", "Undeliverable: Your complaint",
     "Undelivered Mail Returned to Sender", "Delivery Status Notification (Failure)",
     "Returned mail: see transcript for details", "Mail delivery failed: returning message to sender"],
)
def test_it_flags_clear_auto_reply_subjects(subject):
    assert detect_auto_reply(mail(subject=subject)).startswith("subject starts")


def test_it_flags_an_outlook_out_of_office():
    assert detect_auto_reply(fixture("out_of_office.eml")) == "Auto-Submitted: auto-generated"
