"""Managers' templates (/templates): the list with where each is used, an editor with a live preview on
sample data or a real case, every saved version viewable, comparable and restorable, and "back to the
shipped default". The rules (what may be saved, versions, where used) are ``responders.template_library``'s;
these routes read forms, call it and show its refusals (status 409, the manager's text kept).

The HTML email's preview is inert. It is a separate POST, ``/templates/preview.html``, whose answer is
loaded into an ``<iframe sandbox>`` on the editor page (the form posts into the frame; without
JavaScript, by its button). That answer carries its own policy: nothing may load, no script may run
(``default-src 'none'`` and the CSP ``sandbox`` directive, so it is a unique origin even if the frame's
attribute were removed); only the email's own inline styles apply, and it may be framed by this app
alone. The editor page is the one page allowed to frame anything, and only this app (``frame-src 'self'``);
every other page keeps the app's policy.
"""

from __future__ import annotations

import html
import logging
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from casework.vocabulary import Role
from responders.template_library import (
    BACK_TO_DEFAULT, Preview, TemplateLibrary, TemplateRefused, expire_saved, normalise, parse_path,
)
from triage.access import requires
from triage.render import page

log = logging.getLogger(__name__)

# The app's policy (triage.app.SECURITY_HEADERS) plus frame-src 'self', for the editor page only.
EDITOR_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
              "form-action 'self'; base-uri 'none'; frame-ancestors 'none'; frame-src 'self'")
# The HTML email preview: a sandboxed document that loads nothing and runs nothing, framed only by this app.
PREVIEW_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'self'; sandbox",
    "x-frame-options": "SAMEORIGIN",
}
SECTIONS = (("email", "en", "Emails"), ("letter", "en", "Letters"), ("email", "cy", "Emails in Welsh"),
            ("letter", "cy", "Letters in Welsh"))


def _library(request: Request) -> TemplateLibrary:
    return TemplateLibrary(request.app.state.staff.settings.templates_dir)


# -- the list, and the editor ---------------------------------------------------------------------------


@requires(Role.MANAGER)
def index(request: Request) -> Response:
    """/templates lists them all; /templates?path=P edits one (with &version=N to view a version, and
    &compare=A&to=B to compare two, each a version or 'default')."""
    path = request.query_params.get("path")
    return editor(request, path) if path else _list(request)


def _list(request: Request) -> Response:
    with request.app.state.staff.db.sessions() as session:
        entries = _library(request).entries(session)
    sections = [(title, [e for e in entries if (e.template.medium, e.template.language) == (medium, language)])
                for medium, language, title in SECTIONS]
    return page(request, "templates/list.html", sections=[(t, rows) for t, rows in sections if rows])


def editor(request: Request, path: str, source: str | None = None, problems: list[str] | None = None,
           status: int = 200) -> Response:
    """The editor for ``path``; ``source`` and ``problems`` when a save was refused (the text is kept)."""
    library, query = _library(request), request.query_params
    with request.app.state.staff.db.sessions() as session:
        try:
            entry = library.entry(session, path)
            versions = library.versions(session, path)
            viewing = library.version(session, path, _int(query["version"]) or -1) if query.get("version") else None
            diff = _diff(library, session, path, query)
        except TemplateRefused as exc:
            return page(request, "not_found.html", status_code=404, message=_say(exc))
        shown = source if source is not None else viewing.source if viewing else library.source_in_force(session, path)
        preview = library.preview(session, path, shown)
    response = page(
        request, "templates/editor.html", status_code=status, entry=entry, versions=versions, viewing=viewing,
        source=shown, problems=problems or [], preview=preview, preview_error=None, diff=diff,
        default=library.default_source(path),
        based_on=versions[0].id if versions else "", done=query.get("done"),
        back_to_default=BACK_TO_DEFAULT, compare=query.get("compare", ""), to=query.get("to", ""),
        makes_html=path.endswith(".html"), show_text=not path.endswith(".html"))
    response.headers["content-security-policy"] = EDITOR_CSP
    return response


def _diff(library: TemplateLibrary, session, path: str, query) -> dict[str, Any] | None:
    old, new = query.get("compare"), query.get("to")
    if not old or not new:
        return None
    return {"old": library.text_of(session, path, old)[0], "new": library.text_of(session, path, new)[0],
            "lines": library.diff(session, path, old, new)}


# -- the live preview -----------------------------------------------------------------------------------


@requires(Role.MANAGER)
async def preview(request: Request) -> Response:
    """The preview panel for the editor's current text (htmx swaps it in as the manager types)."""
    form = await _form(request)
    shown, error = await run_in_threadpool(_preview, request, form)
    return page(request, "templates/preview.html", preview=shown, preview_error=error,
                show_text=not form.get("path", "").endswith(".html"))


@requires(Role.MANAGER)
async def preview_html(request: Request) -> Response:
    """The HTML email for the editor's current text, as an inert document for the sandboxed frame."""
    form = await _form(request)
    shown, error = await run_in_threadpool(_preview, request, form)
    if shown.rendered is not None and shown.rendered.html and not error:
        return HTMLResponse(shown.rendered.html, headers=PREVIEW_HEADERS)
    reasons = [error] if error else shown.problems or ["this template is not part of an HTML email"]
    body = "".join(f"<p>{html.escape(reason)}</p>" for reason in reasons)
    return HTMLResponse(f'<!doctype html><html lang="en-GB"><title>No HTML preview</title><p>No HTML to show:</p>'
                        f"{body}</html>", headers=PREVIEW_HEADERS)


def _preview(request: Request, form: dict[str, str]) -> tuple[Preview, str | None]:
    """The preview for a form (path, source, on = 'sample' or 'case', reference, message) and, when a real
    case was asked for and cannot be used, why (the sample is shown instead)."""
    staff, library = request.app.state.staff, _library(request)
    path, source = form.get("path", ""), form.get("source", "")
    with staff.db.sessions() as session:
        messages = library.messages_for(session, path, source) if parse_path(path) else []
        chosen = next((m for m in messages if m.value == form.get("message")), messages[0] if messages else None)
        context, filled, error = None, [], None
        if form.get("on") == "case" and chosen is not None:
            try:
                context, filled = library.case_context(session, staff.correspondence, form.get("reference", ""),
                                                       chosen)
            except TemplateRefused as exc:
                error = f"{_say(exc)}: the sample is shown instead"
        return library.preview(session, path, source, context, chosen.value if chosen else None, filled), error


# -- saving, restoring, back to default ----------------------------------------------------------------


@requires(Role.MANAGER)
async def save(request: Request) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_change, request, form, "saved", lambda library, session, by: library.save(
        session, form.get("path", ""), form.get("source", ""), by, _int(form.get("based_on"))))


@requires(Role.MANAGER)
async def restore(request: Request) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_change, request, form, "restored", lambda library, session, by: library.restore(
        session, form.get("path", ""), _int(form.get("version")) or -1, by))


@requires(Role.MANAGER)
async def back_to_default(request: Request) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_change, request, form, "default", lambda library, session, by:
                                   library.back_to_default(session, form.get("path", ""), by))


def _change(request: Request, form: dict[str, str], done: str, change) -> Response:
    """Run one change in a transaction; back to the editor with what was done, or with the refusal."""
    staff, path = request.app.state.staff, form.get("path", "")
    try:
        with staff.db.transaction() as session:
            version = change(_library(request), session, request.state.user.email)
    except TemplateRefused as exc:
        if parse_path(path) is None:
            return page(request, "not_found.html", status_code=404, message=_say(exc))
        kept = normalise(form["source"]) if "source" in form else None
        return editor(request, path, source=kept, problems=exc.problems, status=409)
    expire_saved(staff.templates)  # this app's own renders (a reply's preview) use it at once
    return RedirectResponse(f"/templates?{urlencode({'path': path, 'done': f'{done}-{version.id}'})}", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _say(exc: Exception) -> str:
    text = "; ".join(exc.problems) if isinstance(exc, TemplateRefused) else str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")

routes = [
    Route("/templates", index, methods=["GET"]),
    Route("/templates/preview", preview, methods=["POST"]),
    Route("/templates/preview.html", preview_html, methods=["POST"]),
    Route("/templates/save", save, methods=["POST"]),
    Route("/templates/restore", restore, methods=["POST"]),
    Route("/templates/default", back_to_default, methods=["POST"]),
]
