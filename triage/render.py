"""Rendering the app's own pages (not the templates managers edit): Jinja2 with autoescaping always
on, so whatever a resident wrote reaches the page as inert text. Every page gets the signed-in
person, their CSRF token and the landlord's name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

PAGES = Path(__file__).parent / "templates"
_env = Environment(loader=FileSystemLoader(PAGES), autoescape=select_autoescape(default=True, default_for_string=True),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    staff = request.app.state.staff if hasattr(request.app, "state") else request.scope["app"].state.staff
    user = getattr(request.state, "user", None)
    zone = ZoneInfo(staff.settings.policy.timezone)
    base = {"request": request, "user": user, "csrf_token": user.csrf_token if user else "",
            "landlord": staff.settings.landlord.name, "when": lambda at: when(at, zone),
            "day": lambda at: day(at, zone), "htmx": request.headers.get("hx-request") == "true"}
    return HTMLResponse(_env.get_template(name).render({**base, **context}), status_code=status_code)


def when(at: dt.datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%a %d %b %Y %H:%M") if at else "–"


def day(at: dt.datetime | None, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%a %d %b %Y") if at else "–"
