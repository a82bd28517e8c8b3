"""The resident's reasonable adjustments on the case page, in Debian's Chromium against a real `intake serve`:
set with the small form (POST with the CSRF token, through Casework.adjust), shown at the top of the
page in a banner whose note is inert text, recorded in the trail, and the page passes axe (WCAG 2.2 AA).
A landlord with Welsh on also gets the language choice."""

from __future__ import annotations

import urllib.parse
import urllib.request

from playwright.sync_api import expect

from tests.web.conftest import SCREENSHOTS, log_contact, serving, signed_in
from tests.web.test_case_page import database, open_verb
from tests.web.test_screenshots import _axe_violations
from casework.guards import find

ALICE = "alice@landlord.org"
NOTE = 'Partially sighted. <script>alert("x")</script> <b>Call after 2pm</b>'


def adjustments_of(server, reference):
    with database(server).sessions() as session:
        case = find(session, reference)
        return case.adjustments, case.adjustment_note, case.language


def test_staff_set_adjustments_and_see_them_at_the_top_of_the_case(page, server):
    reference = log_contact(server, "Margaret Osei", "Rang about the black mould in the bedroom; wants it treated. "
                            "She cannot read small print.", email="m.osei@example.net",
                            address="Flat 12, Riverside Court,Exampletown,EX1 4RC")
    signed_in(page, server, ALICE)
    page.goto(f"{server.url}/cases/{reference}")
    expect(page.locator(".adjustments-banner")).to_have_count(0)  # nothing asked for yet
    expect(page.get_by_label("We write in")).to_have_count(0)  # Welsh is off for this landlord

    open_verb(page, "adjust")
    page.get_by_label("Large print letters").check()
    page.get_by_label("Post, not email").check()
    page.get_by_label("A phone call: call as well as writing").check()
    page.get_by_label("Adjustment note").fill(NOTE)
    page.locator("#verb-adjust form button[type=submit]").click()
    expect(page.get_by_role("status")).to_contain_text("adjustments saved")

    banner = page.get_by_role("region", name="Adjustments: Large print letters")
    expect(banner).to_be_visible()
    heading = banner.get_by_role("heading", level=2)
    expect(heading).to_have_text(
        "Adjustments: Large print letters · A phone call: call as well as writing · Post, not email")
    expect(banner.locator(".adjustment-note")).to_have_text(NOTE)  # shown as typed: inert text
    assert banner.locator("script, b").count() == 0 and page.dialogs_seen == []
    expect(banner).to_contain_text("Call the resident as well as writing")
    # the banner is the first thing under the case's heading
    assert page.locator("main h2").first.inner_text().startswith("Adjustments:")
    assert adjustments_of(server, reference) == (["large_print", "phone_call", "post_only"], NOTE, None)
    expect(page.locator(".trail")).to_contain_text("adjustments or language changed")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "case-adjustments.png", full_page=False)
    assert _axe_violations(page) == []

    open_verb(page, "adjust")
    page.get_by_label("Post, not email", exact=True).uncheck()
    page.locator("#verb-adjust form button[type=submit]").click()
    expect(page.get_by_role("status")).to_contain_text("adjustments saved")
    assert adjustments_of(server, reference)[0] == ["large_print", "phone_call"]


def test_the_adjust_form_is_refused_without_the_csrf_token(page, server):
    reference = log_contact(server, "Tom Whitaker", "Called to report a broken gate latch at the back of the block.",
                            email="tom.w@example.net")
    signed_in(page, server, ALICE)
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    request = urllib.request.Request(f"{server.url}/cases/{reference}/adjust", method="POST",
                                     data=urllib.parse.urlencode({"adjustments": "post_only"}).encode(),
                                     headers={"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"})
    try:
        status = urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as refused:
        status = refused.code
    assert status == 403
    assert adjustments_of(server, reference) == ([], None, None)


def test_a_welsh_landlords_staff_see_and_choose_the_language(page, tmp_path):
    with serving(tmp_path / "var", extra_env={"INTAKE_LANDLORD__WELSH": "true"}) as server:
        # the notes are in Welsh: with Welsh on, the pipeline sets the case's language
        reference = log_contact(server, "Siân Jones", "Ffoniodd i gwyno bod y to yn dal i ollwng ar ôl tri ymweliad.",
                                email="sian@example.net")
        assert adjustments_of(server, reference) == ([], None, "cy")
        signed_in(page, server, ALICE)
        page.goto(f"{server.url}/cases/{reference}")
        banner = page.locator(".adjustments-banner")
        expect(banner).to_contain_text("Adjustments: none")
        expect(banner).to_contain_text("Welsh (Cymraeg): we write in Welsh, then English")
        assert _axe_violations(page) == []

        open_verb(page, "adjust")
        expect(page.get_by_label("We write in")).to_have_value("cy")
        page.get_by_label("We write in").select_option("en")
        page.locator("#verb-adjust form button[type=submit]").click()
        expect(page.get_by_role("status")).to_contain_text("adjustments saved")
        expect(banner).to_have_count(0)
        assert adjustments_of(server, reference) == ([], None, None)
