"""`intake report ...`: the managers' figures on the command line, for the Regulator's return and scripts.

``intake report tsm`` prints the Tenant Satisfaction Measures CH01 and CH02 with the counts behind them
(``casework.figures.TSM_FIELDS``, a contract: the staff app's /figures/tsm.csv gives the same values);
``intake report figures`` prints every figure. Dates are local dates, both ends included. A missing
number of homes or a bad range is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

from core.errors import ConfigurationError, IntakeError
from core.settings import Settings

HOMES_MISSING = ("no number of homes for CH01: set [figures] homes (or [figures] homes_by_stock_type), "
                 "or give --homes N")


def add_parser(commands) -> None:
    report = commands.add_parser("report", help="the managers' figures: the TSM (CH01, CH02) and the rest")
    kinds = report.add_subparsers(required=True, metavar="REPORT")
    tsm = kinds.add_parser("tsm", help="Tenant Satisfaction Measures CH01 and CH02 with the counts behind them")
    _period_arguments(tsm)
    tsm.add_argument("--homes", type=_homes, metavar="N", help="homes owned (default: [figures] homes)")
    tsm.set_defaults(handler=_tsm)
    figures = kinds.add_parser("figures", help="every figure: timeliness, extensions, themes, holds, outcomes ...")
    _period_arguments(figures)
    figures.add_argument("--homes", type=_homes, metavar="N", help="homes owned (default: [figures] homes)")
    figures.add_argument("--figure", metavar="NAME", help="only this figure (its table, as /figures/NAME.csv gives)")
    figures.set_defaults(handler=_figures)


def _period_arguments(parser) -> None:
    parser.add_argument("--from", dest="start", required=True, type=_date, metavar="DATE", help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="end", required=True, type=_date, metavar="DATE", help="last day, YYYY-MM-DD")
    parser.add_argument("--format", choices=("json", "csv"), default="json")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)") from None


def _homes(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a number of homes: {value!r} (a whole number, 1 or more)")
    return int(value)


def _compute(args, settings: Settings, homes_needed: bool):
    from casework.figures import Period, compute
    from casework.policy import Policy
    from core.db import Database

    homes = args.homes or settings.figures.homes
    if homes is None and homes_needed:
        raise ConfigurationError(HOMES_MISSING)
    try:
        period = Period(args.start, args.end)
    except ValueError as exc:
        raise IntakeError(str(exc)) from None
    db = Database(settings.resolved_database_url)
    db.migrate()
    try:
        with db.sessions() as session:
            return compute(session, period, Policy(settings.policy), homes)
    finally:
        db.engine.dispose()


def _tsm(args, settings: Settings) -> int:
    tsm = _compute(args, settings, homes_needed=True).tsm
    print(json.dumps(tsm.as_dict(), indent=2) if args.format == "json" else tsm.csv(), end=_end(args))
    return 0


def _figures(args, settings: Settings) -> int:
    figures = _compute(args, settings, homes_needed=False)
    if args.figure is not None:
        if args.figure not in figures.names:
            raise IntakeError(f"no figure called {args.figure!r}: one of {', '.join(figures.names)}")
        figure = figures[args.figure]
        data = {"name": figure.name, "label": figure.label, "columns": list(figure.columns),
                "rows": [[label, *values] for label, values in figure.rows]}
        print(json.dumps(data, indent=2, ensure_ascii=False) if args.format == "json" else figure.csv(), end=_end(args))
        return 0
    print(json.dumps(figures.as_dict(), indent=2, ensure_ascii=False) if args.format == "json" else figures.csv(),
          end=_end(args))
    return 0


def _end(args) -> str:
    return "\n" if args.format == "json" else ""
