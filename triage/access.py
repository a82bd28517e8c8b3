"""Who may open what: a page that needs more than the staff role says so with ``@requires``."""

from __future__ import annotations

import functools
import inspect
from typing import Callable

from starlette.requests import Request
from starlette.responses import Response

from casework.people import may
from casework.vocabulary import Role
from triage.render import page


def requires(role: Role) -> Callable:
    """Refuse with 403 anyone whose role is below ``role`` (the Guard has already required a session)."""

    def wrap(view: Callable[[Request], Response]) -> Callable[[Request], Response]:
        if inspect.iscoroutinefunction(view):
            @functools.wraps(view)
            async def guarded_async(request: Request) -> Response:
                return _forbidden(request, role) or await view(request)

            guarded_async.required_role = role
            return guarded_async

        @functools.wraps(view)
        def guarded(request: Request) -> Response:
            return _forbidden(request, role) or view(request)

        guarded.required_role = role  # so tests can list every restricted route from the router
        return guarded

    return wrap


def _forbidden(request: Request, role: Role) -> Response | None:
    if may(request.state.user.role, role):
        return None
    return page(request, "forbidden.html", status_code=403, needed=role)
