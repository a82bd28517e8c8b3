"""Log a contact (/contacts/new): a phone call or visit, stored by ``Casework.log_contact``, run through
the pipeline now (the same classifier, decision and acknowledgement as mail), then marked on its case
by ``Casework.contact_logged``; the person lands on that case. The sequence is `intake case log-contact`'s."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from casework.vocabulary import LOGGED_CHANNELS
from core.errors import IntakeError
from triage.render import page
from triage.words import CHANNEL_WORDS

FIELDS = ("channel", "name", "email", "address", "notes", "on")


def new(request: Request) -> Response:
    return _form(request)


def _form(request: Request, values: dict | None = None, error: str | None = None, status: int = 200,
          stored: int | None = None) -> Response:
    return page(request, "contact.html", status_code=status, error=error, stored=stored,
                values={**dict.fromkeys(FIELDS, ""), "channel": "phone", **(values or {})},
                channels=[(str(channel), CHANNEL_WORDS[channel].capitalize()) for channel in LOGGED_CHANNELS])


async def log(request: Request) -> Response:
    form = await request.form()
    values = {name: (form.get(name) or "").strip() if isinstance(form.get(name), str) else ""
              for name in FIELDS}
    return await run_in_threadpool(_log, request, values)


def _log(request: Request, values: dict) -> Response:
    staff, by = request.app.state.staff, request.state.user.email
    try:
        on = dt.date.fromisoformat(values["on"]) if values["on"] else None
    except ValueError:
        return _form(request, values, f"“{values['on']}” is not a date: use the date picker or YYYY-MM-DD", 400)
    address = [line.strip() for line in values["address"].splitlines() if line.strip()]
    try:
        submission_id = staff.casework.log_contact(values["channel"], name=values["name"], email=values["email"] or None,
                                                   address=address, notes=values["notes"], by=by, on=on)
    except IntakeError as exc:
        return _form(request, values, str(exc), 409)
    staff.process(submission_id)
    reference = staff.casework.contact_logged(submission_id, by=by)
    if reference is None:
        return _form(request, error=None, stored=submission_id, status=202)
    return RedirectResponse(f"/cases/{quote(reference)}?done={quote('contact logged')}", status_code=303)


routes = [
    Route("/contacts/new", new, methods=["GET"]),
    Route("/contacts/new", log, methods=["POST"]),
]
