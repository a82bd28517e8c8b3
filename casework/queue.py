"""The staff queue: every case that needs a person, most urgent first, fifty at a time.

**What needs a person.** A case is in the queue when it is
* held (waiting in triage: a person must decide), or
* open with an unmet clock (acknowledgement, response, frontline, Awaab's Law; never the escalation or
  satisfaction windows of ``WINDOWS``, which are not deadlines the landlord can miss), or
* open and unassigned (nobody owns it yet, even if no clock runs: a service request, a compliment).
A closed case never is, and an open, assigned case with no clock running is being worked and is not.

**The order** (defined here and only here). Each case falls in the first tier that fits it:
0. safeguarding (``Case.priority`` at least ``PRIORITY[SAFEGUARDING]``),
1. an emergency hazard (priority at least ``PRIORITY[EMERGENCY_HAZARD]``),
2. an unmet clock (any status),
3. held, with no clock running (the held reason says why),
4. open and unassigned, with no clock running.
Within a tier: the nearest unmet clock first (a case with none after those with one), then the oldest
case (the lowest id). So the sort key of a row is ``(tier, next due or never, id)``: unique and total.

**Paging** is by keyset, never OFFSET: a cursor is the sort key of the last row shown, and the next page
starts strictly after it. Each tier is one query that an index can answer in order: tiers 0 and 1 read
``ix_cases_queue (status, priority, id)`` and are small; tier 2 walks the unmet clocks in due order
(``ix_clocks_open_due_kind (met_at, due_at, kind, case_id)``), keeping each case's nearest clock only
(``ix_clocks_case_open_due (case_id, met_at, due_at, kind)``); tiers 3 and 4 walk cases by status and
id. A page asks the tiers in turn from the cursor's tier until it has enough rows, so a deep page costs
about what the first one does. (The indexes are migration 0006's; bench/bench_queue.py measures them.)

**Filters** (``QueueFilter``) narrow every tier alike; ``counts`` gives the size of each quick filter.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, cast, exists, func, literal, null, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, aliased

from casework.lifecycle import PRIORITY
from casework.models import Case, Clock, Submission, User, utcnow
from casework.vocabulary import WINDOWS, CaseStatus, Flag

PAGE_SIZE = 50
TIERS = ("safeguarding", "emergency", "clock", "held", "unassigned")
SAFEGUARDING, EMERGENCY, CLOCK, HELD, UNASSIGNED = range(len(TIERS))
SAFEGUARDING_PRIORITY = PRIORITY[Flag.SAFEGUARDING]
EMERGENCY_PRIORITY = PRIORITY[Flag.EMERGENCY_HAZARD]
NEVER = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)  # "no clock": sorts after every real due date
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
QUEUE_STATUSES = (CaseStatus.OPEN.value, CaseStatus.HELD.value)
WINDOW_KINDS = tuple(kind.value for kind in WINDOWS)
UNASSIGNED_FILTER = "unassigned"
# A UK postcode, or just its outward part, once spaces are taken out: SW1A1AA, M11AE, SW1A.
POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?([0-9][A-Z]{2})?")


@dataclass(frozen=True)
class QueueFilter:
    """What a person narrowed the queue to; None or False means "any"."""

    category: str | None = None
    stage: int | None = None
    flag: str | None = None
    assignee: str | None = None  # a login, or UNASSIGNED_FILTER ("mine" is the view's: it passes the login)
    status: str | None = None  # held or open
    held_reason: str | None = None  # words in the held reason (case-insensitive)
    overdue: bool = False  # an unmet clock is past due
    due_this_week: bool = False  # an unmet clock falls due before the end of Sunday (landlord time)
    channel: str | None = None  # the kind of the case's first submission
    search: str | None = None  # a reference, a resident's name or email, or a postcode


@dataclass(frozen=True)
class Cursor:
    """The sort key of a row: where the next page starts (strictly after it)."""

    tier: int
    due: dt.datetime  # NEVER when no clock runs
    id: int

    def encode(self) -> str:
        """``tier.due.id``: the due date in microseconds since 1970 (UTC), or ``n`` for no clock."""
        due = "n" if self.due == NEVER else str((self.due - EPOCH) // dt.timedelta(microseconds=1))
        return f"{self.tier}.{due}.{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """The cursor a link carried, or None (the first page) when it is missing or not one of ours."""
        match = re.fullmatch(r"([0-9])\.(n|-?[0-9]{1,18})\.([0-9]{1,18})", text or "")
        if match is None or int(match.group(1)) >= len(TIERS):
            return None
        try:
            due = NEVER if match.group(2) == "n" else EPOCH + dt.timedelta(microseconds=int(match.group(2)))
        except OverflowError:
            return None
        return cls(int(match.group(1)), due, int(match.group(3)))


@dataclass(frozen=True)
class QueueRow:
    id: int
    reference: str
    tier: int
    category: str
    flags: list[str]
    stage: int
    status: str
    held_reason: str | None
    assignee: str | None
    received_at: dt.datetime
    clock_kind: str | None  # the nearest unmet clock (never a window), or None
    clock_due: dt.datetime | None
    overdue: bool  # that clock is past due


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None  # None on the last page


def queue_page(session: Session, filters: QueueFilter = QueueFilter(), *, after: str | Cursor | None = None,
               now: dt.datetime | None = None, timezone: str = "Europe/London", limit: int = PAGE_SIZE) -> QueuePage:
    """One page of the queue in the order above, starting strictly after the cursor ``after``."""
    now = now or utcnow()
    cursor = after if isinstance(after, Cursor) or after is None else Cursor.decode(after)
    wanted = limit + 1  # one more than a page, to know whether there is a next one
    keys: list[Cursor] = []
    for tier in range(cursor.tier if cursor else 0, len(TIERS)):
        start = cursor if cursor and cursor.tier == tier else None
        keys += _tier(session, tier, filters, start, wanted - len(keys), now, timezone)
        if len(keys) >= wanted:
            break
    more = len(keys) > limit
    keys = keys[:limit]
    return QueuePage(_rows(session, keys, now), keys[-1].encode() if more else None)


def queue_count(session: Session, filters: QueueFilter = QueueFilter(), *, now: dt.datetime | None = None,
                timezone: str = "Europe/London") -> int:
    """How many cases in the queue match the filters (one COUNT the database plans as it likes)."""
    now = now or utcnow()
    due_before = _due_before(filters, now, timezone)
    if due_before is None:
        query = select(func.count()).select_from(Case).where(_needs_a_person(), *_case_filters(filters, now, timezone))
    else:  # from the clocks falling due by then (an open case with an unmet clock needs a person)
        query = select(func.count(func.distinct(Clock.case_id))).join(Case, Case.id == Clock.case_id).where(
            _unmet(), Clock.due_at < due_before, Case.status.in_(QUEUE_STATUSES),
            *_case_filters(filters, now, timezone, clocks=False))
    return session.scalar(query) or 0


def counts(session: Session, me: str, *, now: dt.datetime | None = None,
           timezone: str = "Europe/London") -> dict[str, int]:
    """The quick filters' sizes over the whole queue: what the filter bar shows as links."""
    now = now or utcnow()
    quick = quick_filters(me)
    found = {name: queue_count(session, filters, now=now, timezone=timezone)
             for name, filters in quick.items() if name not in ("overdue", "due_this_week")}
    # overdue and due this week in one walk over the clocks due before Monday
    monday = week_end(now, timezone)
    overdue, this_week = session.execute(
        select(func.count(func.distinct(sql_case((Clock.due_at < now, Clock.case_id)))),
               func.count(func.distinct(Clock.case_id)))
        .join(Case, Case.id == Clock.case_id)
        .where(_unmet(), Clock.due_at < monday, Case.status.in_(QUEUE_STATUSES))).one()
    return {**found, "overdue": overdue, "due_this_week": this_week}


def quick_filters(me: str) -> dict[str, QueueFilter]:
    return {
        "held": QueueFilter(status=CaseStatus.HELD.value),
        "overdue": QueueFilter(overdue=True),
        "due_this_week": QueueFilter(due_this_week=True),
        "mine": QueueFilter(assignee=me),
        "unassigned": QueueFilter(assignee=UNASSIGNED_FILTER),
        "safeguarding": QueueFilter(flag=Flag.SAFEGUARDING.value),
        "emergency_hazard": QueueFilter(flag=Flag.EMERGENCY_HAZARD.value),
    }


def week_end(now: dt.datetime, timezone: str) -> dt.datetime:
    """The end of this Sunday in the landlord's time zone (midnight starting Monday), in UTC."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    monday = today + dt.timedelta(days=7 - today.weekday())
    return dt.datetime.combine(monday, dt.time(), zone).astimezone(dt.UTC)


# -- the tiers -------------------------------------------------------------------------------------------


def _unmet(clock=Clock):
    return and_(clock.met_at.is_(None), clock.kind.not_in(WINDOW_KINDS))


def _next_due(case=Case):
    """The case's nearest unmet clock (never a window), as a correlated subquery; NULL when none runs."""
    return select(func.min(Clock.due_at)).where(Clock.case_id == case.id, _unmet()).scalar_subquery()


def _has_clock(case=Case):
    return exists().where(Clock.case_id == case.id, _unmet())


def _needs_a_person():
    """Held, or open and (unassigned or with an unmet clock); the status test first, for the indexes."""
    return and_(Case.status.in_(QUEUE_STATUSES),
                or_(Case.status == CaseStatus.HELD, Case.assignee.is_(None), _has_clock()))


def _due_before(filters: QueueFilter, now: dt.datetime, timezone: str) -> dt.datetime | None:
    bounds = ([now] if filters.overdue else []) + ([week_end(now, timezone)] if filters.due_this_week else [])
    return min(bounds, default=None)


def _tier(session: Session, tier: int, filters: QueueFilter, start: Cursor | None, limit: int,
          now: dt.datetime, timezone: str) -> list[Cursor]:
    """Up to ``limit`` sort keys of one tier, in order, strictly after ``start`` when given."""
    where = _case_filters(filters, now, timezone, clocks=False)
    due_before = _due_before(filters, now, timezone)
    if tier in (SAFEGUARDING, EMERGENCY):
        due = func.coalesce(_next_due(), literal(NEVER, Clock.due_at.type))
        low, high = (SAFEGUARDING_PRIORITY, None) if tier == SAFEGUARDING else (EMERGENCY_PRIORITY, SAFEGUARDING_PRIORITY)
        query = select(Case.id, due.label("due")).where(
            Case.status.in_(QUEUE_STATUSES), Case.priority >= low, _needs_a_person(), *where)
        if high is not None:
            query = query.where(Case.priority < high)
        if due_before is not None:
            query = query.where(due < due_before)
        if start is not None:
            query = query.where(or_(due > start.due, and_(due == start.due, Case.id > start.id)))
        query = query.order_by(due, Case.id)
    elif tier == CLOCK:
        # Walk unmet clocks in due order and keep a clock only when it is its case's nearest one.
        other = aliased(Clock)
        nearer = exists().where(other.case_id == Clock.case_id, _unmet(other), or_(
            other.due_at < Clock.due_at, and_(other.due_at == Clock.due_at, other.id < Clock.id)))
        query = select(Case.id, Clock.due_at.label("due")).join(Case, Case.id == Clock.case_id).where(
            _unmet(), Case.status.in_(QUEUE_STATUSES), Case.priority < EMERGENCY_PRIORITY, ~nearer, *where)
        if due_before is not None:
            query = query.where(Clock.due_at < due_before)
        if start is not None:
            query = query.where(or_(Clock.due_at > start.due, and_(Clock.due_at == start.due, Case.id > start.id)))
        query = query.order_by(Clock.due_at, Case.id)
    else:
        if due_before is not None:
            return []  # no clock runs in these tiers
        status = CaseStatus.HELD if tier == HELD else CaseStatus.OPEN
        query = select(Case.id, null().label("due")).where(
            Case.status == status, Case.priority < EMERGENCY_PRIORITY, ~_has_clock(), *where)
        if tier == UNASSIGNED:
            query = query.where(Case.assignee.is_(None))
        if start is not None:
            query = query.where(Case.id > start.id)
        query = query.order_by(Case.id)
    return [Cursor(tier, due or NEVER, case_id) for case_id, due in session.execute(query.limit(limit))]


def _case_filters(filters: QueueFilter, now: dt.datetime, timezone: str, *, clocks: bool = True) -> list[Any]:
    """The filters as conditions on ``Case``; the clock filters too unless the tier applies them itself."""
    where: list[Any] = []
    if filters.category:
        where.append(Case.category == filters.category)
    if filters.stage:
        where.append(Case.stage == int(filters.stage))
    if filters.flag:
        flag = Flag(filters.flag).value  # a known flag only: it goes into a LIKE pattern
        if flag in PRIORITY:  # an open or held case with the flag has at least its priority: an index answers
            where.append(Case.priority >= PRIORITY[Flag(flag)])
        if flag != Flag.SAFEGUARDING:  # nothing else gives a priority of 100
            where.append(cast(Case.flags, String).like(f'%"{flag}"%'))
    if filters.assignee == UNASSIGNED_FILTER:
        where.append(Case.assignee.is_(None))
    elif filters.assignee:
        where.append(Case.assignee == filters.assignee)
    if filters.status:
        where.append(Case.status == CaseStatus(filters.status).value)
    if filters.held_reason and filters.held_reason.strip():
        where.append(func.lower(Case.held_reason).like(_contains(filters.held_reason.strip().lower()), escape="\\"))
    if filters.channel:
        first = select(Submission.kind).where(Submission.case_id == Case.id).order_by(Submission.id).limit(1)
        where.append(first.scalar_subquery() == filters.channel)
    if filters.search and filters.search.strip():
        where.append(_search(filters.search))
    due_before = _due_before(filters, now, timezone)
    if clocks and due_before is not None:
        where.append(Case.id.in_(select(Clock.case_id).where(_unmet(), Clock.due_at < due_before)))
    return where


def _search(text: str):
    """A reference (whole or part), a resident's name or email (part, any case), or a postcode (in the
    address lines, spaces and case ignored)."""
    text = " ".join(text.split())
    upper = text.upper()
    terms = [Case.reference == upper, Case.reference.like(_contains(upper), escape="\\"),
             func.lower(Case.resident_name).like(_contains(text.lower()), escape="\\"),
             func.lower(Case.resident_email).like(_contains(text.lower()), escape="\\")]
    compact = upper.replace(" ", "")
    if POSTCODE.fullmatch(compact):
        address = func.replace(func.upper(cast(Case.resident_address, String)), " ", "")
        terms.append(address.like(_contains(compact), escape="\\"))
    return or_(*terms)


def _contains(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# -- the rows ----------------------------------------------------------------------------------------------


def _rows(session: Session, keys: Sequence[Cursor], now: dt.datetime) -> list[QueueRow]:
    """The page's cases, with each one's nearest unmet clock, in the keys' order."""
    ids = [key.id for key in keys]
    if not ids:
        return []
    cases = {case.id: case for case in session.scalars(select(Case).where(Case.id.in_(ids)))}
    nearest: dict[int, Clock] = {}
    # by case_id alone, so the planner reads each case's clocks and not every unmet clock; sifted here
    for clock in session.scalars(select(Clock).where(Clock.case_id.in_(ids)).order_by(Clock.due_at, Clock.id)):
        if clock.met_at is None and clock.kind not in WINDOW_KINDS:
            nearest.setdefault(clock.case_id, clock)
    rows = []
    for key in keys:
        case, clock = cases[key.id], nearest.get(key.id)
        rows.append(QueueRow(
            id=case.id, reference=case.reference, tier=key.tier, category=case.category, flags=list(case.flags),
            stage=case.stage, status=case.status, held_reason=case.held_reason, assignee=case.assignee,
            received_at=case.received_at, clock_kind=clock.kind if clock else None,
            clock_due=clock.due_at if clock else None, overdue=bool(clock and clock.due_at < now)))
    return rows



def people(session: Session) -> list[str]:
    """The logins the queue can be filtered by: everyone who may sign in."""
    return list(session.scalars(select(User.email).where(User.disabled_at.is_(None)).order_by(User.email)))
