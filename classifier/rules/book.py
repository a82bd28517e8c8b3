"""The phrase rules as data: classifier/rules/*.toml, loaded and compiled once, at first use.

Each ``[[rule]]`` entry names one rule: ``id`` (e.g. SG_SAVING_TABLETS), the ``flag`` it raises, its
``language``, the ``pattern`` (a regular expression over lower-cased text), the ``examples`` it must
match and the ``lookalikes`` it must not (tests/classifier/test_rule_book.py runs every one), and
optionally ``when`` (a condition in conditions.toml that must also be found in the text) and
``negatable`` (a match denied by the words around it does not count: "no damp", "the mould has gone").
Patterns may use two placeholders: ``<w:N>`` (up to N words between two phrases) and ``<relative>``.

Invariants:
- Bounded work: every message passes, per flag, one combined pattern (the alternatives grouped by the
  letter they can start with, so at each word the engine only tries those that could match there); a
  rule's own pattern is tried only at a position where the combined one matched, to name the rule. The
  text is at most ``classifier.text.MAX_CLASSIFIED_CHARS`` long (``prepare`` cuts it).
- A rule id is unique; a rule's flag is a casework.vocabulary.Flag value; every ``when`` names a condition.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

try:  # Python 3.11+
    from re import _constants as sre, _parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_constants as sre
    import sre_parse

from casework.vocabulary import Flag

from classifier import RuleHit

RULES_DIR = Path(__file__).parent
_GAP = r"(?:\W+\w+){0,%d}\W+"  # <w:N>: up to N words between two phrases
_FLAGS = {f.value for f in Flag}
_MAX_WORDS = 80  # a RuleHit's words are cut to this many characters


class RuleBookError(ValueError):
    """A rules file is malformed: the message names the file and the rule."""


@dataclass(frozen=True)
class Rule:
    id: str
    flag: str
    language: str
    pattern: str  # as written, placeholders and all
    examples: tuple[str, ...]
    lookalikes: tuple[str, ...]
    when: str | None = None
    negatable: bool = False
    regex: re.Pattern[str] | None = None  # the pattern with placeholders expanded, compiled


@dataclass(frozen=True)
class _Group:
    """The rules of one flag that share a condition (or none): one combined pattern finds where any fires."""

    flag: str
    when: str | None
    negatable: bool
    combined: re.Pattern[str]
    rules: tuple[Rule, ...]


class RuleBook:
    def __init__(self, rules: list[Rule], conditions: dict[str, re.Pattern[str]]) -> None:
        self.rules = tuple(rules)
        self.conditions = conditions
        keys: dict[tuple[str, str | None, bool], list[Rule]] = {}
        for rule in rules:
            keys.setdefault((rule.flag, rule.when, rule.negatable), []).append(rule)
        self._groups = tuple(_Group(flag, when, negatable, combine([r.regex.pattern for r in members]), tuple(members))
                             for (flag, when, negatable), members in keys.items())

    def hits(self, text: str) -> tuple[RuleHit, ...]:
        """The rules that fire on this lower-cased text, in file order of their groups then text order."""
        found: list[RuleHit] = []
        conditions: dict[str, bool] = {}
        for group in self._groups:
            seen: set[str] = set()
            for match in group.combined.finditer(text):
                if group.negatable and negated(text, match):
                    continue
                if group.when is not None:
                    if group.when not in conditions:
                        conditions[group.when] = self.conditions[group.when].search(text) is not None
                    if not conditions[group.when]:
                        break
                rule, words = _which(group.rules, text, match.start())
                if rule is not None and rule.id not in seen:
                    seen.add(rule.id)
                    found.append(RuleHit(rule.id, rule.flag, words[:_MAX_WORDS]))
        return tuple(found)

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


def _which(rules: tuple[Rule, ...], text: str, position: int) -> tuple[Rule | None, str]:
    """The first rule whose own pattern matches at this position, and the words it matched."""
    for rule in rules:
        match = rule.regex.match(text, position)
        if match:
            return rule, match.group(0).strip()
    return None, ""


# Damp and mould that the words around deny, or an everyday object ("damp cloth", "moulded skirting").
_NEGATED_BEFORE = re.compile(r"\b(?:no|not|without|free of|never had|never any|no more|no sign of|"
                             r"no signs of|no longer)\W+(?:\w+\W+){0,2}$")
_NEGATED_AFTER = re.compile(r"^\W*(?:\w+\W+){0,3}?(?:has|have|is|are|was)?\W*(?:all )?(?:gone|been "
                            r"(?:fixed|treated|sorted|removed|resolved|cleared|cleaned|dealt with))")
_NOT_THE_THING = re.compile(r"\b(?:damp (?:cloth|sponge|towel)|mould(?:ed|ing)? (?:plastic|skirting|trim))\b")


def negated(text: str, match: re.Match[str]) -> bool:
    """Whether the words just before or after this match deny it, or it names an everyday object."""
    if _NOT_THE_THING.match(text, match.start()):
        return True
    before = text[max(0, match.start() - 40): match.start()]
    after = text[match.end(): match.end() + 50]
    return bool(_NEGATED_BEFORE.search(before) or _NEGATED_AFTER.search(after))


@functools.cache
def rule_book(directory: Path = RULES_DIR) -> RuleBook:
    """Every rule in directory/*.toml, compiled; loaded once per directory."""
    conditions_path = directory / "conditions.toml"
    conditions_data = _read(conditions_path) if conditions_path.exists() else {}
    placeholders = {"w": None, **conditions_data.get("placeholders", {})}
    expand = functools.partial(_expand, placeholders=placeholders)
    conditions = {c["id"]: combine([expand(p) for p in c["patterns"]]) for c in conditions_data.get("condition", [])}
    rules: list[Rule] = []
    for path in sorted(directory.glob("*.toml")):
        for entry in _read(path).get("rule", []):
            rules.append(_rule(path, entry, expand, conditions))
    duplicated = sorted({r.id for r in rules if sum(s.id == r.id for s in rules) > 1})
    if duplicated:
        raise RuleBookError(f"rule ids used more than once: {duplicated}")
    return RuleBook(rules, conditions)


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleBookError(f"{path.name}: {exc}") from exc


def _rule(path: Path, entry: dict, expand, conditions: dict) -> Rule:
    rule_id = entry.get("id", "?")
    try:
        flag, pattern = entry["flag"], entry["pattern"]
        if flag not in _FLAGS:
            raise RuleBookError(f"unknown flag {flag!r}")
        when = entry.get("when")
        if when is not None and when not in conditions:
            raise RuleBookError(f"unknown condition {when!r}")
        return Rule(id=rule_id, flag=flag, language=entry["language"], pattern=pattern,
                    examples=tuple(entry.get("examples", ())), lookalikes=tuple(entry.get("lookalikes", ())),
                    when=when, negatable=bool(entry.get("negatable", False)), regex=re.compile(expand(pattern)))
    except (KeyError, re.error, RuleBookError) as exc:
        raise RuleBookError(f"{path.name}, rule {rule_id}: {exc}") from exc


def _expand(pattern: str, placeholders: dict) -> str:
    pattern = re.sub(r"<w:(\d+)>", lambda m: _GAP % int(m.group(1)), pattern)
    for name, value in placeholders.items():
        if value is not None:
            pattern = pattern.replace(f"<{name}>", value)
    return pattern


def combine(patterns: list[str]) -> re.Pattern[str]:
    """One pattern matching any of these, in lower-case text (the caller lower-cases it).

    Speed matters (every message passes every rule): the alternatives that start at a word boundary share
    one leading \\b, and are grouped by the letter they can start with, so at each word the engine only
    tries the alternatives that could match there; and nothing is matched with IGNORECASE.
    """
    at_word = [p.removeprefix(r"\b") for p in patterns if p.startswith(r"\b")]
    elsewhere = [f"(?:{p})" for p in patterns if not p.startswith(r"\b")]
    if not at_word:
        return re.compile("|".join(elsewhere))
    by_letter: dict[str, list[str]] = {}
    anywhere: list[str] = []
    for p in (a for whole in at_word for a in _alternatives(whole)):
        letters = _first_letters(p)
        for letter in letters or ():
            by_letter.setdefault(letter, []).append(p)
        if not letters:
            anywhere.append(p)
    groups = [_letter_group(c, ps) for c, ps in sorted(by_letter.items())]
    groups += [f"(?:{p})" for p in anywhere]
    return re.compile("|".join([r"\b(?:" + "|".join(groups) + ")"] + elsewhere))


def _alternatives(pattern: str) -> list[str]:
    """The pattern as a list of alternatives that match, tried in order, exactly what it matches: its top-level
    ``|`` split, and a leading group's alternatives distributed over what follows it
    (``(?:damp|mould)s?\\b`` -> ``damps?\\b``, ``moulds?\\b``), so each can be filed under its own first letter."""
    found = []
    for branch in _split_top(pattern):
        close = _group_end(branch) if branch.startswith("(?:") else None
        inner = _split_top(branch[3:close]) if close is not None else [branch]
        suffix = branch[close + 1:] if close is not None else ""
        if close is None or suffix[:1] in ("?", "*", "+", "{"):
            found.append(branch)
        else:
            found.extend(f"{a}{suffix}" for a in inner)
    return found


def _split_top(pattern: str) -> list[str]:
    """The pattern split at its top-level ``|`` (not inside a group or a character class, not escaped)."""
    parts, start = [], 0
    for i, c, depth in _structure(pattern):
        if c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    return parts + [pattern[start:]]


def _group_end(pattern: str) -> int | None:
    """The index of the ``)`` closing the group that opens at index 0."""
    return next((i for i, c, depth in _structure(pattern) if c == ")" and depth == 0), None)


def _structure(pattern: str) -> Iterator[tuple[int, str, int]]:
    """Each character of the pattern that is neither escaped nor inside a character class, with its index
    and the depth of groups open after it (a ``(`` counts in its own depth, a ``)`` no longer does)."""
    depth, i = 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _class_end(pattern, i) + 1
            continue
        depth += (c == "(") - (c == ")")
        yield i, c, depth
        i += 1


def _class_end(pattern: str, start: int) -> int:
    """The index of the ``]`` closing the character class that opens at ``start``."""
    i = start + 1
    if pattern[i:i + 1] == "^":
        i += 1
    if pattern[i:i + 1] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i


def _letter_group(letter: str, patterns: list[str]) -> str:
    """The alternatives that start with this letter, in order. When each begins with the letter itself, the
    letter is written once in front, consumed (``s(?:aving my tablets|elf.harm)``): the engine then tries the
    group only where the letter is, by a quick comparison; a lookahead ``(?=s)`` is tried in full at every
    word. Both forms match the same text at the same places."""
    rests = [_after_letter(p, letter) for p in patterns]
    if all(r is not None for r in rests):
        return f"{re.escape(letter)}(?:{'|'.join(f'(?:{r})' for r in rests)})"
    return f"(?={re.escape(letter)})(?:{'|'.join(f'(?:{p})' for p in patterns)})"


def _after_letter(pattern: str, letter: str) -> str | None:
    """The pattern without its first character when that is the literal ``letter`` itself (a letter or digit,
    not repeated); otherwise None. ``_alternatives`` leaves no top-level ``|``, so the first character is
    then the pattern's first item, and the rest matches what follows it."""
    if not (letter.isalnum() and pattern.startswith(letter)) or pattern[1:2] in ("?", "*", "+", "{"):
        return None
    return pattern[1:]


def _first_letters(pattern: str) -> set[str] | None:
    """The characters a match of this pattern can start with, or None when that is not simple to tell."""
    try:
        return _first_of(sre_parse.parse(pattern).data)
    except Exception:  # an internal parser we only use to go faster: never let it decide correctness
        return None


def _first_of(items) -> set[str] | None:
    for op, av in items:
        if op is sre.AT:  # a zero-width assertion such as \b: look at what follows
            continue
        if op is sre.LITERAL:
            return {chr(av)}
        if op is sre.SUBPATTERN:
            return _first_of(av[-1])
        if op is sre.BRANCH:
            firsts = [_first_of(branch) for branch in av[1]]
            return None if any(f is None for f in firsts) else set().union(*firsts)
        if op is sre.MAX_REPEAT and av[0] > 0:
            return _first_of(av[2])
        if op is sre.IN and all(kind is sre.LITERAL for kind, _ in av):
            return {chr(code) for _, code in av}
        return None
    return None
