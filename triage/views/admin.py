"""People (admins only): who can sign in, with which role."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casework.models import User
from casework.vocabulary import Role
from triage.access import requires
from triage.render import page


@requires(Role.ADMIN)
def users(request: Request) -> Response:
    with request.app.state.staff.db.sessions() as session:
        people = session.scalars(select(User).order_by(User.email)).all()
    return page(request, "admin/users.html", people=people)


routes = [Route("/admin/users", users, methods=["GET"])]
