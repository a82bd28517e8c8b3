"""Facts from a letter's text: who wrote it, where to write back, how else to reach them, and any
of our references they quote. OCR text is messy, so every rule here tolerates the usual misreads
(O for 0, I or l for 1) where the position makes the intended character certain."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

# A UK postcode: outward code (A9, A9A, A99, AA9, AA9A, AA99), a space, inward code (9AA).
# Letter positions accept 0/1 and digit positions accept O/I/l: we correct them afterwards.
_L, _D = "[A-Z01]", "[0-9OIl]"
POSTCODE = re.compile(
    rf"(?<![A-Za-z0-9])(?P<area>{_L}{{1,2}})(?P<district>{_D}[A-Z0-9]?)\s?(?P<inward>{_D}[A-Z]{{2}})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\d+])(?:\+44\s?(?:\(0\)\s?)?|0)\d[\d ()-]{7,13}\d(?!\d)")
SIGN_OFF = re.compile(
    r"^\s*(yours\s+(sincerely|faithfully|truly)|kind\s+regards|best\s+regards|regards|best\s+wishes|"
    r"many\s+thanks|thank\s+you|thanks)\b[\s,.]*$",
    re.IGNORECASE,
)
NAME = re.compile(r"^(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Rev)\.?\s+)?[A-Z][A-Za-z'’.-]*(?:\s+[A-Z][A-Za-z'’.-]*){0,4}$")
NOT_ADDRESS = re.compile(
    r"^(dear|re:|ref|our ref|your ref|date|tel|phone|mobile|email|e-mail)\b|@|"
    r"\b\d{1,2}(st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    re.IGNORECASE,
)
LABEL = re.compile(r"^(from|address|sender|name)\s*:\s*", re.IGNORECASE)
MAX_ADDRESS_LINES = 7
MAX_ADDRESS_LINE_CHARS = 60


@dataclass(frozen=True)
class LetterFacts:
    name: str | None
    postal_address: list[str] | None
    postcode: str | None
    email: str | None
    phone: str | None
    references: list[str] = field(default_factory=list)


def letter_facts(
    text: str,
    own_address: Sequence[str] = (),
    own_email: str = "",
    own_phone: str = "",
    references=None,
) -> LetterFacts:
    """What the letter says about its writer. ``references`` is a casework References (optional)."""
    lines = [line.strip() for line in text.splitlines()]
    address = find_address(lines, own_address)
    ours = references.find(fix_reference_digits(text, references.ocr_pattern())) if references is not None else []
    return LetterFacts(
        name=find_name(lines, address),
        postal_address=address,
        postcode=_postcode_of(address),
        email=find_email(text, own_email),
        phone=find_phone(text, own_phone),
        references=ours,
    )


# -- postcodes and the address block -------------------------------------------------------------


def normalise_postcode(match: re.Match[str]) -> str:
    """The postcode in canonical form, with OCR misreads corrected by position."""
    area = _as_letters(match.group("area"))
    district = match.group("district").upper()
    district = _as_digits(district[0]) + district[1:]
    inward = match.group("inward").upper()
    return f"{area}{district} {_as_digits(inward[0])}{inward[1:]}"


def _as_letters(chars: str) -> str:
    return chars.upper().replace("0", "O").replace("1", "I")


def _as_digits(chars: str) -> str:
    return chars.upper().replace("O", "0").replace("I", "1").replace("L", "1")


def find_postcode(line: str) -> str | None:
    matches = list(POSTCODE.finditer(line))
    return normalise_postcode(matches[-1]) if matches else None


def find_address(lines: list[str], own_address: Sequence[str] = ()) -> list[str] | None:
    """The first address block that ends with a postcode and is not the landlord's own."""
    own_postcodes = {code for code in map(find_postcode, own_address) if code}
    own_lines = {_key(line) for line in own_address}
    for index, line in enumerate(lines):
        postcode = find_postcode(line)
        if postcode is None or not _plausible_line(line):
            continue
        block = _block_ending_at(lines, index, postcode)
        if not _is_own(block, postcode, own_postcodes, own_lines):
            return block
    return None


def _block_ending_at(lines: list[str], index: int, postcode: str) -> list[str]:
    """The address lines above (and including) the postcode line, written out one per line."""
    block = [_with_clean_postcode(lines[index], postcode)]
    blanks = 0
    for line in reversed(lines[max(0, index - 2 * MAX_ADDRESS_LINES):index]):
        if not line:
            blanks += 1
            if blanks > 1:
                break
            continue
        if not _plausible_line(line) or find_postcode(line) or len(block) >= MAX_ADDRESS_LINES:
            break
        blanks = 0
        block.insert(0, LABEL.sub("", line))
    return _split_commas(block)


def _with_clean_postcode(line: str, postcode: str) -> str:
    matches = list(POSTCODE.finditer(line))
    last = matches[-1]
    return (line[: last.start()] + postcode + line[last.end():]).strip()


def _plausible_line(line: str) -> bool:
    return len(line) <= MAX_ADDRESS_LINE_CHARS and not NOT_ADDRESS.search(line) and not line.endswith((".", ":"))


def _split_commas(block: list[str]) -> list[str]:
    parts = [part.strip(" ,-") for line in block for part in line.split(",")]
    return [part for part in parts if part]


def _is_own(block: list[str], postcode: str, own_postcodes: set[str], own_lines: set[str]) -> bool:
    if postcode not in own_postcodes:
        return False
    others = [_key(line) for line in block if find_postcode(line) is None]
    return not others or any(line in own_lines for line in others)


def _key(line: str) -> str:
    return re.sub(r"[^a-z0-9]", "", line.lower())


def _postcode_of(address: list[str] | None) -> str | None:
    if not address:
        return None
    return next((code for code in map(find_postcode, reversed(address)) if code), None)


# -- the writer's name ---------------------------------------------------------------------------


def find_name(lines: list[str], address: list[str] | None) -> str | None:
    """The name under the sign-off, else the first address line when it reads as a name."""
    for index, line in enumerate(lines):
        if SIGN_OFF.match(line):
            name = _name_after(lines[index + 1: index + 5])
            if name:
                return name
    if address and _looks_like_name(address[0]):
        return address[0]
    return None


def _name_after(lines: list[str]) -> str | None:
    candidates = [line.strip(" ,.") for line in lines if line.strip()]
    return next((line for line in candidates[:3] if _looks_like_name(line)), None)


def _looks_like_name(line: str) -> bool:
    return 2 <= len(line) <= 60 and not any(ch.isdigit() for ch in line) and bool(NAME.match(line))


# -- email, phone, references --------------------------------------------------------------------


def find_email(text: str, own_email: str = "") -> str | None:
    own = own_email.lower()
    found = [email.lower().strip(".") for email in EMAIL.findall(text)]
    return next((email for email in found if email != own), None)


def find_phone(text: str, own_phone: str = "") -> str | None:
    own = _digits(own_phone)
    for match in PHONE.finditer(text):
        digits = _digits(match.group())
        if _valid_uk_number(digits) and digits != own:
            return " ".join(match.group().split())
    return None


def _digits(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    if digits.startswith("440"):
        digits = digits[2:]
    elif digits.startswith("44"):
        digits = "0" + digits[2:]
    return digits


def _valid_uk_number(digits: str) -> bool:
    return digits.startswith("0") and len(digits) in (10, 11) and digits[1] in "123578"


def fix_reference_digits(text: str, shape: re.Pattern[str]) -> str:
    """Correct O/I/l misread as digits in the year and number of every reference ``shape`` matches
    (``References.ocr_pattern()``: our prefixes, in the configured format), e.g. CMP-2O26-0O0123.
    Everything outside those two parts, the prefix and separators included, is left as it was."""
    return shape.sub(_digits_in_year_and_number, text)


def _digits_in_year_and_number(match: re.Match[str]) -> str:
    whole, offset, last = match.group(0), match.start(), 0
    pieces: list[str] = []
    spans = sorted(match.span(name) for name in ("year", "number") if name in match.re.groupindex)
    for start, end in (span for span in spans if span[0] >= 0):
        pieces += [whole[last:start - offset], _as_digits(whole[start - offset:end - offset])]
        last = end - offset
    return "".join(pieces) + whole[last:]
