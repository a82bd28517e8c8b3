"""The templates page (/templates) in Debian's Chromium against a real `intake serve` on a real SQLite file:
a manager edits a template and sees the preview change, is refused a save that drops the Housing
Ombudsman's details, saves a good version that the worker then sends, compares and restores versions;
sandbox escapes are refused and render nothing dangerous; the HTML preview is inert; staff get 403."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from playwright.sync_api import expect

from tests.web.conftest import csrf_token_of, log_contact, signed_in
from tests.web.test_screenshots import _axe_violations
from triage.app import SECURITY_HEADERS

PATH = "email/complaint_stage1/body.txt"
HTML_PATH = "email/complaint_stage1/body.html"
OMBUDSMAN_INCLUDE = '{% include "email/_ombudsman.txt" %}'
OLD_THANKS = "Thank you for getting in touch."
NEW_THANKS = "Thank you for writing to us: we read every complaint ourselves."
ESCAPES = {
    "{{ ''.__class__.__mro__ }}": "it reaches '__class__'",
    "{{ self }}": "it uses 'self'",
    "{{ settings }}": "it uses 'settings'",
    "{{ cycler.__init__.__globals__ }}": "it uses 'cycler'",
    "{{ joiner }}": "it uses 'joiner'",
    "{{ range(10**9) }}": "it uses 'range'",
    "{{ lipsum }}": "it uses 'lipsum'",
}
DANGEROUS = ("<class", "<function", "<module", "<built-in", "<bound", "TemplateReference", "password", "database_url")


def rows(server, query: str, *args) -> list[tuple]:
    with sqlite3.connect(Path(server.env["INTAKE_VAR_DIR"]) / "intake.db") as db:
        return db.execute(query, args).fetchall()


def versions(server, path: str = PATH) -> list[tuple]:
    return rows(server, "SELECT id, source, saved_by, restored_from FROM template_versions WHERE path = ? ORDER BY id",
                path)


def open_editor(page, server, path: str = PATH):
    page.goto(f"{server.url}/templates")
    press(page, path, link=True, exact=True)
    page.wait_for_load_state("networkidle")
    return page.get_by_label("Template source")


def type_and_wait(page, source: str, expected: str) -> str:
    """Replace the editor's text as a manager would, and wait for the live preview to show ``expected``."""
    page.get_by_label("Template source").fill(source)
    page.get_by_label("Template source").press("End")
    preview = page.locator("#preview")
    preview.filter(has_text=expected).wait_for(timeout=15000)
    return preview.inner_text()


def press(page, name: str, **options) -> None:
    """Click a button or link that loads a page, and wait for that page."""
    with page.expect_navigation():
        page.get_by_role("link" if options.pop("link", False) else "button", name=name, **options).click()


@pytest.fixture
def manager(page, server):
    signed_in(page, server, "manager@landlord.org")
    return page


def test_a_manager_edits_sees_the_preview_change_is_refused_without_the_ombudsman_saves_and_restores(manager, server):
    page = manager
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").click()
    page.wait_for_url(f"{server.url}/templates")
    listing = page.locator("main").inner_text()
    assert "complaint stage 1 acknowledgement, email body (plain text)" in listing
    assert "letter/_ombudsman.txt" in listing and "Included by" in listing
    violations = _axe_violations(page)
    editor = open_editor(page, server)
    violations += _axe_violations(page)
    default = editor.input_value()
    assert OLD_THANKS in default and OMBUDSMAN_INCLUDE in default
    assert OLD_THANKS in page.locator("#preview").inner_text()

    # The preview follows the text as it is typed.
    edited = default.replace(OLD_THANKS, NEW_THANKS)
    shown = type_and_wait(page, edited, NEW_THANKS)
    assert "CMP-2026-000123" in shown and "No problems found" in shown

    # Dropping the Ombudsman's details is flagged in the preview, and the save is refused with the reason.
    without = edited.replace(OMBUDSMAN_INCLUDE, "")
    shown = type_and_wait(page, without, "cannot be saved")
    assert "does not give the Housing Ombudsman's website" in shown
    press(page, "Save as a new version")
    alert = page.get_by_role("alert")
    assert "Not saved" in alert.inner_text()
    assert "complaint stage 1 acknowledgement, email: body.txt does not give the Housing Ombudsman's website" in \
        alert.inner_text()
    assert page.get_by_label("Template source").input_value() == without  # the manager's text is kept
    assert versions(server) == []

    # A good version is saved, is in force, and the worker sends it.
    type_and_wait(page, edited, "No problems found")
    press(page, "Save as a new version")
    status = page.get_by_role("status").inner_text()
    assert "Saved as version" in status and "in force now" in status
    [(first_id, first_source, saved_by, restored_from)] = versions(server)
    assert (first_source, saved_by, restored_from) == (edited, "manager@landlord.org", None)
    reference = log_contact(server, "Robin Ahmed", "Rang to complain that the repair to the front door lock was "
                            "missed twice and nobody called to rebook.", email="robin.ahmed@example.net")
    [(text,)] = rows(server, "SELECT o.text_body FROM outbox o JOIN cases c ON c.id = o.case_id "
                             "WHERE c.reference = ? AND o.kind = 'complaint_stage1'", reference)
    assert NEW_THANKS in text and OLD_THANKS not in text and reference in text

    # A second version, then the first restored as a third that names it.
    second = edited.replace("What happens next", "What we do next")
    page.get_by_label("Template source").fill(second)
    press(page, "Save as a new version")
    assert "Saved as version" in page.get_by_role("status").inner_text()
    press(page, f"Changes in version {first_id + 1}", link=True)
    diff = page.locator(".tpl-diff")
    expect(diff.locator("del").filter(has_text="What happens next")).to_have_count(1)
    expect(diff.locator("ins").filter(has_text="What we do next")).to_have_count(1)
    violations += _axe_violations(page)
    press(page, f"Restore version {first_id}", exact=True)
    assert "Restored as version" in page.get_by_role("status").inner_text()
    history = versions(server)
    assert [(source, restored) for _, source, _, restored in history] == [(edited, None), (second, None),
                                                                          (edited, first_id)]
    assert page.get_by_label("Template source").input_value() == edited
    press(page, f"View version {first_id + 1}", link=True)  # any version can be viewed, and previewed
    assert f"You are looking at version {first_id + 1}" in page.get_by_role("status").inner_text()
    assert page.get_by_label("Template source").input_value() == second
    assert "What we do next" in page.locator("#preview").inner_text()

    # Back to the shipped default: recorded as a version, and the file is in force again.
    press(page, "Back to the shipped default")
    assert "shipped default is in force again" in page.get_by_role("status").inner_text()
    assert page.get_by_label("Template source").input_value() == default
    assert versions(server)[-1][3] == 0
    assert violations == [], "\n".join(violations)
    assert page.dialogs_seen == []
    assert [url for url in page.requests_seen if not url.startswith(server.url + "/")] == []


@pytest.mark.parametrize("escape", ESCAPES)
def test_a_sandbox_escape_renders_nothing_dangerous_and_is_refused(manager, server, escape):
    page = manager
    editor = open_editor(page, server)
    default = editor.input_value()
    shown = type_and_wait(page, default.replace(OLD_THANKS, f"{OLD_THANKS} {escape}"), "cannot be saved")
    assert ESCAPES[escape] in shown
    assert not any(word in shown for word in DANGEROUS), shown
    before = versions(server)
    press(page, "Save as a new version")
    assert ESCAPES[escape] in page.get_by_role("alert").inner_text()
    assert not any(word in page.locator("main").inner_text().replace(escape, "") for word in DANGEROUS)
    assert versions(server) == before
    assert page.dialogs_seen == []


def test_the_html_preview_is_inert_and_follows_the_text(manager, server):
    page = manager
    console = []
    page.on("console", lambda message: console.append(message.text))
    finished = []
    page.on("requestfinished", lambda request: finished.append(request.url))
    editor = open_editor(page, server, HTML_PATH)
    frame = page.frame(name="html-preview")
    frame.wait_for_selector("text=What happens next")
    hostile = editor.input_value().replace(
        "What happens next", "What we do now<script>alert(1)</script><img src=x onerror=alert(2)>"
        "<img src=http://198.51.100.7/pixel.gif><a href=javascript:alert(3)>x</a>")
    type_and_wait(page, hostile, "cannot be saved")  # check_rendered refuses a <script> in the HTML body
    frame.wait_for_selector("text=What we do now")
    # The frame's script and handlers are blocked by its sandbox, the remote image by its own CSP: the console
    # says each was tried and stopped, no dialog opened, and nothing was fetched from outside.
    for _ in range(100):
        if any("198.51.100.7" in line and "Content Security Policy" in line for line in console) and any(
                "Blocked script execution" in line and "sandboxed" in line for line in console):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError(console)
    assert page.dialogs_seen == []
    assert not any("198.51.100.7" in url for url in finished), finished
    frame_element = page.locator("iframe[name=html-preview]")
    assert frame_element.get_attribute("sandbox") == ""
    response = page.request.post(f"{server.url}/templates/preview.html", form={
        "csrf_token": csrf_token_of(page), "path": HTML_PATH, "source": hostile})
    csp = response.headers["content-security-policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp and "script-src" not in csp
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    # The editor's policy is the app's with one allowance, framing this app; every other page keeps the app's.
    page_csp = page.request.get(f"{server.url}/templates?path={HTML_PATH}").headers["content-security-policy"]
    assert page_csp == SECURITY_HEADERS["content-security-policy"] + "; frame-src 'self'"
    listing_csp = page.request.get(f"{server.url}/templates").headers["content-security-policy"]
    assert listing_csp == SECURITY_HEADERS["content-security-policy"]


def test_a_preview_against_a_real_case_uses_its_reference(manager, server):
    page = manager
    reference = log_contact(server, "Kim Osei", "Rang to complain about the damp in the bathroom not being "
                            "treated after two visits.", email="kim.osei@example.net")
    open_editor(page, server)
    page.get_by_label("A real case").check()
    page.get_by_label("Case reference").fill(reference)
    page.get_by_role("button", name="Preview", exact=True).click()
    page.locator("#preview").filter(has_text=reference).wait_for(timeout=15000)
    assert "Kim Osei" in page.locator("#preview").inner_text()
    page.get_by_label("Case reference").fill("CMP-1999-999999")
    page.get_by_role("button", name="Preview", exact=True).click()
    page.locator("#preview").filter(has_text="no case has the reference").wait_for(timeout=15000)


def test_staff_cannot_open_the_templates_page(page, server):
    signed_in(page, server, "alice@landlord.org")
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").count() == 0
    response = page.goto(f"{server.url}/templates?path={PATH}")
    assert response.status == 403
    assert "This page is for the manager role" in page.locator("main").inner_text()
    token, before = csrf_token_of(page), versions(server)
    refused = page.request.post(f"{server.url}/templates/save", form={
        "csrf_token": token, "path": PATH, "source": "Hello {{ reference }}", "based_on": ""}, max_redirects=0)
    assert refused.status == 403
    assert versions(server) == before
