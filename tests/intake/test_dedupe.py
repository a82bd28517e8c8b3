"""dedupe_key: the same message twice gives one key; anything different gives another."""

from __future__ import annotations

from intake.dedupe import dedupe_key
from intake.parse import parse_message


def raw(body: bytes = b"The leak is back.", message_id: bytes = b"<m1@example.co.uk>",
        date: bytes = b"Tue, 10 Nov 2026 09:00:00 +0000", sender: bytes = b"jo@example.co.uk") -> bytes:
    headers = b"From: " + sender + b"\r\nDate: " + date + b"\r\nSubject: Leak\r\n"
    if message_id:
        headers += b"Message-ID: " + message_id + b"\r\n"
    return headers + b"\r\n" + body


def key(**kwargs) -> str | None:
    return dedupe_key(parse_message(raw(**kwargs)))


def test_it_gives_the_same_key_to_the_same_message_fetched_twice():
    assert key() == key()
    assert len(key()) == 64 and int(key(), 16) >= 0


def test_it_ignores_line_ending_and_rewrapping_differences():
    assert key(body=b"The leak\r\nis back.") == key(body=b"The leak is back.\n")


def test_it_treats_the_same_instant_in_another_zone_as_the_same_date():
    assert key(date=b"Tue, 10 Nov 2026 10:00:00 +0100") == key()


def test_it_gives_a_different_key_when_a_message_id_is_reused_with_another_body():
    assert key(body=b"My boiler is broken.") != key()


def test_it_gives_a_different_key_for_another_sender_or_date():
    assert key(sender=b"sam@example.co.uk") != key()
    assert key(date=b"Wed, 11 Nov 2026 09:00:00 +0000") != key()


def test_it_gives_no_key_without_a_message_id():
    assert key(message_id=b"") is None


def test_it_works_without_a_date():
    assert key(date=b"not a date") is not None
