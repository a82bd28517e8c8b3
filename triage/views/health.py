"""The machine endpoints: ``/healthz`` for load balancers and container health checks, ``/metrics`` for
Prometheus. Neither needs a session (the Guard lists both as public); neither says anything about a
resident.

Invariants:
* ``/healthz`` is 200 only when the database answers and every configured source has polled
  successfully recently (``casework.health.silence_limit``); otherwise 503. A source never polled is
  given that long from the moment this app started, so the worker has time for its first poll. The
  JSON body gives the database's state and each source's name, last successful poll and whether it
  is silent: never an error text (a server's reply may quote anything).
* ``/metrics`` is computed from the database at each scrape (a custom collector), so every web process
  gives the same figures whichever worker did the work. When the database does not answer it still
  answers 200 with ``intake_database_up 0`` and nothing else, so the scrape shows why.
  With ``[alerts] metrics_token`` set it needs ``Authorization: Bearer <token>``, else 401. The OAuth2
  secrets' days left come from the settings, not the database.
"""

from __future__ import annotations

import logging
import secrets

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from casework.health import Figures, figures, silence_limit, source_names, source_states
from casework.models import utcnow
from core.db import Database
from core.logs import describe
from core.settings import Settings

log = logging.getLogger(__name__)
PATHS = ("/healthz", "/metrics")


# -- /healthz ----------------------------------------------------------------------------------------


async def healthz(request: Request) -> Response:
    staff = request.app.state.staff
    body = await run_in_threadpool(health_report, staff.db, staff.settings, request.app.state.started_at)
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


def health_report(db: Database, settings: Settings, started_at) -> dict:
    """The JSON ``/healthz`` answers: ``status`` is "ok" or "unhealthy", with why."""
    now = utcnow()
    try:
        with db.sessions() as session:
            session.execute(text("SELECT 1"))
            states = source_states(session, source_names(settings), now=now,
                                   limit=silence_limit(settings.poll_seconds), since=started_at)
    except SQLAlchemyError as exc:
        log.error("/healthz: the database did not answer: %s", describe(exc))
        return {"status": "unhealthy", "database": "unreachable", "sources": []}
    sources = [{"name": state.name,
                "last_success_at": state.last_success_at.isoformat() if state.last_success_at else None,
                "silent": state.silent, "failing": state.failing} for state in states]
    healthy = not any(state.silent for state in states)
    return {"status": "ok" if healthy else "unhealthy", "database": "ok", "sources": sources}


# -- /metrics ----------------------------------------------------------------------------------------


async def metrics(request: Request) -> Response:
    staff = request.app.state.staff
    token = staff.settings.alerts.metrics_token
    if token and not _bearer_ok(request.headers.get("authorization", ""), token):
        return PlainTextResponse("A bearer token is needed.", status_code=401,
                                 headers={"www-authenticate": 'Bearer realm="metrics"'})
    body = await run_in_threadpool(generate_latest, request.app.state.metrics)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _bearer_ok(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), token.encode())


def metrics_registry(db: Database, settings: Settings) -> CollectorRegistry:
    """A registry holding only our collectors (no process or platform figures of the web process, which
    would differ from one web process to the next)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(db))
    registry.register(CredentialCollector(settings))
    return registry


class CredentialCollector:
    """Days left before each OAuth2 client secret or refresh token with a known end date runs out
    (``core.oauth.credential_expiries``; negative once it has), read from the settings at each scrape."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self):
        from core.oauth import credential_expiries

        days = GaugeMetricFamily("intake_oauth2_credential_days_left", "Days before an OAuth2 client secret or "
                                 "refresh token runs out (negative: expired)", labels=["owner", "credential", "provider"])
        for expiry in credential_expiries(self.settings):
            days.add_metric([expiry.owner, expiry.credential, expiry.provider], expiry.days_left)
        yield days


class DatabaseCollector:
    """Every figure read from the database at scrape time (``casework.health.figures``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self):
        up = GaugeMetricFamily("intake_database_up", "1 when the database answered this scrape, else 0")
        try:
            with self.db.sessions() as session:
                now = utcnow()
                found = figures(session, now)
        except SQLAlchemyError as exc:
            log.error("/metrics: the database did not answer: %s", describe(exc))
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families(found, now)


def families(found: Figures, now) -> list:
    """The Prometheus metric families for one reading of the figures."""
    received = CounterMetricFamily("intake_submissions_received", "Submissions stored, by source and channel",
                                   labels=["source", "channel"])
    for (source, channel), count in sorted(found.received.items()):
        received.add_metric([source, channel], count)
    dispositions = GaugeMetricFamily("intake_submissions", "Submissions in each disposition now (held: for a "
                                     "person; failed: stopped by an error)", labels=["disposition"])
    for disposition, count in found.dispositions.items():
        dispositions.add_metric([disposition], count)
    held = GaugeMetricFamily("intake_cases_held", "Cases waiting in the triage queue now", value=found.cases_held)
    acknowledged = CounterMetricFamily("intake_acknowledgements_sent", "Acknowledgements emailed or handed to "
                                       "print", labels=["channel"])
    for channel, count in sorted(found.acknowledgements.items()):
        acknowledged.add_metric([channel], count)
    outbox = GaugeMetricFamily("intake_outbox_messages", "Outbox rows in each status now", labels=["status"])
    for status, count in found.outbox.items():
        outbox.add_metric([status], count)
    depth = GaugeMetricFamily("intake_outbox_depth", "Outbox rows still to go (queued or sending)",
                              value=found.outbox_depth)
    oldest = found.outbox_oldest_waiting_at
    age = GaugeMetricFamily("intake_outbox_oldest_age_seconds", "Age of the oldest row still to go (0: none)",
                            value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
    return [received, dispositions, held, acknowledged, outbox, depth, age, *_clock_families(found),
            *_source_families(found), _processing_family(found)]


def _clock_families(found: Figures) -> list:
    due = GaugeMetricFamily("intake_clocks_due", "Unmet deadline clocks still running, on cases not closed",
                            labels=["kind"])
    breached = GaugeMetricFamily("intake_clocks_breached", "Unmet deadline clocks past due, on cases not closed",
                                 labels=["kind"])
    late = CounterMetricFamily("intake_clocks_met_late", "Deadline clocks met after they were due", labels=["kind"])
    for family, counts in ((due, found.clocks_due), (breached, found.clocks_breached), (late, found.clocks_met_late)):
        for kind, count in sorted(counts.items()):
            family.add_metric([kind], count)
    return [due, breached, late]


def _source_families(found: Figures) -> list:
    success = GaugeMetricFamily("intake_source_last_success_timestamp_seconds",
                                "When each source last polled successfully (Unix time)", labels=["source"])
    polled = GaugeMetricFamily("intake_source_last_poll_timestamp_seconds",
                               "When each source was last polled, successfully or not (Unix time)", labels=["source"])
    failing = GaugeMetricFamily("intake_source_failing", "1 when the source's last poll failed", labels=["source"])
    for row in found.sources:
        if row.last_success_at is not None:
            success.add_metric([row.source], row.last_success_at.timestamp())
        if row.last_poll_at is not None:
            polled.add_metric([row.source], row.last_poll_at.timestamp())
        failing.add_metric([row.source], 1 if row.last_error else 0)
    return [success, polled, failing]


def _processing_family(found: Figures) -> HistogramMetricFamily:
    times = found.processing
    buckets = [(_bound(bound), count) for bound, count in times.buckets] + [("+Inf", times.count)]
    return HistogramMetricFamily("intake_processing_seconds", "Seconds from storing a submission to its "
                                 "disposition", buckets=buckets, sum_value=times.total_seconds)


def _bound(bound: float) -> str:
    return repr(float(bound))


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
