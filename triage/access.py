"""Who may open what: a page that needs more than the staff role says so with ``@requires``."""

from __future__ import annotations

import functools
from typing import Callable

from starlette.requests import Request
from starlette.responses import Response

from casework.people import may
from casework.vocabulary import Role
from triage.render import page


def requires(role: Role) -> Callable:
    """Refuse with 403 anyone whose role is below ``role`` (the Guard has already required a session)."""

    def wrap(view: Callable[[Request], Response]) -> Callable[[Request], Response]:
        @functools.wraps(view)
        def guarded(request: Request) -> Response:
            if not may(request.state.user.role, role):
                return page(request, "forbidden.html", status_code=403, needed=role)
            return view(request)

        return guarded

    return wrap
