"""The case lifecycle: every change to a case, with the clocks it sets and the audit event it records.

Everything that changes a case goes through a function here (the pipeline, the sender and printer,
the clock job and the staff verbs in ``casework.actions`` alike), so each change leaves exactly one
event in the audit trail saying who (an ``Actor`` or a staff login), what (an ``EventAction``) and
when it really happened (``at``; ``recorded_at`` is when it was written down).

Clock invariants:
* one clock of each ``ClockKind`` per case; a clock is met once (``met_at``) and never un-met except
  by ``reopen`` or a new stage, which start it again;
* the acknowledgement clock of a stage is met only by an acknowledgement of that stage's complaint
  (sent, handed to print, or made another way) — a neutral acknowledgement logs receipt but does
  not set out the complaint;
* the response clock counts from that acknowledgement (unless the policy counts from receipt), so
  it is started by ``acknowledged``, not when the acknowledgement is queued.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any, Iterable

from sqlalchemy.orm import Session

from casework.models import Case, CaseEvent, Clock, Property, utcnow
from casework.policy import ClockSpec, Policy
from casework.references import References
from core.errors import ActionRefused
from casework.vocabulary import (
    ACK_CLOCKS, ACKNOWLEDGEMENTS, RESPONSE_CLOCKS, AckKind, Actor, Adjustment, CaseStatus, Category, ClockKind, EventAction,
    Flag, Language, Stage,
)

PRIORITY = {Flag.SAFEGUARDING: 100, Flag.EMERGENCY_HAZARD: 90, Flag.DAMP_MOULD: 50}
HELD_PRIORITY = 10
COMPLAINT_ACKS = {AckKind.COMPLAINT_STAGE1: Stage.ONE, AckKind.COMPLAINT_STAGE2: Stage.TWO}


def priority_for(flags: Iterable[str], held: bool) -> int:
    """Higher sorts first in the staff queue: safeguarding, then emergencies, then damp and mould."""
    score = max((PRIORITY.get(flag, 0) for flag in flags), default=0)
    return max(score, HELD_PRIORITY if held else 0)


def record(
    case: Case, actor: str, action: EventAction, *, at: dt.datetime | None = None, submission_id: int | None = None,
    model_version: str | None = None, confidence: float | None = None, **detail: Any,
) -> CaseEvent:
    """Append one audit event; ``at`` is when it happened (default now), recorded now."""
    now = utcnow()
    event = CaseEvent(
        actor=str(actor), action=EventAction(action).value, detail=_jsonable(detail), at=at or now,
        recorded_at=now, submission_id=submission_id, model_version=model_version, confidence=confidence,
    )
    case.events.append(event)
    return event


def _jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else value
            for key, value in detail.items()}


# -- opening and holding ---------------------------------------------------------------------------


def open_case(
    session: Session, references: References, *, category: str, held: bool,
    received_at: dt.datetime, now: dt.datetime, **facts: Any,
) -> Case:
    """A new case with a reference; held cases get the neutral prefix so it reveals no category."""
    reference = references.allocate(session, None if held else category, now)
    case = Case(
        reference=reference, category=category, received_at=received_at, opened_at=now,
        flags=[], stage=Stage.ONE, status=CaseStatus.OPEN, priority=0, **facts,
    )
    session.add(case)
    return case


def hold(case: Case, reason: str, *, actor: str = Actor.SYSTEM, at: dt.datetime | None = None) -> None:
    """Put the case in the triage queue with a reason a person can read (reasons accumulate)."""
    case.status = CaseStatus.HELD
    case.held_reason = reason if not case.held_reason else f"{case.held_reason}; {reason}"
    case.priority = priority_for(case.flags, held=True)
    record(case, actor, EventAction.HELD_FOR_TRIAGE, at=at, reason=reason)


def release(case: Case, *, actor: str, at: dt.datetime | None = None, note: str | None = None) -> None:
    """A person has looked: the case leaves the triage queue."""
    case.status = CaseStatus.OPEN
    previous, case.held_reason = case.held_reason, None
    case.priority = priority_for(case.flags, held=False)
    record(case, actor, EventAction.RELEASED, at=at, previous_reason=previous, note=note)


# -- flags and category ------------------------------------------------------------------------------


def add_flags(case: Case, flags: Iterable[str], policy: Policy, aware_at: dt.datetime) -> set[str]:
    """Add flags the case did not have yet; start the Awaab's Law clocks they call for."""
    new = set(flags) - set(case.flags)
    if not new:
        return new
    case.flags = sorted(set(case.flags) | new)
    case.priority = max(case.priority, priority_for(case.flags, case.status == CaseStatus.HELD))
    set_clocks(case, policy.hazard_clocks(new, aware_at))
    return new


def set_flags(case: Case, flags: Iterable[str], policy: Policy, aware_at: dt.datetime) -> None:
    """Replace the flags (a person's correction): new hazards start their clocks, removed ones stop."""
    wanted = {Flag(flag).value for flag in flags}
    removed = set(case.flags) - wanted
    case.flags = sorted(set(case.flags) - removed)
    case.clocks[:] = [clock for clock in case.clocks if clock.kind not in _hazard_kinds(removed)]
    add_flags(case, wanted, policy, aware_at)
    case.priority = priority_for(case.flags, case.status == CaseStatus.HELD)


def _hazard_kinds(flags: set[str]) -> set[str]:
    kinds = set()
    if Flag.EMERGENCY_HAZARD in flags:
        kinds.add(ClockKind.EMERGENCY_HAZARD)
    if Flag.DAMP_MOULD in flags:
        kinds |= {ClockKind.DAMP_MOULD, ClockKind.DAMP_MOULD_SUMMARY, ClockKind.DAMP_MOULD_SAFE}
    return kinds


def set_category(case: Case, category: str, policy: Policy) -> None:
    """Change the category; a complaint gets its Code clocks from receipt, anything else loses them."""
    case.category = Category(category).value
    if case.category == Category.COMPLAINT:
        if _clock(case, ACK_CLOCKS[Stage(case.stage)]) is None:
            start_complaint_clocks(case, policy, case.received_at)
    else:
        case.stage = Stage.ONE
        code_kinds = {*ACK_CLOCKS.values(), *RESPONSE_CLOCKS.values(), ClockKind.FRONTLINE}
        case.clocks[:] = [clock for clock in case.clocks if clock.kind not in code_kinds]


# -- how we write to the resident: reasonable adjustments and language ----------------------------------


def adjust(case: Case, adjustments: Iterable[str], note: str | None, *, actor: str, at: dt.datetime | None = None,
           language: str | None = None, submission_id: int | None = None, **detail: Any) -> bool:
    """Set the resident's reasonable adjustments (Adjustment values, kept in the vocabulary's order), the
    note that says more (which language, what else helps), and, when ``language`` is given, the Language
    we write in (English is stored as None). One ADJUSTMENTS_CHANGED event gives before and after;
    nothing is recorded when nothing differs. Returns whether anything changed.

    Invariant: the note is a resident's personal detail (often about their health): it lives on the case
    and its event, and never reaches a log line."""
    wanted = {Adjustment(value).value for value in adjustments}
    after = [item.value for item in Adjustment if item.value in wanted]
    note = (note or "").strip() or None
    new_language = case.language if language is None else (None if language == Language.ENGLISH else Language(language).value)
    before = {"adjustments": list(case.adjustments or []), "note": case.adjustment_note, "language": case.language}
    if (after, note, new_language) == (before["adjustments"], before["note"], before["language"]):
        return False
    case.adjustments, case.adjustment_note, case.language = after, note, new_language
    changes = {"previous": before["adjustments"], "adjustments": after}
    if note != before["note"]:
        changes.update(previous_note=before["note"], note=note)
    if new_language != before["language"]:
        changes.update(previous_language=before["language"] or Language.ENGLISH.value,
                       language=new_language or Language.ENGLISH.value)
    record(case, actor, EventAction.ADJUSTMENTS_CHANGED, at=at, submission_id=submission_id, **changes, **detail)
    return True


def add_adjustments(case: Case, adjustments: Iterable[str], note: str | None, *, actor: str,
                    at: dt.datetime | None = None, language: str | None = None, submission_id: int | None = None,
                    **detail: Any) -> bool:
    """What a resident asked for in a new message, added to what the case has: adjustments are never
    dropped (a person may have set them), a new note is added under the old one, and a language is only
    ever switched to Welsh (a message that reads as English does not undo a person's choice)."""
    merged = [*(case.adjustments or []), *adjustments]
    old, new = (case.adjustment_note or "").strip(), (note or "").strip()
    merged_note = old if not new or new in old else f"{old}\n{new}".strip()
    welsh = Language.WELSH.value if language == Language.WELSH else None
    return adjust(case, merged, merged_note, actor=actor, at=at, language=welsh, submission_id=submission_id, **detail)


# -- Code clocks -------------------------------------------------------------------------------------


def start_complaint_clocks(case: Case, policy: Policy, received_at: dt.datetime) -> None:
    """The acknowledgement clock of the case's stage (and a frontline clock where the policy has one);
    the response clock too when the policy counts it from receipt, else ``acknowledged`` starts it."""
    stage = Stage(case.stage)
    specs = [policy.acknowledgement_clock(stage, received_at)]
    if stage == Stage.ONE and (frontline := policy.frontline_clock(received_at)) is not None:
        specs.append(frontline)
    if stage == Stage.ONE and policy.settings.stage1_response_from == "receipt":
        specs.append(policy.response_clock(stage, received_at, received_at))
    set_clocks(case, specs)


def delivered(case: Case, policy: Policy, kind: AckKind, at: dt.datetime, *, submission_id: int | None = None,
              **detail: Any) -> None:
    """An outbox row for the case was sent or handed to print at ``at``."""
    if kind in ACKNOWLEDGEMENTS:
        acknowledged(case, policy, kind, at, submission_id=submission_id, **detail)
    else:
        record(case, Actor.SYSTEM, EventAction.NOTICE_SENT, at=at, submission_id=submission_id, kind=str(kind), **detail)


def acknowledged(
    case: Case, policy: Policy, kind: AckKind, at: dt.datetime, *, actor: str = Actor.SYSTEM,
    action: EventAction = EventAction.ACKNOWLEDGEMENT_SENT, submission_id: int | None = None, **detail: Any,
) -> None:
    """An acknowledgement reached the resident (sent, printed or made another way) at ``at``.

    A complaint acknowledgement of the case's current stage meets that stage's acknowledgement clock
    and starts its response clock from ``at``; any acknowledgement stamps ``acknowledged_at`` once."""
    if case.acknowledged_at is None:
        case.acknowledged_at = at
    stage = COMPLAINT_ACKS.get(AckKind(kind))
    if stage is not None and stage == case.stage:
        _meet(case, ACK_CLOCKS[stage], at)
        if _clock(case, RESPONSE_CLOCKS[stage]) is None:  # the first acknowledgement starts it
            set_clocks(case, [_kept_promise(case, kind, policy.response_clock(stage, case.received_at, at))])
    record(case, actor, action, at=at, submission_id=submission_id, kind=str(kind), **detail)


def _kept_promise(case: Case, kind: AckKind, spec: ClockSpec) -> ClockSpec:
    """The response clock counts from the sent acknowledgement, but never falls later than the date the
    acknowledgement itself gave the resident (it was projected when the acknowledgement was queued)."""
    queued = [event for event in case.events if event.action == EventAction.ACKNOWLEDGEMENT_QUEUED
              and event.detail.get("kind") == kind and event.detail.get("promised_response_due")]
    if not queued:
        return spec
    promised = dt.datetime.fromisoformat(queued[-1].detail["promised_response_due"])
    if promised >= spec.due_at:
        return spec
    return replace(spec, due_at=promised, rule=f"{spec.rule}; no later than the date the acknowledgement gave")


def acknowledgement_failed(case: Case, kind: str, reason: str, at: dt.datetime, **detail: Any) -> None:
    record(case, Actor.SYSTEM, EventAction.ACKNOWLEDGEMENT_FAILED, at=at, kind=str(kind), reason=reason, **detail)


def acknowledgement_at_risk(case: Case, kind: str, reason: str, at: dt.datetime, **detail: Any) -> None:
    """The sender still cannot send this case's outbox row and its clock is near (or it has waited
    long): staff must know, and may reach the resident another way. The sender keeps retrying."""
    record(case, Actor.SYSTEM, EventAction.ACKNOWLEDGEMENT_AT_RISK, at=at, kind=str(kind), reason=reason, **detail)


def escalate(
    case: Case, policy: Policy, requested_at: dt.datetime, *, actor: str = Actor.SYSTEM, **detail: Any,
) -> None:
    """Stage 2: the escalation request starts a new acknowledgement clock; its acknowledgement starts
    the stage 2 response clock. Stage 1's windows end: the resident has asked. A stage 1 handler
    still assigned is unassigned, so stage 2 waits for a different person."""
    case.stage = Stage.TWO
    case.category = Category.COMPLAINT
    if case.assignee and case.assignee == case.stage1_handler:
        case.assignee = None  # the Code: stage 2 is handled by someone other than the stage 1 handler
    _reopen(case)
    _drop(case, ClockKind.ESCALATION_WINDOW, ClockKind.SATISFACTION_WINDOW)
    start_complaint_clocks(case, policy, requested_at)
    record(case, actor, EventAction.ESCALATED, at=requested_at, **detail)


def become_complaint(case: Case, policy: Policy, received_at: dt.datetime, **detail: Any) -> None:
    """A reply that adds dissatisfaction makes the case a stage 1 complaint (categories.md rule 3)."""
    previous = case.category
    case.category = Category.COMPLAINT
    _reopen(case)
    start_complaint_clocks(case, policy, received_at)
    record(case, Actor.SYSTEM, EventAction.RECATEGORISED, at=received_at, previous=previous,
           category=Category.COMPLAINT.value, **detail)


def extend(case: Case, policy: Policy, days: int, *, reason: str, actor: str, at: dt.datetime) -> Clock:
    """Extend the current stage's response clock by ``days`` working days (refused past the policy's
    limit by ``Policy.extension``, which raises ExtensionRefused); returns the clock."""
    stage = Stage(case.stage)
    clock = _clock(case, RESPONSE_CLOCKS[stage])
    if clock is None or clock.met_at is not None:
        state = "has not started: acknowledge the complaint first" if clock is None else "is met: the response is sent"
        raise ActionRefused(f"{case.reference}: the stage {int(stage)} response clock {state}")
    previous = clock.due_at
    clock.due_at = policy.extension(stage, clock.due_at, clock.extended_by_days, days)
    clock.extended_by_days += days
    record(case, actor, EventAction.CLOCK_EXTENDED, at=at, clock=clock.kind, days=days, reason=reason,
           previous_due=previous, new_due=clock.due_at)
    return clock


def responded(case: Case, policy: Policy, *, actor: str, at: dt.datetime, outcome: str | None = None) -> None:
    """The stage response was sent: it meets the response clock (and an unmet acknowledgement clock: a
    response acknowledges too), records the stage 1 handler, and opens the policy's windows."""
    stage = Stage(case.stage)
    _meet(case, ACK_CLOCKS[stage], at)
    if _clock(case, RESPONSE_CLOCKS[stage]) is None:
        set_clocks(case, [policy.response_clock(stage, case.received_at, at)])
    _meet(case, RESPONSE_CLOCKS[stage], at)
    if stage == Stage.ONE:
        case.stage1_handler = actor
        set_clocks(case, [spec for spec in (policy.escalation_window(at), policy.satisfaction_window(at)) if spec])
    record(case, actor, EventAction.RESPONDED, at=at, stage=int(stage), outcome=outcome)


def hazard_step(case: Case, policy: Policy, step: str, *, actor: str, at: dt.datetime) -> None:
    """Awaab's Law: investigation concluded (meets the investigation clock, starts the summary and
    made-safe clocks), written summary sent, or made safe (meets the emergency clock too)."""
    if step == "investigated":
        _meet(case, ClockKind.DAMP_MOULD, at)
        set_clocks(case, policy.damp_followup_clocks(at))
    elif step == "summary_sent":
        _meet(case, ClockKind.DAMP_MOULD_SUMMARY, at)
    else:
        _meet(case, ClockKind.EMERGENCY_HAZARD, at)
        _meet(case, ClockKind.DAMP_MOULD_SAFE, at)
    record(case, actor, EventAction.HAZARD_STEP, at=at, step=step)


# -- closing -----------------------------------------------------------------------------------------


def close(case: Case, outcome: str, *, actor: str, at: dt.datetime, action: EventAction = EventAction.CLOSED,
          **detail: Any) -> None:
    case.status = CaseStatus.CLOSED
    case.outcome = outcome
    case.closed_at = at
    case.held_reason = None
    case.priority = 0
    record(case, actor, action, at=at, outcome=str(outcome), **detail)


def reopen(case: Case, *, actor: str, at: dt.datetime, reason: str | None = None) -> None:
    previous = case.outcome
    case.status = CaseStatus.OPEN
    case.outcome = case.closed_at = None
    case.priority = priority_for(case.flags, held=False)
    record(case, actor, EventAction.REOPENED, at=at, previous_outcome=previous, reason=reason)


def _reopen(case: Case) -> None:
    """A closed case that gets a new complaint or escalation is open again; a held one stays held."""
    if case.status == CaseStatus.CLOSED:
        case.status = CaseStatus.OPEN
        case.outcome = case.closed_at = None


# -- clocks ------------------------------------------------------------------------------------------


def set_clocks(case: Case, specs: Iterable[ClockSpec]) -> None:
    """Create or reset each clock; one clock of each kind per case."""
    existing = {clock.kind: clock for clock in case.clocks}
    for spec in specs:
        clock = existing.get(spec.kind)
        if clock is None:
            case.clocks.append(Clock(kind=spec.kind, starts_at=spec.starts_at, due_at=spec.due_at, rule=spec.rule,
                                     extended_by_days=0))
        else:
            clock.starts_at, clock.due_at, clock.rule, clock.met_at = spec.starts_at, spec.due_at, spec.rule, None
            clock.extended_by_days = 0


def clock_due(case: Case, kind: str) -> dt.datetime | None:
    clock = _clock(case, kind)
    return clock.due_at if clock else None


def _clock(case: Case, kind: str) -> Clock | None:
    return next((clock for clock in case.clocks if clock.kind == kind), None)


def _meet(case: Case, kind: str, at: dt.datetime) -> None:
    clock = _clock(case, kind)
    if clock is not None and clock.met_at is None:
        clock.met_at = at


def _drop(case: Case, *kinds: str) -> None:
    case.clocks[:] = [clock for clock in case.clocks if clock.kind not in kinds]


def letter_posted(case: Case, *, actor: str, at: dt.datetime, outbox_id: int, kind: str) -> None:
    """A printed letter was posted (the post room says so). No clock moves: the acknowledgement clock was
    met when the letter was handed to print."""
    record(case, actor, EventAction.LETTER_POSTED, at=at, outbox_id=outbox_id, kind=kind)


def set_property(case: Case, home: Property | None, *, actor: str, at: dt.datetime | None = None,
                 how: str | None = None, fill_address: bool = False) -> bool:
    """The home (stock list) the case is about, or none; an event when it changes. ``fill_address``
    (a person chose the home) writes the stock list's address onto a case that has no postal address,
    so a letter can be printed once the case is released; an address the resident gave is never replaced."""
    new_id = home.id if home is not None else None
    if case.property_id == new_id:
        return False
    previous = case.property.uprn if case.property is not None else None
    case.property_id = new_id
    case.property = home
    filled = fill_address and home is not None and not case.resident_address
    if filled:
        case.resident_address = home.lines
    record(case, actor, EventAction.PROPERTY_SET, at=at, uprn=home.uprn if home else None, previous=previous,
           how=how, address_filled=filled)
    return True
