"""The managers' figures: read-only queries over the recorded dates, for a period of local dates.

Nothing here writes. Every figure is one small function over the cases, their clocks and their audit
trail (``case_events``), the submissions and the staff's label corrections, for a ``Period`` of dates
[start, end], both included, on the calendar of the policy's time zone. Merged duplicates
(outcome ``merged``) are left out everywhere: their messages count once, on the case they joined.

Definitions (the Regulator of Social Housing's Tenant Satisfaction Measures, technical requirements,
and the Housing Ombudsman's Complaint Handling Code 2024, as this service applies them):

* **Stage 1 complaint received**: a case whose stage 1 acknowledgement clock started in the period (the
  clock starts at receipt of the complaint, or when a reply made a case a complaint). A case staff
  reclassified as not a complaint loses that clock and is not counted; one withdrawn later is.
* **Stage 2 complaint received**: a stage 2 acknowledgement clock started in the period (it starts at
  the escalation request).
* **CH01** (complaints relative to the size of the landlord): complaints received at that stage in the
  period ÷ homes owned × 1,000, rounded to 2 decimal places. Homes: ``[figures] homes`` (or the sum of
  ``homes_by_stock_type``).
* **Complaint responded to**: a stage's response clock met in the period (``intake case respond``).
* **CH02** (complaints responded to within the Code's timescales): of the stage's responses in the
  period, the share (per cent, 1 decimal place) made by the end of the Code's response day. That day
  is counted on the landlord's working-day calendar by a policy with the Code's own timescales (the
  SPSO model's in Scotland), never the landlord's variations: stage 1, 10 working days from the
  acknowledgement; stage 2, 20. An agreed extension counts up to the Code's limit (10 more working
  days at stage 1, 20 at stage 2): a response within the extended day is within, and an extension
  past the limit stretches the day only as far as the limit, so a response after that is not within.
* **Acknowledged within the Code's timescale**: of the complaints received at a stage in the period,
  those acknowledged by the end of the Code's fifth working day after receipt (stage 1) or the
  escalation request (stage 2); ``waiting`` ones are not acknowledged and not yet due at ``as_of``,
  and the percentage leaves them out.
* **Awaab's Law clocks**: those falling due in the period, met by their due time or missed (met late,
  or not met and past due at ``as_of``).
* **Classifier agreement**: of the cases received in the period, by the classifier's first category
  for each, how many a person then gave another category or other flags (``label_corrections``).
* **Held items**: submissions received in the period whose trip ended held for a person, by reason.

Where a rule lives: working days in ``casework.calendar``, every due day in ``casework.policy``; this
module only asks them.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from casework.models import Case, CaseEvent, Clock, LabelCorrection, Submission, utcnow
from casework.policy import Policy, spso_policy
from casework.vocabulary import (
    ACK_CLOCKS, CLOSING_OUTCOMES, RESPONSE_CLOCKS, Category, Channel, ClockKind, Disposition, EventAction, Flag, Outcome,
    Stage,
)
from core.settings import PolicySettings

Number = int | float | None
STAGES = (Stage.ONE, Stage.TWO)
AWAABS_LAW_CLOCKS = (ClockKind.EMERGENCY_HAZARD, ClockKind.DAMP_MOULD, ClockKind.DAMP_MOULD_SUMMARY,
                     ClockKind.DAMP_MOULD_SAFE)
AGE_BANDS = ((0, 5, "0-5"), (6, 10, "6-10"), (11, 20, "11-20"), (21, 40, "21-40"), (41, None, "over 40"))
OTHER = "other"  # a category, channel or stage column for what has none of the named ones
FIGURE_NAMES = ("ch01", "ch02", "acknowledgements", "extensions", "extension_reasons", "received_by_category",
                "received_by_channel", "themes_by_category", "themes_by_flag", "open_by_age", "held_by_reason",
                "outcomes", "awaabs_law", "classifier_agreement")  # the order ``compute`` gives them in


@dataclass(frozen=True)
class Period:
    """Local dates [start, end], both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends on {self.end} before it starts on {self.start}")

    @classmethod
    def financial_year(cls, year: int) -> Period:
        """April ``year`` to March ``year + 1``, the year the Regulator's and the Ombudsman's returns use."""
        return cls(date(year, 4, 1), date(year + 1, 3, 31))

    def bounds(self, policy: Policy) -> tuple[datetime, datetime]:
        """The first moment of ``start`` and the first moment after ``end``, local time, as aware datetimes."""
        zone = policy.calendar.zone
        return (datetime.combine(self.start, time(0), tzinfo=zone),
                datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=zone))


@dataclass(frozen=True)
class Figure:
    """One figure as a table: a row per ``label`` value, a number per column. ``charted`` names the
    columns a chart draws (as bars stacked in that order); the others are only in the table.
    Row labels and column names are the vocabulary's values (``complaint``, ``ack_stage1``), for CSV."""

    name: str  # in URLs and file names: /figures/<name>.csv
    title: str
    meaning: str
    label: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[Number, ...]], ...]
    charted: tuple[str, ...]

    def csv(self) -> str:
        return _csv([[self.label, *self.columns], *([label, *values] for label, values in self.rows)])


@dataclass(frozen=True)
class Timeliness:
    """How many of one stage's complaints were counted, and how many of them were in time."""

    total: int
    within: int
    by_extension: int = 0  # within only because of an agreed extension inside the Code's limit
    past_limit: int = 0  # extended past the Code's limit (the extension counts only up to it)
    waiting: int = 0  # not yet done and not yet due: left out of the percentage

    @property
    def late(self) -> int:
        return self.total - self.within - self.waiting

    @property
    def pct(self) -> float | None:
        decided = self.total - self.waiting
        return round(100 * self.within / decided, 1) if decided else None


TSM_FIELDS = (
    "from", "to", "homes", "ch01_stage1_per_1000", "ch01_stage2_per_1000", "ch02_stage1_within_pct",
    "ch02_stage2_within_pct", "stage1_received", "stage2_received", "stage1_responded", "stage1_responded_within",
    "stage1_within_by_extension", "stage1_extension_past_limit", "stage2_responded", "stage2_responded_within",
    "stage2_within_by_extension", "stage2_extension_past_limit",
)


@dataclass(frozen=True)
class Tsm:
    """CH01 and CH02 with the counts behind them; ``as_dict`` uses ``TSM_FIELDS``, the report's contract."""

    period: Period
    homes: int | None
    received: dict[Stage, int]
    responded: dict[Stage, Timeliness]

    def per_1000(self, stage: Stage) -> float | None:
        return per_1000(self.received[stage], self.homes)

    def as_dict(self) -> dict[str, Number | str]:
        values: dict[str, Number | str] = {"from": self.period.start.isoformat(), "to": self.period.end.isoformat(),
                                           "homes": self.homes}
        for stage in STAGES:
            values[f"ch01_stage{stage}_per_1000"] = self.per_1000(stage)
        for stage in STAGES:
            values[f"ch02_stage{stage}_within_pct"] = self.responded[stage].pct
        for stage in STAGES:
            values[f"stage{stage}_received"] = self.received[stage]
        for stage in STAGES:
            done = self.responded[stage]
            values.update({f"stage{stage}_responded": done.total, f"stage{stage}_responded_within": done.within,
                           f"stage{stage}_within_by_extension": done.by_extension,
                           f"stage{stage}_extension_past_limit": done.past_limit})
        return {name: values[name] for name in TSM_FIELDS}

    def csv(self) -> str:
        """A header row of ``TSM_FIELDS`` and one row of values (an empty cell where there is none)."""
        values = self.as_dict()
        return _csv([list(TSM_FIELDS), [values[name] for name in TSM_FIELDS]])


@dataclass(frozen=True)
class Figures:
    """Every figure for one period, computed at ``as_of``."""

    period: Period
    as_of: datetime
    tsm: Tsm
    figures: tuple[Figure, ...]

    def __getitem__(self, name: str) -> Figure:
        for figure in self.figures:
            if figure.name == name:
                return figure
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [figure.name for figure in self.figures]

    def as_dict(self) -> dict:
        """Every figure as JSON values: the TSM, then each figure's columns and rows."""
        return {"from": self.period.start.isoformat(), "to": self.period.end.isoformat(),
                "as_of": self.as_of.isoformat(), "tsm": self.tsm.as_dict(),
                "figures": [{"name": f.name, "title": f.title, "meaning": f.meaning, "label": f.label,
                             "columns": list(f.columns), "rows": [[label, *values] for label, values in f.rows]}
                            for f in self.figures]}

    def csv(self) -> str:
        """Every figure in one long table: figure, row, column, value (one line per number)."""
        return _csv([["figure", "row", "column", "value"], *(
            [figure.name, label, column, value]
            for figure in self.figures for label, values in figure.rows for column, value in zip(figure.columns, values))])


def per_1000(count: int, homes: int | None) -> float | None:
    return round(count * 1000 / homes, 2) if homes else None


# -- the whole set -----------------------------------------------------------------------------------------


def compute(session: Session, period: Period, policy: Policy, homes: int | None,
            as_of: datetime | None = None) -> Figures:
    """All the figures for ``period``; ``as_of`` (default now) decides what is still waiting."""
    as_of = as_of or utcnow()
    tsm = tsm_figures(session, period, policy, homes)
    acks = acknowledgements(session, period, policy, as_of)
    figures = (
        ch01_figure(tsm), ch02_figure(tsm), acknowledgement_figure(acks),
        extensions_figure(session, period, policy), extension_reasons_figure(session, period, policy),
        received_by_week(session, period, policy, "category"), received_by_week(session, period, policy, "channel"),
        received_by_category(session, period, policy), received_by_flag(session, period, policy),
        open_by_age(session, period, policy, as_of), held_by_reason(session, period, policy),
        outcomes(session, period, policy), awaabs_law(session, period, policy, as_of),
        classifier_agreement(session, period, policy),
    )
    assert tuple(figure.name for figure in figures) == FIGURE_NAMES
    return Figures(period, as_of, tsm, figures)


def tsm_figures(session: Session, period: Period, policy: Policy, homes: int | None) -> Tsm:
    return Tsm(period, homes, {stage: complaints_received(session, period, policy, stage) for stage in STAGES},
               {stage: responses(session, period, policy, stage) for stage in STAGES})


# -- the Code's own timescales -----------------------------------------------------------------------------


def code_policy(policy: Policy) -> Policy:
    """The Code's timescales (the SPSO model's in Scotland) on this landlord's working-day calendar:
    CH02 and acknowledgement timeliness are measured against them, never a landlord's variations."""
    standard = spso_policy() if policy.is_spso else PolicySettings()
    calendar = policy.settings.model_dump(include={"nation", "closure_days", "closing_time", "timezone"})
    return Policy(standard.model_copy(update=calendar))


def extension_limit(code: Policy, stage: Stage) -> int:
    return getattr(code.settings, f"stage{int(stage)}_extension_days")


def code_response_due(code: Policy, stage: Stage, clock: Clock) -> tuple[datetime, datetime]:
    """The Code's response due for a response clock: without extension, and with the clock's agreed
    extension counted up to the Code's limit."""
    base = code.response_clock(stage, clock.starts_at, clock.starts_at).due_at
    allowed = min(clock.extended_by_days, extension_limit(code, stage))
    return base, code.extension(stage, base, 0, allowed) if allowed else base


# -- CH01, CH02 and acknowledgements ----------------------------------------------------------------------


def _not_merged():
    return or_(Case.outcome.is_(None), Case.outcome != Outcome.MERGED.value)


def _clocks(session: Session, kinds: Iterable[str], column, period: Period, policy: Policy) -> list[Clock]:
    start, end = period.bounds(policy)
    query = (select(Clock).join(Case).where(Clock.kind.in_([str(kind) for kind in kinds]), column >= start,
                                            column < end, _not_merged()).order_by(Clock.id))
    return list(session.scalars(query))


def complaints_received(session: Session, period: Period, policy: Policy, stage: Stage) -> int:
    """Complaints received at ``stage`` in the period: acknowledgement clocks that started in it."""
    return len(_clocks(session, [ACK_CLOCKS[stage]], Clock.starts_at, period, policy))


def responses(session: Session, period: Period, policy: Policy, stage: Stage) -> Timeliness:
    """The stage's responses in the period and how many were within the Code's timescale (CH02)."""
    code = code_policy(policy)
    total = within = by_extension = past_limit = 0
    for clock in _clocks(session, [RESPONSE_CLOCKS[stage]], Clock.met_at, period, policy):
        base, due = code_response_due(code, stage, clock)
        total += 1
        within += clock.met_at <= due
        by_extension += base < clock.met_at <= due
        past_limit += clock.extended_by_days > extension_limit(code, stage)
    return Timeliness(total, within, by_extension, past_limit)


def acknowledgements(session: Session, period: Period, policy: Policy, as_of: datetime) -> dict[Stage, Timeliness]:
    """Of the complaints received at each stage in the period, how many were acknowledged in the Code's time."""
    code = code_policy(policy)
    found = {}
    for stage in STAGES:
        total = within = waiting = 0
        for clock in _clocks(session, [ACK_CLOCKS[stage]], Clock.starts_at, period, policy):
            due = code.acknowledgement_clock(stage, clock.starts_at).due_at
            total += 1
            within += clock.met_at is not None and clock.met_at <= due
            waiting += clock.met_at is None and due >= as_of
        found[stage] = Timeliness(total, within, waiting=waiting)
    return found


def ch01_figure(tsm: Tsm) -> Figure:
    rows = tuple((f"stage_{int(stage)}", (tsm.received[stage], tsm.homes, tsm.per_1000(stage))) for stage in STAGES)
    return Figure("ch01", "CH01: complaints received per 1,000 homes",
                  "Stage 1 and stage 2 complaints received in the period, per 1,000 homes owned.",
                  "stage", ("received", "homes", "per_1000"), rows, ("per_1000",))


def ch02_figure(tsm: Tsm) -> Figure:
    rows = tuple((f"stage_{int(stage)}", (done.total, done.within, done.late, done.by_extension, done.past_limit,
                                          done.pct)) for stage, done in tsm.responded.items())
    return Figure("ch02", "CH02: complaints responded to within the Code's timescales",
                  "Responses made in the period, and how many were made by the Code's response day (an agreed "
                  "extension counts up to the Code's limit).",
                  "stage", ("responded", "within", "late", "within_by_extension", "extension_past_limit",
                            "within_pct"), rows, ("within", "late"))


def acknowledgement_figure(acks: dict[Stage, Timeliness]) -> Figure:
    rows = tuple((f"stage_{int(stage)}", (done.total, done.within, done.late, done.waiting, done.pct))
                 for stage, done in acks.items())
    return Figure("acknowledgements", "Complaints acknowledged within 5 working days",
                  "Complaints received in the period, and how many were acknowledged within the Code's 5 working "
                  "days (waiting: not yet acknowledged and not yet due).",
                  "stage", ("received", "within", "late", "waiting", "within_pct"), rows, ("within", "late", "waiting"))


# -- extensions ------------------------------------------------------------------------------------------


def _events(session: Session, actions: Iterable[EventAction], period: Period, policy: Policy) -> list[CaseEvent]:
    start, end = period.bounds(policy)
    query = (select(CaseEvent).join(Case).where(CaseEvent.action.in_([str(action) for action in actions]),
                                                CaseEvent.at >= start, CaseEvent.at < end, _not_merged())
             .order_by(CaseEvent.id))
    return list(session.scalars(query))


def _stage_of_clock(kind: str) -> Stage:
    return Stage.TWO if kind == ClockKind.RESPONSE_STAGE2 else Stage.ONE


def extensions_figure(session: Session, period: Period, policy: Policy) -> Figure:
    """Extensions agreed in the period, by stage: how many, the working days they added, and how many
    cases' extensions at that stage have gone past the Code's limit."""
    code = code_policy(policy)
    count, days, cases = Counter(), Counter(), defaultdict(set)
    for event in _events(session, [EventAction.CLOCK_EXTENDED], period, policy):
        stage = _stage_of_clock(event.detail.get("clock", ""))
        count[stage] += 1
        days[stage] += int(event.detail.get("days") or 0)
        cases[stage].add(event.case_id)
    past = {stage: _past_limit(session, cases[stage], stage, extension_limit(code, stage)) for stage in STAGES}
    rows = tuple((f"stage_{int(stage)}", (count[stage], days[stage], len(cases[stage]), past[stage]))
                 for stage in STAGES)
    return Figure("extensions", "Extensions used", "Extensions agreed in the period, the working days they added, "
                  "the cases extended, and how many of those went past the Code's limit.",
                  "stage", ("extensions", "working_days_added", "cases_extended", "past_code_limit"), rows,
                  ("extensions",))


def _past_limit(session: Session, case_ids: set[int], stage: Stage, limit: int) -> int:
    if not case_ids:
        return 0
    return session.scalar(select(func.count()).select_from(Clock).where(
        Clock.case_id.in_(case_ids), Clock.kind == RESPONSE_CLOCKS[stage], Clock.extended_by_days > limit)) or 0


def _plain(text: str) -> str:
    return " ".join(text.split())


def extension_reasons_figure(session: Session, period: Period, policy: Policy) -> Figure:
    """The reasons staff gave for extensions in the period (the same words, ignoring case and spacing,
    count together), most frequent first."""
    found: dict[str, Counter] = {}
    spelling: dict[str, str] = {}
    for event in _events(session, [EventAction.CLOCK_EXTENDED], period, policy):
        reason = _plain(event.detail.get("reason") or "") or "(no reason recorded)"
        spelling.setdefault(reason.casefold(), reason)
        found.setdefault(reason.casefold(), Counter())[_stage_of_clock(event.detail.get("clock", ""))] += 1
    ordered = sorted(found, key=lambda key: (-sum(found[key].values()), key))
    rows = tuple((spelling[key], (found[key][Stage.ONE], found[key][Stage.TWO])) for key in ordered)
    return Figure("extension_reasons", "Why extensions were needed", "The reasons given for the extensions agreed "
                  "in the period, most frequent first.", "reason", ("stage_1", "stage_2"), rows, ("stage_1", "stage_2"))


# -- what came in --------------------------------------------------------------------------------------------


def _received(session: Session, period: Period, policy: Policy) -> list[Case]:
    start, end = period.bounds(policy)
    return list(session.scalars(select(Case).where(Case.received_at >= start, Case.received_at < end, _not_merged())
                                .order_by(Case.id)))


def _weeks(period: Period) -> list[date]:
    """The Monday of every week that has a day in the period."""
    monday = period.start - timedelta(days=period.start.weekday())
    return [monday + timedelta(weeks=n) for n in range((period.end - monday).days // 7 + 1)]


def _channels(session: Session, cases: Sequence[Case]) -> dict[int, str]:
    """Each case's channel: that of its first message (for a case split from a message, that message's)."""
    ids = [case.id for case in cases]
    if not ids:
        return {}
    first = dict(session.execute(select(Submission.case_id, func.min(Submission.id))
                                 .where(Submission.case_id.in_(ids)).group_by(Submission.case_id)).all())
    named = dict(session.execute(select(CaseEvent.case_id, func.min(CaseEvent.submission_id))
                                 .where(CaseEvent.case_id.in_(ids), CaseEvent.submission_id.is_not(None))
                                 .group_by(CaseEvent.case_id)).all())
    wanted = {case_id: first.get(case_id) or named.get(case_id) for case_id in ids}
    kinds = dict(session.execute(select(Submission.id, Submission.kind)
                                 .where(Submission.id.in_([i for i in wanted.values() if i]))).all())
    return {case_id: kinds.get(submission_id, OTHER) for case_id, submission_id in wanted.items()}


def received_by_week(session: Session, period: Period, policy: Policy, by: str) -> Figure:
    """Cases received in each week of the period (weeks start on Monday), by category or by channel."""
    cases = _received(session, period, policy)
    if by == "category":
        columns, key = tuple(str(c) for c in Category), {case.id: case.category for case in cases}
    else:
        columns, key = tuple(str(c) for c in Channel) + (OTHER,), _channels(session, cases)
    counts: dict[date, Counter] = {week: Counter() for week in _weeks(period)}
    for case in cases:
        day = policy.calendar.local(case.received_at).date()
        counts[day - timedelta(days=day.weekday())][key[case.id] if key[case.id] in columns else OTHER] += 1
    rows = tuple((week.isoformat(), tuple(counts[week][column] for column in columns)) for week in counts)
    return Figure(f"received_by_{by}", f"Received per week, by {by}",
                  f"Cases received in each week of the period (the week starting on the Monday shown), by {by}.",
                  "week", columns, rows, columns)


def received_by_category(session: Session, period: Period, policy: Policy) -> Figure:
    """The year's themes: cases received in the period by category, complaints by the stage they reached."""
    counts = Counter()
    for case in _received(session, period, policy):
        counts[case.category if case.category != Category.COMPLAINT else f"complaint_stage_{case.stage}"] += 1
    labels = ["complaint_stage_1", "complaint_stage_2", *(str(c) for c in Category if c != Category.COMPLAINT)]
    return Figure("themes_by_category", "Themes: cases received by category",
                  "Cases received in the period by their category now; complaints by the stage they have reached.",
                  "category", ("cases",), tuple((label, (counts[label],)) for label in labels), ("cases",))


def received_by_flag(session: Session, period: Period, policy: Policy) -> Figure:
    """The year's themes: cases received in the period that carry each flag, by category."""
    columns = tuple(str(c) for c in Category)
    counts: dict[str, Counter] = {str(flag): Counter() for flag in Flag}
    for case in _received(session, period, policy):
        for flag in case.flags:
            if flag in counts:
                counts[flag][case.category] += 1
    rows = tuple((flag, tuple(counts[flag][column] for column in columns)) for flag in counts)
    return Figure("themes_by_flag", "Themes: flags", "Cases received in the period that carry each flag "
                  "(safeguarding, hazards, escalation …), by category.", "flag", columns, rows, columns)


# -- what is waiting -----------------------------------------------------------------------------------------


def open_by_age(session: Session, period: Period, policy: Policy, as_of: datetime) -> Figure:
    """Cases open (or held) at the end of the period, or at ``as_of`` if that is earlier, by age in working
    days since receipt, complaints by stage."""
    start, end = period.bounds(policy)
    moment = min(end, as_of)
    query = select(Case).where(Case.received_at < moment, or_(Case.closed_at.is_(None), Case.closed_at >= moment),
                               _not_merged())
    columns = ("complaint_stage_1", "complaint_stage_2", OTHER)
    counts: dict[str, Counter] = {label: Counter() for *_, label in AGE_BANDS}
    today = policy.calendar.local(moment - timedelta(microseconds=1)).date()
    for case in session.scalars(query):
        age = policy.calendar.working_days_between(policy.calendar.receipt_day(case.received_at), today)
        column = f"complaint_stage_{case.stage}" if case.category == Category.COMPLAINT else OTHER
        counts[_band(age)][column] += 1
    rows = tuple((label, tuple(counts[label][column] for column in columns)) for label in counts)
    return Figure("open_by_age", "Open cases by age", f"Cases open or held on {today.isoformat()}, by working days "
                  "since receipt.", "working_days", columns, rows, columns)


def _band(age: int) -> str:
    return next(label for low, high, label in AGE_BANDS if age >= low and (high is None or age <= high))


HOLD_DETAILS = (re.compile(r"\s*\([^)]*\)"), re.compile(r" '[^']*'"), re.compile(r"\S*\d\S*"))


def hold_reason(reason: str) -> str:
    """One hold's reason without its particulars (a score, an address, a reference) or its advice after
    the colon, so the holds of one rule count together."""
    for detail in HOLD_DETAILS:
        reason = detail.sub("", reason.split(":")[0])
    return _plain(reason) or "(no reason recorded)"


def held_by_reason(session: Session, period: Period, policy: Policy) -> Figure:
    """Items (submissions) received in the period that were held for a person, by each reason they were
    held for (an item held for two reasons counts under both)."""
    start, end = period.bounds(policy)
    reasons = session.scalars(select(Submission.reason).where(
        Submission.disposition == Disposition.HELD.value, Submission.received_at >= start,
        Submission.received_at < end))
    counts = Counter(hold_reason(part) for reason in reasons for part in (reason or "").split("; "))
    rows = tuple((reason, (count,)) for reason, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    return Figure("held_by_reason", "Held for a person, by reason", "Items received in the period that were held "
                  "for triage, by why they were held.", "reason", ("held",), rows, ("held",))


# -- how things ended -------------------------------------------------------------------------------------------


def outcomes(session: Session, period: Period, policy: Policy) -> Figure:
    """Complaints closed in the period, by outcome and by the stage they were at when they closed."""
    closings = [event for event in _events(session, [EventAction.CLOSED, EventAction.AUTO_CLOSED], period, policy)
                if event.case.category == Category.COMPLAINT]
    escalated = _first_escalations(session, {event.case_id for event in closings})
    counts: dict[str, Counter] = {str(outcome): Counter() for outcome in CLOSING_OUTCOMES}
    for event in closings:
        stage = 2 if escalated.get(event.case_id, event.id + 1) < event.id else 1
        counts.setdefault(event.detail.get("outcome") or OTHER, Counter())[f"stage_{stage}"] += 1
    rows = tuple((outcome, (count["stage_1"], count["stage_2"])) for outcome, count in counts.items())
    return Figure("outcomes", "Complaint outcomes", "Complaints closed in the period, by outcome and by the stage "
                  "they closed at.", "outcome", ("stage_1", "stage_2"), rows, ("stage_1", "stage_2"))


def _first_escalations(session: Session, case_ids: set[int]) -> dict[int, int]:
    """The id of each case's first escalation event: a closing after it closed stage 2."""
    if not case_ids:
        return {}
    return dict(session.execute(select(CaseEvent.case_id, func.min(CaseEvent.id))
                                .where(CaseEvent.case_id.in_(case_ids), CaseEvent.action == EventAction.ESCALATED.value)
                                .group_by(CaseEvent.case_id)).all())


def awaabs_law(session: Session, period: Period, policy: Policy, as_of: datetime) -> Figure:
    """Awaab's Law clocks due in the period: met by their due time, missed, or still running at ``as_of``."""
    counts: dict[str, Counter] = {str(kind): Counter() for kind in AWAABS_LAW_CLOCKS}
    for clock in _clocks(session, AWAABS_LAW_CLOCKS, Clock.due_at, period, policy):
        if clock.met_at is not None:
            verdict = "met" if clock.met_at <= clock.due_at else "missed"
        else:
            verdict = "missed" if clock.due_at < as_of else "running"
        counts[clock.kind][verdict] += 1
    columns = ("met", "missed", "running")
    rows = tuple((kind, tuple(count[column] for column in columns)) for kind, count in counts.items())
    return Figure("awaabs_law", "Awaab's Law clocks met and missed", "Awaab's Law clocks falling due in the period: "
                  "met by their due time, missed (met late, or past due and not met), or still running.",
                  "clock", columns, rows, columns)


def classifier_agreement(session: Session, period: Period, policy: Policy) -> Figure:
    """Of the cases received in the period, by the classifier's first category for each: how many a person
    gave another category, other flags, or either (agreement: neither, as a percentage)."""
    cases = {case.id for case in _received(session, period, policy)}
    first: dict[int, str] = {}
    if cases:
        for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(cases), CaseEvent.action ==
                                                             EventAction.CLASSIFIED.value).order_by(CaseEvent.id)):
            first.setdefault(event.case_id, event.detail.get("category") or OTHER)
    changed = _corrected(session, set(first))
    columns = ("classified", "category_changed", "flags_changed", "either_changed", "agreement_pct")
    rows = []
    for category in [*(str(c) for c in Category), OTHER]:
        ids = [case_id for case_id, said in first.items() if said == category]
        if category == OTHER and not ids:
            continue
        either = sum(bool(changed.get(case_id)) for case_id in ids)
        rows.append((category, (len(ids), sum("category" in changed.get(case_id, ()) for case_id in ids),
                                sum("flags" in changed.get(case_id, ()) for case_id in ids), either,
                                round(100 * (len(ids) - either) / len(ids), 1) if ids else None)))
    return Figure("classifier_agreement", "Classifier agreement with staff", "Cases received in the period, by "
                  "the classifier's category, and how often a person changed its category or a flag.",
                  "category", columns, tuple(rows), ("category_changed", "flags_changed"))


def _corrected(session: Session, case_ids: set[int]) -> dict[int, set[str]]:
    """For each case, what staff corrections changed: ``category``, ``flags``, both or neither."""
    if not case_ids:
        return {}
    found: dict[int, set[str]] = defaultdict(set)
    for correction in session.scalars(select(LabelCorrection).where(LabelCorrection.case_id.in_(case_ids))):
        if correction.previous_category is not None and correction.category != correction.previous_category:
            found[correction.case_id].add("category")
        if correction.previous_flags is not None and sorted(correction.flags) != sorted(correction.previous_flags):
            found[correction.case_id].add("flags")
    return found


# -- CSV -----------------------------------------------------------------------------------------------------


def _csv(rows: Iterable[Sequence]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return out.getvalue()
