"""The residents' public pages, no login: the complaints form (/report) and "where is my complaint?" (/status) (issue 12).

/report stores a form with no problems as a Submission (``triage.public_form``), runs it through the
pipeline at once (``Staff.process``, as a logged contact is) and shows the reference its case got; the
acknowledgement leaves through the outbox like any other. /status shows ``casework.status.look_up``'s
answer, and one answer for an unknown reference and a wrong postcode or email. Both pages are
rate-limited per client address (``triage.public_limits``), in English or, where the landlord offers
it, Welsh (``triage.public_words``), and use their own layout with no staff navigation. The Guard
(triage/app.py) checks their CSRF token against a cookie of their own and caps /report's body at
``[public] max_request_bytes``; ``too_large`` and ``expired`` are its refusal pages for them.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from zoneinfo import ZoneInfo

from casework.models import Submission, utcnow
from casework.status import StatusView, look_up, receipt
from responders.render import OMBUDSMAN
from triage import public_form, public_limits, public_words
from triage.public_form import PostedForm, Problem, Upload
from triage.public_words import WORDS

CSRF_COOKIE = "intake_public_csrf"
PATHS = ("/report", "/status")
_env = Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
                   autoescape=select_autoescape(default=True, default_for_string=True), undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True)
# Where the error summary's link for a problem goes (the field's id), when it is not the field's name.
_ANCHORS = {"contact": "email", "on_behalf": "on_behalf-self", "adjustments": "adjustment-large_print"}


# -- /report ---------------------------------------------------------------------------------------------------

def report_form(request: Request) -> Response:
    return _missing(request) or _report_page(request, {}, [])


async def report(request: Request) -> Response:
    if (missing := _missing(request)) is not None:
        return missing
    settings = request.app.state.staff.settings.public
    if (refusal := await run_in_threadpool(_too_many, request, "report")) is not None:
        return refusal
    form = await _posted(request, settings.max_files + 1, settings.max_file_bytes)
    return await run_in_threadpool(_take, request, form)


def _take(request: Request, form: PostedForm) -> Response:
    staff, now = request.app.state.staff, utcnow()
    if form.is_bot:  # looks like any success, so a bot learns nothing; stored as discarded, never answered
        _store(request, public_form.bot_submission(form, now), succeeded=False)
        return _thanks(request, form, None, None)
    found = public_form.problems(form, staff.settings.public)
    if found:
        with staff.db.transaction() as session:
            public_limits.record(session, "report", _client(request), succeeded=False)
        return _report_page(request, form.fields, found, status_code=400, files_lost=bool(form.uploads))
    submission_id = _already_sent(request, form) or _store(request, public_form.submission(form, now), succeeded=True)
    staff.process(submission_id)  # a failure is stored on the submission and retried by the worker; done: no-op
    with staff.db.sessions() as session:
        given = receipt(session, submission_id)
    return _thanks(request, form, given.reference, given.channel)


def _store(request: Request, submission, succeeded: bool) -> int:
    """The submission and the attempt, in one transaction: an accepted form is never lost. The same form
    page sent twice at once stores one submission (the natural key is unique) and both get its id."""
    try:
        with request.app.state.staff.db.transaction() as session:
            session.add(submission)
            public_limits.record(session, "report", _client(request), succeeded=succeeded)
            session.flush()
            return submission.id
    except IntegrityError:
        with request.app.state.staff.db.sessions() as session:
            return session.scalar(select(Submission.id).where(Submission.source == submission.source,
                                                              Submission.natural_key == submission.natural_key))


def _already_sent(request: Request, form: PostedForm) -> int | None:
    """The submission this very form page already made (Send pressed twice, a resent POST), if any."""
    key = form.natural_key
    with request.app.state.staff.db.sessions() as session:
        return session.scalar(select(Submission.id).where(Submission.source == public_form.SOURCE,
                                                          Submission.natural_key == key))


def _thanks(request: Request, form: PostedForm, reference: str | None, channel: str | None) -> Response:
    email = form.text("email")
    said = {"email": "ack_email", "letter": "ack_letter"}.get(channel or "", "ack_none")
    return _page(request, "public/thanks.html", reference=reference, email=email,
                 acknowledgement=WORDS[_lang(request)][said if reference else "ack_later"].format(email=email))


def _report_page(request: Request, values: dict, found: list[Problem], status_code: int = 200,
                 files_lost: bool = False, notice: str | None = None) -> Response:
    limits = request.app.state.staff.settings.public
    return _page(request, "public/report.html", status_code=status_code, values=_values(values),
                 form_id=public_form.form_id(values.get(public_form.FORM_ID)),
                 errors=_errors(request, found), notice=notice, files_lost=files_lost,
                 adjustments=public_words.ADJUSTMENTS, on_behalf=public_form.ON_BEHALF, honeypot=public_form.HONEYPOT,
                 max_files=limits.max_files, limits={"files": limits.max_files,
                                                     "size": public_words.size(limits.max_file_bytes),
                                                     "total": public_words.size(limits.max_request_bytes)})


def _values(values: dict) -> dict:
    """What to show in the fields again: one string each, the adjustments as a list."""
    shown = {name: "" for name in public_form.TEXT_FIELDS}
    for name, value in values.items():
        if name == "adjustments":
            continue
        shown[name] = value[0] if isinstance(value, list) and value else value if isinstance(value, str) else ""
    given = values.get("adjustments", [])
    shown["adjustments"] = [given] if isinstance(given, str) else list(given)
    return shown


def _errors(request: Request, found: list[Problem]) -> list[dict]:
    words = WORDS[_lang(request)]
    return [{"field": problem.field, "anchor": _ANCHORS.get(problem.field, problem.field),
             "text": words[problem.words].format(**{name: public_words.size(value) if name == "size" else value
                                                    for name, value in problem.values.items()})}
            for problem in found]


async def _posted(request: Request, max_files: int, max_file_bytes: int) -> PostedForm:
    """The request's form: text fields as received, files read up to one byte past the cap."""
    form = await request.form(max_files=max_files + 1, max_fields=200)
    fields: dict[str, str | list[str]] = {}
    uploads = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name == "attachments" and value.filename:  # an empty file input sends a nameless, empty part
                uploads.append(Upload(value.filename, await value.read(max_file_bytes + 1), value.content_type or ""))
            continue
        if name == "csrf_token":
            continue
        if name in fields:
            previous = fields[name]
            fields[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[name] = [value] if name == "adjustments" else value
    return PostedForm(fields, uploads, _lang(request))


# -- /status ---------------------------------------------------------------------------------------------------

def status_form(request: Request) -> Response:
    return _missing(request) or _status_page(request, {}, [])


async def status(request: Request) -> Response:
    if (missing := _missing(request)) is not None:
        return missing
    if (refusal := await run_in_threadpool(_too_many, request, "status")) is not None:
        return refusal
    form = await request.form(max_files=0, max_fields=20)
    reference = str(form.get("reference") or "").strip()
    proof = str(form.get("postcode") or form.get("email") or "").strip()
    values = {"reference": reference, "postcode": proof}
    found = [problem for problem in (None if reference else Problem("reference", "need_reference"),
                                     None if proof else Problem("postcode", "need_proof")) if problem]
    if found:
        return _status_page(request, values, found, status_code=400)
    return await run_in_threadpool(_look_up, request, values)


def _look_up(request: Request, values: dict) -> Response:
    with request.app.state.staff.db.transaction() as session:
        view = look_up(session, values["reference"], values["postcode"])
        public_limits.record(session, "status", _client(request), succeeded=view is not None)
    if view is None:  # the same words and status for an unknown reference and a wrong postcode or email
        return _status_page(request, values, [], not_found=True)
    return _page(request, "public/status_result.html", view=view, dates=_dates(request, view),
                 ombudsman=OMBUDSMAN, ombudsman_name=public_words.OMBUDSMAN_NAMES[_lang(request)])


def _status_page(request: Request, values: dict, found: list[Problem], status_code: int = 200,
                 not_found: bool = False, notice: str | None = None) -> Response:
    return _page(request, "public/status.html", status_code=status_code, errors=_errors(request, found),
                 values={"reference": "", "postcode": "", **values}, not_found=not_found, notice=notice)


def _dates(request: Request, view: StatusView) -> dict[str, str]:
    zone, lang = _zone(request), _lang(request)
    names = ("received_at", "acknowledged_at", "acknowledgement_due", "response_due", "extended_to", "responded_at",
             "escalate_by", "closed_at")
    return {name: public_words.long_date(getattr(view, name), lang, zone) for name in names}


# -- branding --------------------------------------------------------------------------------------------------

def logo(request: Request) -> Response:
    path = request.app.state.staff.settings.public.logo
    if path is None or _missing(request):
        return PlainTextResponse("No logo.", status_code=404)
    data = Path(path).read_bytes()
    kind = public_form.kind_of(data)
    return Response(data, media_type=kind.content_type if kind else "application/octet-stream",
                    headers={"cache-control": "public, max-age=3600"})


def brand_css(request: Request) -> Response:
    colour = request.app.state.staff.settings.public.colour  # checked by the settings: #rrggbb, 4.5:1 with white
    return Response(f":root {{ --brand: {colour}; }}\n", media_type="text/css",
                    headers={"cache-control": "public, max-age=3600"})


# -- refusals, for the Guard and the routes -----------------------------------------------------------------------

def too_large(request: Request) -> Response:
    """413 for a form bigger than ``max_request_bytes``: said before its body is read."""
    limits = request.app.state.staff.settings.public
    words = WORDS[_lang(request)]
    text = words["too_large"].format(total=public_words.size(limits.max_request_bytes),
                                     size=public_words.size(limits.max_file_bytes),
                                     email=request.app.state.staff.settings.landlord.email)
    return _page(request, "public/message.html", status_code=413, title=words["too_large_title"], text=text,
                 back="/report")


async def expired(request: Request) -> Response:
    """403 for a post without this browser's form token (an old tab, or a form on another website): the
    form again with what was posted filled in, and a fresh token, so one more press sends it."""
    request.state.form_csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    try:
        form = await request.form()
    except (MultiPartException, HTTPException):  # not the form it claims to be: an empty one
        form = FormData()
    values = {name: form.getlist(name) if name == "adjustments" else str(form.get(name) or "")
              for name in {*public_form.TEXT_FIELDS, "adjustments", "reference"} if name in form}
    notice = WORDS[_lang(request)]["expired"]
    if request.url.path == "/status":
        return _status_page(request, values, [], status_code=403, notice=notice)
    has_files = any(isinstance(value, UploadFile) and value.filename for _, value in form.multi_items())
    return _report_page(request, values, [], status_code=403, files_lost=has_files, notice=notice)


def _too_many(request: Request, page: str) -> Response | None:
    """429 with the wait in minutes when this client has used the page too often; nothing is recorded."""
    staff = request.app.state.staff
    limits = staff.settings.public
    per_minute, per_hour = ((limits.report_per_minute, limits.report_per_hour) if page == "report"
                            else (limits.status_per_minute, limits.status_per_hour))
    with staff.db.sessions() as session:
        delay = public_limits.wait(session, page, _client(request), per_minute, per_hour)
    if delay is None:
        return None
    lang, minutes = _lang(request), public_limits.whole_minutes(delay)
    words = WORDS[lang]
    text = words["too_many"].format(minutes=public_words.minutes(minutes, lang), phone=staff.settings.landlord.phone)
    response = _page(request, "public/message.html", status_code=429, title=words["too_many_title"], text=text,
                     back=None)
    response.headers["retry-after"] = str(int(delay.total_seconds()) + 1)
    return response


def _missing(request: Request) -> Response | None:
    if request.app.state.staff.settings.public.enabled:
        return None
    return PlainTextResponse("Not found.", status_code=404)


# -- the pages' shared frame --------------------------------------------------------------------------------------

def _page(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    settings = request.app.state.staff.settings
    lang = _lang(request)
    token = getattr(request.state, "form_csrf", None) or request.cookies.get(CSRF_COOKIE) or ""
    base = {"w": WORDS[lang], "lang": lang, "html_lang": public_words.HTML_LANG[lang], "path": request.url.path,
            "welsh": settings.landlord.welsh, "landlord": settings.landlord, "has_logo": settings.public.logo is not None,
            "csrf_token": token, "query": f"?lang={lang}" if settings.landlord.welsh else ""}
    response = HTMLResponse(_env.get_template(name).render({**base, **context}), status_code=status_code)
    if token and request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=settings.web.secure_cookies)
    return response


def _lang(request: Request) -> str:
    welsh = request.app.state.staff.settings.landlord.welsh
    return public_words.language(request.query_params.get("lang"), request.headers.get("accept-language"), welsh)


def _zone(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.staff.settings.policy.timezone)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


routes = [
    Route("/report", report_form, methods=["GET"]),
    Route("/report", report, methods=["POST"]),
    Route("/status", status_form, methods=["GET"]),
    Route("/status", status, methods=["POST"]),
    Route("/report/logo", logo, methods=["GET"]),
    Route("/report/brand.css", brand_css, methods=["GET"]),
]
