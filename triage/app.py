"""The staff web app: a Starlette application over the same settings, database and casework verbs as
the worker. ``create_app(staff)`` builds it; ``scheduler.build_staff`` wires a ``Staff`` and
``intake serve`` runs it with uvicorn.

Invariants, held by ``Guard`` for every request:
* every path but ``PUBLIC`` (the login page, the health check, the residents' complaints form and
  status page with the form's logo and colours) and static files needs a session, else a redirect to
  /login (a GET) or 401 (anything else), decided before the body is read; a request without a session
  may not send more than ``ANONYMOUS_BODY_LIMIT`` (413), except /report, which may send up to
  ``[public] max_request_bytes`` whoever sends it (its files);
* every request that is not GET or HEAD carries the session's CSRF token (the form field
  ``csrf_token`` or the ``X-CSRF-Token`` header htmx sends), else 403 and nothing happens; the forms
  used before anyone signs in (``PRE_SESSION_FORMS``: sign-in, complaints form, status page) carry
  instead the token of a cookie of their own, set with the page (``request.state.form_csrf``);
* every response carries the security headers (a Content-Security-Policy with no inline script or
  style and no other origin, frame denial, no sniffing, no referrer).
Route handlers decide no domain rule: they call ``casework.actions.Casework`` and show its refusals.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from casework.models import utcnow
from triage import sessions
from triage.staff import Staff
from triage.views import admin, auth, case, contact, figures, health, operations, public, queue, template_editor

STATIC = Path(__file__).parent / "static"
# Exactly these paths: a new '/login-attempts', '/healthz/details' or '/report/list' is not public.
# /healthz and /metrics are for machines (health.PATHS); /metrics checks its own bearer token when one is set.
PUBLIC = ("/login", *health.PATHS, *public.PATHS, "/report/logo", "/report/brand.css")
PUBLIC_PREFIX = "/static/"
SAFE_METHODS = ("GET", "HEAD")
ANONYMOUS_BODY_LIMIT = 64 * 1024  # a request without a session (the sign-in form) is small; refused past this
LOGIN_CSRF_COOKIE = "intake_login_csrf"
# The forms used before anyone signs in, and the cookie that holds each one's CSRF token.
PRE_SESSION_FORMS = {"/login": LOGIN_CSRF_COOKIE, "/report": public.CSRF_COOKIE, "/status": public.CSRF_COOKIE}
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cache-control": "no-store",
}


def create_app(staff: Staff) -> Starlette:
    routes = [*health.routes, *auth.routes, *queue.routes, *case.routes, *contact.routes, *operations.routes,
              *admin.routes, *template_editor.routes, *figures.routes, *public.routes,
              Mount("/static", StaticFiles(directory=STATIC), name="static")]
    app = Starlette(routes=routes)
    app.state.staff = staff
    app.state.started_at = utcnow()  # /healthz gives a source never polled this long for its first poll
    app.state.metrics = health.metrics_registry(staff.db, staff.settings)
    return Guard(app, staff)


class Guard:
    """Session, CSRF and security headers around the whole app (see the module docstring)."""

    def __init__(self, app: Starlette, staff: Staff) -> None:
        self.app, self.staff = app, staff
        self.router = app.router  # so tests can list every route from the router itself
        self.state = app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["app"] = self.app  # so a refusal page rendered here finds the app's state, as the routes do
        request = Request(scope, receive)
        send = _with_headers(send)
        response = self._refusal(request)  # before any body is read: a stranger cannot make us buffer one
        if response is None and request.method not in SAFE_METHODS:
            body = await _body(request, self._body_limit(request))
            if body is None:
                response = _too_large(request)
            else:  # the CSRF check reads the form, and the route reads it again
                request, receive = Request(scope, _replay(body)), _replay(body)
                response = await self._csrf_refusal(request)
        elif response is None and request.url.path in PRE_SESSION_FORMS:
            cookie = PRE_SESSION_FORMS[request.url.path]
            request.state.form_csrf = request.cookies.get(cookie) or secrets.token_urlsafe(32)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, request: Request) -> Response | None:
        """A response that stops the request here, or None to let it on (to the CSRF check) with its user set."""
        request.state.user = self._signed_in(request)
        if _public(request.url.path) or request.state.user is not None:
            return None
        if request.method in SAFE_METHODS:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return PlainTextResponse("Sign in first.", status_code=401)

    async def _csrf_refusal(self, request: Request) -> Response | None:
        """For a request that is not GET or HEAD: 403 unless it carries the right CSRF token."""
        path = request.url.path
        if path in PRE_SESSION_FORMS:  # a form of its own before sign-in: its hidden field must match its cookie
            if await _csrf_ok(request, request.cookies.get(PRE_SESSION_FORMS[path])):
                return None
            if path in public.PATHS:
                return await public.expired(request)
            return PlainTextResponse("This sign-in form has expired. Reload the page and try again.", status_code=403)
        if _public(path):
            return None
        if not await _csrf_ok(request, request.state.user.csrf_token):
            return PlainTextResponse("This form has expired or did not come from this app. Go back, reload "
                                     "the page and try again.", status_code=403)
        return None

    def _body_limit(self, request: Request) -> int | None:
        """The most a request may send: /report's own limit (files), none for a session, else 64 KiB."""
        if request.url.path == "/report":
            return self.staff.settings.public.max_request_bytes
        return None if request.state.user else ANONYMOUS_BODY_LIMIT

    def _signed_in(self, request: Request) -> sessions.SignedIn | None:
        with self.staff.db.transaction() as session:
            return sessions.lookup(session, request.cookies.get(sessions.COOKIE))


def _public(path: str) -> bool:
    return path in PUBLIC or path.startswith(PUBLIC_PREFIX)


def _too_large(request: Request) -> Response:
    if request.url.path in public.PATHS:
        return public.too_large(request)  # a page in the resident's language, with the limits in it
    return PlainTextResponse("That request is too large.", status_code=413)


async def _body(request: Request, limit: int | None) -> bytes | None:
    """The whole body, or None as soon as it is longer than ``limit``."""
    try:
        if limit is not None and int(request.headers.get("content-length") or 0) > limit:
            return None
    except ValueError:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if limit is not None and size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _csrf_ok(request: Request, expected: str | None) -> bool:
    if not expected:
        return False
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        try:
            given = (await request.form()).get("csrf_token")
        except (MultiPartException, HTTPException):  # a body that is not the form it claims to be
            return False
    return isinstance(given, str) and secrets.compare_digest(given, expected)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _with_headers(send: Send) -> Callable:
    async def send_with_headers(message) -> None:
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", [])}
            extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present]
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return send_with_headers


def app_routes(app: ASGIApp) -> list[str]:
    """Every path the router serves (static files excluded), for tests that must cover them all."""
    return [route.path for route in app.router.routes if getattr(route, "path", "/static") != "/static"]
