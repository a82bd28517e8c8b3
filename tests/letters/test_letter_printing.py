"""Acknowledgements by post: letter wording, outbox rows, and print-ready PDFs for a window envelope."""

from __future__ import annotations

import datetime as dt

import pymupdf
import pytest
from pypdf import PdfReader
from reportlab.lib.units import mm
from sqlalchemy import select

from casework.models import Case, CaseEvent, Clock, OutboxMessage
from core.settings import LandlordSettings
from casework.vocabulary import AckKind, Category, ClockKind, OutboxStatus
from responders.post import LetterPrinter, enqueue_letter, letter_context, render_letter, validate_letters
from responders.render import OMBUDSMAN, TemplateSet, sample_context

ADDRESS = ["Mrs Jane Smith", "12 Acacia Avenue", "Exampletown", "EX2 4QT"]
RECEIVED = dt.datetime(2026, 11, 20, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def templates():
    return TemplateSet()


def drain(printer) -> int:
    total = 0
    while done := printer.run_once():
        total += done
    return total


def queue_letter(db, templates, kind=AckKind.COMPLAINT_STAGE1, reference="CMP-2026-000777", understood=None) -> int:
    with db.transaction() as session:
        case = Case(reference=reference, category=Category.COMPLAINT, stage=1, received_at=RECEIVED,
                    resident_name="Mrs Jane Smith", resident_address=ADDRESS)
        case.clocks = [
            Clock(kind=ClockKind.ACK_STAGE1, starts_at=RECEIVED, due_at=RECEIVED + dt.timedelta(days=7), rule="5 working days"),
            Clock(kind=ClockKind.RESPONSE_STAGE1, starts_at=RECEIVED, due_at=RECEIVED + dt.timedelta(days=21), rule="10 working days"),
        ]
        session.add(case)
        clocks = {clock.kind: clock.due_at for clock in case.clocks}
        context = letter_context(case, LandlordSettings(), clocks, understood or "The leak under my kitchen sink.")
        row = enqueue_letter(session, case=case, submission_id=None, kind=kind, postal_address=ADDRESS,
                             rendered=render_letter(templates, kind, context), domain="example.org")
        session.flush()
        return row.id


@pytest.mark.parametrize("kind", list(AckKind))
def test_every_kind_has_a_letter_that_gives_the_reference_and_never_mentions_email(templates, kind):
    context = sample_context(stage=2 if kind == AckKind.COMPLAINT_STAGE2 else 1)
    rendered = render_letter(templates, kind, context)
    assert context["reference"] in rendered.subject and context["reference"] in rendered.text
    assert "email" not in rendered.text.lower()
    assert "write to us" in rendered.text or "call us" in rendered.text
    assert rendered.text.lstrip().startswith("Dear ")


@pytest.mark.parametrize("kind", [AckKind.COMPLAINT_STAGE1, AckKind.COMPLAINT_STAGE2])
def test_complaint_letters_give_the_due_date_and_the_ombudsmans_post_phone_and_website(templates, kind):
    context = sample_context(stage=2 if kind == AckKind.COMPLAINT_STAGE2 else 1)
    text = render_letter(templates, kind, context).text
    assert context["response_due"] in text
    for fact in ("Housing Ombudsman Service", "PO Box 1484, Unit D, Preston, PR2 0ET", "0300 111 3000", OMBUDSMAN["website"]):
        assert fact in text
    assert "@housing-ombudsman" not in text


def test_the_shipped_letter_templates_pass_their_own_checks(templates):
    assert validate_letters(templates) == []


def test_a_managers_mistake_in_a_letter_template_is_reported(tmp_path, templates):
    import shutil

    from responders.render import TEMPLATES_DIR

    shutil.copytree(TEMPLATES_DIR, tmp_path / "templates")
    (tmp_path / "templates" / "letter" / "neutral.txt").write_text("Hello {{ nobody }} about your complaint\n")
    problems = validate_letters(TemplateSet(tmp_path / "templates"))
    assert any("neutral" in problem and "nobody" in problem for problem in problems)


def test_a_letter_is_queued_for_post_without_an_email_address(sqlite_db, templates):
    outbox_id = queue_letter(sqlite_db, templates)
    with sqlite_db.sessions() as session:
        row = session.get(OutboxMessage, outbox_id)
    assert (row.channel, row.to_address, row.status) == ("letter", None, OutboxStatus.QUEUED)
    assert row.postal_address == ADDRESS
    assert row.message_id.endswith("@example.org") and row.html_body is None


def test_the_printer_writes_a_pdf_whose_text_gives_the_reference_and_records_it_on_the_case(sqlite_db, templates, tmp_path):
    outbox_id = queue_letter(sqlite_db, templates)
    printer = LetterPrinter(sqlite_db, templates, LandlordSettings(), tmp_path / "print")
    assert drain(printer) == 1
    pdf = tmp_path / "print" / f"CMP-2026-000777-complaint_stage1-{outbox_id}.pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "CMP-2026-000777" in text and "EX2 4QT" in text and "Housing Ombudsman" in text
    assert [p.name for p in (tmp_path / "print").iterdir()] == [pdf.name]  # no temporary file left
    with sqlite_db.sessions() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert (row.status, row.reason) == (OutboxStatus.SENT, "sent to print")
        actions = {e.action: e.detail for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == row.case_id))}
        assert actions["letter_sent_to_print"]["file"] == str(pdf)
        assert "acknowledgement_sent" in actions
        clock = session.scalar(select(Clock).where(Clock.case_id == row.case_id, Clock.kind == ClockKind.ACK_STAGE1))
        assert clock.met_at is not None


def test_the_residents_address_sits_in_the_dl_window(sqlite_db, templates, tmp_path):
    queue_letter(sqlite_db, templates)
    drain(LetterPrinter(sqlite_db, templates, LandlordSettings(), tmp_path / "print"))
    [pdf] = (tmp_path / "print").iterdir()
    with pymupdf.open(pdf) as document:
        [first] = document[0].search_for("Mrs Jane Smith")[:1]
        [postcode] = document[0].search_for("EX2 4QT")[:1]
    assert 18 * mm <= first.x0 <= 22 * mm
    assert 44 * mm <= first.y0 <= 51 * mm
    assert postcode.y1 <= 85 * mm and postcode.x1 <= 110 * mm


def test_large_print_letters_use_16_point_text_or_larger(sqlite_db, templates, tmp_path):
    queue_letter(sqlite_db, templates)
    drain(LetterPrinter(sqlite_db, templates, LandlordSettings(), tmp_path / "print", large_print=True))
    [pdf] = (tmp_path / "print").iterdir()
    with pymupdf.open(pdf) as document:
        sizes = {round(span["size"]) for page in document for block in page.get_text("dict")["blocks"]
                 for line in block.get("lines", []) for span in line["spans"] if "Ombudsman" in span["text"]}
        assert document.page_count >= 2
    assert sizes and min(sizes) >= 16


def test_a_long_letter_flows_onto_more_pages_and_residents_text_stays_inert(sqlite_db, templates, tmp_path):
    understood = "<b>not bold</b> & " + "the damp is everywhere " * 120
    queue_letter(sqlite_db, templates, understood=understood)
    drain(LetterPrinter(sqlite_db, templates, LandlordSettings(), tmp_path / "print"))
    [pdf] = (tmp_path / "print").iterdir()
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 2
    assert "<b>not bold</b> &" in reader.pages[0].extract_text()
    assert "CMP-2026-000777" in reader.pages[-1].extract_text()


def test_email_rows_are_left_for_the_email_sender(sqlite_db, templates, tmp_path):
    from responders.outbox import enqueue
    from core.settings import OutboxSettings
    from responders.render import RenderedMessage

    with sqlite_db.transaction() as session:
        enqueue(session, case=None, submission_id=None, kind=AckKind.NEUTRAL, to_address="a@example.net",
                rendered=RenderedMessage("s", "t", "h"), in_reply_to=None, references=[],
                settings=OutboxSettings(), domain="example.org")
    assert drain(LetterPrinter(sqlite_db, templates, LandlordSettings(), tmp_path / "print")) == 0
