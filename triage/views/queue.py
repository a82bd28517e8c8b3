"""The queue (/): everything that needs a person, most urgent first (the order and what "needs a person"
means are casework.queue's). Filters are query parameters, so a view can be bookmarked; paging is a
cursor in the "Next page" link. With htmx the filter form and the paging links fetch only the results
(``queue/results.html``) and push the URL; without JavaScript they are plain GET forms and links."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casework.models import Case, CaseEvent, utcnow
from casework.queue import UNASSIGNED_FILTER, QueueFilter, counts, people, queue_page
from casework.vocabulary import Category, Channel, EventAction, Flag
from triage.render import day, page, when
from pipeline.tiers import open_checks
from triage.words import CHANNEL_WORDS, CHECK_WORDS, CLOCK_WORDS

# The query parameters, in the order the form shows them.
FIELDS = ("q", "category", "stage", "flag", "assignee", "status", "held", "channel", "overdue", "week")
MINE = "mine"
URGENT_FLAGS = (Flag.SAFEGUARDING, Flag.EMERGENCY_HAZARD)
WARNING_FLAGS = (Flag.DAMP_MOULD,)
CHANNEL_LABELS = {channel: words.capitalize() for channel, words in CHANNEL_WORDS.items()}
# The filter bar: (key in casework.queue.counts, words, the query that shows them)
QUICK = (("held", "Held", {"status": "held"}), ("overdue", "Overdue", {"overdue": "1"}),
         ("due_this_week", "Due this week", {"week": "1"}), ("mine", "Mine", {"assignee": MINE}),
         ("unassigned", "Unassigned", {"assignee": UNASSIGNED_FILTER}),
         ("safeguarding", "Safeguarding", {"flag": Flag.SAFEGUARDING.value}),
         ("emergency_hazard", "Emergency hazard", {"flag": Flag.EMERGENCY_HAZARD.value}))


def queue(request: Request) -> Response:
    staff, user = request.app.state.staff, request.state.user
    form = {name: request.query_params.get(name, "").strip()[:200] for name in FIELDS}
    filters = to_filter(form, user.email, staff.casework.references)
    zone = staff.settings.policy.timezone
    now = utcnow()
    only_results = (request.headers.get("hx-request") == "true"
                    and request.headers.get("hx-history-restore-request") != "true")
    with staff.db.sessions() as session:
        result = queue_page(session, filters, after=request.query_params.get("after"), now=now, timezone=zone)
        checks = _open_checks(session, [row.id for row in result.rows])
        bar = None if only_results else counts(session, user.email, now=now, timezone=zone)
        logins = [] if only_results else people(session)
    chosen = {name: value for name, value in form.items() if value}
    context = {
        "rows": result.rows, "form": form, "filtered": bool(chosen), "paged": "after" in request.query_params,
        "next_url": "/?" + urlencode({**chosen, "after": result.next_cursor}) if result.next_cursor else None,
        "first_url": "/?" + urlencode(chosen) if chosen else "/",
        "clock_labels": CLOCK_WORDS, "due": lambda at: _due(at, ZoneInfo(zone)),
        "urgent_flags": URGENT_FLAGS, "warning_flags": WARNING_FLAGS, "checks": checks, "check_words": CHECK_WORDS,
    }
    if only_results:
        return page(request, "queue/results.html", **context)
    quick = [(words, bar[key], "/?" + urlencode(query), _is_current(form, query)) for key, words, query in QUICK]
    return page(request, "queue.html", quick=quick, categories=list(Category), flags=list(Flag),
                channels=CHANNEL_LABELS, logins=logins, **context)


def to_filter(form: dict[str, str], me: str, references) -> QueueFilter:
    """The form's values as a QueueFilter; a value that is not one of ours is ignored (treated as any)."""
    assignee = form["assignee"]
    search = form["q"]
    if search:
        found = references.find(search)  # "cmp 2026 123" is CMP-2026-000123
        search = found[0] if len(found) == 1 and len(search) <= 40 else search
    return QueueFilter(
        category=form["category"] if form["category"] in set(Category) else None,
        stage=int(form["stage"]) if form["stage"] in ("1", "2") else None,
        flag=form["flag"] if form["flag"] in set(Flag) else None,
        assignee=me if assignee == MINE else assignee or None,
        status=form["status"] if form["status"] in ("held", "open") else None,
        held_reason=form["held"] or None,
        overdue=bool(form["overdue"]), due_this_week=bool(form["week"]),
        channel=form["channel"] if form["channel"] in set(Channel) else None,
        search=search or None,
    )


def _open_checks(session, ids: list[int]) -> dict[int, list[str]]:
    """The open check markers of the page's cases (pipeline/tiers.py): a marker beside the flags, never a
    change of order. Only cases with a check raised have their classification events read."""
    with_checks = [case_id for case_id, checks in session.execute(select(Case.id, Case.checks).where(Case.id.in_(ids)))
                   if checks]
    if not with_checks:
        return {}
    events: dict[int, list[CaseEvent]] = {}
    query = (select(CaseEvent).where(CaseEvent.case_id.in_(with_checks),
                                     CaseEvent.action.in_([EventAction.CLASSIFIED, EventAction.RECLASSIFIED]))
             .order_by(CaseEvent.id))
    for event in session.scalars(query):
        events.setdefault(event.case_id, []).append(event)
    return {case_id: found for case_id, case_events in events.items() if (found := open_checks(case_events))}


def _is_current(form: dict[str, str], query: dict[str, str]) -> bool:
    chosen = {name: value for name, value in form.items() if value}
    return chosen == query


def _due(at: dt.datetime | None, zone: ZoneInfo) -> str:
    """A clock's due moment: the day when it falls due at the end of a day (most do), else day and time."""
    if at is None:
        return "–"
    local = at.astimezone(zone)
    return day(at, zone) if (local.hour, local.minute) == (23, 59) else when(at, zone)


routes = [Route("/", queue, methods=["GET"])]
