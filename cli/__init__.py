"""The `intake` command. The only place that prints for people or exits with a status."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from cli import case, doctor, migrate, print_room, records, report, stock, web
from core.errors import IntakeError
from core.settings import Settings, load_settings

log = logging.getLogger("intake")


# Exit statuses (README "Settings mistakes and exit codes"); argparse exits 2 itself for a wrong command line.
EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and found a fault (check, doctor), or something outside failed (database, folder)
EXIT_REFUSED = 2  # the request is wrong: a setting, the command line, an unknown reference, a refused step
EXIT_NO_SOURCE = 3  # `run --once` ran but every source failed
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as a shell reports it


def main(argv: list[str] | None = None) -> int:
    """Run one command. Invariant: a mistake in the settings or the command line, an unreachable
    database, a folder that cannot be written and Ctrl-C each print one line (``intake: ...``) and
    exit with the status above, never a traceback; anything else is a bug and keeps its traceback."""
    settings: Settings | None = None
    try:
        args = _parser().parse_args(argv)
        settings = load_settings(args.config)
        _configure_logging(settings.log_level, settings.log_format)
        return args.handler(args, settings)
    except IntakeError as exc:
        print(f"intake: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("intake: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        failure = _outside_failure(exc, settings)
        if failure is None:
            raise
        print(f"intake: {failure}", file=sys.stderr)
        return EXIT_FAILED


def _outside_failure(exc: Exception, settings: Settings | None) -> str | None:
    """One line for a failure outside the service (the database cannot be reached or opened, a folder
    cannot be written), or None for anything else. The database's own first line says why (connection
    refused, unable to open the file); a statement's parameters are never in it (``hide_parameters``)."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    if isinstance(exc, (OperationalError, InterfaceError)) and settings is not None:
        reason = str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0]
        return f"cannot use the database {_shown_url(settings.resolved_database_url)}: {reason}"
    if isinstance(exc, OSError) and exc.filename is not None:
        where = " (var_dir)" if settings is not None and _under(exc.filename, settings.var_dir) else ""
        return f"cannot use {exc.filename}{where}: {exc.strerror or type(exc).__name__}"
    return None


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _under(filename, folder: Path) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, ValueError, TypeError):
        return False


def _configure_logging(level: str, log_format: str = "text", stream=None) -> logging.Handler:
    """The root logger at ``level`` ("INFO"...), writing to ``stream`` (stderr) as text lines or, with
    ``log_format = "json"``, one JSON object per line (``core.logs.JsonFormatter``). Called again (tests
    run several commands in one process), it replaces the handler it installed before, never another."""
    from core.logs import JsonFormatter, quiet_data_loggers

    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "intake_handler", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.intake_handler = True
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    quiet_data_loggers()  # at DEBUG too, no library prints a resident's message
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration step on every command
    return handler


TEXT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="intake", description="Housing Intake: complaints mailbox and letters")
    parser.add_argument("--config", type=Path, help="a TOML settings file (also INTAKE_CONFIG)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="the worker: poll sources, process, send acknowledgements")
    run.add_argument("--once", action="store_true", help="run every job once, then exit")
    run.set_defaults(handler=_run)
    classify = commands.add_parser(
        "classify", help="classify .eml, .txt, .pdf, .png, .jpg or .tif files (OCR first) without storing anything"
    )
    classify.add_argument("--json", action="store_true", required=True, help="one JSON object per line")
    classify.add_argument("paths", nargs="+", type=Path)
    classify.set_defaults(handler=_classify)
    commands.add_parser("cases", help="a table of cases").set_defaults(handler=_cases)
    commands.add_parser("check", help="validate settings, policy and templates").set_defaults(handler=_check)
    evaluate = commands.add_parser("evaluate", help="classifier figures on held data")
    evaluate.add_argument("--rules", action="store_true",
                          help="also each named rule's precision and recall on the training corpus")
    evaluate.add_argument("--set", dest="sets", action="append", choices=("holdout", "unseen", "cross-validation"),
                          help="report only on this set (repeatable; default: all three)")
    evaluate.set_defaults(handler=_evaluate)
    commands.add_parser("train", help="retrain; promote only if no worse").set_defaults(handler=_train)
    case.add_parser(commands)
    report.add_parser(commands)
    print_room.add_parser(commands)
    stock.add_parser(commands)
    doctor.add_parser(commands)
    migrate.add_parser(commands)
    records.add_parsers(commands)
    web.add_parsers(commands)
    _config_after_any_command(parser)
    return parser


def _config_after_any_command(parser: argparse.ArgumentParser) -> None:
    """``--config`` accepted after a command too (``intake run --config x.toml``), at every level.
    argparse has no public walk over subcommands, hence ``_actions``. SUPPRESS: a command that is not
    given it leaves the value given before the command (or None) alone."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in {id(sub): sub for sub in action.choices.values()}.values():
                command.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                                     help="a TOML settings file (also INTAKE_CONFIG)")
                _config_after_any_command(command)


def _run(args, settings: Settings) -> int:
    import scheduler

    _report_policy(settings)
    service = scheduler.build(settings)
    if args.once:
        done = service.run_once()
        print(_run_summary(service, done["clocks"]))
        for name, error in service.runner.health.errors.items():
            print(f"source {name}: {error}", file=sys.stderr)
        sources = [source.name for source in service.runner.sources]
        return EXIT_NO_SOURCE if sources and all(name in service.runner.health.errors for name in sources) else EXIT_OK
    scheduler.run_forever(service)
    return 0


def _run_summary(service, clock_events: int) -> str:
    """What `intake run --once` did, each thing counted once: items stored; submissions processed (by
    disposition); acknowledgements sent by email, held back by the per-sender cap, left to retry and
    failed; letters printed; clock events."""
    runner, sent, printed = service.runner.totals, service.sender.totals, service.printer.totals
    outcomes = ", ".join(f"{count} {disposition}" for disposition, count in sorted(runner.dispositions.items()))
    return (f"stored {runner.stored} new items; processed {runner.processed}" + (f" ({outcomes})" if outcomes else "")
            + f"; acknowledgements: {sent['delivered']} sent, {runner.suppressed} suppressed (per-sender cap),"
            f" {sent['retried']} to retry, {sent['failed']} failed; {printed['delivered']} letters printed;"
            f" {clock_events} clock events (overdue noted, cases closed after their satisfaction window)")


def _report_policy(settings: Settings) -> None:
    from casework.policy import Policy

    for breach in Policy(settings.policy).code_breaches():
        log.warning("policy breaches the Complaint Handling Code: %s", breach)


def _classify(args, settings: Settings) -> int:
    from pipeline.classify_files import classify_file
    from classifier.model import Classifier

    classifier = Classifier.load(settings.classifier.model_path, threshold=settings.classifier.confidence_threshold)
    status = 0
    for path in args.paths:
        try:
            print(json.dumps(classify_file(path, classifier, settings)), flush=True)
        except (OSError, IntakeError) as exc:
            print(json.dumps({"path": str(path), "error": str(exc)}), flush=True)
            status = 1
    return status


def _cases(args, settings: Settings) -> int:
    from core.db import Database
    from casework.queries import cases_table

    db = Database(settings.resolved_database_url)
    db.migrate()
    print(cases_table(db))
    return 0


def _check(args, settings: Settings) -> int:
    from cli.check import check

    return check(settings, sys.stdout, sys.stderr)


def _evaluate(args, settings: Settings) -> int:
    from classifier.commands import evaluate_command

    sets = tuple(args.sets) if args.sets else ("holdout", "unseen", "cross-validation")
    return evaluate_command(sys.stdout, settings.classifier.model_path, rules=args.rules, sets=sets)


def _train(args, settings: Settings) -> int:
    from core.db import Database
    from classifier.commands import train_command

    db = Database(settings.resolved_database_url)
    db.migrate()
    return train_command(sys.stdout, db)


