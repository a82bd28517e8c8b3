"""Alert emails to the people who run the service (``[alerts] to``): a source that has not polled
successfully for ``source_silent_minutes``, an acknowledgement clock due within ``clock_warning_hours``
(or already missed), the outbox failing (rows failed for good, or tried and still unsent
``outbox_failing_minutes`` after they were queued), and an OAuth2 secret near or past its end date.

Invariants:
* One email per run at most, listing every condition that is due; a condition is mailed at most once
  per ``repeat_minutes``, whatever happens in between (it clears and comes back, the worker restarts).
  What was sent when is remembered in ``<var_dir>/alerts-sent.json`` (private, written atomically with
  ``core.files``), and only once the transport has taken the email: an alert that could not go is
  tried again at the next run.
* Alerts leave through the transport (``responders.transport.make_transport``), never through the
  residents' outbox: they are not acknowledgements, have no case, and must not queue behind a failing
  outbox they are warning about.
* An alert names sources, case references, clock kinds, counts and times; never a resident's name,
  address or words. It carries ``Auto-Submitted: auto-generated`` so no robot answers it (ours included,
  should ``to`` be our own mailbox).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from casework.health import (
    acknowledgement_clocks_at_risk, outbox_trouble, source_names, source_states,
)
from casework.models import utcnow
from core.db import Database
from core.errors import PermanentDeliveryFailure, TemporaryDeliveryFailure
from core.files import write_private
from core.logs import describe
from core.settings import Settings
from responders.transport import Transport, make_transport

log = logging.getLogger(__name__)
MEMORY_FILE = "alerts-sent.json"
MOST_CLOCKS_LISTED = 20  # an email listing hundreds of references helps nobody: the count says the rest


@dataclass(frozen=True)
class Alert:
    key: str  # the condition, e.g. "source:inbox", "acknowledgement-clocks", "outbox", "oauth2:smtp:client_secret"
    title: str  # one line saying what is wrong
    lines: tuple[str, ...] = ()  # the detail and what to do


class Alerter:
    """The alert job: ``run_once`` looks, and mails what is due. ``started_at`` is when this worker began
    watching: a source never polled successfully counts as silent once ``source_silent_minutes`` have
    passed since then."""

    def __init__(self, settings: Settings, db: Database, transport: Transport | None = None,
                 started_at: dt.datetime | None = None) -> None:
        self.settings, self.db = settings, db
        self.transport = transport or make_transport(settings)
        self.started_at = started_at or utcnow()
        self.memory = AlertMemory(Path(settings.var_dir) / MEMORY_FILE)

    def run_once(self, now: dt.datetime | None = None) -> int:
        """Look, and send one email with every condition not mailed within ``repeat_minutes``; returns
        how many conditions it mailed (0 with no ``[alerts] to``, nothing due, or the email refused)."""
        if not self.settings.alerts.to:
            return 0
        now = now or utcnow()
        repeat = dt.timedelta(minutes=self.settings.alerts.repeat_minutes)
        sent = self.memory.load()
        due = [alert for alert in self.find(now) if not _sent_within(sent.get(alert.key), now, repeat)]
        if not due:
            return 0
        try:
            self.transport.send(alert_email(self.settings, due, now))
        except (TemporaryDeliveryFailure, PermanentDeliveryFailure) as exc:
            log.error("alert email about %d condition(s) not sent, tried again next run: %s", len(due), describe(exc))
            return 0
        self.memory.save(sent | {alert.key: now for alert in due}, now, keep=repeat)
        log.warning("alert email sent about: %s", ", ".join(alert.key for alert in due))
        return len(due)

    def find(self, now: dt.datetime) -> list[Alert]:
        """Every condition that is wrong now, whether or not it was mailed lately."""
        alerts = self.settings.alerts
        with self.db.sessions() as session:
            silent = [state for state in source_states(
                session, source_names(self.settings), now=now, since=self.started_at,
                limit=dt.timedelta(minutes=alerts.source_silent_minutes)) if state.silent]
            clocks = acknowledgement_clocks_at_risk(session, now=now,
                                                    within=dt.timedelta(hours=alerts.clock_warning_hours))
            trouble = outbox_trouble(session, now=now, stuck_after=dt.timedelta(minutes=alerts.outbox_failing_minutes))
        zone = ZoneInfo(self.settings.policy.timezone)
        found = [_silent_source(state, now, zone) for state in silent]
        found += [_clocks_at_risk(clocks, now, zone)] if clocks else []
        found += [_outbox_failing(trouble, zone)] if trouble.failing else []
        return found + _credentials(self.settings)


# -- what each alert says ----------------------------------------------------------------------------


def _silent_source(state, now: dt.datetime, zone: ZoneInfo) -> Alert:
    if state.last_success_at is None:
        title = f"Source {state.name} has not polled successfully since the worker started"
    else:
        title = (f"Source {state.name} has not polled successfully for {_minutes(now - state.last_success_at)} "
                 f"(last success {_local(state.last_success_at, zone)})")
    detail = ("Its last poll failed: the operations page (/operations) shows the error."
              if state.failing else "No poll at all lately: is the worker running?")
    return Alert(f"source:{state.name}", title, (detail, "`intake doctor` checks its login."))


def _clocks_at_risk(clocks, now: dt.datetime, zone: ZoneInfo) -> Alert:
    missed = sum(clock.due_at <= now for clock in clocks)
    title = f"{len(clocks)} acknowledgement clock(s) about to be missed" + (f", {missed} already missed" if missed else "")
    lines = [f"{clock.reference}: {clock.kind} due {_local(clock.due_at, zone)}"
             + (" (missed)" if clock.due_at <= now else "") for clock in clocks[:MOST_CLOCKS_LISTED]]
    if len(clocks) > MOST_CLOCKS_LISTED:
        lines.append(f"... and {len(clocks) - MOST_CLOCKS_LISTED} more: see the queue.")
    return Alert("acknowledgement-clocks", title, tuple(lines))


def _outbox_failing(trouble, zone: ZoneInfo) -> Alert:
    parts = []
    if trouble.failed:
        parts.append(f"{trouble.failed} failed for good and waiting for a person")
    if trouble.stuck:
        parts.append(f"{trouble.stuck} tried and still unsent (the oldest queued {_local(trouble.oldest_stuck_at, zone)})")
    return Alert("outbox", "The outbox is failing: " + "; ".join(parts),
                 ("The operations page (/operations) gives each row's reason; `intake doctor` checks SMTP.",))


def _credentials(settings: Settings) -> list[Alert]:
    from core.oauth import credential_expiries

    return [Alert(f"oauth2:{expiry.owner}:{expiry.credential}", expiry.message(_owner_words(expiry.owner)))
            for expiry in credential_expiries(settings) if expiry.due]


def _owner_words(owner: str) -> str:
    """"imap:inbox" as "IMAP source 'inbox'", "smtp" as "SMTP" (core.oauth's owners)."""
    kind, _, name = owner.partition(":")
    return f"IMAP source {name!r}" if kind == "imap" else "SMTP"


def alert_email(settings: Settings, alerts: list[Alert], now: dt.datetime) -> EmailMessage:
    """The email: one paragraph per alert. From the landlord's address, to ``[alerts] to``."""
    landlord = settings.landlord
    message = EmailMessage()
    message["From"] = formataddr((f"{landlord.name} Housing Intake", landlord.email))
    message["To"] = settings.alerts.to
    message["Subject"] = f"Housing Intake: {len(alerts)} problem(s) need attention"
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("alert", domain=landlord.email.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no robot answers it
    paragraphs = ["\n".join([alert.title, *(f"  {line}" for line in alert.lines)]) for alert in alerts]
    repeat = settings.alerts.repeat_minutes
    message.set_content("\n\n".join([*paragraphs, f"Each problem is mailed at most once every {repeat:g} minutes "
                                     "while it lasts. /metrics and /healthz give the figures."]) + "\n")
    return message


def _local(at: dt.datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if at else "never"


def _minutes(span: dt.timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes} minutes" if minutes < 120 else f"{minutes // 60} hours"


def _sent_within(at: dt.datetime | None, now: dt.datetime, span: dt.timedelta) -> bool:
    """True when ``at`` (when a condition was last mailed) is less than ``span`` before ``now``."""
    return at is not None and now - at < span


# -- what was sent when ------------------------------------------------------------------------------


class AlertMemory:
    """``{condition: when last mailed}`` in a private JSON file. A missing or unreadable file is an empty
    memory (the worst case is one alert sent again), never a reason to stop alerting."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, dt.datetime]:
        try:
            stored = json.loads(self.path.read_text())
            return {key: dt.datetime.fromisoformat(at) for key, at in stored.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            log.warning("alert memory %s unreadable, starting afresh: %s", self.path, describe(exc))
            return {}

    def save(self, sent: dict[str, dt.datetime], now: dt.datetime, *, keep: dt.timedelta) -> None:
        """Keep what was mailed within ``keep`` of ``now`` (older entries no longer hold anything back)."""
        fresh = {key: at.isoformat() for key, at in sorted(sent.items()) if now - at < keep}
        write_private(self.path, json.dumps(fresh, indent=1).encode())
