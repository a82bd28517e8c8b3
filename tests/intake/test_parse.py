"""parse_message: bytes in, ParsedMessage out, whatever the sender's software did to them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.errors import UnreadableSubmission
from intake.parse import parse_message

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mail"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def mail(body: bytes, content_type: bytes = b"text/plain", extra: bytes = b"", cte: bytes = b"8bit") -> bytes:
    return (
        b"From: Jo Bloggs <Jo.Bloggs@Example.co.uk>\r\n"
        b"To: complaints@riversidehomes.org.uk\r\n"
        b"Subject: Repairs\r\n"
        b"Date: Tue, 10 Nov 2026 09:00:00 +0000\r\n"
        b"Message-ID: <abc.123@example.co.uk>\r\n"
        + extra
        + b"MIME-Version: 1.0\r\nContent-Type: " + content_type + b"\r\n"
        b"Content-Transfer-Encoding: " + cte + b"\r\n\r\n" + body
    )


# ---------------------------------------------------------------- charsets


def test_it_decodes_a_declared_charset():
    parsed = parse_message(mail("Caf\u00e9 \u20ac5".encode("iso-8859-15"), b"text/plain; charset=iso-8859-15"))
    assert parsed.text == "Caf\u00e9 \u20ac5"


def test_it_decodes_cp1252_mislabelled_as_latin1():
    parsed = parse_message(mail(b"It\x92s \x93urgent\x94 \x96 \x80" b"50", b"text/plain; charset=iso-8859-1"))
    assert parsed.text == "It\u2019s \u201curgent\u201d \u2013 \u20ac50"


def test_it_decodes_cp1252_mislabelled_as_us_ascii():
    parsed = parse_message(mail(b"the tenant\x92s boiler", b"text/plain; charset=us-ascii"))
    assert parsed.text == "the tenant\u2019s boiler"


def test_it_reads_utf8_mislabelled_as_us_ascii():
    parsed = parse_message(mail("Zo\u00eb\u2019s flat".encode(), b"text/plain; charset=us-ascii"))
    assert parsed.text == "Zo\u00eb\u2019s flat"


def test_it_keeps_real_latin1_text_as_latin1():
    parsed = parse_message(mail(b"\xa31,000 arrears, caf\xe9", b"text/plain; charset=iso-8859-1"))
    assert parsed.text == "\u00a31,000 arrears, caf\u00e9"


def test_it_tries_utf8_first_for_undeclared_8bit_text():
    parsed = parse_message(mail("\u00a3200 \u2013 rent".encode(), b"text/plain"))
    assert parsed.text == "\u00a3200 \u2013 rent"


def test_it_falls_back_to_cp1252_for_undeclared_8bit_text_that_is_not_utf8():
    parsed = parse_message(mail(b"\xa3200 \x96 rent", b"text/plain"))
    assert parsed.text == "\u00a3200 \u2013 rent"


def test_it_falls_back_and_records_a_defect_for_an_unknown_charset():
    parsed = parse_message(mail("na\u00efve \u2018quote\u2019".encode(), b"text/plain; charset=x-made-up-charset"))
    assert parsed.text == "na\u00efve \u2018quote\u2019"
    assert any("x-made-up-charset" in d for d in parsed.defects)


def test_it_recovers_from_invalid_bytes_in_a_declared_utf8_part():
    parsed = parse_message(mail(b"damp \x96 mould", b"text/plain; charset=utf-8"))
    assert parsed.text == "damp \u2013 mould"
    assert parsed.defects


def test_it_decodes_quoted_printable_and_base64_bodies():
    qp = parse_message(mail(b"caf=C3=A9 =E2=80=93 ok", b"text/plain; charset=utf-8", cte=b"quoted-printable"))
    b64 = parse_message(mail(b"Y2Fmw6kg4oCTIG9r\r\n", b"text/plain; charset=utf-8", cte=b"base64"))
    assert qp.text == b64.text == "caf\u00e9 \u2013 ok"


# ---------------------------------------------------------------- headers


def test_it_decodes_rfc2047_words_in_subject_and_from():
    parsed = parse_message(fixture("attachments_rfc2231.eml"))
    assert parsed.subject == "Mould in bedroom \u2013 photos attached"
    assert parsed.sender_name == "Zo\u00eb O\u2019Connor"
    assert parsed.sender == "zoe.oconnor@icloud.com"


def test_it_joins_adjacent_encoded_words_without_the_space_between_them():
    extra = b"X-Note: =?utf-8?q?Flat_?=\r\n =?utf-8?b?w6k=?=\r\n"
    assert parse_message(mail(b"x", extra=extra)).header("x-note") == "Flat \u00e9"


def test_it_reads_raw_8bit_utf8_in_headers():
    raw = mail(b"x").replace(b"Subject: Repairs", "Subject: Caf\u00e9 \u2013 leak".encode())
    assert parse_message(raw).subject == "Caf\u00e9 \u2013 leak"


def test_it_strips_angle_brackets_from_message_ids():
    extra = b"In-Reply-To: <ack-1@riversidehomes.org.uk>\r\nReferences: <a@x> <b@y>\r\n\t<c@z>\r\n"
    parsed = parse_message(mail(b"x", extra=extra))
    assert parsed.message_id == "abc.123@example.co.uk"
    assert parsed.in_reply_to == "ack-1@riversidehomes.org.uk"
    assert parsed.references == ("a@x", "b@y", "c@z")


def test_it_lower_cases_the_sender_address_and_keeps_the_name():
    parsed = parse_message(mail(b"x"))
    assert (parsed.sender, parsed.sender_name) == ("jo.bloggs@example.co.uk", "Jo Bloggs")
    assert parsed.to == ("complaints@riversidehomes.org.uk",)


def test_it_gives_an_aware_date():
    assert parse_message(mail(b"x")).date == dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.timezone.utc)


def test_it_gives_no_date_when_the_date_header_is_nonsense():
    raw = mail(b"x").replace(b"Tue, 10 Nov 2026 09:00:00 +0000", b"sometime last week")
    assert parse_message(raw).date is None


def test_it_tells_an_absent_return_path_from_a_null_one():
    assert parse_message(mail(b"x")).return_path is None
    assert parse_message(b"Return-Path: <>\r\n" + mail(b"x")).return_path == ""
    assert parse_message(b"Return-Path: <Jo@Example.co.uk>\r\n" + mail(b"x")).return_path == "jo@example.co.uk"


def test_it_keeps_every_header_in_order_with_lower_case_names():
    names = [name for name, _ in parse_message(mail(b"x")).headers]
    assert names[:3] == ["from", "to", "subject"]


# ---------------------------------------------------------------- HTML


def test_it_turns_html_only_mail_into_readable_text():
    text = parse_message(fixture("html_only.eml")).text
    assert "alert" not in text and "margin" not in text and "Fly tipping" not in text
    assert "bin bags & an old mattress dumped by the bins behind Block C. It\u2019s been there" in text
    assert "- three black bags\n- a mattress" in text
    assert "Can someone remove it?\nThanks\nPriya" in text


def test_it_prefers_the_plain_text_alternative():
    parsed = parse_message(fixture("gmail_reply.eml"))
    assert parsed.text.startswith("Hi,\n\nNobody turned up on Friday")
    assert "<div" not in parsed.text


def test_it_marks_html_blockquotes_as_quoted_lines():
    body = b"<p>Still leaking.</p><blockquote><p>We will visit.</p></blockquote>"
    parsed = parse_message(mail(body, b"text/html; charset=utf-8"))
    assert parsed.new_text == "Still leaking."
    assert "> We will visit." in parsed.quoted_text


# ---------------------------------------------------------------- attachments


def test_it_decodes_rfc2231_and_rfc2047_attachment_filenames():
    attachments = parse_message(fixture("attachments_rfc2231.eml")).attachments
    assert [a.filename for a in attachments] == ["mould\u2013bedroom wall.jpg", "rent statement \u00a3.pdf"]
    assert [a.content_type for a in attachments] == ["image/jpeg", "application/pdf"]
    assert attachments[0].data.startswith(b"\xff\xd8") and attachments[0].size == len(attachments[0].data)


def test_it_drops_the_data_of_attachments_over_the_cap_but_keeps_their_size():
    photo, statement = parse_message(fixture("attachments_rfc2231.eml"), attachment_max_bytes=2000).attachments
    assert (photo.data is not None, photo.truncated) == (True, False)
    assert (statement.data, statement.truncated, statement.size) == (None, True, 3033)


def test_it_does_not_treat_the_body_as_an_attachment():
    parsed = parse_message(fixture("attachments_rfc2231.eml"))
    assert len(parsed.attachments) == 2
    assert parsed.text.startswith("Photos of the black mould")


def test_it_keeps_the_parts_of_a_delivery_report_as_attachments():
    types = [a.content_type for a in parse_message(fixture("bounce.eml")).attachments]
    assert types == ["message/delivery-status", "text/rfc822-headers"]


# ---------------------------------------------------------------- the split and the hash


def test_it_fills_new_text_quoted_text_and_signature():
    parsed = parse_message(fixture("gmail_reply.eml"))
    assert parsed.new_text.endswith("getting worse.")
    assert parsed.quoted_text.startswith("On Tue, 3 Nov 2026 at 10:02")
    assert parsed.signature == "Kind regards\nSarah Okafor\nFlat 12, Mill Court"


def test_it_hashes_the_body_ignoring_whitespace_changes():
    one = parse_message(mail(b"The  leak\r\nis back"))
    two = parse_message(mail(b"The leak is   back\r\n"))
    three = parse_message(mail(b"The leak is gone"))
    assert one.body_sha256 == two.body_sha256 != three.body_sha256
    assert len(one.body_sha256) == 64


# ---------------------------------------------------------------- never raising


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n  "])
def test_it_refuses_an_empty_submission(raw):
    with pytest.raises(UnreadableSubmission):
        parse_message(raw)


def test_it_reads_a_body_with_no_headers_as_text():
    parsed = parse_message(b"My rent account is wrong, please call me.\n")
    assert "rent account is wrong" in parsed.text
    assert parsed.sender is None and parsed.message_id is None


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00\x01\x02\xff\xfe binary junk \x80\x81",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n",
        b"Content-Type: text/plain; charset=\"\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
        b"From: <<<>>>@@@\r\nTo: ,,,\r\nDate: 99 Foo 99999 99:99\r\nSubject: =?bogus?Q?x?= =?utf-8?B?###?=\r\n\r\nx",
        b"Content-Type: multipart/mixed; boundary=a\r\n\r\n" + b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * 200,
        b"Content-Type: text/html\r\n\r\n<html><![if !supportLists]><p>x</p><!x<<<</script>",
    ],
)
def test_it_never_raises_on_broken_mail(raw):
    parse_message(raw)


def test_it_records_mime_defects_for_staff():
    raw = b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=zzz\r\n\r\nno boundary ever appears\r\n"
    assert parse_message(raw).defects


def test_it_falls_back_to_plain_text_when_mime_nesting_is_too_deep_to_parse():
    levels = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(1500))
    parsed = parse_message(b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n" + levels + b"help me")
    assert "help me" in parsed.text
    assert any("could not be parsed" in d for d in parsed.defects)


def test_it_reads_a_multipart_whose_boundary_never_appears_as_plain_text():
    raw = b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=zzz\r\n\r\nmy boiler is broken\r\n"
    parsed = parse_message(raw)
    assert parsed.text == "my boiler is broken"
    assert parsed.attachments == ()
