"""Check markers and the rules behind urgent flags on the case page and in the queue (issue 13), in
Chromium against a real `intake serve`.

The cases are made by the real worker on the server's database (a Maildir, `run_once`), with its
classifier swapped for one that answers by subject with Classifications built here: the shipped model
does not fill the check tier or the named rules yet, and what the page shows of them is the point.
Confirm and Dismiss are the reclassify verb; the page then says who decided."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

import scheduler
from casework.models import Case
from classifier import Classification, RuleHit
from core.settings import Settings
from tests.mail import deliver, make_mail, new_maildir
from tests.web.conftest import serving, signed_in
from tests.web.test_screenshots import _axe_violations

GIVEN = {
    "tablets": Classification("complaint", 0.99, frozenset(), "given", checks=frozenset({"safeguarding"}),
                              rules=(RuleHit("SG_SAVING_TABLETS", "safeguarding", "saving my tablets"),)),
    "boiler": Classification("service_request", 0.99, frozenset(), "given", checks=frozenset({"emergency_hazard"}),
                             rules=(RuleHit("EH_NO_HEAT_COLD", "emergency_hazard", "no heating"),)),
    "urgent": Classification("complaint", 0.99, frozenset({"safeguarding"}), "given",
                             rules=(RuleHit("SG_HURT_MYSELF", "safeguarding", "<b>hurt</b> myself"),)),
}
TABLETS_LINE = "check: possible safeguarding concern — flagged by SG_SAVING_TABLETS: 'saving my tablets'"


class Given:
    threshold = 0.9
    model_version = "given"

    def classify(self, subject, new_text):
        return GIVEN[subject]

    def classify_many(self, items):
        return [self.classify(subject, text) for subject, text in items]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """A server, and the references of one case per GIVEN subject (oldest first: tablets, boiler, urgent)."""
    root = tmp_path_factory.mktemp("checks")
    with serving(root / "var") as server:
        maildir = new_maildir(root / "maildir")
        settings = Settings(var_dir=root / "var", database_url=f"sqlite:///{root / 'var' / 'intake.db'}",
                            maildir=[{"name": "mailbox", "path": maildir}])
        service = scheduler.build(settings)
        service.runner.pipeline.classifier = Given()
        for n, subject in enumerate(GIVEN):
            deliver(maildir, make_mail(f"Resident {n} <r{n}@example.net>", subject, "About my home."))
        service.run_once()
        with service.db.sessions() as session:
            references = {case.subject: case.reference for case in session.scalars(select(Case))}
        service.db.engine.dispose()
        yield server, references


def test_a_check_is_a_line_with_its_rule_and_the_urgent_flags_rule_is_inert_text(page, cases):
    server, references = cases
    signed_in(page, server)
    page.goto(f"{server.url}/cases/{references['tablets']}")
    line = page.locator(".check-line[data-flag=safeguarding]")
    expect(line.locator(".check-words")).to_have_text(TABLETS_LINE)
    expect(line).to_contain_text("to check")
    expect(page.locator(".case-summary dd").first).to_have_text("open")  # not held
    expect(page.locator(".classified").first).to_contain_text("SG_SAVING_TABLETS (safeguarding): 'saving my tablets'")
    assert _axe_violations(page) == []  # the Confirm and Dismiss buttons' names begin with what they show

    page.goto(f"{server.url}/cases/{references['urgent']}")
    flagged = page.locator(".flagged-by[data-flag=safeguarding]")
    expect(flagged).to_have_text("safeguarding flagged by SG_HURT_MYSELF: '<b>hurt</b> myself'")
    assert flagged.locator("b").count() == 0  # the resident's words are text, never markup
    assert page.locator(".check-line").count() == 0


def test_the_queue_marks_a_check_without_moving_it_above_an_urgent_flag(page, cases):
    server, references = cases
    signed_in(page, server)
    rows = page.locator(".queue-table tbody tr")
    order = [rows.nth(i).locator("th a").inner_text() for i in range(rows.count())]
    assert order.index(references["urgent"]) < order.index(references["tablets"])
    tablets = page.locator(".queue-table tbody tr", has=page.get_by_role("link", name=references["tablets"]))
    expect(tablets.locator(".check-marker")).to_have_text("check: possible safeguarding concern")
    urgent = page.locator(".queue-table tbody tr", has=page.get_by_role("link", name=references["urgent"]))
    assert urgent.locator(".check-marker").count() == 0


def test_staff_confirm_one_check_and_dismiss_another(page, cases):
    server, references = cases
    signed_in(page, server, "bob@landlord.org")
    page.goto(f"{server.url}/cases/{references['tablets']}")
    page.get_by_role("button", name="Confirm: make it a flag (possible safeguarding concern)").click()
    expect(page.get_by_role("status")).to_contain_text("reclassified")
    line = page.locator(".check-line[data-flag=safeguarding]")
    expect(line).to_contain_text("confirmed: now a flag")
    expect(line).to_contain_text("by bob@landlord.org")
    expect(page.locator(".case-summary .tag.urgent")).to_have_text("safeguarding")
    assert line.get_by_role("button").count() == 0

    page.goto(f"{server.url}/cases/{references['boiler']}")
    page.get_by_role("button", name="Dismiss (possible emergency hazard)").click()
    expect(page.get_by_role("status")).to_contain_text("reclassified")
    line = page.locator(".check-line[data-flag=emergency_hazard]")
    expect(line).to_contain_text("dismissed")
    expect(page.locator(".case-summary")).not_to_contain_text("emergency hazard")
    page.goto(f"{server.url}/")
    boiler = page.locator(".queue-table tbody tr", has=page.get_by_role("link", name=references["boiler"]))
    assert boiler.locator(".check-marker").count() == 0
