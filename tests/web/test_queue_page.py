"""The queue (/) in a real browser: staff see what needs them, most urgent first, filter it (with htmx,
the URL following), search by reference, and page through it by cursor (with and without JavaScript)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import scheduler
from casework import lifecycle
from core.settings import Settings
from tests.web.conftest import signed_in

ALICE = "alice@landlord.org"


def log_contact(server, name: str, notes: str) -> str:
    result = server.intake("case", "log-contact", "--channel", "phone", "--name", name, "--notes", notes,
                           "--by", "manager@landlord.org")
    return result.stdout.strip().splitlines()[-1]


def test_staff_see_the_queue_most_urgent_first_and_filter_and_search_it(page, server):
    roof = log_contact(server, "Sam Roof", "The roof has leaked for three weeks and nobody came. I want to complain.")
    boiler = log_contact(server, "Pat Boiler", "My boiler is broken, please send someone to repair it.")
    child = log_contact(server, "Kim Child", "Complaint: the repairs team was rude to me at the door.")
    server.intake("case", "reclassify", child, "--category", "complaint", "--flags", "safeguarding",
                  "--by", "manager@landlord.org")
    server.intake("case", "reclassify", boiler, "--category", "service_request", "--flags", "",
                  "--by", "manager@landlord.org")
    server.intake("case", "assign", boiler, "--to", ALICE, "--by", "manager@landlord.org")

    signed_in(page, server)
    table = page.get_by_role("table")
    assert "most urgent first" in table.locator("caption").inner_text()
    references = page.locator("tbody th[scope=row]").all_inner_texts()
    assert references[0] == child and {roof, boiler} <= set(references)
    first = page.locator("tbody tr").first
    assert "urgent: safeguarding" in first.locator(".tag.urgent").inner_text()
    assert page.get_by_role("link", name=re.compile(r"^Mine 1$")).is_visible()

    page.get_by_label("Assigned to").select_option("mine")  # htmx: the results only, and the URL follows
    page.wait_for_url(re.compile(r"assignee=mine"))
    page.wait_for_function("document.querySelectorAll('tbody tr').length === 1")
    assert page.locator("tbody th[scope=row]").all_inner_texts() == [boiler]
    assert page.get_by_label("Assigned to").input_value() == "mine"

    page.goto(server.url + "/?category=complaint")
    assert boiler not in page.locator("tbody").inner_text()
    assert child in page.locator("tbody").inner_text()

    page.goto(server.url + "/")
    page.get_by_label("Search").fill(roof.lower())
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"q="))
    page.wait_for_function("document.querySelectorAll('tbody tr').length === 1")
    page.get_by_role("link", name=roof).click()
    page.wait_for_url(f"{server.url}/cases/{roof}")
    assert all(url.startswith(server.url) for url in page.requests_seen)


def test_paging_by_cursor_shows_every_case_once_with_or_without_javascript(browser, page, server):
    settings = Settings(var_dir=Path(server.env["INTAKE_VAR_DIR"]))
    casework = scheduler.build_casework(settings)
    received = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with casework.db.transaction() as session:
        for n in range(60):
            lifecycle.open_case(session, casework.references, category="service_request", held=False,
                                received_at=received, now=received, resident_name=f"Resident {n}")
    casework.db.engine.dispose()

    signed_in(page, server)
    seen = page.locator("tbody th[scope=row]").all_inner_texts()
    assert len(seen) == 50
    page.get_by_role("link", name="Next page").click()  # htmx swaps the results and pushes the URL
    page.wait_for_url(re.compile(r"after="))
    page.wait_for_function("!document.querySelector('a[rel=next]')")
    rest = page.locator("tbody th[scope=row]").all_inner_texts()
    assert rest and not set(rest) & set(seen)
    total = len(seen) + len(rest)
    assert total >= 60

    context = browser.new_context(java_script_enabled=False, viewport={"width": 768, "height": 1024})
    plain = context.new_page()
    try:
        signed_in(plain, server)
        plain.get_by_role("link", name="Next page").click()
        plain.wait_for_url(re.compile(r"after="))
        assert plain.locator("tbody th[scope=row]").all_inner_texts() == rest
        # a tablet's width: the page itself never scrolls sideways
        assert plain.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()
