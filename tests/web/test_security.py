"""The staff app's security promises, tested against a real `intake serve` and, where a browser is what
matters, Debian's Chromium: a resident's hostile mail stays inert and never reaches the network; no
state changes without the session's CSRF token; every route needs a session; roles are enforced;
disabled and signed-out sessions end at once; failed sign-ins are slowed; every response carries the
security headers."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import sqlite3
from email.message import EmailMessage
from pathlib import Path

import pytest

import scheduler
from casework.vocabulary import ROLE_ORDER, Role
from core.settings import Settings
from tests.mail import deliver, new_maildir
from tests.web.conftest import (PASSWORD, case_json, csrf_token_of, log_contact, serving, signed_in, start_server,
                                stop_server)
from triage.app import app_routes, create_app

NOWHERE = "198.51.100.7"  # TEST-NET-2: a documentation address nothing may ever try to reach
PUBLIC_PATHS = {"/login", "/healthz", "/metrics", "/report", "/status", "/report/logo", "/report/brand.css"}

HOSTILE_HTML = f"""<html><head>
<link rel=stylesheet href=http://{NOWHERE}/a.css>
<style>body {{ background: url(http://{NOWHERE}/style.png) }}</style>
<script>alert(1)</script>
</head><body>
<p>Dear Sir or Madam,</p>
<p>There is black mould spreading across the back bedroom wall of Flat 4, Riverside Court and my
daughter's asthma has got worse. I reported it in October and nobody has come. I want to make a
formal complaint about how this has been handled.</p>
<img src=x onerror=alert(2)>
<p><a href="javascript:alert(3)">Photos of the mould</a></p>
<div style="background:url(http://{NOWHERE}/x.png)">Flat 4, Riverside Court, Exampletown EX1 4RC</div>
<img src="http://{NOWHERE}/pixel.gif" width="1" height="1">
<p>My neighbour said to send you this: &lt;script&gt;alert(4)&lt;/script&gt;
&lt;img src=x onerror=alert(5)&gt;</p>
<p>Yours faithfully,<br>Jordan Okafor</p>
</body></html>"""

HOSTILE_TEXT = f"""Hello,

The leak from the flat above is still coming through my kitchen ceiling and nobody has been out after
three calls. I am very unhappy and want to complain.

<script>alert(6)</script>
<img src="http://{NOWHERE}/pixel2.gif" onerror="alert(7)">
<a href="javascript:alert(8)">click</a>
<div style="background:url(http://{NOWHERE}/y.png)">x</div>

Morgan Ellis
"""


def hostile_mail(sender: str, subject: str, body: str, subtype: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "Example Homes <complaints@example.org>"
    message["Subject"] = subject
    message["Date"] = "Mon, 16 Nov 2026 10:00:00 +0000"
    message["Message-ID"] = f"<{abs(hash((sender, subject)))}@mail.example.net>"
    message.set_content(body, subtype=subtype)
    return bytes(message)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app with a Maildir source, so the worker (`intake run --once`) can make cases from real mail."""
    root = tmp_path_factory.mktemp("security")
    maildir = new_maildir(root / "maildir")
    var_dir = root / "var"
    var_dir.mkdir()
    server = start_server(var_dir, extra_env={"INTAKE_MAILDIR": json.dumps([{"name": "inbox", "path": str(maildir)}])})
    server.maildir, server.var_dir = maildir, var_dir
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def hostile_cases(server) -> dict[str, str]:
    """Two residents' mails full of markup, made into cases by the real worker: {sender address: reference}."""
    senders = {"jordan.okafor@example.net": ('"Jordan <img src=x onerror=alert(9)>" <jordan.okafor@example.net>',
                                             "Black mould <script>alert(10)</script>", HOSTILE_HTML, "html"),
               "morgan.ellis@example.net": ("Morgan Ellis <morgan.ellis@example.net>", "Leak still not fixed",
                                            HOSTILE_TEXT, "plain")}
    for sender, subject, body, subtype in senders.values():
        deliver(server.maildir, hostile_mail(sender, subject, body, subtype))
    server.intake("run", "--once")
    cases = [json.loads(line) for line in server.intake("case", "list", "--json").stdout.splitlines() if line.strip()]
    by_sender = {}
    for row in cases:
        resident = case_json(server, row["reference"])["resident"]["email"]
        if resident in senders:
            by_sender[resident] = row["reference"]
    assert set(by_sender) == set(senders), (cases, (server.var_dir / "serve.log").read_text())
    return by_sender


def test_a_residents_attachments_are_only_ever_downloaded_never_rendered(page, server):
    """An HTML page and a script sent as attachments must not be served as something the browser runs: from
    the app's own origin a script would pass the CSP's script-src 'self'."""
    message = EmailMessage()
    message["From"] = "Casey Byrne <casey.byrne@example.net>"
    message["To"] = "Example Homes <complaints@example.org>"
    message["Subject"] = "Complaint about the repairs contractor"
    message["Date"] = "Mon, 16 Nov 2026 11:00:00 +0000"
    message["Message-ID"] = "<attachments-casey@mail.example.net>"
    message.set_content("The contractor left my bathroom without a working toilet for a week. I want to complain. "
                        "My notes are attached.\n\nCasey Byrne")
    message.add_attachment(b"<html><script src=notes.js></script><script>alert(11)</script></html>",
                           maintype="text", subtype="html", filename="notes.html")
    message.add_attachment(b"alert(12)", maintype="application", subtype="javascript", filename="notes.js")
    message.add_attachment(f'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(13)"><image href="http://{NOWHERE}/s.png"/>'
                           '</svg>'.encode(), maintype="image", subtype="svg+xml", filename="plan.svg")
    deliver(server.maildir, bytes(message))
    server.intake("run", "--once")
    cases = [json.loads(line) for line in server.intake("case", "list", "--json").stdout.splitlines() if line.strip()]
    [reference] = [row["reference"] for row in cases
                   if case_json(server, row["reference"])["resident"]["email"] == "casey.byrne@example.net"]
    signed_in(page, server, "alice@landlord.org")
    page.goto(f"{server.url}/cases/{reference}")
    links = page.locator("a[href*='/attachments/']")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) == 3, page.locator("main").inner_text()
    for href in hrefs:
        response = page.request.get(server.url + href, max_redirects=0)
        assert response.status == 200
        headers = response.headers
        assert headers["content-type"] == "application/octet-stream", (href, headers)
        assert headers["content-disposition"].startswith("attachment;"), (href, headers)
        assert headers["x-content-type-options"] == "nosniff" and "default-src 'none'" in headers[
            "content-security-policy"], (href, headers)
    for href in hrefs:  # opened in the browser, each is a download: nothing runs, nothing is fetched
        with page.expect_download() as download:
            page.evaluate("href => { const a = document.createElement('a'); a.href = href; a.click(); }", href)
        assert download.value.suggested_filename in ("notes.html", "notes.js", "plan.svg")
    assert page.dialogs_seen == []
    assert [url for url in page.requests_seen if not url.startswith(server.url + "/")] == []


@pytest.fixture(scope="module")
def reference(server) -> str:
    """A plain case made from a logged phone call."""
    return log_contact(server, "Pat Hughes", "Rang about the broken entry door at Elm House; unhappy it has taken "
                       "three weeks and wants to complain.", email="pat.hughes@example.net")


@pytest.fixture
def stranger(browser):
    """An HTTP client with no cookies at all (a fresh browser context's request API)."""
    context = browser.new_context()
    yield context.request
    context.close()


@pytest.fixture(scope="module")
def router_app(tmp_path_factory):
    """The app built in-process, only to read its router (the same code `intake serve` runs)."""
    var_dir = tmp_path_factory.mktemp("router") / "var"
    var_dir.mkdir()
    staff = scheduler.build_staff(Settings(var_dir=var_dir))
    yield create_app(staff)
    staff.db.engine.dispose()


def _fill(path: str, reference: str) -> str:
    """A route path with its parameters filled with real values."""
    def value(match: re.Match) -> str:
        name = match.group(1)
        return reference if "ref" in name else "1" if name.endswith("id") or ":int" in match.group(0) else "x"
    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


# 1. A resident's hostile mail stays inert text and never reaches the network ------------------------------------

@pytest.mark.parametrize("sender", ["jordan.okafor@example.net", "morgan.ellis@example.net"])
def test_a_residents_hostile_mail_is_shown_as_inert_text_and_nothing_leaves_loopback(page, server, hostile_cases,
                                                                                       sender):
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    signed_in(page, server, "alice@landlord.org")
    reference = hostile_cases[sender]
    response = page.goto(f"{server.url}/cases/{reference}")
    assert response.status == 200
    page.wait_for_load_state("networkidle")

    assert page.dialogs_seen == []
    origin = server.url + "/"
    assert [url for url in page.requests_seen if not url.startswith(origin)] == [], page.requests_seen
    assert not any(NOWHERE in url for url in page.requests_seen + failed)
    # A request the CSP blocks is never made, so it is not in the network log: the console says it was tried.
    assert [line for line in console if "Content Security Policy" in line or NOWHERE in line] == [], console
    assert len(page.frames) == 1, [frame.url for frame in page.frames]  # no iframe for the mail's HTML
    dom = page.evaluate("""() => {
        const all = [...document.querySelectorAll('*')];
        const attrs = all.flatMap(e => [...e.attributes].map(a => [e.tagName.toLowerCase(), a.name, a.value]));
        return {
            scripts: [...document.scripts].map(s => s.getAttribute('src')),
            handlers: attrs.filter(([t, n]) => n.startsWith('on')),
            javascript: attrs.filter(([t, n, v]) => /^\\s*javascript:/i.test(v)),
            remote: attrs.filter(([t, n, v]) => v.includes('198.51.100.7')),
            stylesheets: [...document.querySelectorAll('link')].map(l => l.getAttribute('href')),
            embedded: document.querySelectorAll('iframe, object, embed, frame, base, meta[http-equiv=refresh]').length,
            styles: document.querySelectorAll('style').length,
            images: [...document.images].map(i => i.getAttribute('src')),
        };
    }""")
    assert dom["scripts"] and all(src and src.startswith("/static/") for src in dom["scripts"]), dom["scripts"]
    assert dom["handlers"] == [] and dom["javascript"] == [] and dom["remote"] == [], dom
    assert all(href.startswith("/static/") for href in dom["stylesheets"]), dom["stylesheets"]
    assert dom["embedded"] == 0 and dom["styles"] == 0 and dom["images"] == [], dom
    # The resident's words reach the page, markup and all, as text a person can read.
    text = page.locator("main").inner_text()
    if sender.startswith("jordan"):
        assert "black mould spreading across the back bedroom wall" in text
        assert "<script>alert(4)</script>" in text and "<script>alert(10)</script>" in text  # body and subject
    else:
        assert "still coming through my kitchen ceiling" in text
        assert "<script>alert(6)</script>" in text


# 2. No state change without the session's CSRF token ---------------------------------------------------------

def test_a_post_without_the_sessions_csrf_token_is_refused_and_changes_nothing(page, server, reference):
    signed_in(page, server, "alice@landlord.org")
    before = case_json(server, reference)["assignee"]
    url = f"{server.url}/cases/{reference}/assign"
    attempts = {
        "no token": page.request.post(url, form={"to": "alice@landlord.org"}, max_redirects=0),
        "wrong token": page.request.post(url, form={"to": "alice@landlord.org", "csrf_token": "x" * 43},
                                         max_redirects=0),
        "empty token": page.request.post(url, form={"to": "alice@landlord.org", "csrf_token": ""}, max_redirects=0),
        "wrong header": page.request.post(url, form={"to": "alice@landlord.org"},
                                          headers={"X-CSRF-Token": "not-the-token"}, max_redirects=0),
        "JSON body": page.request.post(url, data=json.dumps({"to": "alice@landlord.org", "csrf_token": "x"}),
                                       headers={"Content-Type": "application/json"}, max_redirects=0),
    }
    assert {name: response.status for name, response in attempts.items()} == {name: 403 for name in attempts}
    assert case_json(server, reference)["assignee"] == before
    # The same request with the page's own token goes through: the 403s above were the token's doing.
    page.goto(f"{server.url}/cases/{reference}")
    good = page.request.post(url, form={"to": "alice@landlord.org", "csrf_token": csrf_token_of(page)},
                             max_redirects=0)
    assert good.status == 303
    assert case_json(server, reference)["assignee"] == "alice@landlord.org"


def test_the_sign_in_form_without_its_token_is_refused(browser, server):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{server.url}/login")
        token = page.locator("input[name=csrf_token]").get_attribute("value")
        assert token
        form = {"email": "alice@landlord.org", "password": PASSWORD, "next": "/"}
        without = context.request.post(f"{server.url}/login", form=form, max_redirects=0)
        wrong = context.request.post(f"{server.url}/login", form={**form, "csrf_token": token[::-1]}, max_redirects=0)
        assert (without.status, wrong.status) == (403, 403)
        assert not [c for c in context.cookies() if c["name"] == "intake_session"]
        # A token from the form but not the cookie beside it (a forged cross-site post) is refused too.
        context.clear_cookies()
        forged = context.request.post(f"{server.url}/login", form={**form, "csrf_token": token}, max_redirects=0)
        assert forged.status == 403
        assert not [c for c in context.cookies() if c["name"] == "intake_session"]
    finally:
        context.close()


# 3. Every route needs a session ------------------------------------------------------------------------------

def test_every_route_from_the_router_needs_a_session(router_app, server, reference, stranger):
    paths = sorted(set(app_routes(router_app)))
    guarded = [path for path in paths if path not in PUBLIC_PATHS]
    assert "/" in guarded and "/cases/{reference}" in guarded and "/admin/users" in guarded, paths
    unguarded = []
    for path in guarded:
        url = server.url + _fill(path, reference)
        get = stranger.get(url, max_redirects=0)
        location = get.headers.get("location", "")
        if get.status != 303 or not location.startswith("/login"):
            unguarded.append(f"GET {path} -> {get.status} {location}")
        post = stranger.post(url, form={"to": "alice@landlord.org"}, max_redirects=0)
        if post.status not in (401, 303) or (post.status == 303 and not post.headers["location"].startswith("/login")):
            unguarded.append(f"POST {path} -> {post.status}")
    assert unguarded == [], f"routes answering without a session: {unguarded}\nevery route checked: {guarded}"


def test_only_the_sign_in_page_health_check_and_static_files_are_public(router_app):
    """A new route that starts like a public one ('/login-attempts', '/healthz/details') is not public."""
    from triage.app import Guard

    guard = router_app
    assert isinstance(guard, Guard)
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    extra = ["/login-attempts", "/loginx", "/healthz/details", "/staticfiles", "/report/list", "/reports",
             "/status/all", "/statusx"]
    for path in extra:
        guard.router.routes.append(Route(path, lambda request: PlainTextResponse("secret"), methods=["GET"]))
    try:
        statuses = {path: _asgi_get(guard, path) for path in [*extra, "/static/../admin/users"]}
    finally:
        del guard.router.routes[-len(extra):]
    assert all(status in (303, 404) for status in statuses.values()), statuses
    assert [path for path, status in statuses.items() if status != 303 and path in extra] == [], statuses


def _asgi_get(app, path: str) -> int:
    """One GET through the ASGI app in-process (no HTTP client library needed); its status."""
    import asyncio
    import concurrent.futures

    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": [],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    with concurrent.futures.ThreadPoolExecutor(1) as thread:  # Playwright's sync API owns this thread's loop
        thread.submit(asyncio.run, app(scope, receive, send)).result()
    return next(message["status"] for message in sent if message["type"] == "http.response.start")


def _raw_post(server, path: str, claimed_length: int, sent: bytes = b"csrf_token=x&email=a") -> str:
    """A POST that claims a huge body and sends only a little of it; the first line of the answer, or '' when
    the server is still waiting for the rest after a few seconds (i.e. it reads bodies before refusing)."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/"
                           f"x-www-form-urlencoded\r\nContent-Length: {claimed_length}\r\n\r\n".encode() + sent)
        try:
            return connection.recv(4096).decode("latin-1").split("\r\n")[0]
        except TimeoutError:
            return ""


def test_a_stranger_cannot_make_the_app_read_a_huge_body(server):
    """Refused before the body is read: without a session nobody can make the app buffer a gigabyte."""
    assert _raw_post(server, "/cases/CMP-2026-000001/assign", 10**9).endswith("401 Unauthorized")
    assert _raw_post(server, "/healthz", 10**9).split(" ")[1] in ("405", "413")
    assert _raw_post(server, "/login", 10**9).endswith("413 Request Entity Too Large")
    # The residents' pages: the status page keeps the 64 KiB of every anonymous request; the complaints form
    # takes files, up to its own limit ([public] max_request_bytes, 20 MiB), and no more.
    assert _raw_post(server, "/status", 10**9).endswith("413 Request Entity Too Large")
    assert _raw_post(server, "/status", 70 * 1024).endswith("413 Request Entity Too Large")
    assert _raw_post(server, "/report", 10**9).endswith("413 Request Entity Too Large")
    assert _raw_post(server, "/report", 21 * 1024 * 1024).endswith("413 Request Entity Too Large")
    assert _raw_post(server, "/report", 70 * 1024) == ""  # within its limit: the server waits for the rest


def test_the_residents_forms_refuse_a_post_without_their_own_token_and_store_nothing(browser, server):
    """/report and /status have no session: their token is the one in their own pre-session cookie."""
    context = browser.new_context()
    try:
        page = context.new_page()
        form = {"description": "I want to complain about the lift.", "name": "Sam Cole", "email": "sam@example.net"}
        before = _web_submissions(server)
        answers = {"report, no token": context.request.post(f"{server.url}/report", form=form, max_redirects=0)}
        page.goto(f"{server.url}/report")
        token = page.locator("input[name=csrf_token]").get_attribute("value")
        cookie = next(c for c in context.cookies() if c["name"] == "intake_public_csrf")
        assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (True, True, "Strict")
        answers["report, wrong token"] = context.request.post(f"{server.url}/report", form={**form, "csrf_token": token[::-1]})
        page.goto(f"{server.url}/login")  # the sign-in form's token is not the residents' forms' token
        login_token = page.locator("input[name=csrf_token]").get_attribute("value")
        answers["report, sign-in token"] = context.request.post(f"{server.url}/report",
                                                                form={**form, "csrf_token": login_token})
        answers["status, no token"] = context.request.post(f"{server.url}/status",
                                                           form={"reference": "CMP-2026-000001", "postcode": "EX1 1AA"})
        context.clear_cookies()  # a token copied from the form but sent without its cookie: a forged cross-site post
        answers["report, token without cookie"] = context.request.post(f"{server.url}/report",
                                                                       form={**form, "csrf_token": token})
        assert {name: answer.status for name, answer in answers.items()} == {name: 403 for name in answers}
        assert _web_submissions(server) == before
        # Refused, the form comes back filled in with a fresh token, so a resident sending from the landlord's own
        # website (no token yet) presses Send once more on ours.
        again = answers["report, token without cookie"].text()
        assert 'value="Sam Cole"' in again and "This form had expired" in again
    finally:
        context.close()


def _web_submissions(server) -> int:
    with sqlite3.connect(Path(server.var_dir) / "intake.db") as db:
        return db.execute("SELECT count(*) FROM submissions WHERE kind = 'web'").fetchone()[0]


# 4. Roles ----------------------------------------------------------------------------------------------------

def _required_role(endpoint) -> Role | None:
    """The role an endpoint wrapped by ``triage.access.requires`` needs (None: any signed-in person)."""
    return getattr(endpoint, "required_role", None)


def test_staff_get_403_on_manager_and_admin_pages_and_managers_on_admin_pages(browser, router_app, server, reference):
    restricted = [(route.path, sorted(route.methods or ()), role) for route in router_app.router.routes
                  if (role := _required_role(getattr(route, "endpoint", None))) not in (None, Role.STAFF)]
    assert ("/admin/users", ["GET", "HEAD"], Role.ADMIN) in restricted, restricted
    refused = {}
    for email, role in [("alice@landlord.org", Role.STAFF), ("manager@landlord.org", Role.MANAGER),
                        ("admin@landlord.org", Role.ADMIN)]:
        context = browser.new_context()
        try:
            page = signed_in(context.new_page(), server, email)
            token = csrf_token_of(page)
            for path, methods, needed in restricted:
                url = server.url + _fill(path, reference)
                allowed = ROLE_ORDER.index(role) >= ROLE_ORDER.index(needed)
                if "GET" in methods:
                    status = context.request.get(url, max_redirects=0).status
                    refused[(email, "GET", path)] = (status, "allowed" if allowed else "refused")
                if "POST" in methods and not allowed:  # never carry out a manager's action just to test it
                    status = context.request.post(url, form={"csrf_token": token}, max_redirects=0).status
                    refused[(email, "POST", path)] = (status, "refused")
        finally:
            context.close()
    wrong = {key: value for key, value in refused.items()
             if (value[1] == "refused" and value[0] != 403) or (value[1] == "allowed" and value[0] != 200)}
    assert wrong == {}, f"{wrong}\nrestricted routes found: {restricted}"


# 5. A disabled person's open session ends -----------------------------------------------------------------------

def test_a_disabled_persons_open_session_stops_working_at_once(page, server):
    signed_in(page, server, "bob@landlord.org")
    page.goto(f"{server.url}/")
    assert page.get_by_role("heading", name="Queue").is_visible()
    server.intake("user", "disable", "bob@landlord.org")
    page.reload()
    assert page.url.startswith(f"{server.url}/login")
    page.goto(f"{server.url}/operations")
    assert page.url.startswith(f"{server.url}/login")
    # and bob cannot simply sign in again
    page.get_by_label("Email").fill("bob@landlord.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("That email and password do not match")


# 6. Failed sign-ins are slowed and recorded --------------------------------------------------------------------

def test_repeated_failed_sign_ins_are_refused_and_recorded(page, tmp_path):
    """On a server of its own: the throttle also counts per client, and every test signs in from 127.0.0.1."""
    with serving(tmp_path / "var") as own:
        statuses, messages = [], []
        for attempt in range(6):
            page.goto(f"{own.url}/login")
            page.get_by_label("Email").fill("alice@landlord.org")
            page.get_by_label("Password").fill(f"wrong password {attempt}")
            with page.expect_response(lambda response: response.request.method == "POST") as posted:
                page.get_by_role("button", name="Sign in").click()
            statuses.append(posted.value.status)
            messages.append(page.get_by_role("alert").inner_text())
        assert statuses == [401] * 5 + [429], statuses
        assert messages[-1].startswith("Too many attempts"), messages
        # Even the right password is refused now, without being checked.
        page.goto(f"{own.url}/login")
        page.get_by_label("Email").fill("alice@landlord.org")
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_response(lambda response: response.request.method == "POST") as posted:
            page.get_by_role("button", name="Sign in").click()
        assert posted.value.status == 429
        assert not [c for c in page.context.cookies() if c["name"] == "intake_session"]
        with sqlite3.connect(tmp_path / "var" / "intake.db") as db:
            rows = db.execute("SELECT email, client, succeeded FROM login_attempts ORDER BY id").fetchall()
        assert rows == [("alice@landlord.org", "127.0.0.1", 0)] * 7, rows


# 7. Security headers and the session cookie ---------------------------------------------------------------------

def _csp(value: str) -> dict[str, list[str]]:
    return {parts[0]: parts[1:] for parts in (d.split() for d in value.split(";") if d.strip())}


def _header_problems(url: str, status: int, headers: dict[str, str]) -> list[str]:
    problems = []
    csp = _csp(headers.get("content-security-policy", ""))
    if not csp:
        problems.append("no Content-Security-Policy")
    if any("'unsafe-inline'" in v or "'unsafe-eval'" in v or "*" in v or "data:" in v for v in csp.values()):
        problems.append(f"CSP allows inline/eval/anything: {csp}")
    if csp and (csp.get("default-src") != ["'none'"] or csp.get("script-src") != ["'self'"]
                or csp.get("frame-ancestors") != ["'none'"]):
        problems.append(f"CSP too loose: {csp}")
    if headers.get("x-frame-options") != "DENY":
        problems.append(f"X-Frame-Options {headers.get('x-frame-options')}")
    if headers.get("x-content-type-options") != "nosniff":
        problems.append(f"X-Content-Type-Options {headers.get('x-content-type-options')}")
    return [f"{status} {url}: {problem}" for problem in problems]


def test_every_response_carries_the_security_headers_and_the_session_cookie_is_locked_down(browser, page, server,
                                                                                          reference, stranger):
    seen = []
    page.on("response", lambda response: seen.append((response.url, response.status, response.all_headers())))
    page.goto(f"{server.url}/")  # 303 to the sign-in page
    signed_in(page, server, "alice@landlord.org")
    token = csrf_token_of(page)
    for path in ["/", f"/cases/{reference}", "/cases/CMP-1999-999999", "/operations", "/admin/users", "/no-such-page",
                 "/static/app.css", "/static/htmx.min.js", "/static/missing.js", "/healthz", "/report", "/status",
                 "/report/brand.css", "/report/logo", "/static/public.css"]:
        page.goto(server.url + path)
    requests = [("POST /logout without token", page.request.post(f"{server.url}/logout", max_redirects=0)),
                ("POST assign, refused", page.request.post(f"{server.url}/cases/{reference}/assign", max_redirects=0,
                                                           form={"to": "nobody@landlord.org", "csrf_token": token})),
                ("POST stranger", stranger.post(f"{server.url}/cases/{reference}/assign", max_redirects=0)),
                ("GET stranger", stranger.get(f"{server.url}/admin/users", max_redirects=0)),
                ("HEAD stranger", stranger.head(f"{server.url}/login", max_redirects=0)),
                ("POST /login no token", stranger.post(f"{server.url}/login", max_redirects=0))]
    statuses = {status for _, status, _ in seen} | {response.status for _, response in requests}
    assert {200, 303, 401, 403, 404} <= statuses, statuses
    problems = [problem for url, status, headers in seen for problem in _header_problems(url, status, headers)]
    problems += [problem for name, response in requests
                 for problem in _header_problems(name, response.status, response.headers)]
    assert problems == [], "\n".join(problems)
    assert token

    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    session = cookies["intake_session"]
    assert (session["httpOnly"], session["secure"], session["sameSite"]) == (True, True, "Strict"), session
    assert len(session["value"]) >= 40
    # the sign-in form's own cookie is as strict
    context = browser.new_context()
    try:
        context.new_page().goto(f"{server.url}/login")
        form_cookie = next(cookie for cookie in context.cookies() if cookie["name"] == "intake_login_csrf")
        assert (form_cookie["httpOnly"], form_cookie["secure"], form_cookie["sameSite"]) == (True, True, "Strict")
    finally:
        context.close()


# 8. Signing out ends the session on the server --------------------------------------------------------------

def test_signing_out_deletes_the_session_on_the_server(browser, page, server):
    signed_in(page, server, "alice@landlord.org")
    old = next(c for c in page.context.cookies() if c["name"] == "intake_session")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.url}/login")
    assert not [c for c in page.context.cookies() if c["name"] == "intake_session"]  # the browser forgot it
    replay = browser.new_context()
    try:
        replay.add_cookies([{key: old[key] for key in ("name", "value", "domain", "path", "httpOnly", "secure",
                                                       "sameSite")}])
        response = replay.request.get(f"{server.url}/", max_redirects=0)
        assert response.status == 303 and response.headers["location"].startswith("/login")
        post = replay.request.post(f"{server.url}/logout", max_redirects=0)
        assert post.status == 401
    finally:
        replay.close()
    digest = hashlib.sha256(old["value"].encode()).hexdigest()
    with sqlite3.connect(Path(server.var_dir) / "intake.db") as db:
        assert db.execute("SELECT count(*) FROM web_sessions WHERE token_sha256 = ?", (digest,)).fetchone()[0] == 0


# Admins manage people from the app ---------------------------------------------------------------------------

def test_an_admin_adds_and_disables_a_person_and_sees_the_settings_with_secrets_masked(browser, server):
    context = browser.new_context()
    try:
        page = signed_in(context.new_page(), server, "admin@landlord.org")
        page.goto(server.url + "/admin/users")
        page.get_by_label("Email").fill("carol@landlord.org")
        page.get_by_label("Role").select_option("manager")
        page.get_by_label("Password (at least 12 characters").fill("a-long-enough-passphrase")
        page.get_by_role("button", name="Add").click()
        assert page.get_by_role("row", name="carol@landlord.org").inner_text().split("\t")[1:3] == ["manager", "active"]
        page.get_by_role("button", name="Disable carol@landlord.org").click()
        assert "disabled" in page.get_by_role("row", name="carol@landlord.org").inner_text()
        assert page.get_by_role("button", name="Disable admin@landlord.org").count() == 0  # never yourself
        page.goto(server.url + "/admin/settings")
        assert "database_url" in page.content() and "smtp.password" in page.content()
        password_row = page.get_by_role("row").filter(  # not smtp.password_file's row
            has=page.get_by_role("rowheader", name="smtp.password", exact=True))
        assert password_row.inner_text().endswith("not set")
    finally:
        context.close()
