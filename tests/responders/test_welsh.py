"""Welsh: dates, the shipped bilingual templates (Welsh first, then English), the checks that run on them
(and what `intake check` says about a broken one), the printed letter's Welsh lines, large print per
case, and telling Welsh from English. Dates are worked out by hand in comments."""

from __future__ import annotations

import datetime as dt
import shutil
from zoneinfo import ZoneInfo

import pymupdf
import pytest
from pypdf import PdfReader

from casework.models import Case, Clock
from casework.vocabulary import AckKind, Category, ClockKind
from core.settings import LandlordSettings, Settings
from responders.post import LetterPrinter, enqueue_letter, letter_context, render_letter, validate_letters
from responders.render import (
    OMBUDSMAN, TEMPLATES_DIR, TemplateSet, acknowledgement_context, extension_context, long_date, names_a_category,
    sample_context,
)
from text.language import is_welsh

UTC = dt.UTC
ADDRESS = ["Mrs Siân Jones", "12 Heol y Bryn", "Caerfyrddin", "SA31 1AA"]
RECEIVED = dt.datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # Monday 16 November 2026 (GMT = UTC)
RESPONSE_DUE = dt.datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)  # ten working days on: Monday 30 November
EMAIL_KINDS = list(AckKind)


@pytest.fixture
def templates():
    return TemplateSet()


@pytest.fixture
def editable(tmp_path):
    """A copy of the shipped templates, Welsh ones included, that a test may break as a manager might."""
    shutil.copytree(TEMPLATES_DIR, tmp_path / "templates")
    return tmp_path / "templates"


def welsh_case(**facts) -> Case:
    return Case(reference="CMP-2026-000321", category=Category.COMPLAINT, stage=1, received_at=RECEIVED,
                resident_name="Siân Jones", language="cy", **facts)


def welsh_context(stage: int = 1) -> dict:
    clocks = {ClockKind.RESPONSE_STAGE1: RESPONSE_DUE, ClockKind.RESPONSE_STAGE2: RESPONSE_DUE}
    return acknowledgement_context(welsh_case(stage=stage) if stage != 1 else welsh_case(), LandlordSettings(), clocks,
                                   "Mae'r to yn dal i ollwng.")


# -- dates -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "english", "welsh"), [
    # 30 November 2026 is a Monday (4 December 2026 is a Friday, four days on)
    (dt.date(2026, 11, 30), "Monday 30 November 2026", "Dydd Llun 30 Tachwedd 2026"),
    (dt.date(2026, 12, 1), "Tuesday 1 December 2026", "Dydd Mawrth 1 Rhagfyr 2026"),
    (dt.date(2026, 12, 2), "Wednesday 2 December 2026", "Dydd Mercher 2 Rhagfyr 2026"),
    (dt.date(2026, 12, 3), "Thursday 3 December 2026", "Dydd Iau 3 Rhagfyr 2026"),
    (dt.date(2026, 12, 4), "Friday 4 December 2026", "Dydd Gwener 4 Rhagfyr 2026"),
    (dt.date(2026, 12, 5), "Saturday 5 December 2026", "Dydd Sadwrn 5 Rhagfyr 2026"),
    (dt.date(2026, 12, 6), "Sunday 6 December 2026", "Dydd Sul 6 Rhagfyr 2026"),
    # 1 January 2027: 4 December + 28 days is Friday 1 January
    (dt.date(2027, 1, 1), "Friday 1 January 2027", "Dydd Gwener 1 Ionawr 2027"),
    # 1 February 2027 is 31 days (4 weeks + 3 days) after Friday 1 January: a Monday; 14 February a Sunday
    (dt.date(2027, 2, 14), "Sunday 14 February 2027", "Dydd Sul 14 Chwefror 2027"),
])
def test_long_date_in_english_and_welsh(day, english, welsh):
    assert long_date(day) == english
    assert long_date(day, language="cy") == welsh
    assert long_date(day, language="en") == english


def test_a_welsh_date_is_on_the_landlords_calendar():
    # 23:30 UTC on Friday 5 June 2026 is 00:30 on Saturday 6 June in London (BST)
    assert long_date(dt.datetime(2026, 6, 5, 23, 30, tzinfo=UTC), language="cy") == "Dydd Sadwrn 6 Mehefin 2026"
    assert long_date(dt.datetime(2026, 6, 5, 23, 30, tzinfo=UTC), ZoneInfo("UTC"), "cy") == "Dydd Gwener 5 Mehefin 2026"
    assert [long_date(dt.date(2026, month, 1), language="cy").split()[-2] for month in range(1, 13)] == [
        "Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi", "Hydref",
        "Tachwedd", "Rhagfyr"]


def test_a_welsh_context_has_welsh_dates_and_english_ones_for_the_english_half():
    context = welsh_context()
    assert context["language"] == "cy"
    assert context["received_on"] == "Dydd Llun 16 Tachwedd 2026"
    assert context["response_due"] == "Dydd Llun 30 Tachwedd 2026"
    assert context["english"]["response_due"] == "Monday 30 November 2026"
    assert "cyfeirnod CMP-2026-000321" in context["how_to_correct"]
    extended = extension_context(context, RESPONSE_DUE, dt.datetime(2026, 12, 7, 23, 59, tzinfo=UTC), "Aros am syrfëwr")
    # five working days after Monday 30 November: Monday 7 December
    assert (extended["new_due"], extended["english"]["new_due"]) == ("Dydd Llun 7 Rhagfyr 2026", "Monday 7 December 2026")
    assert extended["previous_due"] == "Dydd Llun 30 Tachwedd 2026"


# -- the shipped Welsh emails --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", EMAIL_KINDS)
def test_every_kind_has_a_bilingual_welsh_email_welsh_first(templates, kind):
    context = extension_context(welsh_context(), RESPONSE_DUE, RESPONSE_DUE, "Aros am adroddiad y syrfëwr")
    context["reply_text"] = "Bydd ein syrfëwr yn galw ddydd Mawrth."
    rendered = templates.render(kind, context)
    assert "CMP-2026-000321" in rendered.subject and "cyfeirnod" in rendered.subject.lower()
    assert rendered.subject.index("cyfeirnod") < rendered.subject.index("reference")  # Welsh first
    for body in (rendered.text, rendered.html):
        assert "Eich cyfeirnod yw" in body or "cyfeirnod {}".format("CMP-2026-000321") in body
        assert body.index("cyfeirnod") < body.index("reference")
    assert '<html lang="cy">' in rendered.html and 'lang="en-GB"' in rendered.html


def test_the_welsh_complaint_acknowledgement_gives_both_dates_and_the_ombudsman(templates):
    rendered = templates.render(AckKind.COMPLAINT_STAGE1, welsh_context())
    text = rendered.text
    assert "Byddwn yn anfon ein hymateb cam 1 atoch erbyn Dydd Llun 30 Tachwedd 2026." in text
    assert "We will send you our stage 1 response by Monday 30 November 2026." in text
    assert text.index("Dydd Llun 30 Tachwedd 2026") < text.index("Monday 30 November 2026")
    assert "Gwasanaeth Ombwdsmon Tai" in text and OMBUDSMAN["website"] in text
    assert "Annwyl Siân Jones," in text and "Dear Siân Jones," in text
    assert "Dydd Llun 30 Tachwedd 2026" in rendered.html and "@housing-ombudsman" not in rendered.html


def test_the_welsh_neutral_acknowledgement_names_no_category_in_either_language(templates):
    context = {**welsh_context(), "category": "complaint"}
    rendered = templates.render(AckKind.NEUTRAL, context)
    assert names_a_category(rendered, context["reference"], "cy") == []
    assert "Rydym wedi cael eich neges" in rendered.subject


def test_a_residents_words_stay_inert_in_the_welsh_html(templates):
    rendered = templates.render(AckKind.COMPLAINT_STAGE1, sample_context(language="cy"))
    assert "<script" not in rendered.html.lower() and "&lt;script&gt;" in rendered.html


def test_the_shipped_templates_pass_their_own_checks_in_welsh_too(templates):
    assert templates.validate() == []
    assert validate_letters(templates) == []


def test_a_welsh_case_with_no_welsh_template_gets_the_english_one_with_english_dates(tmp_path):
    shutil.copytree(TEMPLATES_DIR, tmp_path / "templates", ignore=shutil.ignore_patterns("cy"))
    rendered = TemplateSet(tmp_path / "templates").render(AckKind.COMPLAINT_STAGE1, welsh_context())
    assert "We will send you our stage 1 response by Monday 30 November 2026." in rendered.text
    assert "Tachwedd" not in rendered.text and "cyfeirnod" not in rendered.text


# -- the checks catch a manager's broken Welsh template, and `intake check` says so ---------------------------


def test_a_welsh_template_that_drops_the_welsh_date_is_reported(editable):
    body = editable / "cy" / "email" / "complaint_stage1" / "body.txt"
    body.write_text(body.read_text(encoding="utf-8").replace(
        "atoch erbyn {{ response_due }}", "atoch yn fuan"), encoding="utf-8")
    problems = TemplateSet(editable).validate()
    assert problems == ["Welsh complaint_stage1: body.txt does not give the date the response is due"]


def test_a_welsh_neutral_template_that_says_complaint_in_welsh_is_reported(editable):
    body = editable / "cy" / "email" / "neutral" / "body.html"
    body.write_text(body.read_text(encoding="utf-8").replace("Diolch am eich neges.", "Diolch am eich cwyn."),
                    encoding="utf-8")
    assert TemplateSet(editable).validate() == ["Welsh neutral: the neutral acknowledgement names a category (cwyn)"]


def test_intake_check_reports_a_broken_welsh_letter(editable, tmp_path):
    from cli.check import template_problems

    letter = editable / "cy" / "letter" / "extension.txt"
    letter.write_text(letter.read_text(encoding="utf-8").replace("{{ new_due }}", "{{ new_due }"), encoding="utf-8")
    problems = template_problems(Settings(var_dir=tmp_path / "var", templates_dir=editable))
    assert len(problems) == 1 and problems[0].startswith("template problem: letter Welsh extension: ")
    assert "cy/letter/extension.txt" in problems[0]


def test_a_welsh_letter_that_talks_about_this_email_is_reported(editable):
    letter = editable / "cy" / "letter" / "neutral.txt"
    letter.write_text(letter.read_text(encoding="utf-8").replace(
        "Bydd aelod o'n tîm yn darllen eich llythyr", "Atebwch yr e-bost hwn. Bydd aelod o'n tîm yn darllen eich llythyr"),
        encoding="utf-8")
    assert validate_letters(TemplateSet(editable)) == ["letter Welsh neutral: talks about 'this email': it is a letter"]


# -- printed letters: Welsh lines, large print per case -------------------------------------------------------


def queue_letter(db, templates, reference, *, language=None, adjustments=()) -> None:
    with db.transaction() as session:
        case = Case(reference=reference, category=Category.COMPLAINT, stage=1, received_at=RECEIVED,
                    resident_name="Siân Jones", resident_address=ADDRESS, language=language,
                    adjustments=list(adjustments))
        case.clocks = [Clock(kind=ClockKind.RESPONSE_STAGE1, starts_at=RECEIVED, due_at=RESPONSE_DUE, rule="10 days")]
        session.add(case)
        context = letter_context(case, LandlordSettings(), {ClockKind.RESPONSE_STAGE1: RESPONSE_DUE},
                                 "Mae'r to yn dal i ollwng.")
        enqueue_letter(session, case=case, submission_id=None, kind=AckKind.COMPLAINT_STAGE1, postal_address=ADDRESS,
                       rendered=render_letter(templates, AckKind.COMPLAINT_STAGE1, context), domain="example.org",
                       now=RECEIVED)


def printed(tmp_path, reference):
    [pdf] = (tmp_path / "print").glob(f"{reference}-*.pdf")
    return pdf


def body_sizes(pdf, words: str) -> set[int]:
    with pymupdf.open(pdf) as document:
        return {round(span["size"]) for page in document for block in page.get_text("dict")["blocks"]
                for line in block.get("lines", []) for span in line["spans"] if words in span["text"]}


def test_a_welsh_letter_is_printed_with_welsh_reference_and_date_lines(sqlite_db, templates, tmp_path):
    queue_letter(sqlite_db, templates, "CMP-2026-000321", language="cy")
    printer = LetterPrinter(sqlite_db, templates, LandlordSettings(), tmp_path / "print")
    # printed at 10:00 UTC on Tuesday 17 November 2026 (GMT): the letter is dated that day
    printer.run_once(now=dt.datetime(2026, 11, 17, 10, 0, tzinfo=UTC))
    text = "".join(page.extract_text() for page in PdfReader(printed(tmp_path, "CMP-2026-000321")).pages)
    assert "Ein cyfeirnod / Our reference: CMP-2026-000321" in text
    assert "Dyddiad: Dydd Mawrth 17 Tachwedd 2026" in text and "Date: Tuesday 17 November 2026" in text
    assert "Annwyl Siân Jones," in text and "erbyn Dydd Llun 30 Tachwedd 2026" in text
    assert text.index("Annwyl Siân Jones") < text.index("Dear Siân Jones")


def test_large_print_follows_the_residents_adjustment_letter_by_letter(sqlite_db, templates, tmp_path):
    queue_letter(sqlite_db, templates, "CMP-2026-000401", adjustments=["large_print", "post_only"])
    queue_letter(sqlite_db, templates, "CMP-2026-000402")
    printer = LetterPrinter(sqlite_db, templates, LandlordSettings(), tmp_path / "print")  # large_print setting off
    while printer.run_once(now=RECEIVED + dt.timedelta(days=1)):
        pass
    # Layout.large(): 16pt body text; Layout.standard(): 11pt
    assert body_sizes(printed(tmp_path, "CMP-2026-000401"), "Ombudsman") == {16}
    assert body_sizes(printed(tmp_path, "CMP-2026-000402"), "Ombudsman") == {11}
    assert body_sizes(printed(tmp_path, "CMP-2026-000401"), "Your complaint") == {18}  # the heading: 18pt


# -- telling Welsh from English -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "welsh"), [
    ("Annwyl Dîm Cwynion, rwy'n ysgrifennu i wneud cwyn ffurfiol am y to sy'n gollwng.", True),
    ("Mae'r boeler wedi torri eto", True),
    ("Cwyn am y to", True),
    ("Dear Complaints Team, I am writing to make a formal complaint about the leaking roof.", False),
    ("Bore da, my boiler is broken again and nobody has come", False),
    ("Diolch!", False),  # too short to say: English, the default
    ("", False),
    (None, False),
])
def test_is_welsh(text, welsh):
    assert is_welsh(text) is welsh
