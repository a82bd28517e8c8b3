"""The staff app as staff meet it: a real `intake serve` process on a free loopback port, on a real
database, driven by Debian's Chromium through Playwright (the system browser, never a download).

Fixtures:
* ``server``: a running app on SQLite with an admin, a manager and two staff users (see ``PEOPLE``);
  ``server.intake(...)`` runs any `intake` command against the same settings (to make cases);
* ``browser``/``page``: headless Chromium; ``page`` records every request it makes in
  ``page.requests_seen`` so a test can assert nothing left loopback;
* ``signed_in(page, email)``: signs in through the login form.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct-horse-battery-staple"
PEOPLE = {"admin@landlord.org": "admin", "manager@landlord.org": "manager", "alice@landlord.org": "staff",
          "bob@landlord.org": "staff"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
SCREENSHOTS = REPO / "docs" / "screenshots"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    env: dict
    process: subprocess.Popen

    def intake(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO, env=self.env, capture_output=True,
                                text=True, timeout=180)
        if check:
            assert result.returncode == 0, result.stderr
        return result


def start_server(var_dir: Path, database_url: str | None = None, extra_env: dict | None = None) -> Server:
    port = free_port()
    env = {**os.environ, "INTAKE_VAR_DIR": str(var_dir), "INTAKE_PASSWORD": PASSWORD, **(extra_env or {})}
    env.pop("INTAKE_CONFIG", None)
    if database_url:
        env["INTAKE_DATABASE_URL"] = database_url
    for email, role in PEOPLE.items():
        subprocess.run([sys.executable, "-m", "cli", "user", "add", email, "--role", role], cwd=REPO, env=env,
                       check=True, capture_output=True, timeout=120)
    log = open(var_dir / "serve.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], cwd=REPO, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(url, process)
    return Server(url, env, process)


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"intake serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("intake serve did not answer /healthz in time")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("web") / "var"
    var_dir.mkdir()
    server = start_server(var_dir)
    try:
        yield server
    finally:
        server.process.terminate()
        server.process.wait(timeout=20)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.requests_seen = []
    page.on("request", lambda request: page.requests_seen.append(request.url))
    page.dialogs_seen = []
    page.on("dialog", lambda dialog: (page.dialogs_seen.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def signed_in(page, server: Server, email: str = "alice@landlord.org"):
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    return page


# Helpers added for the security and screenshot tests (the fixtures above are unchanged).

def stop_server(server: Server) -> None:
    server.process.terminate()
    server.process.wait(timeout=20)


@contextlib.contextmanager
def serving(var_dir: Path, extra_env: dict | None = None):
    """A server of its own for one test or module (e.g. one whose sign-ins get throttled)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    server = start_server(var_dir, extra_env=extra_env)
    try:
        yield server
    finally:
        stop_server(server)


def log_contact(server: Server, name: str, notes: str, *, channel: str = "phone", email: str | None = None,
                address: str | None = None, by: str = "alice@landlord.org", on: str | None = None) -> str:
    """A logged phone call or visit made into a case through `intake case log-contact`; its reference."""
    args = ["case", "log-contact", "--channel", channel, "--name", name, "--notes", notes, "--by", by]
    args += ["--email", email] if email else []
    args += ["--address", address] if address else []
    args += ["--on", on] if on else []
    return server.intake(*args).stdout.strip().split()[-1]


def case_json(server: Server, reference: str) -> dict:
    return json.loads(server.intake("case", "show", reference, "--json").stdout)


def csrf_token_of(page) -> str:
    """The signed-in session's CSRF token, as the page's own forms carry it."""
    return page.locator("input[name=csrf_token]").first.get_attribute("value")
