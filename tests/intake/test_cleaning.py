"""Derived fields cleaned at the one boundary (intake.message.cleaned, applied by
pipeline.read.read_submission): no NUL or control character, nothing longer than its column, an
identifier kept exactly or not at all. Plus the parser's own bounds on hostile input."""

from __future__ import annotations

import json
import time

import pytest

from casework.models import Attachment, Case, Submission
from casework.vocabulary import Channel
from core.settings import Settings
from intake.message import MARKER, clean_identifier, clean_line, clean_text, cleaned
from intake.parse import parse_message
from pipeline.read import read_submission
from text.decoding import decode_bytes


def read(raw: bytes):
    return cleaned(parse_message(raw))


def test_the_column_lengths_are_the_models():
    # The rule reads them from the models; these are the numbers it must find there.
    assert Case.__table__.c.resident_name.type.length == 300
    assert Submission.__table__.c.sender.type.length == 320
    assert Submission.__table__.c.message_id.type.length == 998
    assert Attachment.__table__.c.filename.type.length == 500


def test_text_loses_nul_and_control_characters_but_keeps_lines_and_tabs():
    assert clean_text("damp\x00 in\x07 the\tbedroom\r\nsince May\x1b") == "damp in the\tbedroom\r\nsince May"


def test_text_turns_unpaired_surrogates_into_replacement_characters():
    assert clean_text("caf\udce9") == "caf\ufffd"


def test_a_line_has_no_line_breaks_so_nothing_copied_into_a_header_can_add_one():
    assert clean_line("Leak\r\nBcc: victim@example.com") == "Leak Bcc: victim@example.com"
    assert clean_line("  A\u2028B\x85C  ") == "A B C"


def test_a_long_line_is_cut_to_its_length_with_a_marker():
    cut = clean_line("x" * 400, 300)
    assert len(cut) == 300  # 299 characters kept + the one-character marker
    assert cut == "x" * 299 + MARKER
    assert clean_line("x" * 300, 300) == "x" * 300  # exactly the length: untouched


def test_an_identifier_is_kept_exactly_or_dropped():
    assert clean_identifier("Sam.Resident@example.net", 320) == "Sam.Resident@example.net"
    assert clean_identifier("a" * 390 + "@example.net", 320) is None  # 402 characters
    assert clean_identifier("sam\x00@example.net", 320) is None
    assert clean_identifier("sam@example.net\r\nBcc: x@y.z", 320) is None


def test_a_charset_label_with_a_nul_is_an_unknown_charset_not_an_exception():
    defects: list[str] = []
    assert decode_bytes(b"my boiler", "utf\x00-8", defects) == "my boiler"
    assert any("unknown charset" in d for d in defects)


def test_invalid_bytes_under_a_known_charset_are_still_reported_as_such():
    defects: list[str] = []
    assert decode_bytes(b"damp \x96 mould", "utf-8", defects) == "damp \u2013 mould"
    assert any("not valid" in d for d in defects)


MAIL = b"From: Sam <sam@example.net>\r\nTo: complaints@example.org\r\nSubject: %s\r\nMessage-ID: <%s>\r\n%s\r\n%s"


def mail(subject=b"Leak", message_id=b"1@example.net", headers=b"", body=b"My roof leaks.\r\n"):
    return MAIL % (subject, message_id, headers, body)


def test_a_utf16_body_without_a_charset_has_no_nul_once_cleaned():
    body = "My roof leaks".encode("utf-16-le")
    message = read(mail(headers=b"Content-Type: text/plain\r\n", body=body))
    assert "\x00" not in message.text and "My roof leaks" in message.text


def test_an_encoded_word_that_decodes_to_nul():
    message = read(mail(subject=b"=?utf-8?B?TGVhawBrAA==?="))  # "Leak\0k\0"
    assert message.subject == "Leakk"


def test_a_nul_in_a_display_name_and_an_attachment_name():
    raw = (b"From: \"Sam\x00 Resident\" <sam@example.net>\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
           b"--B\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"ph\x00oto.jpg\"\r\n\r\n"
           b"xyz\r\n--B--\r\n")
    message = read(raw)
    assert message.sender_name == "Sam Resident"
    assert [a.filename for a in message.attachments] == ["photo.jpg"]


def test_values_longer_than_their_columns():
    name = b"N" * 400
    filename = b"f" * 596 + b".jpg"  # 600 characters
    raw = (b"From: " + name + b" <sam@example.net>\r\nTo: " + b"a" * 390 + b"@example.net, office@example.org\r\n"
           b"Subject: s\r\nMessage-ID: <" + b"m" * 2000 + b"@example.net>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
           b"--B\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"" + filename + b"\"\r\n\r\n"
           b"xyz\r\n--B--\r\n")
    message = read(raw)
    assert message.sender == "sam@example.net"
    assert message.to == ("office@example.org",)  # a 402-character address cannot be cut into the right one
    assert message.sender_name == "N" * 299 + MARKER
    assert message.message_id is None  # 2,014 characters: over 998
    (attachment,) = message.attachments
    assert len(attachment.filename) == 500 and attachment.filename.endswith(MARKER)


def test_a_crlf_in_a_decoded_subject_stays_on_one_line():
    message = read(mail(subject=b"=?utf-8?Q?Leak=0D=0ABcc:_victim@example.com?="))
    assert message.subject == "Leak Bcc: victim@example.com"


def test_a_60_kb_8bit_header_in_a_forwarded_message_is_read_quickly():
    inner = b"From: a@example.net\r\nSubject: " + ("\xe9t\xe9 " * 15000).encode("latin-1") + b"\r\n\r\nhello\r\n"
    raw = (b"From: sam@example.net\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
           b"--X\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"fwd.eml\"\r\n\r\n"
           + inner + b"\r\n--X--\r\n")
    started = time.monotonic()
    message = read(raw)
    assert time.monotonic() - started < 2  # a bound, not a speed test: mail-parser took 108 s here
    assert message.text == "see below"
    assert message.attachments[0].data.startswith(b"From: a@example.net")


@pytest.mark.parametrize("levels", [200, 1500])
def test_deep_nesting_is_read_without_an_exception(levels):
    nested = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(levels))
    message = read(b"From: sam@example.net\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n" + nested + b"help me")
    assert message.defects


def test_a_forwarded_chain_200_deep_is_read_without_an_exception():
    raw = b"Subject: innermost\r\n\r\nhelp me\r\n"
    for _ in range(200):
        raw = b"From: sam@example.net\r\nContent-Type: message/rfc822\r\n\r\n" + raw
    read(raw)


def test_defects_are_bounded_for_a_message_of_thousands_of_broken_parts():
    parts = b"".join(b"--B\r\nContent-Type: text/plain; charset=\"\r\nContent-Transfer-Encoding: base64\r\n\r\n!!\r\n"
                     for _ in range(3000))
    message = read(b"From: sam@example.net\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
                   + parts + b"--B--\r\n")
    assert len(message.defects) <= 60


def test_read_submission_cleans_every_channel_the_web_form_too():
    form = {"form": "report", "language": "en", "received_at": "2026-11-16T10:00:00+00:00",
            "fields": {"name": "N" * 400, "email": "sam@example.net", "description": "Damp\x00 in the hall"}}
    submission = Submission(kind=Channel.WEB, raw=json.dumps(form).encode(), details={})
    message = read_submission(submission, Settings())
    assert message.sender_name == "N" * 299 + MARKER  # cut to Case.resident_name's 300
    assert message.new_text == "Damp in the hall"
