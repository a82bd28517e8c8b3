"""Wiring: settings → database, sources, pipeline, sender → APScheduler jobs. No domain logic here.

Several workers (processes, on one machine or several) may run on one database. Each source is polled,
and the clocks and the print batch are run, only by the worker holding that job's lease
(casework/leases.py); processing and sending are shared by every worker (their claims make that safe).
A worker stops on SIGTERM or SIGINT: it finishes the work in hand, gives up its leases and returns.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler

from intake.checkpoints import Checkpoints
from casework.actions import Casework
from casework.clocks import watch_clocks
from casework.leases import CLOCKS, PRINT_BATCH, Leases, renewal_seconds, source_lease
from casework.models import utcnow
from core.logs import describe
from core.db import Database
from casework.policy import Policy
from casework.references import References
from core.settings import Settings
from intake.imap import ImapSource
from intake.items import Source
from intake.maildir import MaildirSource
from pipeline.process import LazyClassifier, Pipeline
from pipeline.runner import Runner
from responders.alerts import Alerter
from responders.post import LetterPrinter, batch_cut, print_folder, write_day_batch
from responders.correspondence import Correspondence
from responders.render import TemplateSet
from responders.template_library import SavedTemplates
from responders.sender import OutboxSender
from responders.transport import make_transport

if TYPE_CHECKING:
    from triage.staff import Staff

log = logging.getLogger("intake")
PROCESS_JOB = "process"
PROCESS_SECONDS = 5.0  # the process job's interval at most; a poll that stores something wakes it at once
ONCE_IDLE_SECONDS = 2.0  # `run --once` without a source's lease helps its holder until nothing new for this long
ONCE_IDLE_PAUSE = 0.1
SEND_SECONDS = 5.0  # the send job's interval at least; processing that queues rows wakes it at once
CLOCKS_MINUTES = 15
WAIT_SLICE = 5.0  # seconds: the longest single wait (for mail, for a wake), so a stop is seen within it
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
    leases: Leases
    stopping: threading.Event = field(default_factory=threading.Event)  # SIGTERM/SIGINT: finish and stop
    stored: threading.Event = field(default_factory=threading.Event)  # a poll stored items: process now
    queued: threading.Event = field(default_factory=threading.Event)  # processing queued rows: send now
    started_at: dt.datetime = field(default_factory=utcnow)

    @cached_property
    def alerter(self) -> Alerter:
        """The alert job's (made on its first run, so commands that never alert never build it)."""
        return Alerter(self.settings, self.db, started_at=self.started_at)

    def run_once(self) -> dict[str, int]:
        """Every job once, draining each: what `intake run --once`, the tests and the demo use. Sources
        and the clocks only where this process takes the lease (another process running now holds the
        rest); processing and sending whatever is waiting, whoever stored it. The leases are given up at
        the end, and on SIGTERM or SIGINT it stops after the work in hand."""
        with _stop_on_signals(self.stopping):
            try:
                return self._run_once()
            finally:
                self.release_leases()

    def _run_once(self) -> dict[str, int]:
        sources = [source for source in self.runner.sources if self.holds_lease(source_lease(source.name))]
        for source in (source for source in self.runner.sources if source not in sources):
            log.info("source %s is polled by another worker now: not polled by this run", source.name)
        stop = self.stopping.is_set
        items = _drain(lambda: self._poll(sources) + self.runner.process_waiting(stop=stop), stop)
        if len(sources) < len(self.runner.sources):
            items += self._process_while_stored_elsewhere(stop)
        queued_by = utcnow()  # everything processing queued; a row tried and rescheduled waits for the next run
        return {
            "items": items,
            "sent": _drain(lambda: self.sender.run_once(due_by=queued_by), stop),
            "printed": _drain(lambda: self.printer.run_once(due_by=queued_by), stop),
            "clocks": watch_clocks(self.db) if not stop() and self.holds_lease(CLOCKS) else 0,
        }

    def _process_while_stored_elsewhere(self, stop: Callable[[], bool]) -> int:
        """`run --once` in a worker that does not hold every source's lease: the holder may still be
        storing mail, which is this worker's to process too (two workers started together share the
        processing, not only what was stored when the second looked). Process what arrives, a batch at a
        time, until nothing has been waiting for ``ONCE_IDLE_SECONDS`` (a holder running as a service
        never ends this run: its mail stops arriving and so does this)."""
        done, idle_since = 0, time.monotonic()
        while not stop() and time.monotonic() - idle_since < ONCE_IDLE_SECONDS:
            finished = self.runner.process_waiting(stop=stop)
            if finished:
                done, idle_since = done + finished, time.monotonic()
            else:
                time.sleep(ONCE_IDLE_PAUSE)
        return done

    def _poll(self, sources: list[Source]) -> int:
        """Poll each source whose lease this worker still holds (renewed as it goes)."""
        return sum(self.runner.poll(self.leased(source)) for source in sources
                   if self.holds_lease(source_lease(source.name)))

    def leased(self, source: Source) -> "LeasedSource":
        name = source_lease(source.name)
        return LeasedSource(source, lambda: not self.stopping.is_set() and self.holds_lease(name))

    def holds_lease(self, lease: str) -> bool:
        """Whether this worker holds the lease (taking or renewing it); False when the database cannot say."""
        try:
            return self.leases.keep(lease)
        except Exception as exc:  # noqa: BLE001 - no answer is no lease: the job waits for the next try
            log.error("could not take or renew lease %s: %s", lease, describe(exc))
            return False

    def release_leases(self) -> None:
        try:
            self.leases.release_all()
        except Exception as exc:  # noqa: BLE001 - they expire by themselves after [workers] lease_seconds
            log.error("could not release this worker's leases (they expire in %gs): %s", self.leases.seconds,
                      describe(exc))

    def write_todays_batch(self) -> Path:
        """Today's batch file for the post room (the letters printed since yesterday's cut)."""
        today = utcnow().astimezone(ZoneInfo(self.settings.policy.timezone)).date()
        batch = write_day_batch(self.settings, self.db, today)
        log.info("print batch for %s: %d letters (%d large print) in %s", today, len(batch.letters),
                 batch.large_print, batch.path)
        return batch.path

    def send(self) -> int:
        """Send and print every row due now, a batch at a time; a row tried and rescheduled waits."""
        due_by = utcnow()
        return _drain(lambda: self.sender.run_once(due_by=due_by) + self.printer.run_once(due_by=due_by),
                      self.stopping.is_set)


class LeasedSource:
    """A source seen through its lease: ``fetch`` stops before taking the next item once ``held()`` says
    the lease is lost or the worker is stopping, so the item in hand is finished and no other is taken.
    Everything else (``done``, ``done_all``, ``wait_for_mail``, ``close``) is the source's own."""

    def __init__(self, source: Source, held: Callable[[], bool]) -> None:
        self.source = source
        self.name = source.name
        self.held = held

    def fetch(self) -> Iterator:
        items = iter(self.source.fetch())
        try:
            for item in items:
                if not self.held():
                    log.info("source %s: lease lost or stopping; the rest is left for the next poll", self.name)
                    return
                yield item
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def __getattr__(self, attribute: str):
        return getattr(self.source, attribute)


def build(settings: Settings) -> Service:
    db = Database(settings.resolved_database_url)
    db.migrate()
    templates = build_templates(settings, db)
    policy = Policy(settings.policy)
    pipeline = build_pipeline(settings, templates, policy)
    runner = Runner(db, build_sources(settings, db), pipeline, limits=settings.limits)
    return Service(settings, db, runner, build_sender(settings, db, policy),
                   build_printer(settings, db, templates, policy), Leases(db, settings.workers.lease_seconds))


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
    one correspondence, so a reply's preview is rendered exactly as the verb will queue it. The staff
    app's modules are imported here, not by the worker (tests/test_imports.py)."""
    from triage.staff import Staff

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
        classifier=LazyClassifier(settings.classifier.model_path, threshold=settings.classifier.confidence_threshold),
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


def run_forever(service: Service) -> None:
    """The worker, until SIGTERM or SIGINT: then the jobs finish the work in hand, the leases are given
    up and the sources closed, and it returns (the command exits 0)."""
    scheduler = BackgroundScheduler(timezone="UTC", executors={"default": ThreadPoolExecutor(_threads(service))})
    schedule(service, scheduler)
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)  # not two lines per heartbeat
    with _stop_on_signals(service.stopping):
        scheduler.start()
        log.info("worker %s started: %d sources, polling every %ss (or as soon as mail arrives where the "
                 "server can say), leases of %gs", service.leases.holder, len(service.runner.sources),
                 service.settings.poll_seconds, service.leases.seconds)
        while not service.stopping.wait(1.0):
            pass
        log.info("worker stopping: finishing the work in hand")
        scheduler.shutdown(wait=True)
    service.release_leases()
    for source in service.runner.sources:
        with contextlib.suppress(Exception):
            source.close()
    log.info("worker stopped; its leases are released")


def schedule(service: Service, scheduler: BaseScheduler) -> None:
    """The worker's jobs. Invariants:
    - polling and processing are separate jobs (one poll job per source), which the scheduler's thread
      pool runs at the same time, so a source that is down or slow (an IMAP login timing out) never holds
      up mail already stored, nor the other sources;
    - a source is polled, and the clocks and the print batch run, only while this worker holds their
      lease; processing and sending run in every worker;
    - the poll, process and send jobs are loops that run until the worker stops, each woken at once by
      the event before it (mail arriving, a poll storing items, processing queuing rows) and otherwise on
      its timer; every wait is at most ``WAIT_SLICE``, so a stop is seen within it."""
    scheduler.add_job(_process_loop, args=[service, scheduler], id=PROCESS_JOB, next_run_time=utcnow())
    for source in service.runner.sources:
        scheduler.add_job(_poll_loop, args=[service, scheduler, source], id=f"poll:{source.name}",
                          next_run_time=utcnow())
    scheduler.add_job(_send_loop, args=[service, scheduler], id="send", next_run_time=utcnow())
    scheduler.add_job(_renew_leases, "interval", seconds=renewal_seconds(service.settings.workers.lease_seconds),
                      args=[service], id="leases", coalesce=True)
    scheduler.add_job(_run_clocks, "interval", minutes=CLOCKS_MINUTES, args=[service], id="clocks", coalesce=True)
    scheduler.add_job(_run_alerts, "interval", minutes=service.settings.alerts.check_minutes, args=[service],
                      id="alerts", coalesce=True, max_instances=1)
    cut = batch_cut(service.settings)
    if service.settings.letters is not None and cut is not None:
        at = (dt.datetime.combine(dt.date.min, cut) + BATCH_AFTER_CUT).time()
        scheduler.add_job(_write_print_batch, "cron", hour=at.hour, minute=at.minute, args=[service],
                          id="print-batch", timezone=ZoneInfo(service.settings.policy.timezone), coalesce=True,
                          misfire_grace_time=3600)


# -- the jobs -------------------------------------------------------------------------------------

def _poll_loop(service: Service, scheduler: BaseScheduler, source: Source) -> None:
    """One source's poller. While this worker holds the source's lease: poll, then wait for mail (IMAP
    IDLE, where the server can push) or ``poll_seconds`` (where it cannot), renewing the lease as it
    waits, and poll again. Otherwise try for the lease every third of the lease time (a holder that
    stops renewing is taken over within ``lease_seconds`` of its last renewal)."""
    name = source_lease(source.name)

    def held() -> bool:
        return not _stopping(service, scheduler) and service.holds_lease(name)

    leased, was_held, pushed = LeasedSource(source, held), False, False
    while not _stopping(service, scheduler):
        try:
            if not held():
                if was_held:
                    source.close()  # another worker polls it now: no connection left open for nothing
                was_held = pushed = False
                _pause(service, scheduler, service.leases.renew_every)
                continue
            was_held = True
            stored = service.runner.poll(leased)
            if not stored and pushed:  # the server said mail came, but its folder view may catch up only
                stored = service.runner.poll(leased)  # at the end of the poll's first command: ask again
            if stored:
                service.stored.set()
            pushed = _wait_for_next_poll(service, scheduler, source, held)
        except Exception as exc:  # noqa: BLE001 - the poller must outlive any one failure
            log.error("poller for source %s: %s", source.name, describe(exc))
            _pause(service, scheduler, WAIT_SLICE)


def _wait_for_next_poll(service: Service, scheduler: BaseScheduler, source: Source, held: Callable[[], bool]) -> bool:
    """Until mail arrives (the source says so: True), ``poll_seconds`` pass, the lease is lost or the
    worker stops; in slices short enough that the lease is renewed (``held``) in time."""
    deadline = time.monotonic() + service.settings.poll_seconds
    while (left := deadline - time.monotonic()) > 0 and held():
        piece = min(left, service.leases.renew_every, WAIT_SLICE)
        began = time.monotonic()
        if _wait_for_mail(source, piece):
            return True
        _pause(service, scheduler, piece - (time.monotonic() - began))  # a source that cannot push returns at once
    return False


def _wait_for_mail(source: Source, seconds: float) -> bool:
    """The source's ``wait_for_mail`` (intake/items.py's contract), or False at once where it has none."""
    wait = getattr(source, "wait_for_mail", None)
    return bool(wait(seconds)) if wait is not None else False


def _process_loop(service: Service, scheduler: BaseScheduler) -> None:
    """Process what is waiting; again as soon as a poll stores something, else every few seconds.
    Each batch taken to a disposition (which queues its acknowledgements) wakes sending at once, so a
    backlog's first acknowledgements go while the rest is processed; a stop is seen between batches."""
    every = min(service.settings.poll_seconds, PROCESS_SECONDS)

    def process() -> int:
        return service.runner.process_waiting(stop=lambda: _stopping(service, scheduler),
                                              after_batch=lambda _done: service.queued.set())

    _wake_loop(service, scheduler, service.stored, every, process)


def _send_loop(service: Service, scheduler: BaseScheduler) -> None:
    """Send (and print) what is queued: at once when processing queues rows, else on a timer."""
    every = max(service.settings.poll_seconds / 4, SEND_SECONDS)
    _wake_loop(service, scheduler, service.queued, every, service.send)


def _wake_loop(service: Service, scheduler: BaseScheduler, wake: threading.Event, every: float,
               job: Callable[[], int], then: threading.Event | None = None) -> None:
    """Run ``job`` now, then each time ``wake`` is set or ``every`` seconds pass, until the worker stops;
    set ``then`` when the job did something."""
    while not _stopping(service, scheduler):
        wake.clear()
        try:
            if job() and then is not None:
                then.set()
        except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure
            log.error("job %s failed: %s", getattr(job, "__name__", job), describe(exc))
        deadline = time.monotonic() + every
        while not wake.is_set() and not _stopping(service, scheduler) and (left := deadline - time.monotonic()) > 0:
            wake.wait(min(left, 1.0))


def _renew_leases(service: Service) -> None:
    """The heartbeat: keep every lease this worker holds (the clocks' and the print batch's between runs)."""
    service.leases.renew_held()


def _run_clocks(service: Service) -> int:
    return watch_clocks(service.db) if service.holds_lease(CLOCKS) else 0


def _run_alerts(service: Service) -> int:
    """Alert emails, from the worker holding the clocks' lease only: one email per condition, not one per worker."""
    return service.alerter.run_once() if service.holds_lease(CLOCKS) else 0


def _write_print_batch(service: Service) -> None:
    if service.holds_lease(PRINT_BATCH):
        service.write_todays_batch()


# -- stopping -------------------------------------------------------------------------------------

def _stopping(service: Service, scheduler: BaseScheduler) -> bool:
    """The worker is stopping (a signal), or the scheduler was shut down (a test, an embedding)."""
    return service.stopping.is_set() or scheduler.state == STATE_STOPPED


def _pause(service: Service, scheduler: BaseScheduler, seconds: float) -> None:
    """Sleep up to ``seconds``, waking within a second of a stop."""
    deadline = time.monotonic() + seconds
    while not _stopping(service, scheduler) and (left := deadline - time.monotonic()) > 0:
        service.stopping.wait(min(left, 1.0))


@contextlib.contextmanager
def _stop_on_signals(stopping: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stopping`` (no KeyboardInterrupt, no traceback) while inside; only the
    main thread can take signals, so elsewhere (a test's thread) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, _frame) -> None:
        if not stopping.is_set():
            log.info("%s: stopping after the work in hand", signal.Signals(signum).name)
        stopping.set()

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _threads(service: Service) -> int:
    """One thread per poll job, plus processing, sending, the lease heartbeat, the clocks, the alerts and
    the print batch."""
    return len(service.runner.sources) + 6


def _drain(job: Callable[[], int], stop: Callable[[], bool] = lambda: False) -> int:
    total = 0
    while not stop() and (done := job()) > 0:
        total += done
    return total
