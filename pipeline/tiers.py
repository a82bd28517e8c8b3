"""Safety flags in two tiers on a case: what a classification records, and which check markers are open.

An urgent flag is a case flag (``Case.flags``: safeguarding holds the case and tops the queue; an
emergency hazard or damp and mould starts its Awaab's Law clock). A check marker is a weaker signal: the
flag is added to ``Case.checks`` and shown to staff as a line on the case ("check: possible safeguarding
concern — flagged by SG_SAVING_TABLETS: 'saving my tablets'"); it neither holds the case nor moves it.

Invariants:
* each classification of a message on the case is one CLASSIFIED event holding the urgent flags, the
  checks, the named rules that fired (id, flag, the resident's words) and any lines for staff; the
  resident's words live only there and on the page (shown as text), never in a log;
* a check is *open* until a person reclassifies the case after it was raised (``Casework.reclassify``,
  the case page's Confirm and Dismiss buttons use it): the check is then *confirmed* when the person's
  flags include it, else *dismissed*. Order is the audit trail's (event ids), never clock times, so a
  reclassification dated earlier (``--on``) still counts as having been made after the check was raised.
  A later message raising the same check opens it again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Sequence

from casework import lifecycle
from casework.models import Case, CaseEvent
from casework.vocabulary import Actor, EventAction
from classifier import Classification
from pipeline.decide import check_flags

OPEN, CONFIRMED, DISMISSED = "open", "confirmed", "dismissed"


def record_classification(case: Case, submission_id: int | None, result: Classification,
                          for_staff: Sequence[str] = ()) -> CaseEvent:
    """The CLASSIFIED event (both tiers and the rules that fired), and the checks added to the case."""
    checks = sorted(check_flags(result) - set(case.flags))
    event = lifecycle.record(
        case, Actor.CLASSIFIER, EventAction.CLASSIFIED, submission_id=submission_id,
        model_version=result.model_version, confidence=result.confidence, category=result.category,
        flags=sorted(result.flags), explanation=list(result.explanation), checks=checks,
        rules=[{"rule_id": hit.rule_id, "flag": hit.flag, "words": hit.words} for hit in result.rules],
        **({"for_staff": list(for_staff)} if for_staff else {}),
    )
    if checks:
        case.checks = sorted(set(case.checks or []) | set(checks))
    return event


@dataclass(frozen=True)
class RuleLine:
    rule_id: str
    words: str


@dataclass(frozen=True)
class CheckLine:
    """One check marker on a case, as staff see it."""

    flag: str
    state: str  # OPEN, CONFIRMED or DISMISSED
    rules: tuple[RuleLine, ...]  # the named rules that raised it (may be empty: the model alone)
    raised_at: dt.datetime  # when the classification that raised it ran
    by: str | None = None  # who confirmed or dismissed it
    decided_at: dt.datetime | None = None

    @property
    def open(self) -> bool:
        return self.state == OPEN


def check_lines(events: Iterable[CaseEvent]) -> list[CheckLine]:
    """Every check raised on the case, in the order first raised, with its state now."""
    raised: dict[str, dict] = {}
    for event in sorted(events, key=lambda e: (e.id is None, e.id or 0)):
        detail = event.detail or {}
        if event.action == EventAction.CLASSIFIED:
            for flag in detail.get("checks") or []:
                hits = tuple(RuleLine(str(hit.get("rule_id", "")), str(hit.get("words", "")))
                             for hit in detail.get("rules") or [] if hit.get("flag") == flag)
                raised[flag] = {"flag": flag, "state": OPEN, "rules": hits, "raised_at": event.at}
        elif event.action == EventAction.RECLASSIFIED:
            chosen = set(detail.get("flags") or [])
            for line in raised.values():
                if line["state"] == OPEN:
                    line.update(state=CONFIRMED if line["flag"] in chosen else DISMISSED, by=event.actor,
                                decided_at=event.at)
    return [CheckLine(**line) for line in raised.values()]


def urgent_rules(events: Iterable[CaseEvent]) -> list[tuple[str, RuleLine]]:
    """The named rules behind the urgent flags, newest classification's last: (flag, rule)."""
    found: list[tuple[str, RuleLine]] = []
    for event in events:
        detail = event.detail or {}
        if event.action != EventAction.CLASSIFIED:
            continue
        urgent = set(detail.get("flags") or [])
        found += [(hit.get("flag"), RuleLine(str(hit.get("rule_id", "")), str(hit.get("words", ""))))
                  for hit in detail.get("rules") or [] if hit.get("flag") in urgent]
    return found


def open_checks(events: Iterable[CaseEvent]) -> list[str]:
    return [line.flag for line in check_lines(events) if line.open]
