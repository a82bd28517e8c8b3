"""The case page (/cases/{reference}) and the log-a-contact form, in a real browser against `intake serve`.

Cases are made through the real CLI (`intake case log-contact`, `intake run --once`) on the server's
database; the rest is done in the browser. A held case comes from a logged phone contact whose notes
raise the safeguarding flag: that flag comes from the classifier's rules (regular expressions, not the
model), and decide holds every safeguarding message for a person, so the case is held whatever the
model's confidence. The tests check that it is held before they work it. What the database then says
is read in this process with ``case_view`` (what `intake case show --json` prints), as a CLI call costs
seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import select

from casework.models import Case
from casework.queries import case_view
from core.db import Database
from tests.conftest import REPO
from tests.mail import deliver, new_maildir
from tests.web.conftest import signed_in
from triage.render import when

SAFEGUARDING = ("I am scared of my partner, he hits me and I do not feel safe at home. "
                "Also the kitchen tap has been dripping for a fortnight.")
ALICE, BOB = "alice@landlord.org", "bob@landlord.org"
LONDON = ZoneInfo("Europe/London")


def held_case(server, email: str) -> str:
    result = server.intake("case", "log-contact", "--channel", "phone", "--name", "Sam Resident", "--email", email,
                           "--notes", SAFEGUARDING, "--by", ALICE)
    reference = result.stdout.strip()
    case = shown(server, reference)
    assert case["status"] == "held" and "safeguarding" in case["held_reason"], case
    return reference


def complaint(page, server, email: str) -> str:
    """A released stage 1 complaint on the page (its acknowledgement queued, not yet sent), as alice."""
    reference = held_case(server, email)
    signed_in(page, server, ALICE)
    page.goto(f"{server.url}/cases/{reference}")
    open_verb(page, "reclassify")
    page.get_by_label("Category", exact=True).select_option("complaint")
    act(page, "reclassify", "reclassified")
    act(page, "release", "released")
    return reference


def database(server) -> Database:
    return Database(f"sqlite:///{Path(server.env['INTAKE_VAR_DIR']) / 'intake.db'}")


def shown(server, reference: str) -> dict:
    """What `intake case show --json` prints, read in this process."""
    with database(server).sessions() as session:
        return case_view(session, reference)


def act(page, verb: str, done: str) -> None:
    """Submit the verb's form (already filled in) and wait for the page to say it was done."""
    page.locator(f"#verb-{verb} form button[type=submit]").last.click()
    expect(page.get_by_role("status")).to_contain_text(done)


def open_verb(page, verb: str) -> None:
    details = page.locator(f"#verb-{verb}")
    if details.get_attribute("open") is None:
        details.locator("summary").click()


def trail(page) -> str:
    return page.locator(".trail").inner_text()


def test_a_held_case_is_worked_end_to_end_from_the_queue(page, server):
    reference = held_case(server, "sam.held@example.net")
    signed_in(page, server, ALICE)
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    assert "I am scared of my partner" in page.locator(".message-in .resident-text").first.inner_text()
    expect(page.locator(".classified").first).to_contain_text("safeguarding")

    open_verb(page, "reclassify")
    page.get_by_label("Category", exact=True).select_option("complaint")
    act(page, "reclassify", "reclassified")
    assert "reclassified" in trail(page) and "category: complaint" in trail(page)

    open_verb(page, "assign")
    page.get_by_label("Assign to (email)").fill(BOB)
    act(page, "assign", "assigned")
    assert f"assignee: {BOB}" in trail(page)

    act(page, "release", "released")
    assert "released" in trail(page) and "kind: complaint_stage1" in trail(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("open")

    open_verb(page, "reply")
    page.get_by_label("Your reply").fill("Our surveyor will call on Tuesday.\nPlease keep the <b>loft</b> hatch clear.")
    before = page.url
    page.get_by_role("button", name="Preview").click()  # htmx swaps the preview in, the page stays
    preview = page.locator("#reply-preview")
    expect(preview).to_contain_text(f"About your message – reference {reference}")
    expect(preview.locator(".preview-text")).to_contain_text("Please keep the <b>loft</b> hatch clear.")
    assert preview.locator("b").count() == 0  # the staff text is inert, not markup
    assert page.url == before and "?done=released" in before
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("reply queued")
    assert "reply to the resident queued" in trail(page)
    sent = page.locator(".message-out", has_text="About your message")
    expect(sent).to_contain_text("queued")

    open_verb(page, "respond")
    page.locator("#respond-outcome").select_option("upheld")
    act(page, "respond", "response recorded")
    assert "response recorded" in trail(page) and "outcome: upheld" in trail(page)

    open_verb(page, "close")
    page.locator("#close-outcome").select_option("resolved")
    act(page, "close", "closed")
    expect(page.get_by_role("heading", level=1)).to_contain_text("closed")
    case = shown(server, reference)
    assert (case["status"], case["outcome"], case["assignee"]) == ("closed", "resolved", BOB)
    assert [e["action"] for e in case["events"]][-1] == "closed"


def test_the_stage_1_handler_is_refused_stage_2_and_nothing_changes(page, server):
    reference = complaint(page, server, "sam.stage2@example.net")
    open_verb(page, "respond")
    page.locator("#respond-outcome").select_option("not_upheld")
    act(page, "respond", "response recorded")
    events = len(shown(server, reference)["events"])
    open_verb(page, "escalate")
    page.get_by_label("The resident's reasons").fill("They are still unhappy")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Escalate").click()
    assert navigation.value.status == 409
    expect(page.get_by_role("alert")).to_contain_text(f"{ALICE} handled stage 1 of {reference}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("stage 1")
    case = shown(server, reference)
    assert (case["stage"], case["stage1_handler"], len(case["events"])) == (1, ALICE, events)


def test_an_extension_shows_the_new_due_date(page, server):
    reference = complaint(page, server, "sam.extend@example.net")
    open_verb(page, "acknowledge")
    page.get_by_label("How").select_option("phone")
    act(page, "acknowledge", "acknowledgement recorded")  # it starts the response clock
    before = next(c for c in shown(server, reference)["clocks"] if c["kind"] == "response_stage1")["due_at"]
    open_verb(page, "extend")
    page.get_by_label("Working days").fill("5")
    page.locator("#extend-reason").fill("We are waiting for the roofer's report")
    page.locator("#extend-on").fill(dt.datetime.now(LONDON).date().isoformat())
    act(page, "extend", "response clock extended")
    after = next(c for c in shown(server, reference)["clocks"] if c["kind"] == "response_stage1")
    assert after["due_at"] > before and after["extended_by_days"] == 5
    row = page.locator("#clock-response_stage1")
    expect(row).to_contain_text(when(dt.datetime.fromisoformat(after["due_at"]), LONDON))
    expect(row).to_contain_text("extended by 5 working days")
    expect(row).to_contain_text("We are waiting for the roofer's report")


def test_a_phone_contact_logged_from_the_form_lands_on_its_case(page, server):
    signed_in(page, server, BOB)
    page.get_by_role("link", name="Log a contact").click()
    page.get_by_label("Phone call").check()
    page.get_by_label("Their name").fill("Pat Caller")
    page.get_by_label("Their email").fill("pat.caller@example.net")
    page.get_by_label("What they told us").fill("The boiler has stopped working and we have no hot water. "
                                                "Please send an engineer.")
    page.get_by_role("button", name="Log the contact").click()
    page.wait_for_url(f"{server.url}/cases/*")
    reference = page.url.split("/cases/")[1].split("?")[0]
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    assert "contact logged" in trail(page)
    expect(page.locator(".message-in").first).to_contain_text("The boiler has stopped working")
    case = shown(server, reference)
    assert case["resident"]["email"] == "pat.caller@example.net"
    assert any(e["action"] == "contact_logged" and e["actor"] == BOB for e in case["events"])
    for width, height in ((1366, 768), (768, 1024)):  # the page fits: nothing scrolls sideways
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_attachments_are_downloaded_never_rendered(page, server, tmp_path):
    evil = b"<html><body><script>alert('x')</script></body></html>"
    message = EmailMessage()
    message["From"], message["To"] = "Sam Resident <sam.files@example.net>", "complaints@example.org"
    message["Subject"], message["Date"] = "Photos of the leak", "Mon, 07 Dec 2026 09:00:00 +0000"
    message["Message-ID"] = "<files-1@mail.example.net>"
    message.set_content("The leak under the sink is back. I attach what the plumber sent.")
    message.add_attachment(evil, maintype="text", subtype="html", filename="plumber's \"report\".html")
    maildir = new_maildir(tmp_path / "maildir")
    deliver(maildir, bytes(message))
    env = {**server.env, "INTAKE_MAILDIR": json.dumps([{"name": "office", "path": str(maildir)}])}
    ran = subprocess.run([sys.executable, "-m", "cli", "run", "--once"], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=180)
    assert ran.returncode == 0, ran.stderr
    with database(server).sessions() as session:
        reference = session.scalar(select(Case.reference).where(Case.resident_email == "sam.files@example.net"))

    signed_in(page, server, ALICE)
    page.goto(f"{server.url}/cases/{reference}")
    link = page.get_by_role("link", name="plumber's \"report\".html")
    href = link.get_attribute("href")
    assert href.startswith(f"/cases/{reference}/attachments/")
    response = page.request.get(server.url + href)
    assert response.status == 200 and response.body() == evil
    headers = response.headers
    assert headers["content-type"] == "application/octet-stream"
    assert headers["content-disposition"].startswith("attachment;")
    assert headers["x-content-type-options"] == "nosniff"
    attachment_id = href.rsplit("/", 1)[1]
    assert page.request.get(f"{server.url}/cases/{reference}/pages/{attachment_id}").status == 404  # not a page image
    other = held_case(server, "sam.other@example.net")
    assert page.request.get(f"{server.url}/cases/{other}/attachments/{attachment_id}").status == 404  # not that case's
    assert page.locator("iframe, embed, object").count() == 0
