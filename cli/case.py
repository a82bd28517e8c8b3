"""`intake case ...`: a case's whole life from the command line, for scripts, migration and tests.

A face over ``casework.actions.Casework``: every verb takes ``--by USER`` (required) and ``--on DATE``
(when it really happened; default now). A wrong reference, a verb that does not apply or a bad date
is one line on stderr and exit status 2, and changes nothing (the verb's transaction rolls back).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

from casework.vocabulary import Adjustment
from core.settings import Settings

OUTCOMES = ("upheld", "partly_upheld", "not_upheld", "resolved", "withdrawn")
ADJUSTMENTS = tuple(item.value for item in Adjustment)


def add_parser(commands) -> None:
    case = commands.add_parser("case", help="show, list and work cases (every staff verb)")
    verbs = case.add_subparsers(required=True, metavar="VERB")
    show = verbs.add_parser("show", help="one case: clocks, events, links")
    show.add_argument("reference")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)
    listing = verbs.add_parser("list", help="cases, most urgent first")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--status", action="append", choices=("open", "held", "closed"))
    listing.set_defaults(handler=_list)
    for name, arguments, handler in VERBS:
        verb = verbs.add_parser(name, help=handler.__doc__)
        for flags, options in arguments:
            verb.add_argument(*flags, **options)
        verb.add_argument("--by", required=True, metavar="USER", help="who did it (a staff login)")
        verb.add_argument("--on", type=when, metavar="DATE", help="when it happened: YYYY-MM-DD[THH:MM]; default now")
        verb.set_defaults(handler=handler)


def when(value: str) -> dt.datetime | dt.date:
    """A date (the action happened that day) or a local date and time; checked again by Casework."""
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None


def _casework(settings: Settings):
    import scheduler

    return scheduler.build_casework(settings)


def _show(args, settings: Settings) -> int:
    from casework.queries import case_view

    casework = _casework(settings)
    with casework.db.sessions() as session:
        view = case_view(session, args.reference)
    print(json.dumps(view, indent=2, ensure_ascii=False) if args.json else _describe(view))
    return 0


def _list(args, settings: Settings) -> int:
    from casework.queries import list_cases

    casework = _casework(settings)
    with casework.db.sessions() as session:
        rows = list_cases(session, args.status)
    for row in rows:
        print(json.dumps(row, ensure_ascii=False) if args.json else
              f"{row['reference']}  {row['category']}  stage {row['stage']}  {row['status']}  "
              f"{row['assignee'] or '-'}  next due {row['next_due'] or '-'}")
    return 0


def _describe(view: dict) -> str:
    lines = [f"{view['reference']}  {view['category']}  stage {view['stage']}  {view['status']}"
             f"{'  (' + view['outcome'] + ')' if view['outcome'] else ''}",
             f"assignee: {view['assignee'] or '-'}   flags: {', '.join(view['flags']) or '-'}",
             f"received: {view['received_at']}   acknowledged: {view['acknowledged_at'] or '-'}"]
    if view["held_reason"]:
        lines.append(f"held: {view['held_reason']}")
    lines += ["clocks:"] + [f"  {c['kind']}: due {c['due_at']}" + (f", met {c['met_at']}" if c["met_at"] else "")
                            + (f", extended by {c['extended_by_days']} working days" if c["extended_by_days"] else "")
                            for c in view["clocks"]]
    lines += ["events:"] + [f"  {e['at']}  {e['actor']}  {e['action']}" for e in view["events"]]
    lines += [f"linked: {link['reference']} ({link['kind']})" for link in view["links"]]
    return "\n".join(lines)


# -- the verbs: each prints one line saying what it did -----------------------------------------------------


def _assign(args, settings):
    """assign a case to a person"""
    _casework(settings).assign(args.reference, args.to, by=args.by, on=args.on)
    return _done(f"{args.reference} assigned to {args.to}")


def _reclassify(args, settings):
    """correct the category and flags (kept as a training correction)"""
    flags = None if args.flags is None else [flag for flag in args.flags.split(",") if flag]
    _casework(settings).reclassify(args.reference, args.category, flags, by=args.by, on=args.on)
    return _done(f"{args.reference} is now {args.category}")


def _release(args, settings):
    """release a held case; it gets the acknowledgement it now deserves"""
    _casework(settings).release(args.reference, by=args.by, on=args.on, note=args.note)
    return _done(f"{args.reference} released")


def _acknowledge(args, settings):
    """record an acknowledgement made another way (phone, in person)"""
    _casework(settings).acknowledge(args.reference, args.channel, by=args.by, on=args.on)
    return _done(f"{args.reference} acknowledged by {args.channel}")


def _log_contact(args, settings):
    """log a phone call or visit as a new submission; prints its reference"""
    import scheduler

    service = scheduler.build(settings)
    casework = scheduler.build_casework(settings, service.db)
    submission_id = casework.log_contact(args.channel, name=args.name, email=args.email,
                                         address=[line.strip() for line in (args.address or "").split(",") if line.strip()],
                                         notes=args.notes, by=args.by, on=args.on)
    service.runner.process(submission_id)
    reference = casework.contact_logged(submission_id, by=args.by)
    return _done(reference or f"submission {submission_id} stored; it failed processing and waits for a person")


def _adjust(args, settings):
    """set the resident's reasonable adjustments (replaces them; none given clears them) and language"""
    changed = _casework(settings).adjust(args.reference, args.adjustment or [], args.note, by=args.by, on=args.on,
                                         language=args.language)
    shown = ", ".join(args.adjustment or []) or "none"
    return _done(f"{args.reference} adjustments: {shown}" if changed else f"{args.reference}: adjustments unchanged")


def _link(args, settings):
    """link two cases"""
    _casework(settings).link(args.reference, args.other, by=args.by, on=args.on)
    return _done(f"{args.reference} linked to {args.other}")


def _merge(args, settings):
    """merge a duplicate into another case"""
    _casework(settings).merge(args.reference, args.into, by=args.by, on=args.on)
    return _done(f"{args.reference} merged into {args.into}")


def _split(args, settings):
    """split a message that is two things into a second, linked case; prints its reference"""
    return _done(_casework(settings).split(args.reference, args.category, by=args.by, on=args.on))


def _extend(args, settings):
    """extend the response clock (the resident is told, with the Ombudsman's details)"""
    due = _casework(settings).extend(args.reference, args.days, args.reason, by=args.by, on=args.on)
    return _done(f"{args.reference} response now due {due.isoformat()}")


def _respond(args, settings):
    """record the stage response (stops the response clock)"""
    _casework(settings).respond(args.reference, outcome=args.outcome, by=args.by, on=args.on)
    return _done(f"{args.reference} response recorded")


def _escalate(args, settings):
    """escalate to stage 2 (never handled by the stage 1 handler)"""
    _casework(settings).escalate(args.reference, to=args.to, reasons=args.reasons, by=args.by, on=args.on)
    return _done(f"{args.reference} escalated to stage 2")


def _hazard(args, settings):
    """record an Awaab's Law step: investigated, summary_sent, made_safe"""
    _casework(settings).hazard(args.reference, args.step, by=args.by, on=args.on)
    return _done(f"{args.reference}: {args.step}")


def _close(args, settings):
    """close with an outcome"""
    _casework(settings).close(args.reference, args.outcome, by=args.by, on=args.on)
    return _done(f"{args.reference} closed ({args.outcome})")


def _reopen(args, settings):
    """reopen a closed case"""
    _casework(settings).reopen(args.reference, reason=args.reason, by=args.by, on=args.on)
    return _done(f"{args.reference} reopened")


def _rerun(args, settings):
    """re-run a failed submission through the pipeline"""
    import scheduler

    service = scheduler.build(settings)
    scheduler.build_casework(settings, service.db).rerun(args.submission, by=args.by)
    return _done(f"submission {args.submission}: {service.runner.process(args.submission)}")


def _property(args, settings):
    """set the home (stock list UPRN) the case is about; --uprn '' clears it"""
    changed = _casework(settings).set_property(args.reference, args.uprn, by=args.by, on=args.on)
    return _done(f"{args.reference}: home {'set to ' + args.uprn if args.uprn else 'cleared'}"
                 f"{'' if changed else ' (no change)'}")


def _done(line: str) -> int:
    print(line)
    return 0


REF = (("reference",), {})
VERBS = [
    ("assign", [REF, (("--to",), {"required": True, "metavar": "USER"})], _assign),
    ("reclassify", [REF, (("--category",), {"required": True}), (("--flags",), {"metavar": "F,..."})], _reclassify),
    ("release", [REF, (("--note",), {})], _release),
    ("acknowledge", [REF, (("--channel",), {"default": "phone", "choices": ("phone", "in_person", "letter", "email")})],
     _acknowledge),
    ("log-contact", [(("--channel",), {"required": True, "choices": ("phone", "in_person")}),
                     (("--name",), {"required": True}), (("--email",), {}), (("--address",), {"metavar": "LINE,..."}),
                     (("--notes",), {"required": True})], _log_contact),
    ("adjust", [REF, (("--adjustment",), {"action": "append", "choices": ADJUSTMENTS, "metavar": "ADJUSTMENT",
                                          "help": f"one of {', '.join(ADJUSTMENTS)}; repeat for more"}),
                (("--note",), {"help": "what else helps (which language, how to call)"}),
                (("--language",), {"choices": ("en", "cy"), "help": "the language we write in"})], _adjust),
    ("link", [REF, (("other",), {})], _link),
    ("merge", [REF, (("--into",), {"required": True, "metavar": "REF"})], _merge),
    ("split", [REF, (("--category",), {"required": True})], _split),
    ("extend", [REF, (("--days",), {"required": True, "type": int}), (("--reason",), {"required": True})], _extend),
    ("respond", [REF, (("--outcome",), {})], _respond),
    ("escalate", [REF, (("--reasons",), {}), (("--to",), {"metavar": "USER"})], _escalate),
    ("hazard", [REF, (("--step",), {"required": True, "choices": ("investigated", "summary_sent", "made_safe")})],
     _hazard),
    ("close", [REF, (("--outcome",), {"required": True, "choices": OUTCOMES})], _close),
    ("reopen", [REF, (("--reason",), {})], _reopen),
    ("rerun", [(("submission",), {"type": int})], _rerun),
    ("property", [REF, (("--uprn",), {"required": True, "metavar": "UPRN", "help": "'' for none"})], _property),
]
