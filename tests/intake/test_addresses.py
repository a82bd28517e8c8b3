"""intake.addresses: From and Reply-To read from real header bytes, through parse_message as the worker does."""

from __future__ import annotations

import pytest

from intake.parse import parse_message


def mail(*header_lines: bytes) -> bytes:
    headers = b"\r\n".join(header_lines)
    return (headers + b"\r\nTo: complaints@example.org\r\nSubject: Leak\r\nMessage-ID: <m1@example.net>\r\n"
            b"\r\nThe leak is still not fixed.\r\n")


CLEAR = [
    # id, header bytes -> sender, sender_name, reply_to
    ("plain", [b"From: Sam Smith <sam@example.net>"], "sam@example.net", "Sam Smith", None),
    ("quoted, folded display name holding another address",
     [b'From: "Sam Smith\r\n <victim@evil.example>" <sam@example.net>'], "sam@example.net",
     "Sam Smith <victim@evil.example>", None),
    ("display name folded before the angle address",
     [b"From: Sam Smith\r\n\t<sam@example.net>"], "sam@example.net", "Sam Smith", None),
    ("RFC 2047 display name containing ':' is not a group",
     [b"From: =?utf-8?q?Housing_Team:_Sam?= <sam@example.net>"], "sam@example.net", "Housing Team: Sam", None),
    ("RFC 2047 base64 name with a comma and an address in it",
     # "Smith, Sam <x@evil.example>" in UTF-8, base64
     [b"From: =?UTF-8?B?U21pdGgsIFNhbSA8eEBldmlsLmV4YW1wbGU+?= <sam@example.net>"], "sam@example.net",
     "Smith, Sam <x@evil.example>", None),
    ("Reply-To different from From", [b"From: Sam <sam@example.net>", b"Reply-To: Sam at home <sam.home@example.com>"],
     "sam@example.net", "Sam", "sam.home@example.com"),
    ("letter case folded", [b"From: Sam <Sam.Smith@Example.NET>"], "sam.smith@example.net", "Sam", None),
    ("comment instead of a display name", [b"From: sam@example.net (Sam Smith)"], "sam@example.net", None, None),
    ("obsolete period in an unquoted name is only obsolete", [b"From: Sam J. Smith <sam@example.net>"],
     "sam@example.net", "Sam J. Smith", None),
    ("IDN domain in UTF-8 becomes its ASCII form",
     ["From: José Núñez <jose@bücher.example>".encode("utf-8")], "jose@xn--bcher-kva.example", "José Núñez", None),
    ("IDN display name in raw 8-bit Latin-1", [b"From: Zo\xeb Smith <zoe@example.net>"], "zoe@example.net",
     "Zoë Smith", None),
    ("NUL in the display name is dropped", [b"From: =?utf-8?q?Sam=00Smith?= <sam@example.net>"], "sam@example.net",
     "Sam Smith", None),
]


@pytest.mark.parametrize("headers, sender, name, reply_to", [row[1:] for row in CLEAR], ids=[row[0] for row in CLEAR])
def test_a_clear_sender_is_read_from_the_folded_value(headers, sender, name, reply_to):
    message = parse_message(mail(*headers))
    assert (message.sender, message.sender_name, message.reply_to) == (sender, name, reply_to)
    assert message.address_problem is None


HELD = [
    # id, header bytes -> the problem
    ("two addresses in From", [b"From: sam@example.net, alex@example.com"],
     "the sender's address is ambiguous (two addresses in From)"),
    ("two From headers", [b"From: sam@example.net", b"From: alex@example.com"],
     "the sender's address is ambiguous (2 From headers)"),
    ("From group syntax", [b"From: Housing Team: sam@example.net, alex@example.com;"],
     "the sender's address is ambiguous (From is a group, 'Housing Team')"),
    ("empty group in From", [b"From: Undisclosed recipients:;"],
     "the sender's address is ambiguous (From is a group, 'Undisclosed recipients')"),
    ("two addresses in Reply-To", [b"From: sam@example.net", b"Reply-To: sam@example.net, victim@example.com"],
     "the sender's address is ambiguous (two addresses in Reply-To)"),
    ("missing closing angle bracket", [b"From: Sam <sam@example.net"],
     "the sender's address is malformed (From: missing trailing '>' on angle-addr)"),
    ("stray closing angle bracket", [b"From: Sam sam@example.net>"],
     "the sender's address is malformed (From: invalid address in address-list)"),
    ("doubled angle brackets", [b"From: <<sam@example.net>>"],
     "the sender's address is malformed (From: invalid address in address-list)"),
    ("no domain", [b"From: sam"], "the sender's address is malformed (From: addr-spec local part with no domain)"),
    ("ends at the @ (the stdlib parser raises)", [b"From: sam@"],
     "the sender's address is malformed (From could not be read)"),
    ("address past 254 characters", [b"From: " + b"s" * 250 + b"@example.net"],
     "the sender's address is malformed (From: longer than 254 characters)"),
    ("two angle addresses", [b"From: Sam <sam@example.net> <other@example.com>"],
     "the sender's address is malformed (From: invalid address in address-list)"),
]


@pytest.mark.parametrize("headers, problem", [row[1:] for row in HELD], ids=[row[0] for row in HELD])
def test_an_ambiguous_or_malformed_sender_names_nobody_and_says_why(headers, problem):
    message = parse_message(mail(*headers))
    assert message.address_problem == problem
    assert message.reply_to is None


def test_with_a_problem_in_reply_to_the_from_address_is_still_known_but_named_a_problem():
    message = parse_message(mail(b"From: sam@example.net", b"Reply-To: <<victim@example.com>>"))
    assert message.sender == "sam@example.net" and message.reply_to is None
    assert message.address_problem == "the sender's address is malformed (Reply-To: invalid address in address-list)"


def test_no_from_at_all_is_not_a_problem_just_no_address():
    message = parse_message(b"To: complaints@example.org\r\nSubject: Leak\r\n\r\nThe leak.\r\n")
    assert message.sender is None and message.address_problem is None
