"""The residents' complaints form (/report) as a resident meets it: a real `intake serve`, Debian's
Chromium, a real SMTP server (aiosmtpd) for the acknowledgement the worker sends. A resident sends a
photo and gets a reference at once and an acknowledgement by email; staff find the case in their queue
with the photo; the form works without JavaScript and on a phone; markup typed into it reaches staff as
inert text; it passes axe; in Welsh it speaks Welsh and records the resident's language."""

from __future__ import annotations

import json

import pytest

from tests.smtp_server import SmtpTestServer
from tests.web.conftest import SCREENSHOTS, signed_in, start_server, stop_server
from tests.web.public_forms import jpeg, reference_of, rows
from tests.web.test_screenshots import HEIGHT, WIDTH, _axe_violations
from triage.public_words import WORDS

PHOTO = jpeg()
COMPLAINT = ("I want to make a formal complaint. The black mould in my son's bedroom has come back for the third "
             "time since March and nobody has come to treat it, although I reported it twice by phone. He has "
             "asthma and it is getting worse. I am very unhappy with how this has been handled.")


@pytest.fixture(scope="module")
def smtp():
    server = SmtpTestServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, smtp):
    """The app with Welsh offered, acknowledgements sent to the test SMTP server, and limits high enough
    for a test module that posts many forms from 127.0.0.1 (the abuse tests use the defaults)."""
    var_dir = tmp_path_factory.mktemp("public") / "var"
    var_dir.mkdir()
    env = {"INTAKE_SMTP__HOST": "127.0.0.1", "INTAKE_SMTP__PORT": str(smtp.port), "INTAKE_SMTP__SECURITY": "none",
           "INTAKE_SMTP__TIMEOUT_SECONDS": "5", "INTAKE_LANDLORD__WELSH": "true",
           "INTAKE_PUBLIC__REPORT_PER_MINUTE": "100", "INTAKE_PUBLIC__REPORT_PER_HOUR": "1000",
           "INTAKE_PUBLIC__STATUS_PER_MINUTE": "100", "INTAKE_PUBLIC__STATUS_PER_HOUR": "1000"}
    server = start_server(var_dir, extra_env=env)
    server.var_dir = var_dir
    try:
        yield server
    finally:
        stop_server(server)


def fill_form(page, *, description: str = COMPLAINT, name: str = "Amira Haddad", email: str | None = None,
              address: str = "Flat 4, Riverside Court\nExampletown", postcode: str = "EX1 4RC",
              photo: bool = False, words: dict = WORDS["en"]) -> None:
    page.get_by_label(words["description"]).fill(description)
    page.get_by_label(words["outcome"]).fill("Treat the mould properly and check the ventilation.")
    page.get_by_label(words["name"]).fill(name)
    if email:
        page.get_by_label(words["email"]).fill(email)
    page.get_by_label(words["address"]).fill(address)
    page.get_by_label(words["postcode"]).fill(postcode)
    if photo:
        page.get_by_label(words["attachments"]).set_input_files(
            [{"name": "mould.jpg", "mimeType": "image/jpeg", "buffer": PHOTO}])


def test_a_resident_sends_a_photo_gets_a_reference_and_an_email_and_staff_see_it(browser, page, server, smtp):
    page.goto(f"{server.url}/report")
    assert page.locator("html").get_attribute("lang") == "en-GB"
    fill_form(page, email="amira.haddad@example.net", photo=True)
    page.get_by_label(WORDS["en"]["adjustment_large_print"]).check()
    page.get_by_role("button", name="Send").click()
    panel = page.get_by_role("status")
    assert panel.get_by_role("heading").inner_text() == "Thank you, we have received your message"
    reference = panel.locator(".reference").inner_text()
    assert panel.inner_text().replace("\n", " ").endswith(f"Your reference is {reference}")
    assert "We will email an acknowledgement to amira.haddad@example.net." in page.locator("main").inner_text()

    # The submission as stored: kind web, the form as received, the photo's bytes, the details the case needs.
    [(kind, source, raw, details, submission_id)] = rows(
        server.var_dir, "SELECT s.kind, s.source, s.raw, s.details, s.id FROM submissions s JOIN cases c "
        "ON c.id = s.case_id WHERE c.reference = ?", reference)
    assert (kind, source) == ("web", "web-form")
    form = json.loads(raw)
    assert form["fields"]["description"] == COMPLAINT and form["files"][0]["filename"] == "mould.jpg"
    details = json.loads(details)
    assert details["adjustments"] == ["large_print"] and details["language"] == "en"
    assert details["postal_address"] == ["Flat 4, Riverside Court", "Exampletown", "EX1 4RC"]
    assert rows(server.var_dir, "SELECT filename, content_type, data FROM attachments WHERE submission_id = ?",
                submission_id) == [("mould.jpg", "image/jpeg", PHOTO)]

    # The worker sends the queued acknowledgement to the real SMTP server.
    server.intake("run", "--once")
    [message] = [m for m in smtp.messages if m["To"] and "amira.haddad@example.net" in m["To"]]
    assert reference in message["Subject"] or reference in message.get_body(("plain",)).get_content()

    # Staff see it in their queue, and the photo on the case page, byte for byte.
    signed_in(page, server, "alice@landlord.org")
    page.goto(f"{server.url}/")
    assert reference in page.locator("main").inner_text()
    page.goto(f"{server.url}/cases/{reference}")
    link = page.get_by_role("link", name="mould.jpg")
    with page.expect_download() as download:
        link.click()
    assert download.value.path().read_bytes() == PHOTO


def test_the_form_works_without_javascript_and_on_a_phone(browser, server):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        page.goto(f"{server.url}/report")
        width = context.new_cdp_session(page).send("Runtime.evaluate", {
            "expression": "document.documentElement.scrollWidth", "returnByValue": True})["result"]["value"]
        assert width <= 360, f"the form scrolls sideways on a phone: {width}px"
        # Send with nothing filled in: the error summary links to each field, nothing is stored.
        before = rows(server.var_dir, "SELECT count(*) FROM submissions")[0][0]
        page.get_by_role("button", name="Send").click()
        summary = page.get_by_role("alert")
        assert summary.get_by_role("heading").inner_text() == "There is a problem"
        links = {summary.get_by_role("link").nth(i).get_attribute("href")
                 for i in range(summary.get_by_role("link").count())}
        assert links == {"#description", "#name", "#email"}, links
        assert page.locator("#description").get_attribute("aria-invalid") == "true"
        assert page.title().startswith("Error: ")
        fill_form(page, address="12 Elm Road\nExampletown", postcode="ex2 5ab")  # only a postal address
        page.get_by_role("button", name="Send").click()
        reference = reference_of(page.content())
        assert reference, page.locator("main").inner_text()
        assert "We will post an acknowledgement to your address." in page.locator("main").inner_text()
        assert rows(server.var_dir, "SELECT count(*) FROM submissions")[0][0] == before + 1
        assert rows(server.var_dir, "SELECT channel, postal_address FROM outbox o JOIN cases c ON c.id = o.case_id "
                    "WHERE c.reference = ?", reference) == [
            ("letter", json.dumps(["12 Elm Road", "Exampletown", "EX2 5AB"]))]
    finally:
        context.close()


def test_markup_typed_into_the_form_reaches_staff_as_inert_text(page, server):
    page.goto(f"{server.url}/report")
    hostile = (COMPLAINT + "\n<script>alert(1)</script><img src=x onerror=alert(2)>"
               "<a href=\"javascript:alert(3)\">photos</a>")
    fill_form(page, description=hostile, name="Jo <b>Bold</b> <script>alert(4)</script>",
              email="jo.bold@example.net")
    page.get_by_role("button", name="Send").click()
    reference = reference_of(page.content())
    assert reference
    signed_in(page, server, "alice@landlord.org")
    page.goto(f"{server.url}/cases/{reference}")
    page.wait_for_load_state("networkidle")
    text = page.locator("main").inner_text()
    assert "<script>alert(1)</script><img src=x onerror=alert(2)>" in text
    assert "Jo <b>Bold</b> <script>alert(4)</script>" in text
    assert page.dialogs_seen == []
    dom = page.evaluate("""() => ({
        scripts: [...document.scripts].map(s => s.getAttribute('src')),
        images: document.images.length,
        bold: [...document.querySelectorAll('main b')].map(b => b.textContent),
        handlers: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]).filter(a => a.name.startsWith('on')).length,
        javascript: [...document.querySelectorAll('a')].filter(a => /^\\s*javascript:/i.test(a.getAttribute('href') || '')).length,
    })""")
    assert all(src and src.startswith("/static/") for src in dom["scripts"]), dom
    assert (dom["images"], dom["bold"], dom["handlers"], dom["javascript"]) == (0, [], 0, 0), dom


def test_the_welsh_form_speaks_welsh_and_records_the_language(page, server):
    cy = WORDS["cy"]
    page.goto(f"{server.url}/report")
    page.get_by_role("link", name="Cymraeg").click()
    assert page.url.endswith("/report?lang=cy")
    assert page.locator("html").get_attribute("lang") == "cy"
    assert page.get_by_role("heading", level=1).inner_text() == "Gwneud cwyn neu roi adborth"
    assert page.get_by_label("Cod post").count() == 1 and page.get_by_role("link", name="English").count() == 1
    fill_form(page, description="Rydw i eisiau gwneud cwyn ffurfiol. Mae llwydni du yn ystafell wely fy mab ers "
              "mis Mawrth ac nid oes neb wedi dod i'w drin. Rwy'n anhapus iawn.", name="Cerys Morgan",
              email="cerys.morgan@example.net", words=cy)
    page.get_by_role("button", name="Anfon").click()
    main = page.locator("main").inner_text()
    assert "Diolch, rydym wedi cael eich neges" in main and "Eich cyfeirnod yw" in main, main
    reference = reference_of(page.content())
    [(details,)] = rows(server.var_dir, "SELECT s.details FROM submissions s JOIN cases c ON c.id = s.case_id "
                        "WHERE c.reference = ?", reference)
    assert json.loads(details)["language"] == "cy"
    # A mistake is explained in Welsh too.
    page.goto(f"{server.url}/report?lang=cy")
    page.get_by_role("button", name="Anfon").click()
    assert page.get_by_role("alert").get_by_role("heading").inner_text() == "Mae problem"
    assert "Dywedwch wrthym beth ddigwyddodd" in page.get_by_role("alert").inner_text()


def test_the_words_have_the_same_keys_in_both_languages():
    assert set(WORDS["en"]) == set(WORDS["cy"])
    assert [key for key in WORDS["en"] if WORDS["en"][key].count("{") != WORDS["cy"][key].count("{")] == []


def test_the_form_its_errors_and_its_thank_you_page_meet_wcag_2_2_aa_and_a_screenshot(browser, server):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        page = context.new_page()
        violations = []
        for query in ("", "?lang=cy"):
            page.goto(f"{server.url}/report{query}")
            violations += _axe_violations(page)
        page.goto(f"{server.url}/report")
        page.get_by_label("Email address").fill("not an address")
        page.get_by_label(WORDS["en"]["behalf_councillor"]).check()
        page.get_by_role("button", name="Send").click()
        assert page.get_by_role("alert").count() == 1
        violations += _axe_violations(page)
        page.goto(f"{server.url}/report")
        fill_form(page, email="sam.lee@example.net")
        page.get_by_role("button", name="Send").click()
        assert reference_of(page.content())
        violations += _axe_violations(page)
        assert violations == [], "\n".join(violations)
        page.goto(f"{server.url}/report")
        page.get_by_label(WORDS["en"]["description"]).fill(COMPLAINT)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "report.png", full_page=False)
        assert (SCREENSHOTS / "report.png").stat().st_size > 10_000
    finally:
        context.close()
