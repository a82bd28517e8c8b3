"""Who wrote, and where an answer would go: the From and Reply-To headers, read as RFC 5322 says.

Each header is read with the standard library's modern header policy (``email.policy.default``, whose
``AddressHeader`` tokenises the whole value) on the folded value as written: folding is removed
(CR and LF only, never the whitespace after them), raw 8-bit bytes are decoded first. So a quoted
display name that contains an address, folded or not, stays a display name, and an encoded display
name containing ``:`` is never read as group syntax.

Invariants:
- ``sender`` and ``reply_to`` are single mailboxes, lower-cased, the domain in its ASCII (IDNA) form;
  ``None`` when the header is absent or unreadable.
- ``problem`` is ``None``, or says in words a person can read why nobody should be answered
  automatically: two From or Reply-To headers, two addresses in one, group syntax, or a malformed
  address (the parser's own defect, a missing domain, an over-long address). When it is set the
  pipeline holds the message for a person and sends nothing (pipeline/decide.py).
- Nothing here raises: a parser failure is a problem, not an exception.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from email.errors import InvalidHeaderDefect
from email.headerregistry import Address
from email.message import Message

from intake.headers import raw_values

MAX_ADDRESS = 254  # RFC 5321: the longest forward-path is 256 octets with its angle brackets
_FOLD = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_UNSAFE_IN_ADDRESS = re.compile(r"[\s<>,;\"\\\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Addresses:
    sender: str | None  # the From mailbox, when there is exactly one well-formed one
    sender_name: str | None  # its display name, decoded
    reply_to: str | None  # the Reply-To mailbox, when there is exactly one well-formed one
    problem: str | None = None  # why no answer may go out automatically, for a person


@dataclass(frozen=True)
class _Field:
    mailboxes: tuple[Address, ...] = ()
    problem: str | None = None


def read_addresses(msg: Message) -> Addresses:
    """From and Reply-To of a parsed message (any policy: the raw values are read again)."""
    sender, reply_to = _field(msg, "From"), _field(msg, "Reply-To")
    first = sender.mailboxes[0] if len(sender.mailboxes) == 1 and not sender.problem else None
    answer = reply_to.mailboxes[0] if len(reply_to.mailboxes) == 1 and not reply_to.problem else None
    return Addresses(
        sender=_address(first) if first else None,
        sender_name=_name(first) if first else None,
        reply_to=_address(answer) if answer else None,
        problem=sender.problem or reply_to.problem,
    )


def _field(msg: Message, name: str) -> _Field:
    values = [value for value in raw_values(msg, name) if value.strip()]
    if not values:
        return _Field()
    if len(values) > 1:
        return _Field(problem=f"the sender's address is ambiguous ({len(values)} {name} headers)")
    try:
        header = email.policy.default.header_factory(name, _unfold(values[0]))
        groups, defects = header.groups, header.defects
    except Exception:  # the stdlib's address parser has raised on hostile input before (e.g. "sam@")
        return _Field(problem=f"the sender's address is malformed ({name} could not be read)")
    return _judge(name, groups, defects)


def _judge(name: str, groups, defects) -> _Field:
    mailboxes = tuple(address for group in groups for address in group.addresses)
    named_group = next((group.display_name for group in groups if group.display_name is not None), None)
    invalid = next((str(defect) for defect in defects if isinstance(defect, InvalidHeaderDefect)), None)
    if named_group is not None:
        return _Field(mailboxes, f"the sender's address is ambiguous ({name} is a group, {_short(named_group)!r})")
    if invalid:
        return _Field(mailboxes, f"the sender's address is malformed ({name}: {invalid})")
    if len(mailboxes) > 1:
        return _Field(mailboxes, f"the sender's address is ambiguous ({_count(len(mailboxes))} addresses in {name})")
    if not mailboxes:
        return _Field(problem=f"the sender's address is malformed (no address in {name})")
    wrong = _wrong_address(mailboxes[0])
    return _Field(mailboxes, f"the sender's address is malformed ({name}: {wrong})" if wrong else None)


def _wrong_address(address: Address) -> str | None:
    if not address.username or not address.domain:
        return "no local part or no domain"
    text = _address(address)
    if text is None:
        return "a domain that is not a valid internet name"
    if len(text) > MAX_ADDRESS:
        return f"longer than {MAX_ADDRESS} characters"
    if _UNSAFE_IN_ADDRESS.search(text):
        return "spaces, quotes or control characters in the address"
    return None


def _address(address: Address) -> str | None:
    """local@domain, lower-cased, the domain as IDNA ASCII; None when the domain cannot be."""
    domain = address.domain.strip().rstrip(".")
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        return None
    return f"{address.username}@{ascii_domain}".lower()


def _name(address: Address) -> str | None:
    name = " ".join(_CONTROL.sub(" ", address.display_name or "").split())
    return name or None


def _unfold(value: str) -> str:
    """RFC 5322 unfolding: remove the line breaks, keep the whitespace that follows them."""
    return _FOLD.sub("", value)


def _count(n: int) -> str:
    return {2: "two", 3: "three"}.get(n, str(n))


def _short(text: str) -> str:
    return text if len(text) <= 60 else f"{text[:57]}..."
