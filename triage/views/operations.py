"""Operations (/operations): failed submissions (re-run), quarantined scans, the outbox (retry a failed
row), the post room (today's batch file to download, letters printed and not yet posted, marked as
posted) and each source's last poll (with a warning when a mailbox's OAuth2 secret or refresh token is
near its end), on one page with a section for each.

Everything shown comes from the database or the letters folder, never from the worker's memory (it
is another process). No message text is shown here: errors and reasons only; the case holds the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from casework.health import silence_limit, source_names
from casework.models import Case, Submission, utcnow
from casework.operations import (
    LISTING_LIMIT, count_failed_submissions, failed_submissions, letters_not_posted, outbox_alerts, outbox_counts,
    outbox_rows, record_posted, requeue_outbox, source_polls,
)
from casework.vocabulary import Role
from core.errors import IntakeError
from core.oauth import credential_warnings
from core.settings import Settings
from responders.post import batch_path, print_folder, write_day_batch
from responders.render import long_date
from triage.access import requires
from triage.render import page

NOTE_SUFFIX = ".why.txt"
NOTE_REASON = "Why this file is in quarantine:"
NOTE_TIME = "Quarantined"


@dataclass(frozen=True)
class QuarantinedScan:
    name: str  # relative to the quarantine folder
    size: int
    quarantined_at: dt.datetime
    reason: str


@requires(Role.STAFF)
def operations(request: Request) -> Response:
    return _page(request)


def _page(request: Request, error: str | None = None, status: int = 200) -> Response:
    staff = request.app.state.staff
    with staff.db.sessions() as session:
        failed = failed_submissions(session)
        context = {
            "failed": failed, "failed_total": count_failed_submissions(session), "limit": LISTING_LIMIT,
            "outbox": outbox_rows(session), "outbox_counts": outbox_counts(session),
            "outbox_alerts": outbox_alerts(session),
            "sources": source_polls(session, source_names(staff.settings)),
            "rerun": _rerun_result(session, request.query_params.get("rerun")),
            "not_posted": letters_not_posted(session),
        }
    now = utcnow()
    return page(request, "operations.html", status_code=status, error=error, now=now,
                ago=lambda at: ago(at, now), stale=lambda at: _stale(at, now, staff.settings),
                retried=_int(request.query_params.get("retried")), posted=_int(request.query_params.get("posted")),
                today=long_date(today(staff.settings)), batch_exists=batch_path(print_folder(staff.settings), today(staff.settings)).is_file(),
                quarantine=quarantine_folder(staff.settings), scans=quarantined_scans(staff.settings),
                credential_warnings=credential_warnings(staff.settings), **context)


@requires(Role.STAFF)
def rerun(request: Request) -> Response:
    """The failed submission back to the pipeline and through it now; the page then shows how it ended."""
    staff, submission_id = request.app.state.staff, request.path_params["submission_id"]
    try:
        staff.casework.rerun(submission_id, by=request.state.user.email)
    except IntakeError as exc:
        return _page(request, error=str(exc), status=409)
    staff.process(submission_id)
    return RedirectResponse(f"/operations?rerun={submission_id}#failed", status_code=303)


@requires(Role.STAFF)
def retry(request: Request) -> Response:
    """A failed outbox row back in the queue, to be tried at once by the worker's sender."""
    staff, outbox_id = request.app.state.staff, request.path_params["outbox_id"]
    try:
        with staff.db.transaction() as session:
            requeue_outbox(session, outbox_id, request.state.user.email)
    except IntakeError as exc:
        return _page(request, error=str(exc), status=409)
    return RedirectResponse(f"/operations?retried={outbox_id}#outbox", status_code=303)


@requires(Role.STAFF)
async def mark_posted(request: Request) -> Response:
    """The letters ticked on the page recorded as posted by the person signed in."""
    form = await request.form()
    ids = [int(value) for value in form.getlist("outbox_id") if str(value).isdigit()]
    if not ids:
        return await run_in_threadpool(_page, request, "Tick the letters that were posted first.", 400)
    try:
        recorded = await run_in_threadpool(_record_posted, request.app.state.staff, ids, request.state.user.email)
    except IntakeError as exc:
        return await run_in_threadpool(_page, request, str(exc), 409)
    return RedirectResponse(f"/operations?posted={recorded}#post-room", status_code=303)


def _record_posted(staff, ids: list[int], by: str) -> int:
    with staff.db.transaction() as session:
        return len(record_posted(session, ids, by))


@requires(Role.STAFF)
def batch_download(request: Request) -> Response:
    """Today's batch file, written afresh (the same letters as the worker's, up to now before the cut)."""
    staff = request.app.state.staff
    batch = write_day_batch(staff.settings, staff.db, today(staff.settings))
    return FileResponse(batch.path, media_type="application/pdf", filename=batch.path.name)


def today(settings: Settings) -> dt.date:
    return utcnow().astimezone(ZoneInfo(settings.policy.timezone)).date()


def quarantine_folder(settings: Settings) -> Path | None:
    """Where the letters source files what it cannot read; None when no letters source is configured."""
    if settings.letters is None:
        return None
    from intake.scans.source import QUARANTINE  # the one spelling of the folder's name

    return Path(settings.letters.path) / QUARANTINE


def quarantined_scans(settings: Settings, limit: int = LISTING_LIMIT) -> list[QuarantinedScan]:
    """The files in quarantine (not their notes), newest first, each with the reason from its note."""
    folder = quarantine_folder(settings)
    if folder is None or not folder.is_dir():
        return []
    scans = [_scan(path, folder) for path in folder.rglob("*") if path.is_file() and not path.name.endswith(NOTE_SUFFIX)]
    return sorted((scan for scan in scans if scan is not None), key=lambda scan: scan.quarantined_at, reverse=True)[:limit]


def _scan(path: Path, folder: Path) -> QuarantinedScan | None:
    try:
        stat = path.stat()
    except OSError:
        return None  # moved away while we looked
    reason, quarantined_at = _note(path.with_name(path.name + NOTE_SUFFIX))
    fallback = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)  # a hard-linked move keeps the scan's own time
    return QuarantinedScan(path.relative_to(folder).as_posix(), stat.st_size, quarantined_at or fallback, reason)


def _note(note: Path) -> tuple[str, dt.datetime | None]:
    """The reason and the time written in a quarantine note (intake.scans.source.write_note)."""
    try:
        lines = note.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no note says why (the .why.txt file is missing)", None
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    reason = fields.get(NOTE_REASON.rstrip(":"), "").strip() or " ".join(lines[:2]).strip() or "the note is empty"
    try:
        at = dt.datetime.fromisoformat(fields.get(NOTE_TIME, "").strip())
    except ValueError:
        at = None
    return reason, at if at is None or at.tzinfo else at.replace(tzinfo=dt.UTC)


def _rerun_result(session, submission_id: str | None) -> dict | None:
    """How a re-run submission stands now, read back from the database."""
    number = _int(submission_id)
    if number is None:
        return None
    submission = session.get(Submission, number)
    if submission is None:
        return None
    reference = session.get(Case, submission.case_id).reference if submission.case_id else None
    return {"id": number, "disposition": submission.disposition, "reference": reference,
            "reason": submission.error or submission.reason}


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def ago(at: dt.datetime | None, now: dt.datetime) -> str:
    """How long ago, in the largest whole unit a person would say."""
    if at is None:
        return "never"
    seconds = int((now - at).total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def _stale(at: dt.datetime | None, now: dt.datetime, settings: Settings) -> bool:
    """True when the source has not been polled for a while (the rule /healthz, /metrics and the alert
    emails use): the worker may not be running."""
    if at is None:
        return True
    return now - at > silence_limit(settings.poll_seconds)


routes = [
    Route("/operations", operations, methods=["GET"]),
    Route("/operations/submissions/{submission_id:int}/rerun", rerun, methods=["POST"]),
    Route("/operations/outbox/{outbox_id:int}/retry", retry, methods=["POST"]),
    Route("/operations/letters/posted", mark_posted, methods=["POST"]),
    Route("/operations/print-batch.pdf", batch_download, methods=["GET"]),
]
