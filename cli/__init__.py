"""The `intake` command. The only place that prints for people or exits with a status."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from cli import case, doctor, print_room, records, report, stock, web
from core.errors import IntakeError
from core.settings import Settings, load_settings

log = logging.getLogger("intake")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        _configure_logging(settings.log_level)
        return args.handler(args, settings)
    except IntakeError as exc:
        print(f"intake: {exc}", file=sys.stderr)
        return 2


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration step on every command


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
    commands.add_parser("evaluate", help="classifier figures on held data").set_defaults(handler=_evaluate)
    commands.add_parser("train", help="retrain; promote only if no worse").set_defaults(handler=_train)
    case.add_parser(commands)
    report.add_parser(commands)
    print_room.add_parser(commands)
    stock.add_parser(commands)
    doctor.add_parser(commands)
    records.add_parsers(commands)
    web.add_parsers(commands)
    return parser


def _run(args, settings: Settings) -> int:
    import scheduler

    _report_policy(settings)
    service = scheduler.build(settings)
    if args.once:
        done = service.run_once()
        print(
            f"stored and processed {done['items']} items, sent {done['sent']} emails, printed {done['printed']} letters,"
            f" {done['clocks']} clock events (overdue noted, cases closed after their satisfaction window)"
        )
        for name, error in service.runner.health.errors.items():
            print(f"source {name}: {error}", file=sys.stderr)
        return 0
    scheduler.run_forever(service)
    return 0


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

    return evaluate_command(sys.stdout, settings.classifier.model_path)


def _train(args, settings: Settings) -> int:
    from core.db import Database
    from classifier.commands import train_command

    db = Database(settings.resolved_database_url)
    db.migrate()
    return train_command(sys.stdout, db)


