"""Operations: failed submissions, quarantined scans, the outbox, each source's last poll."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from triage.render import page


def operations(request: Request) -> Response:
    return page(request, "operations.html")


routes = [Route("/operations", operations, methods=["GET"])]
