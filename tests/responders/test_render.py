from __future__ import annotations

import datetime as dt
import shutil
from zoneinfo import ZoneInfo

import pytest
from jinja2 import UndefinedError
from jinja2.exceptions import SecurityError

from casework.models import Case
from core.settings import LandlordSettings
from casework.vocabulary import AckKind, Category, ClockKind
from responders.render import (
    TEMPLATES_DIR,
    TemplateSet,
    acknowledgement_context,
    extension_context,
    long_date,
    names_a_category,
    sample_context,
)

COMPLAINTS = [AckKind.COMPLAINT_STAGE1, AckKind.COMPLAINT_STAGE2]


@pytest.fixture
def templates():
    return TemplateSet()


@pytest.fixture
def editable_templates(tmp_path):
    """A copy of the shipped templates that a test may break, as a manager might."""
    shutil.copytree(TEMPLATES_DIR, tmp_path / "templates")
    return tmp_path / "templates"


def context_for(category: str = Category.COMPLAINT, stage: int = 1, name: str | None = "Sam Resident") -> dict:
    received = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    case = Case(reference="SR-2026-000042", category=category, stage=stage, received_at=received, resident_name=name)
    clocks = {
        ClockKind.ACK_STAGE1: dt.datetime(2026, 11, 27, 17, 0, tzinfo=dt.UTC),
        ClockKind.RESPONSE_STAGE1: dt.datetime(2026, 12, 4, 17, 0, tzinfo=dt.UTC),
        ClockKind.RESPONSE_STAGE2: dt.datetime(2027, 1, 8, 17, 0, tzinfo=dt.UTC),
    }
    return acknowledgement_context(case, LandlordSettings(), clocks, "The bins by block C have not been emptied.")


def test_the_shipped_templates_pass_their_own_checks(templates):
    assert templates.validate() == []


@pytest.mark.parametrize("kind", list(AckKind))
def test_every_acknowledgement_gives_the_reference_in_subject_text_and_html(templates, kind):
    rendered = templates.render(kind, context_for())
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "SR-2026-000042" in part


@pytest.mark.parametrize("kind", list(AckKind))
def test_every_subject_is_a_single_line(templates, kind):
    subject = templates.render(kind, context_for()).subject
    assert "\n" not in subject and "\r" not in subject and subject == subject.strip()


def test_a_complaint_subject_reads_naturally(templates):
    assert templates.render(AckKind.COMPLAINT_STAGE1, context_for()).subject == "Your complaint – reference SR-2026-000042"


@pytest.mark.parametrize("kind", COMPLAINTS)
def test_a_complaint_acknowledgement_gives_the_ombudsman_website_and_no_ombudsman_email(templates, kind):
    rendered = templates.render(kind, context_for(stage=2 if kind == AckKind.COMPLAINT_STAGE2 else 1))
    for body in (rendered.text, rendered.html):
        assert "www.housing-ombudsman.org.uk" in body
        assert "0300 111 3000" in body
        assert "PO Box 1484" in body and "PR2 0ET" in body
        assert "@housing-ombudsman" not in body


def test_a_stage_1_acknowledgement_gives_the_stage_the_due_date_and_what_we_understood(templates):
    rendered = templates.render(AckKind.COMPLAINT_STAGE1, context_for())
    for body in (rendered.text, rendered.html):
        assert "stage 1" in body
        assert "Friday 4 December 2026" in body
        assert "The bins by block C have not been emptied." in body
        assert "reply to this email, quoting your reference SR-2026-000042" in body
        assert "What happens next" in body


def test_a_stage_2_acknowledgement_says_it_is_the_final_stage_and_gives_the_stage_2_date(templates):
    rendered = templates.render(AckKind.COMPLAINT_STAGE2, context_for(stage=2))
    for body in (rendered.text, rendered.html):
        assert "final stage" in body
        assert "Friday 8 January 2027" in body
        assert "Friday 4 December 2026" not in body


@pytest.mark.parametrize("category", list(Category))
def test_the_neutral_acknowledgement_never_names_a_category(templates, category):
    context = context_for(category=category)
    rendered = templates.render(AckKind.NEUTRAL, context)
    assert names_a_category(rendered, context["reference"]) == []
    assert "a member of our team will read your message and contact you" in rendered.text.lower()


def test_a_resident_name_containing_a_script_is_inert_in_html(templates):
    context = context_for(name='Sam <script>alert("x")</script>')
    for kind in AckKind:
        html = templates.render(kind, context).html
        assert "<script>" not in html
        assert "&lt;script&gt;" in html


def test_what_the_resident_wrote_is_escaped_in_html_but_left_alone_in_text(templates):
    context = dict(context_for(), understood="Fix it <b>now</b> & <img src=x onerror=alert(1)>")
    rendered = templates.render(AckKind.COMPLAINT_STAGE1, context)
    assert "<img" not in rendered.html and "&lt;img src=x" in rendered.html
    assert "Fix it <b>now</b> & <img src=x onerror=alert(1)>" in rendered.text


def test_a_resident_without_a_name_is_greeted_plainly(templates):
    rendered = templates.render(AckKind.SERVICE_REQUEST, context_for(name=None))
    assert rendered.text.startswith("Hello,")
    assert "None" not in rendered.text and "None" not in rendered.html


def test_a_missing_variable_is_an_error_not_a_blank(editable_templates):
    subject = editable_templates / "email" / "compliment" / "subject.txt"
    subject.write_text("Thanks {{ resident_first_name }} – reference {{ reference }}")
    with pytest.raises(UndefinedError):
        TemplateSet(editable_templates).render(AckKind.COMPLIMENT, context_for())
    problems = TemplateSet(editable_templates).validate()
    assert len(problems) == 1 and problems[0].startswith("compliment:") and "resident_first_name" in problems[0]


def test_a_subject_broken_over_lines_by_an_editor_is_joined_back_into_one(editable_templates):
    subject = editable_templates / "email" / "neutral" / "subject.txt"
    subject.write_text("We have received\nyour message\r\n– reference {{ reference }}\n")
    rendered = TemplateSet(editable_templates).render(AckKind.NEUTRAL, context_for())
    assert rendered.subject == "We have received your message – reference SR-2026-000042"


def test_validate_catches_a_neutral_template_that_names_a_category(editable_templates):
    body = editable_templates / "email" / "neutral" / "body.txt"
    body.write_text(body.read_text() + "\nWe have logged your complaint.\n")
    assert TemplateSet(editable_templates).validate() == ["neutral: the neutral acknowledgement names a category (complain)"]


def test_validate_catches_a_template_that_marks_resident_text_safe(editable_templates):
    body = editable_templates / "email" / "compliment" / "body.html"
    body.write_text(body.read_text().replace("{{ understood }}", "{{ understood | safe }}"))
    problems = TemplateSet(editable_templates).validate()
    assert problems == ["compliment: body.html lets a resident's text through unescaped"]


def test_the_sandbox_stops_a_template_reaching_into_python(editable_templates):
    subject = editable_templates / "email" / "neutral" / "subject.txt"
    subject.write_text("{{ reference.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(SecurityError):
        TemplateSet(editable_templates).render(AckKind.NEUTRAL, context_for())


def test_an_unknown_kind_is_refused(templates):
    with pytest.raises(ValueError):
        templates.render("../../etc", context_for())


def test_due_dates_are_written_out_on_the_london_calendar():
    assert long_date(dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)) == "Friday 4 December 2026"
    assert long_date(dt.datetime(2026, 6, 5, 23, 30, tzinfo=dt.UTC)) == "Saturday 6 June 2026"  # BST
    assert long_date(None) is None


def test_due_dates_are_written_out_on_the_calendar_of_the_zone_given():
    friday_noon = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    assert long_date(friday_noon, ZoneInfo("Pacific/Auckland")) == "Saturday 5 December 2026"
    assert long_date(dt.datetime(2026, 6, 5, 23, 30, tzinfo=dt.UTC), ZoneInfo("UTC")) == "Friday 5 June 2026"
    assert long_date(dt.date(2026, 6, 5), ZoneInfo("Pacific/Auckland")) == "Friday 5 June 2026"  # a date is a date


def test_every_date_in_the_context_is_on_the_policys_calendar():
    auckland = ZoneInfo("Pacific/Auckland")  # 13 hours ahead of UTC in December: every date is the next day
    received = dt.datetime(2026, 11, 20, 11, 30, tzinfo=dt.UTC)
    case = Case(reference="CMP-2026-000042", category=Category.COMPLAINT, stage=1, received_at=received)
    clocks = {ClockKind.ACK_STAGE1: dt.datetime(2026, 11, 27, 11, 0, tzinfo=dt.UTC),
              ClockKind.RESPONSE_STAGE1: dt.datetime(2026, 12, 4, 11, 0, tzinfo=dt.UTC)}
    context = acknowledgement_context(case, LandlordSettings(), clocks, "The roof leaks.", auckland)
    assert (context["received_on"], context["acknowledgement_due"], context["response_due"]) == (
        "Saturday 21 November 2026", "Saturday 28 November 2026", "Saturday 5 December 2026")
    new_due = dt.datetime(2026, 12, 18, 11, 0, tzinfo=dt.UTC)
    extended = extension_context(context, clocks[ClockKind.RESPONSE_STAGE1], new_due, "A surveyor's report.", auckland)
    assert (extended["previous_due"], extended["new_due"]) == ("Saturday 5 December 2026", "Saturday 19 December 2026")


def test_the_context_names_the_category_in_plain_words_and_gives_landlord_and_ombudsman():
    context = context_for(category=Category.SERVICE_REQUEST)
    assert context["category_label"] == "service request"
    assert context["acknowledgement_due"] == "Friday 27 November 2026"
    assert context["landlord"]["name"] == "Example Homes"
    assert context["ombudsman"]["website"] == "www.housing-ombudsman.org.uk"
    assert "email" not in context["ombudsman"]


def test_the_sample_context_is_stage_aware():
    assert sample_context(stage=2)["response_due"] == "Friday 18 December 2026"
    assert sample_context(stage=2)["is_final_stage"] is True
