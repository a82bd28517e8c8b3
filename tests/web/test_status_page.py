""""Where is my complaint?" (/status) against a real `intake serve` and Debian's Chromium: a complaint
sent with the form shows the dates that matter, worked out here by hand from the day it was sent (the
Code's 5 working days to acknowledge, 10 to respond, weekends and England's bank holidays off); an
unknown reference and a wrong postcode or email get the very same answer; an extension shows the date
it moved to; after the stage 1 response the page says how to ask for stage 2; it passes axe."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from casework.status import normalise_postcode, postcodes_in
from tests.web.conftest import SCREENSHOTS, case_json, start_server, stop_server
from tests.web.public_forms import main_text, post_report, reference_of, token_of
from tests.web.test_screenshots import HEIGHT, WIDTH, _axe_violations

# England and Wales bank holidays (gov.uk), written out by hand; substitute days where one falls at a weekend.
BANK_HOLIDAYS = {
    dt.date(2026, 1, 1), dt.date(2026, 4, 3), dt.date(2026, 4, 6), dt.date(2026, 5, 4), dt.date(2026, 5, 25),
    dt.date(2026, 8, 31), dt.date(2026, 12, 25), dt.date(2026, 12, 28),
    dt.date(2027, 1, 1), dt.date(2027, 3, 26), dt.date(2027, 3, 29), dt.date(2027, 5, 3), dt.date(2027, 5, 31),
    dt.date(2027, 8, 30), dt.date(2027, 12, 27), dt.date(2027, 12, 28),
    dt.date(2028, 1, 3), dt.date(2028, 4, 14), dt.date(2028, 4, 17), dt.date(2028, 5, 1), dt.date(2028, 5, 29),
    dt.date(2028, 8, 28), dt.date(2028, 12, 25), dt.date(2028, 12, 26),
}
WELSH_MONTHS = ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi", "Hydref",
                "Tachwedd", "Rhagfyr")
WELSH_DAYS = ("Dydd Llun", "Dydd Mawrth", "Dydd Mercher", "Dydd Iau", "Dydd Gwener", "Dydd Sadwrn", "Dydd Sul")
COMPLAINT = ("I want to make a formal complaint. Damp and black mould have come back on the bathroom ceiling of my "
             "flat and nobody has come to treat it, although I reported it twice by phone. I am very unhappy with "
             "how this has been handled.")


def working_days_after(day: dt.date, days: int) -> dt.date:
    """The policy's rule, by hand: the day itself is day 0; count the weekdays after it that are not bank holidays."""
    assert day.year <= 2028, "extend BANK_HOLIDAYS by hand before 2029"
    while days:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in BANK_HOLIDAYS:
            days -= 1
    return day


def long_date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B} {day.year}"


def test_working_days_by_hand_agree_with_the_calendar_in_this_file():
    # Mon 7 Dec 2026 + 10 working days: 8-11 Dec (4), 14-18 (9), 21 Dec (10).
    assert working_days_after(dt.date(2026, 12, 7), 10) == dt.date(2026, 12, 21)
    # Mon 21 Dec + 5: 22, 23, 24, (25 Christmas, 26-27 weekend, 28 Boxing Day substitute), 29, 30.
    assert working_days_after(dt.date(2026, 12, 21), 5) == dt.date(2026, 12, 30)


@pytest.mark.parametrize("given, expected", [("ex1 4rc", "EX1 4RC"), ("EX14RC", "EX1 4RC"), (" sw1a 1aa ", "SW1A 1AA"),
                                             ("M1 1AE", "M1 1AE"), ("EX1", None), ("", None), ("4RC", None),
                                             ("EX1 4RCX", None)])
def test_postcodes_are_compared_without_case_or_spaces(given, expected):
    assert normalise_postcode(given) == expected


def test_a_postcode_is_found_in_any_address_line():
    assert postcodes_in(["Flat 4, Riverside Court", "Exampletown ex1 4rc"]) == {"EX1 4RC"}
    assert postcodes_in(["12 EX1 Road"]) == set() and postcodes_in(None) == set()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("status") / "var"
    var_dir.mkdir()
    server = start_server(var_dir, extra_env={"INTAKE_LANDLORD__WELSH": "true",
                                              "INTAKE_PUBLIC__STATUS_PER_MINUTE": "100",
                                              "INTAKE_PUBLIC__STATUS_PER_HOUR": "1000"})
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def sent(server, browser):
    """A complaint sent with the form today; (its reference, the day it was sent in London)."""
    context = browser.new_context()
    try:
        answer = post_report(context.request, server.url, {
            "description": COMPLAINT, "outcome": "An apology and the mould treated this week.", "name": "Dev Patel",
            "email": "dev.patel@example.net", "address": "7 Mill Lane\nExampletown", "postcode": "EX3 9QT"})
        assert answer.status == 200, answer.text()
        reference = reference_of(answer.text())
    finally:
        context.close()
    day = dt.datetime.now(ZoneInfo("Europe/London")).date()
    case = case_json(server, reference)
    assert (case["category"], case["status"]) == ("complaint", "open"), case  # else the dates below mean nothing
    return reference, day


def look_up(page, server, reference: str, proof: str, query: str = "") -> str:
    page.goto(f"{server.url}/status{query}")
    page.locator("#reference").fill(reference)
    page.locator("#postcode").fill(proof)
    page.locator("button[type=submit]").click()
    return page.locator("main").inner_text()


def facts(page) -> dict[str, str]:
    rows = page.locator(".facts div")
    return {rows.nth(i).locator("dt").inner_text(): rows.nth(i).locator("dd").inner_text() for i in range(rows.count())}


def test_the_status_page_shows_the_right_dates_before_and_after_the_acknowledgement(page, server, sent):
    reference, day = sent
    look_up(page, server, reference.lower().replace("-", "- ", 1), "ex39qt")  # any case, any spaces
    assert page.get_by_role("heading", level=1).inner_text() == f"Progress of {reference}"
    # Before the worker has sent the acknowledgement: due 5 working days after receipt.
    assert facts(page) == {
        "What it is": "Complaint", "Stage": "Stage 1", "Where it is": "Open: we are dealing with it",
        "Received": long_date(day), "Acknowledged": "Not yet",
        "We will acknowledge it by": long_date(working_days_after(day, 5)),
        "Our response is due by": long_date(working_days_after(day, 10)),
        "We responded": "Not yet"}
    server.intake("run", "--once")  # sends (here: writes) the acknowledgement today
    look_up(page, server, reference, "dev.patel@EXAMPLE.net")  # the email given works as well as the postcode
    assert facts(page) == {
        "What it is": "Complaint", "Stage": "Stage 1", "Where it is": "Open: we are dealing with it",
        "Received": long_date(day), "Acknowledged": long_date(day),
        "Our response is due by": long_date(working_days_after(day, 10)), "We responded": "Not yet"}
    text = page.locator("main").inner_text()
    assert "Once we have sent our stage 1 response, you can ask for stage 2" in text
    assert "Housing Ombudsman Service" in text and "0300 111 3000" in text and "www.housing-ombudsman.org.uk" in text
    assert "Dev Patel" not in text and "mould" not in text and "Mill Lane" not in text  # no names, no words
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "status.png", full_page=False)


def test_an_unknown_reference_and_a_wrong_postcode_or_email_get_the_same_answer(page, server, sent):
    reference, _ = sent
    answers = {}
    for name, (ref, proof) in {"wrong postcode": (reference, "EX3 9QU"), "wrong email": (reference, "dev@example.net"),
                               "unknown reference": ("CMP-2026-999999", "EX3 9QT"),
                               "not a reference": ("hello", "EX3 9QT"), "not a postcode": (reference, "EX3")}.items():
        with page.expect_response(lambda response: response.request.method == "POST") as posted:
            look_up(page, server, ref, proof)
        answers[name] = (posted.value.status, page.get_by_role("alert").inner_text())
    assert set(answers.values()) == {(200, "We could not find a complaint with that reference and postcode or email "
                                           "address. Check them and try again, or call us on 0300 000 0000.")}, answers
    # The form keeps what was typed, so a resident can correct it.
    assert page.locator("#reference").input_value() == reference


def test_an_extension_and_the_stage_1_response_show_on_the_page_in_both_languages(page, server, sent):
    reference, day = sent
    server.intake("case", "extend", reference, "--days", "5", "--reason", "We are waiting for the contractor's report",
                  "--by", "alice@landlord.org")
    look_up(page, server, reference, "EX3 9QT")
    first_due = working_days_after(day, 10)
    shown = facts(page)
    assert shown["Our response is due by"] == long_date(first_due)
    assert shown["We have extended this to"] == long_date(working_days_after(first_due, 5))
    server.intake("case", "respond", reference, "--by", "bob@landlord.org", "--outcome", "upheld")
    look_up(page, server, reference, "EX3 9QT")
    assert facts(page)["We responded"] == long_date(day)
    text = page.locator("main").inner_text()
    assert "you can ask us to look at your complaint again at stage 2. Contact us on 0300 000 0000" in text, text
    look_up(page, server, reference, "EX3 9QT", query="?lang=cy")
    welsh = facts(page)
    assert welsh["Cam"] == "Cam 1" and welsh["Derbyniwyd"] == (
        f"{WELSH_DAYS[day.weekday()]} {day.day} {WELSH_MONTHS[day.month - 1]} {day.year}")
    assert "gallwch ofyn i ni edrych ar eich cwyn eto yng ngham 2" in page.locator("main").inner_text()


def test_the_status_form_and_its_answers_meet_wcag_2_2_aa(browser, server, sent):
    reference, _ = sent
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        page = context.new_page()
        violations = []
        page.goto(f"{server.url}/status")
        violations += _axe_violations(page)
        page.locator("button[type=submit]").click()  # nothing filled in: the error summary
        assert page.get_by_role("alert").get_by_role("link").count() == 2
        violations += _axe_violations(page)
        look_up(page, server, "CMP-2026-999999", "EX3 9QT")
        violations += _axe_violations(page)
        look_up(page, server, reference, "EX3 9QT", query="?lang=cy")
        violations += _axe_violations(page)
    finally:
        context.close()
    assert violations == [], "\n".join(violations)


def test_a_script_can_check_a_status_with_the_named_fields(browser, server, sent):
    reference, _ = sent
    context = browser.new_context()
    try:
        form = context.request.get(f"{server.url}/status")
        answer = context.request.post(f"{server.url}/status", form={
            "csrf_token": token_of(form.text()), "reference": reference, "postcode": "EX3 9QT"})
        assert answer.status == 200 and f"Progress of {reference}" in main_text(answer.text())
    finally:
        context.close()
