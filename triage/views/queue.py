"""The queue (/): everything that needs a person, most urgent first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casework.queries import list_cases
from triage.render import page


def queue(request: Request) -> Response:
    with request.app.state.staff.db.sessions() as session:
        rows = list_cases(session, ["open", "held"])
    return page(request, "queue.html", rows=rows)


routes = [Route("/", queue, methods=["GET"])]
