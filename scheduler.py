"""Wiring: settings → database, sources, pipeline, sender → APScheduler jobs. No domain logic here."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from intake.checkpoints import Checkpoints
from casework.actions import Casework
from casework.clocks import watch_clocks
from casework.models import utcnow
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
from responders.post import LetterPrinter, batch_cut, print_folder, write_day_batch
from responders.correspondence import Correspondence
from triage.staff import Staff
from responders.render import TemplateSet
from responders.template_library import SavedTemplates
from responders.sender import OutboxSender
from responders.transport import make_transport

log = logging.getLogger("intake")
PROCESS_JOB = "process"
# The batch job runs this long after the cut, so a letter whose print (sent_at just before the cut) is
# still committing is in the file; the window is fixed by the cut, not by when the job runs.
BATCH_AFTER_CUT = dt.timedelta(minutes=2)


@dataclass
class Service:
    settings: Settings
    db: Database
    runner: Runner
    sender: OutboxSender
    printer: LetterPrinter

    def run_once(self) -> dict[str, int]:
        """Every job once, draining each: what `intake run --once`, the tests and the demo use."""
        items = _drain(self.runner.run_once)
        queued_by = utcnow()  # everything processing queued; a row tried and rescheduled waits for the next run
        return {
            "items": items,
            "sent": _drain(lambda: self.sender.run_once(due_by=queued_by)),
            "printed": _drain(lambda: self.printer.run_once(due_by=queued_by)),
            "clocks": watch_clocks(self.db),
        }

    def write_todays_batch(self) -> Path:
        """Today's batch file for the post room (the letters printed since yesterday's cut)."""
        today = utcnow().astimezone(ZoneInfo(self.settings.policy.timezone)).date()
        batch = write_day_batch(self.settings, self.db, today)
        log.info("print batch for %s: %d letters (%d large print) in %s", today, len(batch.letters),
                 batch.large_print, batch.path)
        return batch.path

    def send(self) -> int:
        return self.sender.run_once() + self.printer.run_once()


def build(settings: Settings) -> Service:
    db = Database(settings.resolved_database_url)
    db.migrate()
    templates = build_templates(settings, db)
    policy = Policy(settings.policy)
    pipeline = build_pipeline(settings, templates, policy)
    runner = Runner(db, build_sources(settings, db), pipeline, limits=settings.limits)
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
    process = Runner(db, [], pipeline, limits=settings.limits).process
    return Staff(settings, db, casework, templates, pipeline.correspondence, process)


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
    large_print = bool(settings.letters and settings.letters.large_print)
    return LetterPrinter(db, templates, settings.landlord, print_folder(settings), large_print=large_print,
                         settings=settings.outbox, policy=policy)


PROCESS_SECONDS = 5.0  # the process job's interval at most; a poll that stores something wakes it at once


def run_forever(service: Service) -> None:
    scheduler = BlockingScheduler(timezone="UTC", executors={"default": ThreadPoolExecutor(_threads(service))})
    schedule(service, scheduler)
    log.info("worker started: %d sources, polling every %ss", len(service.runner.sources), service.settings.poll_seconds)
    scheduler.start()


def schedule(service: Service, scheduler: BaseScheduler) -> None:
    """The worker's jobs. Invariant: polling and processing are separate jobs (one poll job per source),
    which the scheduler's thread pool runs at the same time, so a source that is down or slow (an IMAP
    login timing out) never holds up mail already stored, nor the other sources; each job runs one
    instance at a time, so one source is never polled twice at once."""
    every = service.settings.poll_seconds
    process_every = min(every, PROCESS_SECONDS)
    scheduler.add_job(service.runner.process_waiting, "interval", seconds=process_every, id=PROCESS_JOB,
                      max_instances=1, coalesce=True, next_run_time=utcnow())
    for source in service.runner.sources:
        scheduler.add_job(_poll_then_wake, "interval", seconds=every, args=[service, scheduler, source],
                          id=f"poll:{source.name}", max_instances=1, coalesce=True, next_run_time=utcnow())
    scheduler.add_job(service.send, "interval", seconds=max(every / 4, 5), id="send", max_instances=1, coalesce=True)
    scheduler.add_job(watch_clocks, "interval", minutes=15, args=[service.db], id="clocks", coalesce=True)
    cut = batch_cut(service.settings)
    if service.settings.letters is not None and cut is not None:
        at = (dt.datetime.combine(dt.date.min, cut) + BATCH_AFTER_CUT).time()
        scheduler.add_job(service.write_todays_batch, "cron", hour=at.hour, minute=at.minute, id="print-batch",
                          timezone=ZoneInfo(service.settings.policy.timezone), coalesce=True, misfire_grace_time=3600)


def _poll_then_wake(service: Service, scheduler: BaseScheduler, source: Source) -> int:
    """Poll one source; if it stored anything, bring the process job forward to now."""
    stored = service.runner.poll(source)
    if stored:
        try:
            scheduler.modify_job(PROCESS_JOB, next_run_time=utcnow())
        except JobLookupError:  # the scheduler is shutting down
            pass
    return stored


def _threads(service: Service) -> int:
    """One thread per poll job, plus processing, sending, the clocks and the print batch."""
    return len(service.runner.sources) + 4


def _drain(job) -> int:
    total = 0
    while (done := job()) > 0:
        total += done
    return total
