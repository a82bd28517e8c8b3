"""Screenshots of the staff app for the docs (docs/screenshots/), taken from a real `intake serve` with a
small, realistic set of cases made through the same commands staff would use; and, on the same cases,
an accessibility check of the sign-in page, the queue and a case page with axe-core (tests/web/axe.min.js,
MPL-2.0, from the npm registry) against WCAG 2.2 AA."""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

import pytest

from tests.web.conftest import SCREENSHOTS, log_contact, signed_in

WIDTH, HEIGHT = 1366, 900
AXE = Path(__file__).with_name("axe.min.js")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _days_ago(days: int, at: str = "10:15") -> str:
    return f"{(dt.date.today() - dt.timedelta(days=days)).isoformat()}T{at}"


@pytest.fixture(scope="module")
def cases(server) -> dict[str, str]:
    made = {
        "damp": log_contact(
            server, "Margaret Osei", "Rang to complain: black mould has come back on the bedroom wall and round the "
            "window in her son's room, three months after the damp survey. He has asthma. She is unhappy nobody "
            "followed up and wants it treated properly.", email="m.osei@example.net",
            address="Flat 12, Riverside Court,Exampletown,EX1 4RC", on=_days_ago(6, "09:40")),
        "safeguarding": log_contact(
            server, "Daniel Price", "Came to the office about his father (82, lives alone at 3 Elm Close). Heating has "
            "been off for nine days, his father has had a fall and is frightened of a neighbour who shouts at him. "
            "Daniel is making a complaint that two repair appointments were missed.", channel="in_person",
            address="3 Elm Close,Exampletown,EX2 7PL", by="bob@landlord.org", on=_days_ago(2, "14:05")),
        "leak": log_contact(
            server, "Kwame Mensah", "Complaint: water has been coming through the kitchen ceiling from the flat above "
            "for three weeks; two calls to repairs and no visit. Asked for compensation for the ruined flooring.",
            email="kwame.mensah@example.net", address="Flat 7, Beech House,Exampletown,EX1 2BH", on=_days_ago(4)),
        "boiler": log_contact(
            server, "Aisha Rahman", "Boiler pressure keeps dropping and the radiators are cold in the mornings. Would "
            "like an engineer to look at it; not a complaint.", email="aisha.r@example.net",
            address="22 Orchard Way,Exampletown,EX3 9OW", on=_days_ago(1, "11:30")),
        "asb": log_contact(
            server, "Helen Carter", "Unhappy with how her reports of noise and drug dealing on the stairwell have been "
            "handled: she says nobody has called her back since August. Wants to make a formal complaint.",
            channel="in_person", address="Flat 2, Harbour View,Exampletown,EX4 1HV", by="alice@landlord.org",
            on=_days_ago(9, "16:20")),
        "thanks": log_contact(
            server, "Tom Whitaker", "Called to say thank you to the caretaker, Jim, for clearing the fallen tree "
            "from the car park so quickly after the storm.", address="14 Meadow Rise,Exampletown,EX2 3MR",
            on=_days_ago(3, "08:50")),
    }
    manager = "manager@landlord.org"
    server.intake("case", "reclassify", made["damp"], "--category", "complaint", "--flags", "damp_mould", "--by", manager)
    server.intake("case", "reclassify", made["safeguarding"], "--category", "complaint", "--flags",
                  "safeguarding,emergency_hazard", "--by", manager)
    server.intake("case", "assign", made["safeguarding"], "--to", "alice@landlord.org", "--by", manager)
    server.intake("case", "assign", made["damp"], "--to", "bob@landlord.org", "--by", manager)
    return made


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_screenshots_of_the_queue_and_a_case(page, server, cases):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    signed_in(page, server, "alice@landlord.org")
    page.goto(f"{server.url}/")
    page.wait_for_load_state("networkidle")
    queue_text = page.locator("main").inner_text()
    assert cases["safeguarding"] in queue_text and cases["damp"] in queue_text, queue_text
    page.screenshot(path=SCREENSHOTS / "queue.png", full_page=False)

    page.goto(f"{server.url}/cases/{cases['damp']}")
    page.wait_for_load_state("networkidle")
    assert "black mould" in page.locator("main").inner_text()
    page.screenshot(path=SCREENSHOTS / "case.png", full_page=False)

    for name in ("queue.png", "case.png"):
        assert _png_size(SCREENSHOTS / name) == (WIDTH, HEIGHT)
    assert page.dialogs_seen == []
    assert [url for url in page.requests_seen if not url.startswith(server.url + "/")] == []


def _axe_violations(page) -> list[str]:
    """axe-core's WCAG A/AA violations on the page, one readable line per element. The source goes in through
    the DevTools protocol (page.evaluate), which the app's CSP (no inline script) does not apply to."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: "
                           "['violations']})", WCAG)
    assert result["passes"], f"axe checked nothing on {page.url}"
    return [f"{page.url} [{violation['impact']}] {violation['id']}: {violation['help']} -> {node['target']}: "
            f"{node['failureSummary']}".replace("\n", " ")
            for violation in result["violations"] for node in violation["nodes"]]


def test_the_sign_in_page_queue_and_a_case_page_meet_wcag_2_2_aa(browser, server, cases):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        page = context.new_page()
        page.goto(f"{server.url}/login")
        violations = _axe_violations(page)
        signed_in(page, server, "alice@landlord.org")
        for path in ["/", f"/cases/{cases['safeguarding']}", f"/cases/{cases['damp']}"]:
            page.goto(server.url + path)
            page.wait_for_load_state("networkidle")
            violations += _axe_violations(page)
    finally:
        context.close()
    assert violations == [], "\n".join(violations)
