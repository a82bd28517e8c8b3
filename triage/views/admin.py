"""People and settings (admins only): who can sign in and with which role; the settings in force,
with every secret masked."""

from __future__ import annotations

import logging

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from casework.models import User
from casework.people import add_user, disable_user
from casework.vocabulary import Role
from core.errors import IntakeError
from triage.access import requires
from triage.render import page

log = logging.getLogger(__name__)
SECRET_WORDS = ("password", "secret", "token", "key")


@requires(Role.ADMIN)
def users(request: Request) -> Response:
    return _people(request)


def _people(request: Request, error: str | None = None, status: int = 200) -> Response:
    with request.app.state.staff.db.sessions() as session:
        people = session.scalars(select(User).order_by(User.email)).all()
    return page(request, "admin/users.html", status_code=status, people=people, roles=list(Role), error=error,
                done=request.query_params.get("done"))


@requires(Role.ADMIN)
async def add(request: Request) -> Response:
    form = await request.form()
    email = str(form.get("email", ""))
    try:
        with request.app.state.staff.db.transaction() as session:
            add_user(session, email, str(form.get("password", "")), str(form.get("role", "")))
    except IntakeError as exc:
        return _people(request, error=str(exc), status=409)
    log.info("%s added an account for %s", request.state.user.email, email)
    return RedirectResponse("/admin/users?done=added", status_code=303)


@requires(Role.ADMIN)
async def disable(request: Request) -> Response:
    form = await request.form()
    email = str(form.get("email", ""))
    if email == request.state.user.email:
        return _people(request, error="You cannot disable your own account: ask another administrator.", status=409)
    try:
        with request.app.state.staff.db.transaction() as session:
            disable_user(session, email)
    except IntakeError as exc:
        return _people(request, error=str(exc), status=409)
    log.info("%s disabled the account of %s", request.state.user.email, email)
    return RedirectResponse("/admin/users?done=disabled", status_code=303)


@requires(Role.ADMIN)
def settings(request: Request) -> Response:
    shown = masked(request.app.state.staff.settings.model_dump(mode="json"))
    return page(request, "admin/settings.html", sections=sorted(flatten(shown).items()))


def masked(value, key: str = ""):
    """The settings with every secret replaced by 'set' or 'not set', and URLs' passwords hidden."""
    if isinstance(value, dict):
        return {k: masked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, key) for v in value]
    if any(word in key.lower() for word in SECRET_WORDS):
        return "set" if value else "not set"
    if key == "database_url" and value and "@" in str(value):
        scheme, _, rest = str(value).partition("://")
        return f"{scheme}://…@{rest.rpartition('@')[2]}"
    return value


def flatten(value, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    if isinstance(value, list) and value and isinstance(value[0], dict):
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


routes = [
    Route("/admin/users", users, methods=["GET"]),
    Route("/admin/users/add", add, methods=["POST"]),
    Route("/admin/users/disable", disable, methods=["POST"]),
    Route("/admin/settings", settings, methods=["GET"]),
]
