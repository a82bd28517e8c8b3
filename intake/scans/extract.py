"""Facts from a letter's text: who wrote it, where to write back, how else to reach them, and any
of our references they quote. OCR text is messy, so every rule here tolerates the usual misreads
(O for 0, I or l for 1) where the position makes the intended character certain."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Collection, Sequence

# A UK postcode: outward code (A9, A9A, A99, AA9, AA9A, AA99), a space, inward code (9AA).
WELL_FORMED = re.compile(r"(?P<outward>[A-Z]{1,2}[0-9][A-Z0-9]?) (?P<inward>[0-9][A-Z]{2})")
# What OCR may have made of one: letters and digits it confuses (O/0, I/l/1, S/5, B/8) in any
# position, the space lost. Only a candidate: see accept_postcode for when it is believed.
_ANY = "[A-Z0-9]"
POSTCODE = re.compile(rf"(?<![A-Za-z0-9])(?P<outward>[A-Za-z0158]{{1,2}}{_ANY}{_ANY}?)\s?(?P<inward>{_ANY}[A-Za-z0158]{{2}})(?![A-Za-z0-9])",
                      re.IGNORECASE)
_CONFUSED = {"O": "O0", "0": "O0", "I": "I1", "L": "L1", "1": "I1", "S": "S5", "5": "S5", "B": "B8", "8": "B8"}
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\d+])(?:\+44\s?(?:\(0\)\s?)?|0)\d[\d ()-]{7,13}\d(?!\d)")
SIGN_OFF = re.compile(
    r"^\s*(yours\s+(sincerely|faithfully|truly)|kind\s+regards|best\s+regards|regards|best\s+wishes|"
    r"many\s+thanks|thank\s+you|thanks)\b[\s,.]*$",
    re.IGNORECASE,
)
NAME = re.compile(r"^(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Rev)\.?\s+)?[A-Z][A-Za-z'’.-]*(?:\s+[A-Z][A-Za-z'’.-]*){0,4}$")
NOT_ADDRESS = re.compile(
    r"^(dear|re:|ref|our ref|your ref|tenancy|date|tel|phone|mobile|email|e-mail)\b|@|"
    r"\b\d{1,2}(st|nd|rd|th)?\s+(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sept?(ember)?|oct(ober)?|"
    r"nov(ember)?|dec(ember)?)\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    re.IGNORECASE,
)
LABEL = re.compile(r"^(from|address|sender|name)\s*:\s*", re.IGNORECASE)
MAX_ADDRESS_LINES = 7
ADDRESS_WORDS_WITH_A_STOP = 4
COLUMN_GAP = re.compile(r"\s{3,}")
MAX_ADDRESS_LINE_CHARS = 60


SALUTATION = re.compile(r"^\s*(dear\b|to\s+whom\s+it\s+may\s+concern|(dear\s+)?sir\s*(/|or)\s*madam)", re.IGNORECASE)
HEADER_LINES_WITHOUT_SALUTATION = 15  # no "Dear …": the address can only be in the letter's first lines


@dataclass(frozen=True)
class LetterFacts:
    name: str | None
    postal_address: list[str] | None
    postcode: str | None
    email: str | None
    phone: str | None
    references: list[str] = field(default_factory=list)
    # A postcode-like word at the end of an address line that is not a well-formed postcode and that
    # no repair turns into a known one, as written: the address must be confirmed by a person.
    unsure_postcode: str | None = None


def letter_facts(
    text: str,
    own_address: Sequence[str] = (),
    own_email: str = "",
    own_phone: str = "",
    references=None,
    known_postcodes: Collection[str] = (),
) -> LetterFacts:
    """What the letter says about its writer. ``references`` is a casework References (optional);
    ``known_postcodes`` the landlord's stock list postcodes (normalised, "NM1 2AB"), which alone make
    an OCR-repaired postcode believable."""
    lines = [line.strip() for line in text.splitlines()]
    known = frozenset(known_postcodes)
    address = find_address(lines, own_address, known)
    ours = references.find(fix_reference_digits(text, references.ocr_pattern())) if references is not None else []
    return LetterFacts(
        name=find_name(lines, address),
        postal_address=address,
        postcode=_postcode_of(address, known),
        email=find_email(text, own_email),
        phone=find_phone(text, own_phone),
        references=ours,
        unsure_postcode=None if address else find_unsure_postcode(lines, own_address, known),
    )


# -- postcodes -----------------------------------------------------------------------------------


def accept_postcode(written: str, known: Collection[str] = ()) -> str | None:
    """``written`` as a postcode ("SW1A 1AA"), or None. Believed as written when it is well formed
    (any case, one space between the two parts); otherwise only when a repair of OCR's usual misreads
    (O/0, I/L/1, S/5, B/8, a lost space) gives exactly one postcode that is in ``known`` (the stock
    list), and when at least one digit survived as written: a word is never repaired into a postcode,
    "WELCOME" is not WE1C 0ME, "Close" not C1 0SE, whatever the stock list holds."""
    squeezed = " ".join(written.upper().split())
    if WELL_FORMED.fullmatch(squeezed):
        return squeezed
    if not any(ch.isdigit() for ch in squeezed):
        return None
    found = {code for code in _repairs(squeezed.replace(" ", "")) if code in known}
    return found.pop() if len(found) == 1 else None


def _repairs(compact: str) -> set[str]:
    if not 5 <= len(compact) <= 7:
        return set()
    spellings = [""]
    for char in compact:
        spellings = [start + alt for start in spellings for alt in _CONFUSED.get(char, char)]
    spaced = (f"{word[:-3]} {word[-3:]}" for word in spellings)
    return {code for code in spaced if WELL_FORMED.fullmatch(code)}


def find_postcode(line: str, known: Collection[str] = ()) -> str | None:
    """The postcode that ends ``line`` (trailing punctuation aside), or None. Only the end of a line
    counts: in an address block the postcode ends its line; a word inside a sentence never does."""
    match = _last_candidate(line)
    return accept_postcode(match.group(0), known) if match else None


def _last_candidate(line: str) -> re.Match[str] | None:
    matches = list(POSTCODE.finditer(line))
    if not matches or line[matches[-1].end():].strip(" .,;") or not _plausible_line(line):
        return None
    return matches[-1]


# -- where the address is ------------------------------------------------------------------------


def address_zones(lines: list[str]) -> list[list[int]]:
    """The line numbers where a writer's address can be, in the order they are searched: above the
    salutation (the address blocks, top left or top right; OCR gives a right-aligned block as lines
    before "Dear"), then below the sign-off (an address written under the name)."""
    salutation = next((i for i, line in enumerate(lines) if SALUTATION.match(line)), None)
    header_end = salutation if salutation is not None else min(len(lines), HEADER_LINES_WITHOUT_SALUTATION)
    sign_off = next((i for i, line in enumerate(lines) if i >= header_end and SIGN_OFF.match(line)), None)
    zones = [list(range(0, header_end))]
    if sign_off is not None:
        zones.append(list(range(sign_off + 1, len(lines))))
    return zones


def find_address(lines: list[str], own_address: Sequence[str] = (), known: Collection[str] = ()) -> list[str] | None:
    """The first address block, in the places an address is written, that ends with a postcode we
    believe and is not the landlord's own."""
    own_postcodes = {code for code in (find_postcode(line) for line in own_address) if code}
    own_lines = {_key(line) for line in own_address}
    for zone in address_zones(lines):
        for index in zone:
            postcode = find_postcode(lines[index], known)
            if postcode is None:
                continue
            block = _block_ending_at(lines, index, zone[0], postcode, known)
            if not _is_own(block, postcode, own_postcodes, own_lines, known):
                return block
    return None


def find_unsure_postcode(lines: list[str], own_address: Sequence[str] = (), known: Collection[str] = ()) -> str | None:
    """A damaged postcode ending an address line (it has a digit, where a postcode has one, and reads
    as none we believe), as written; None when there is none."""
    own = {_key(line) for line in own_address}
    for zone in address_zones(lines):
        for index in zone:
            match = _last_candidate(lines[index])
            if match and _key(lines[index]) not in own and _looks_damaged(match.group(0)):
                return " ".join(match.group(0).split())
    return None


def _looks_damaged(written: str) -> bool:
    compact = written.replace(" ", "")
    return any(ch.isdigit() for ch in compact) and any(ch.isalpha() for ch in compact)


def _block_ending_at(lines: list[str], index: int, first: int, postcode: str, known: Collection[str]) -> list[str]:
    """The address lines above (and including) the postcode line, within its zone, one per line."""
    block = [_with_clean_postcode(lines[index], postcode)]
    blanks = 0
    for line in reversed(lines[max(first, index - 2 * MAX_ADDRESS_LINES):index]):
        if not line:
            blanks += 1
            if blanks > 1:
                break
            continue
        line = _address_part(line)
        if not _plausible_line(line) or find_postcode(line, known) or SIGN_OFF.match(line) or len(block) >= MAX_ADDRESS_LINES:
            break
        blanks = 0
        block.insert(0, LABEL.sub("", line))
    return _split_commas(block)


def _with_clean_postcode(line: str, postcode: str) -> str:
    last = _last_candidate(line)
    return (line[: last.start()] + postcode).strip()


def _plausible_line(line: str) -> bool:
    """Short, no date, label or address-less keyword, and not a sentence (a full stop ends a sentence,
    or a town written with one: "Northam." of four words or fewer)."""
    if line.endswith(".") and len(line.split()) > ADDRESS_WORDS_WITH_A_STOP:
        return False
    return len(line) <= MAX_ADDRESS_LINE_CHARS and not NOT_ADDRESS.search(line) and not line.endswith(":")


def _address_part(line: str) -> str:
    """A typed line holding two columns (the address left, a date right, far apart): its address part."""
    columns = COLUMN_GAP.split(line)
    if len(columns) == 1:
        return line
    return next((column for column in columns if _plausible_line(column)), line)


def _split_commas(block: list[str]) -> list[str]:
    parts = [part.strip(" ,.-") for line in block for part in line.split(",")]
    return [part for part in parts if part]


def _is_own(block: list[str], postcode: str, own_postcodes: set[str], own_lines: set[str], known) -> bool:
    if postcode not in own_postcodes:
        return False
    others = [_key(line) for line in block if find_postcode(line, known) is None]
    return not others or any(line in own_lines for line in others)


def _key(line: str) -> str:
    return re.sub(r"[^a-z0-9]", "", line.lower())


def _as_digits(chars: str) -> str:
    return chars.upper().replace("O", "0").replace("I", "1").replace("L", "1")


def _postcode_of(address: list[str] | None, known: Collection[str] = ()) -> str | None:
    if not address:
        return None
    return next((code for code in (find_postcode(line, known) for line in reversed(address)) if code), None)


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
