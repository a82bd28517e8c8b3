"""The managers' figures in the browser: a real `intake serve` with 500 homes set, cases made through
`intake case ...` with `--on` dates, Debian's Chromium.

The cases, in November 2026 (England: no bank holiday in November), all in the financial year we are
in (April 2026 to March 2027), which /figures shows by default:
* P, a complaint received Mon 2 Nov, acknowledged Tue 3 Nov; response due 10 working days after 3 Nov:
  4, 5, 6, 9, 10, 11, 12, 13, 16, 17 -> Tue 17 Nov; responded Mon 16 Nov: within. Closed upheld.
* Q, a complaint received Wed 4 Nov, acknowledged Thu 5 Nov; due: 6, 9-13 (6), 16-19 (10) -> Thu
  19 Nov; responded Mon 23 Nov: late. Closed not upheld.
* S, a complaint about damp and mould received Mon 16 Nov, acknowledged Tue 17 Nov; open.
* R, a service request received Tue 10 Nov.
So CH01 stage 1 = 3 complaints / 500 homes x 1,000 = 6.0, and CH02 stage 1 = 1 of 2 = 50.0 %.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from pypdf import PdfReader

from tests.web.conftest import SCREENSHOTS, log_contact, serving, signed_in
from tests.web.test_screenshots import HEIGHT, WIDTH, _axe_violations, _png_size
from triage.charts import axis, horizontal_bars

MANAGER, STAFF = "manager@landlord.org", "alice@landlord.org"
YEAR = ("2026-04-01", "2027-03-31")
COMMENTARY = "We answered half of our stage 1 complaints late in November.\n\nWhat we will change: <b>more</b> staff."


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("figures") / "var", extra_env={"INTAKE_FIGURES__HOMES": "500"}) as server:
        def complaint(name: str, notes: str, on: str, flags: str = "") -> str:
            reference = log_contact(server, name, notes, on=on)
            server.intake("case", "reclassify", reference, "--category", "complaint", "--flags", flags, "--on", on,
                          "--by", MANAGER)
            return reference

        def work(reference: str, *steps: tuple[str, ...]) -> None:
            for verb, on, *args in steps:
                server.intake("case", verb, reference, *args, "--on", on, "--by", STAFF)

        p = complaint("Priya Shah", "Unhappy that the roof repair was promised three times.", "2026-11-02")
        work(p, ("acknowledge", "2026-11-03"), ("respond", "2026-11-16"), ("close", "2026-11-16", "--outcome", "upheld"))
        q = complaint("Sam Okoro", "Complains about the rude answer from the repairs line.", "2026-11-04")
        work(q, ("acknowledge", "2026-11-05"), ("respond", "2026-11-23"),
             ("close", "2026-11-23", "--outcome", "not_upheld"))
        s = complaint("Ruth Evans", "Mould on the bedroom wall again and nobody came.", "2026-11-16", "damp_mould")
        work(s, ("acknowledge", "2026-11-17"))
        r = log_contact(server, "Lee Grant", "Please fix the gate latch.", on="2026-11-10")
        server.intake("case", "reclassify", r, "--category", "service_request", "--flags", "", "--on", "2026-11-10",
                      "--by", MANAGER)
        yield server


def test_a_manager_sees_the_charts_and_tables_and_the_csv_matches_the_json_report(page, server):
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    signed_in(page, server, MANAGER)
    page.get_by_role("link", name="Figures").click()
    page.wait_for_url(f"{server.url}/figures")
    assert page.get_by_label("From", exact=True).input_value() == YEAR[0] and page.get_by_label("To", exact=True).input_value() == YEAR[1]

    tsm_table = page.locator("table.tsm-table")
    assert "6" in tsm_table.locator("tr", has_text="CH01").inner_text()
    assert "50%" in tsm_table.locator("tr", has_text="CH02").inner_text()

    charts = page.locator("svg.chart[role=img]")
    assert charts.count() == 14  # one per figure
    ch02 = page.locator("#ch02 ~ .chart-box svg")
    assert ch02.locator("title").first.text_content() == "CH02: complaints responded to within the Code's timescales"
    parts = ch02.locator("rect title").all_text_contents()
    assert "stage 1, within the Code's time: 1" in parts and "stage 1, late: 1" in parts, parts
    assert "stage 1" in [label.strip() for label in ch02.locator("text.label").all_text_contents()]
    ch01_bars = page.locator("#ch01 ~ .chart-box svg").locator("text.value").all_text_contents()
    assert ch01_bars == ["6", "0"]  # 3 / 500 x 1,000 at stage 1; none at stage 2
    week = page.locator("#received_by_category ~ .chart-box svg rect title").all_text_contents()
    assert "2026-11-02, complaint: 2" in week and "2026-11-09, service request: 1" in week, week
    ch02_table = page.locator("table", has=page.locator("caption", has_text="CH02: complaints"))
    assert ch02_table.locator("tbody tr").first.locator("td").all_inner_texts() == ["2", "1", "1", "0", "0", "50%"]

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the TSM as CSV").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    report = json.loads(server.intake("report", "tsm", "--from", YEAR[0], "--to", YEAR[1], "--format", "json").stdout)
    assert rows[0] == list(report)
    assert rows[1] == ["" if value is None else str(value) for value in report.values()]
    assert (report["ch01_stage1_per_1000"], report["ch02_stage1_within_pct"]) == (6.0, 50.0)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download “Complaint outcomes” as CSV").click()
    outcomes = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert outcomes[:4] == [["outcome", "stage_1", "stage_2"], ["upheld", "1", "0"], ["partly_upheld", "0", "0"],
                            ["not_upheld", "1", "0"]]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.getElementById('ch01').scrollIntoView()")  # the CH01 and CH02 charts and tables
    page.screenshot(path=SCREENSHOTS / "figures.png", full_page=False)
    assert _png_size(SCREENSHOTS / "figures.png") == (WIDTH, HEIGHT)
    assert [url for url in page.requests_seen if not url.startswith(server.url + "/")] == []


def test_a_range_the_manager_chooses_and_a_wrong_one(page, server):
    signed_in(page, server, MANAGER)
    page.goto(f"{server.url}/figures")
    page.get_by_label("From", exact=True).fill("2026-11-09")
    page.get_by_label("To", exact=True).fill("2026-11-30")
    page.get_by_role("button", name="Show the figures").click()
    # only S was received from 9 Nov: 1 / 500 x 1,000 = 2.0; P and Q were still answered in the range
    assert "2" in page.locator("table.tsm-table tr", has_text="CH01").inner_text()
    assert "50%" in page.locator("table.tsm-table tr", has_text="CH02").inner_text()
    response = page.goto(f"{server.url}/figures?from=2026-11-30&to=2026-11-01")
    assert response.status == 400
    assert "ends on 2026-11-01 before it starts" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("From", exact=True).input_value() == "2026-11-30"  # what was typed is kept
    assert page.request.get(f"{server.url}/figures/tsm.csv?from=nope").status == 400


def test_staff_cannot_open_the_figures(page, server):
    signed_in(page, server, STAFF)
    assert page.get_by_role("link", name="Figures").count() == 0
    for path in ["/figures", "/figures/tsm.csv", "/figures/ch01.csv", "/figures/annual-report",
                 "/figures/annual-report.pdf"]:
        assert page.request.get(server.url + path).status == 403, path
    assert page.goto(f"{server.url}/figures").status == 403


def test_the_annual_report_with_the_managers_commentary_as_html_and_pdf(page, server):
    signed_in(page, server, MANAGER)
    page.goto(f"{server.url}/figures/annual-report?year=2026")
    assert "Complaints performance and service improvement report 2026–27" in page.locator("h1").inner_text()
    page.get_by_role("button", name="Save the commentary").click()
    assert "the commentary is empty" in page.get_by_role("alert").inner_text()  # refused, nothing saved

    page.get_by_role("textbox", name="Commentary and self-assessment").fill(COMMENTARY)
    page.get_by_role("button", name="Save the commentary").click()
    page.wait_for_url(re.compile(r".*saved=1.*"))
    assert "<b>more</b> staff" in page.locator(".commentary-text").inner_text()  # shown as text, not markup
    assert page.locator(".commentary-text b").count() == 0
    assert "6" in page.locator("table", has=page.locator("caption", has_text="CH01: complaints")).locator("tbody tr").first.inner_text()

    page.emulate_media(media="print")  # the print stylesheet: the report without the app around it
    assert page.locator("header.top").is_hidden() and page.locator("form").first.is_hidden()
    assert page.locator(".commentary-text").is_visible() and page.locator("table").first.is_visible()
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report as PDF").click()
    data = download.value.path().read_bytes()
    assert data.startswith(b"%PDF-")
    text = " ".join(page_.extract_text() for page_ in PdfReader(io.BytesIO(data)).pages)
    text = " ".join(text.split())
    assert "CH01: complaints received per 1,000 homes" in text and "CH02" in text
    assert "stage 1 3 500 6" in text  # CH01's row: received, homes, per 1,000
    assert "stage 1 2 1 1 0 0 50%" in text  # CH02's row: responded, within, late, by extension, past limit, %
    assert "What we will change: <b>more</b> staff." in text
    assert "damp and mould" in text  # a theme by flag


def test_the_figures_and_the_annual_report_meet_wcag_2_2_aa(page, server):
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    signed_in(page, server, MANAGER)
    violations = []
    for path in ["/figures", "/figures/annual-report?year=2026"]:
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        violations += _axe_violations(page)
    assert violations == [], "\n".join(violations)


def test_a_chart_counts_in_whole_steps_and_keeps_typed_words_as_text():
    assert axis(0) == [0, 1] and axis(3) == [0, 1, 2, 3] and axis(6) == [0, 2, 4, 6] and axis(53) == [0, 20, 40, 60]
    svg = str(horizontal_bars("Reasons", "Why", ["<script>alert(1)</script> waiting for the roofer's report", "b"],
                              ["stage 1"], [[2], [None]]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'role="img"' in svg and "style=" not in svg
    assert svg.count("<rect") == 1  # one bar; a row with nothing draws none, but still says 0
    assert '>0</text>' in svg and '>2</text>' in svg
