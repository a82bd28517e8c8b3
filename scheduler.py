"""Wiring: settings → database, sources, pipeline, sender → APScheduler jobs. No domain logic here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler

from intake.checkpoints import Checkpoints
from casework.actions import Casework
from casework.clocks import watch_clocks
from core.db import Database
from casework.policy import Policy
from casework.references import References
from core.settings import Settings
from classifier.model import Classifier
from intake.imap import ImapSource
from intake.items import Source
from intake.maildir import MaildirSource
from pipeline.process import Pipeline
from pipeline.runner import Runner
from responders.post import LetterPrinter
from responders.correspondence import Correspondence
from triage.staff import Staff
from responders.render import TemplateSet
from responders.template_library import SavedTemplates
from responders.sender import OutboxSender
from responders.transport import make_transport

log = logging.getLogger("intake")


@dataclass
class Service:
    settings: Settings
    db: Database
    runner: Runner
    sender: OutboxSender
    printer: LetterPrinter

    def run_once(self) -> dict[str, int]:
        """Every job once, draining each: what `intake run --once`, the tests and the demo use."""
        return {
            "items": _drain(self.runner.run_once),
            "sent": _drain(self.sender.run_once),
            "printed": _drain(self.printer.run_once),
            "clocks": watch_clocks(self.db),
        }

    def send(self) -> int:
        return self.sender.run_once() + self.printer.run_once()


def build(settings: Settings) -> Service:
    db = Database(settings.resolved_database_url)
    db.migrate()
    templates = build_templates(settings, db)
    policy = Policy(settings.policy)
    runner = Runner(db, build_sources(settings, db), build_pipeline(settings, templates, policy))
    return Service(settings, db, runner, build_sender(settings, db, policy), build_printer(settings, db, templates, policy))


def build_casework(settings: Settings, db: Database | None = None,
                   correspondence: Correspondence | None = None) -> Casework:
    """The staff verbs, on the same database and policy as the worker (no classifier loaded)."""
    if db is None:
        db = Database(settings.resolved_database_url)
        db.migrate()
    correspondence = correspondence or build_correspondence(
        settings, build_templates(settings, db), Policy(settings.policy))
    return Casework(db, correspondence.policy, References(settings.references), correspondence)


def build_staff(settings: Settings) -> Staff:
    """What the staff web app needs: the verbs, and the pipeline to run one submission now; both share
    one correspondence, so a reply's preview is rendered exactly as the verb will queue it."""
    db = Database(settings.resolved_database_url)
    db.migrate()
    templates = build_templates(settings, db)
    pipeline = build_pipeline(settings, templates, Policy(settings.policy))
    casework = build_casework(settings, db, pipeline.correspondence)
    return Staff(settings, db, casework, templates, pipeline.correspondence, Runner(db, [], pipeline).process)


def build_templates(settings: Settings, db: Database) -> TemplateSet:
    """The templates everything renders with: managers' saved versions (from ``db``) in force over the
    shipped files; a new version reaches a running worker within ``template_library.REFRESH_SECONDS``."""
    return TemplateSet(settings.templates_dir, overrides=SavedTemplates(db, settings.templates_dir))


def build_correspondence(settings: Settings, templates: TemplateSet, policy: Policy) -> Correspondence:
    return Correspondence(settings, templates, policy)


def build_pipeline(settings: Settings, templates: TemplateSet, policy: Policy | None = None) -> Pipeline:
    policy = policy or Policy(settings.policy)
    return Pipeline(
        settings=settings,
        policy=policy,
        references=References(settings.references),
        classifier=Classifier.load(settings.classifier.model_path, threshold=settings.classifier.confidence_threshold),
        correspondence=build_correspondence(settings, templates, policy),
    )


def build_sources(settings: Settings, db: Database) -> list[Source]:
    sources: list[Source] = [ImapSource(imap, Checkpoints(db, imap.name)) for imap in settings.imap]
    sources += [MaildirSource(maildir) for maildir in settings.maildir]
    if settings.letters is not None:
        from intake.scans.source import LetterSource

        sources.append(LetterSource(settings.letters, settings.var_dir, ZoneInfo(settings.policy.timezone)))
    return sources


def build_sender(settings: Settings, db: Database, policy: Policy) -> OutboxSender:
    return OutboxSender(
        db, make_transport(settings), settings.outbox,
        from_address=settings.landlord.email, from_name=settings.landlord.name, policy=policy,
    )


def build_printer(settings: Settings, db: Database, templates: TemplateSet, policy: Policy) -> LetterPrinter:
    letters = settings.letters
    print_dir = (letters.print_dir if letters and letters.print_dir else None) or settings.var_dir / "print"
    large_print = bool(letters and letters.large_print)
    return LetterPrinter(db, templates, settings.landlord, print_dir, large_print=large_print, settings=settings.outbox,
                         policy=policy)


def run_forever(service: Service) -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    every = service.settings.poll_seconds
    scheduler.add_job(service.runner.run_once, "interval", seconds=every, id="poll", max_instances=1, coalesce=True)
    scheduler.add_job(service.send, "interval", seconds=max(every / 4, 5), id="send", max_instances=1, coalesce=True)
    scheduler.add_job(watch_clocks, "interval", minutes=15, args=[service.db], id="clocks", coalesce=True)
    log.info("worker started: %d sources, polling every %ss", len(service.runner.sources), every)
    scheduler.start()


def _drain(job) -> int:
    total = 0
    while (done := job()) > 0:
        total += done
    return total
