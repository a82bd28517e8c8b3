"""A case (/cases/{reference}): its messages as inert text, its classification, clocks and audit trail,
and every staff verb of ``casework.actions.Casework`` as a form.

Nothing here decides a domain rule. A form posts to /cases/{reference}/{verb}; the verb runs as the
signed-in person and either redirects back with what was done, or the page comes back with the
verb's refusal as it is (status 409). What a resident sent is shown as text only: Jinja autoescapes
it, attachments are only ever downloaded (octet-stream, ``attachment``, nosniff), and a scanned
letter's stored page images are served as PNG and nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from casework.actions import Casework
from casework.guards import find
from casework.models import Attachment, Case, Submission, utcnow
from casework.vocabulary import Channel
from core.errors import IntakeError
from triage.render import page
from triage.views.case_page import case_page, choices
from triage.words import CHANNEL_WORDS

PNG = b"\x89PNG\r\n\x1a\n"


# -- the page ------------------------------------------------------------------------------------------


def show(request: Request, error: str | None = None, status: int = 200, **extra: Any) -> Response:
    reference = request.path_params["reference"]
    staff = request.app.state.staff
    now, zone = utcnow(), ZoneInfo(staff.settings.policy.timezone)
    with staff.db.sessions() as session:
        try:
            view = case_page(session, reference, now, zone)
        except IntakeError as exc:
            return page(request, "not_found.html", status_code=404, message=str(exc))
    context = {"reply_preview": None, "reply_text": "", "welsh": staff.settings.landlord.welsh, **choices(), **extra}
    return page(request, "case.html", status_code=status, case=view, error=error,
                done=request.query_params.get("done"), today=now.astimezone(zone).date().isoformat(), **context)


# -- files: downloaded, never rendered -----------------------------------------------------------------


def attachment(request: Request) -> Response:
    found = _file(request)
    if found is None:
        return page(request, "not_found.html", status_code=404, message="That case has no such attachment stored.")
    return Response(found["data"], media_type="application/octet-stream", headers={
        "content-disposition": _disposition("attachment", found["filename"]), "x-content-type-options": "nosniff"})


def page_image(request: Request) -> Response:
    """A scanned letter's stored page: PNG only (checked by type and by its first bytes), else 404."""
    found = _file(request)
    if (found is None or found["content_type"] != "image/png" or found["channel"] != Channel.LETTER
            or not found["data"].startswith(PNG)):
        return page(request, "not_found.html", status_code=404, message="That case has no such page image.")
    return Response(found["data"], media_type="image/png", headers={
        "content-disposition": _disposition("inline", found["filename"]), "x-content-type-options": "nosniff"})


def _file(request: Request) -> dict | None:
    """An attachment only when it belongs to a message on this case and its bytes are stored."""
    reference = request.path_params["reference"].strip().upper()
    with request.app.state.staff.db.sessions() as session:
        row = session.execute(
            select(Attachment.id, Attachment.filename, Attachment.content_type, Attachment.data, Submission.kind)
            .join(Submission, Attachment.submission_id == Submission.id)
            .join(Case, Submission.case_id == Case.id)
            .where(Case.reference == reference, Attachment.id == request.path_params["attachment_id"])).first()
    if row is None or row.data is None:
        return None
    return {"filename": row.filename or f"attachment-{row.id}", "content_type": row.content_type,
            "data": bytes(row.data), "channel": row.kind}


def _disposition(how: str, filename: str) -> str:
    """A header-safe Content-Disposition: an ASCII fallback name and the real one percent-encoded."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("._") or "file"
    return f"{how}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


# -- the verbs -----------------------------------------------------------------------------------------


class FormError(ValueError):
    """A form field that is not what it must be (not a domain rule: a date that is not a date)."""


def _text(form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _optional(form, name: str) -> str | None:
    return _text(form, name) or None


def _on(form) -> dt.date | None:
    value = _text(form, "on")
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FormError(f"“{value}” is not a date: use the date picker or YYYY-MM-DD") from None


def _int(form, name: str, what: str) -> int:
    try:
        return int(_text(form, name))
    except ValueError:
        raise FormError(f"{what} must be a whole number") from None


def verb(name: str, run: Callable[[Casework, str, str, Any], str | None], done: str) -> Route:
    """A POST route for one verb: ``run(casework, reference, by, form)`` returns what was done (or None)."""

    async def endpoint(request: Request) -> Response:
        form = await request.form()
        reference = request.path_params["reference"]
        staff = request.app.state.staff
        try:
            said = await run_in_threadpool(run, staff.casework, reference, request.state.user.email, form)
        except FormError as exc:
            return await run_in_threadpool(show, request, str(exc), 400)
        except IntakeError as exc:
            return await run_in_threadpool(show, request, str(exc), 409)
        return RedirectResponse(f"/cases/{quote(reference)}?done={quote(said or done)}", status_code=303)

    endpoint.__name__ = name
    return Route(f"/cases/{{reference}}/{name}", endpoint, methods=["POST"], name=f"case_{name}")


def _split(casework: Casework, ref: str, by: str, form) -> str:
    new = casework.split(ref, _text(form, "category"), by=by, on=_on(form))
    return f"split: the new case is {new}"


def _extend(casework: Casework, ref: str, by: str, form) -> str:
    casework.extend(ref, _int(form, "days", "Days"), _text(form, "reason"), by=by, on=_on(form))
    return "response clock extended"


def _adjust(casework: Casework, ref: str, by: str, form) -> str:
    changed = casework.adjust(ref, form.getlist("adjustments"), _optional(form, "note"), by=by,
                              language=_optional(form, "language"))
    return "adjustments saved" if changed else "nothing changed in the adjustments"


def _property(casework: Casework, ref: str, by: str, form) -> str:
    uprn = _optional(form, "uprn")
    changed = casework.set_property(ref, uprn, by=by)
    return ("home set" if uprn else "home cleared") if changed else "nothing changed in the home"


VERBS = [
    verb("assign", lambda c, ref, by, f: c.assign(ref, _text(f, "to"), by=by), "assigned"),
    verb("reclassify", lambda c, ref, by, f: c.reclassify(ref, _text(f, "category"), f.getlist("flags"), by=by),
         "reclassified"),
    verb("release", lambda c, ref, by, f: c.release(ref, by=by, note=_optional(f, "note")), "released"),
    verb("acknowledge", lambda c, ref, by, f: c.acknowledge(ref, _text(f, "channel"), by=by, on=_on(f)),
         "acknowledgement recorded"),
    verb("adjust", lambda c, ref, by, f: _adjust(c, ref, by, f), "adjustments saved"),
    verb("property", _property, "home set"),
    verb("link", lambda c, ref, by, f: c.link(ref, _text(f, "other"), by=by), "linked"),
    verb("merge", lambda c, ref, by, f: c.merge(ref, _text(f, "into"), by=by), "merged"),
    verb("split", _split, "split"),
    verb("extend", _extend, "response clock extended"),
    verb("reply", lambda c, ref, by, f: c.reply(ref, f.get("text") or "", by=by), "reply queued"),
    verb("respond", lambda c, ref, by, f: c.respond(ref, outcome=_optional(f, "outcome"), by=by, on=_on(f)),
         "response recorded"),
    verb("escalate", lambda c, ref, by, f: c.escalate(ref, by=by, to=_optional(f, "to"), reasons=_optional(f, "reasons")),
         "escalated to stage 2"),
    verb("hazard", lambda c, ref, by, f: c.hazard(ref, _text(f, "step"), by=by, on=_on(f)), "Awaab's Law step recorded"),
    verb("close", lambda c, ref, by, f: c.close(ref, _text(f, "outcome"), by=by, on=_on(f)), "closed"),
    verb("reopen", lambda c, ref, by, f: c.reopen(ref, by=by, reason=_optional(f, "reason")), "reopened"),
]


# -- the reply's preview: rendered exactly as it would be queued, shown as text --------------------------


async def preview(request: Request) -> Response:
    form = await request.form()
    text = form.get("text") if isinstance(form.get("text"), str) else ""
    return await run_in_threadpool(_preview, request, text)


def _preview(request: Request, text: str) -> Response:
    staff = request.app.state.staff
    with staff.db.sessions() as session:
        try:
            case = find(session, request.path_params["reference"])
            channel, rendered = staff.correspondence.render_reply(case, text.strip())
        except IntakeError as exc:
            return page(request, "not_found.html", status_code=404, message=str(exc))
        except Exception as exc:  # noqa: BLE001 - a manager's broken template, shown rather than a 500
            channel, rendered, problem = None, None, f"The reply template could not be rendered: {exc}"
        else:
            problem = None
    shown = {"channel": CHANNEL_WORDS.get(channel) if channel else None, "rendered": rendered,
             "problem": problem, "empty": not text.strip()}
    if request.headers.get("hx-request") == "true":
        return page(request, "case/reply_preview.html", reply_preview=shown,
                    case={"reference": request.path_params["reference"]})
    return show(request, reply_preview=shown, reply_text=text)


routes = [
    Route("/cases/{reference}", show, methods=["GET"]),
    Route("/cases/{reference}/attachments/{attachment_id:int}", attachment, methods=["GET"]),
    Route("/cases/{reference}/pages/{attachment_id:int}", page_image, methods=["GET"]),
    Route("/cases/{reference}/reply/preview", preview, methods=["POST"]),
    *VERBS,
]
