"""Signing in and out, and the health check."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from casework.people import authenticate, normalise
from triage import sessions
from triage.render import page

LOGIN_CSRF_COOKIE = "intake_login_csrf"


def login_form(request: Request) -> Response:
    return _form(request)


async def login(request: Request) -> Response:
    staff = request.app.state.staff
    form = await request.form()
    email, password = normalise(str(form.get("email", ""))), str(form.get("password", ""))
    client = request.client.host if request.client else None
    with staff.db.transaction() as session:
        if sessions.throttled(session, email, client):
            sessions.record_attempt(session, email, client, succeeded=False)
            await asyncio.sleep(1)
            return _form(request, "Too many attempts. Wait a quarter of an hour, or ask an administrator.", 429)
        user = authenticate(session, email, password)
        sessions.record_attempt(session, email, client, succeeded=user is not None)
        if user is not None:
            sessions.end(session, request.cookies.get(sessions.COOKIE))  # never two sessions in one browser
        token = sessions.start(session, user) if user else None
    if token is None:
        await asyncio.sleep(0.5)
        return _form(request, "That email and password do not match an account that can sign in.", 401, email)
    response = RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303)
    secure = staff.settings.web.secure_cookies
    response.set_cookie(sessions.COOKIE, token, httponly=True, secure=secure, samesite="strict",
                        max_age=int(sessions.LIFETIME.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


def logout(request: Request) -> Response:
    with request.app.state.staff.db.transaction() as session:
        sessions.end(session, request.cookies.get(sessions.COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE)
    return response


def _form(request: Request, error: str | None = None, status: int = 200, email: str = "") -> Response:
    token = getattr(request.state, "form_csrf", None) or request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    response = page(request, "login.html", status_code=status, error=error, email=email, login_csrf=token,
                    next=_safe_next(request.query_params.get("next", "/")))
    if token and not request.cookies.get(LOGIN_CSRF_COOKIE):
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=request.app.state.staff.settings.web.secure_cookies)
    return response


def _safe_next(path: str) -> str:
    """Only a path on this site: never '//other.example' or 'https://…' (an open redirect)."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


routes = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
