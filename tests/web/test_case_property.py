"""The home a case is about, on the case page, in Debian's Chromium against a real `intake serve`: the
stock list imported with `intake stock import`, contacts by two channels about one home matched to it by
the pipeline and shown together, and a person setting the home with the small form (CSRF, through
Casework.set_property); the page passes axe."""

from __future__ import annotations

from playwright.sync_api import expect

from casework.guards import find
from tests.web.conftest import log_contact, signed_in
from tests.web.test_case_page import database, open_verb
from tests.web.test_screenshots import _axe_violations

ALICE = "alice@landlord.org"
STOCK = """uprn,address_1,address_2,address_3,town,postcode,tenancy_ref,tenant_names
400001,Flat 12,Riverside Court,,Exampletown,EX1 4RC,TR-40001,Margaret Osei
400002,3 Mill Lane,,,Exampletown,EX1 4RD,TR-40002,Tom Whitaker
"""


def home_of(server, reference):
    with database(server).sessions() as session:
        case = find(session, reference)
        return (case.property.uprn if case.property else None), case.resident_address


def test_cases_about_one_home_meet_and_staff_correct_the_home(page, server, tmp_path):
    stock = tmp_path / "stock.csv"
    stock.write_text(STOCK)
    assert "2 homes added" in server.intake("stock", "import", str(stock)).stdout
    by_phone = log_contact(server, "Margaret Osei", "Rang about the black mould in the bedroom; wants it treated.",
                           email="m.osei@example.net", address="Flat 12, Riverside Court,Exampletown,EX1 4RC")
    in_person = log_contact(server, "Margaret Osei", "Came in: the mould is back in the bedroom, complaint.",
                            channel="in_person", address="Flat 12 Riverside Court,Exampletown,EX1 4RC")
    unmatched = log_contact(server, "Tom Whitaker", "Called to report a broken gate latch at the back of the block.")
    assert home_of(server, by_phone)[0] == home_of(server, in_person)[0] == "400001"
    assert home_of(server, unmatched) == (None, None)

    signed_in(page, server, ALICE)
    page.goto(f"{server.url}/cases/{by_phone}")
    summary = page.locator(".case-summary")
    expect(summary).to_contain_text("Flat 12, Riverside Court, Exampletown, EX1 4RC (UPRN 400001)")
    expect(summary.get_by_role("link", name=in_person)).to_be_visible()
    assert _axe_violations(page) == []

    page.goto(f"{server.url}/cases/{unmatched}")
    expect(page.locator(".case-summary")).to_contain_text("not matched to a home")
    open_verb(page, "property")
    page.get_by_label("UPRN of the home").fill("400009")
    page.locator("#verb-property form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("no home with UPRN 400009 in the stock list")
    open_verb(page, "property")
    page.get_by_label("UPRN of the home").fill("400002")
    page.locator("#verb-property form button[type=submit]").click()
    expect(page.get_by_role("status")).to_contain_text("home set")
    expect(page.locator(".case-summary")).to_contain_text("3 Mill Lane, Exampletown, EX1 4RD (UPRN 400002)")
    # the caller gave no address: the stock list's is filled in, for a letter once a person sends one
    assert home_of(server, unmatched) == ("400002", ["3 Mill Lane", "Exampletown", "EX1 4RD"])
    expect(page.locator(".trail")).to_contain_text("400002")
    assert _axe_violations(page) == []
