"""The text the model sees: subject + new text, cleaned and normalised the same way at train and classify time.

Quoted history, signatures and disclaimers are separated by the same rules the pipeline uses
(text.quoting), so the corpus and staff corrections are read exactly as live mail is: a reply's quoted
history is dropped, a forward's content is kept. The pipeline passes its new text already split; splitting
again changes nothing. Our own acknowledgement sentences are also removed if a resident pastes them, so a
resident's "thanks, received" above our acknowledgement of their complaint is not read as a complaint.

``prepare`` is idempotent: ``prepare("", prepare(s, b)) == prepare(s, b)``, so the prepared text
stored with a staff correction can be fed back through it for training.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from casework.references import References
from core.settings import ReferenceSettings
from text.quoting import split_reply

# Anyone's reference (ours, a contractor's, a tribunal's) in the shape of the default reference format,
# as casework.references defines it. Built from the defaults, never the running settings: the model must
# read the same text at train and classify time whatever format a landlord configures.
REFERENCE_SHAPE = References(ReferenceSettings()).lookalike_pattern()

# The most of a message the classifier reads (subject + new text): far beyond any real complaint (the
# training corpus's longest is a few thousand), and small enough that no pattern below costs much on it.
MAX_CLASSIFIED_CHARS = 20_000

# Sentences of our own acknowledgements, in case a resident pastes or quotes them unmarked.
_OUR_BOILERPLATE = re.compile(
    r"(?:"
    r"we have received your (?:complaint|message|letter|email|request|compliment|feedback)[^.\n]*[.\n]"
    rf"|your reference (?:number )?is\s+(?:{REFERENCE_SHAPE.pattern})[^.\n]*[.\n]?"
    r"|a member of (?:our|the) team will (?:contact|be in touch with) you[^.\n]*[.\n]?"
    r"|this is an automated (?:acknowledgement|message|response)[^.\n]*[.\n]?"
    r"|please (?:quote|use) (?:this|your|the) reference[^.\n]*[.\n]?"
    r"|we will respond (?:to you )?within \d+ working days[^.\n]*[.\n]?"
    r")"
)  # no IGNORECASE: normalise() lower-cases the text first

_SALUTATION = re.compile(r"^\s*(?:dear|to whom it may concern|annwyl|szanown\w*)\b", re.IGNORECASE)
_LETTERHEAD_LINES = 25  # a salutation further down than this is not a letter's opening
_ADDRESS_LINE_WORDS = 6

# An address starts where a run of the characters an address may hold starts (the lookbehind), so the
# pattern is tried once per run, not at every dot in it: "a.a.a.…@" of 20,000 characters took 0.8 s,
# a megabyte of it half an hour. ``lead`` keeps the punctuation before the first letter, as ``\b`` did.
_EMAIL = re.compile(r"(?<![\w.+'-])(?P<lead>[.+'-]*+)\b[\w.+'-]++@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(
    r"(?<![\w])(?:\+44\s?\(?0?\)?\s?|\(?0)\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}(?![\w])"
)
_URL = re.compile(r"\b(?:https?://|www\.)\S+")

# Light OCR repair for scanned letters.
_LIGATURES = str.maketrans({"ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "’": "'", "‘": "'",
                            "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " ", "|": "l"})
_HYPHEN_BREAK = re.compile(r"(\w)-\s*\n\s*(\w)")  # "mo-\nuld" -> "mould"
_DIGIT_IN_WORD = re.compile(r"(?<=[a-z])[015](?=[a-z])")  # "m0uld", "b1ock", "5" inside words
_DIGIT_REPAIR = {"0": "o", "1": "l", "5": "s"}
_SPLIT_OCR = re.compile(r"\brn(?=[aeiou])")  # rare; kept narrow: word-initial "rn" before a vowel -> "m"
_LONE_L = re.compile(r"(?<![\w'])l(?![\w'])")  # OCR reads the pronoun "I" as "l"
_SUSPECT_WORD = re.compile(r"\b\w*(?:rn|[015])\w*\b")
# Words a repair may produce ("srnel1" -> "smell", "rny" -> "my", "sorneone" -> "someone"): a repair that
# does not land on one of these is not made, so real words ("burn", "turn") and codes ("e119") stay.
_REPAIRABLE = frozenset("""
smell smells smelt smelling smoke mould mouldy mildew damp moisture some someone something sometimes more room rooms
home homes time times mum mother warm come came coming from form him them me my am im mr mrs ms mrs. small gas leak
leaking heating boiler ceiling wall walls still will all call called calling tell told help please electric electrics
cold old flat floor toilet window windows children elderly complaint complain complained landlord email number family
problem problems immediately emergency alarm plumber damage summer storm harm term tomorrow month months moment most
must much mouse mice mess message meter also last less lost was is has his this yes so sent since sink safe safety
sorry sort sorted soon son social smelly name same terrible remove removed normal formal home. mould. team member
system systems alarm alarms asthma lungs mouldy smells someone's immediate medical disabled unable clean cleaned lock
locked sometime almost made make making mean means meant may maybe might mind mine
""".split())
# ... and the words the training corpus uses often (scripts/make_ocr_words.py writes the list).
_KNOWN_WORDS = _REPAIRABLE | frozenset(
    (Path(__file__).parent / "data" / "ocr-words.txt").read_text(encoding="utf-8").split())
_ANY_DIGIT = re.compile(r"\d")


def prepare(subject: str, new_text: str, references: re.Pattern[str] = REFERENCE_SHAPE) -> str:
    """Subject + new text, with history, a letter's address block and our boilerplate removed, lower-cased
    and masked; at most the first MAX_CLASSIFIED_CHARS characters of it (bounded work: what the rules and
    the model read never grows with what a sender sends; the cut output is shorter than the cut input, so
    preparing it again cuts nothing). ``references`` is what counts as a reference to mask: leave it as the default for anything
    the model reads, or the text no longer matches what the model was trained on."""
    body = drop_letterhead(split_reply(new_text or "").new_text)
    text = f"{subject or ''}\n{body}"[:MAX_CLASSIFIED_CHARS]
    return normalise(text, references)[: MAX_CLASSIFIED_CHARS - 1].rstrip()


def drop_letterhead(text: str) -> str:
    """A letter's addresses and date, the short lines above "Dear …": who and where, never what it is about.

    Left in, they teach the model the landlord's own name and address block rather than the resident's words.
    """
    lines = text.splitlines()
    for i, line in enumerate(lines[:_LETTERHEAD_LINES]):
        if _SALUTATION.match(line):
            head = [h for h in lines[:i] if h.strip()]
            if head and all(len(h.split()) <= _ADDRESS_LINE_WORDS for h in head):
                return "\n".join(lines[i:])
            break
    return text


def normalise(text: str, references: re.Pattern[str] = REFERENCE_SHAPE) -> str:
    """Each substitution runs only when the cheap test says it could change something: every message
    passes through here, and most have no URL, no OCR damage and no hyphen at a line break."""
    text = unicodedata.normalize("NFKC", text).translate(_LIGATURES).lower()
    if "-" in text:
        text = _HYPHEN_BREAK.sub(r"\1\2", text)
    text = _OUR_BOILERPLATE.sub(" ", text)
    if "http" in text or "www." in text:
        text = _URL.sub(" urltok ", text)
    if "@" in text:
        text = _EMAIL.sub(lambda m: m["lead"] + " emailtok ", text)
    has_digit = _ANY_DIGIT.search(text) is not None
    if has_digit:
        text = references.sub(" reftok ", text)
        text = _PHONE.sub(" phonetok ", text)
        text = _DIGIT_IN_WORD.sub(lambda m: _DIGIT_REPAIR[m.group(0)], text)
    if "rn" in text:
        text = _SPLIT_OCR.sub("m", text)
    if has_digit or "rn" in text:
        text = _SUSPECT_WORD.sub(_repair_word, text)
    text = _LONE_L.sub("i", text)
    return " ".join(text.split())


def _repair_word(match: re.Match[str]) -> str:
    word = match.group(0)
    if word in _KNOWN_WORDS:
        return word
    digits = word.translate(_DIGITS)
    for candidate in (word.replace("rn", "m"), digits, digits.replace("rn", "m")):
        if candidate in _KNOWN_WORDS:
            return candidate
    return word


_DIGITS = str.maketrans(_DIGIT_REPAIR)
