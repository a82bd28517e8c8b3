"""A case (/cases/{reference}): its messages as inert text, clocks, audit trail, and every verb as a form."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from casework.queries import case_view
from core.errors import IntakeError
from triage.render import page


def show(request: Request, error: str | None = None, status: int = 200) -> Response:
    reference = request.path_params["reference"]
    with request.app.state.staff.db.sessions() as session:
        try:
            view = case_view(session, reference)
        except IntakeError as exc:
            return page(request, "not_found.html", status_code=404, message=str(exc))
    return page(request, "case.html", status_code=status, case=view, error=error,
                done=request.query_params.get("done"))


async def assign(request: Request) -> Response:
    form = await request.form()
    return _act(request, lambda casework, ref, by: casework.assign(ref, str(form.get("to", "")).strip(), by=by),
                "assigned")


def _act(request: Request, verb, done: str) -> Response:
    """Run a casework verb as the signed-in person; a refusal is shown on the case page as it is."""
    reference = request.path_params["reference"]
    try:
        verb(request.app.state.staff.casework, reference, request.state.user.email)
    except IntakeError as exc:
        return show(request, error=str(exc), status=409)
    return RedirectResponse(f"/cases/{reference}?done={done}", status_code=303)


routes = [
    Route("/cases/{reference}", show, methods=["GET"]),
    Route("/cases/{reference}/assign", assign, methods=["POST"]),
]
