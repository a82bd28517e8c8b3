"""What the complaints form asks for lands on the case, through the real pipeline (the shipped model,
the real printer): a web Submission is stored here exactly as triage.public_form stores one (kind
"web", the form's JSON as its raw bytes, ``details["adjustments"]``, ``details["adjustment_note"]`` and
``details["language"]``), then processed. A later message adds to what a person set and never drops it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

import pymupdf
from pypdf import PdfReader
from sqlalchemy import select

import scheduler
from casework.guards import find
from casework.models import Case, OutboxMessage, Submission
from casework.vocabulary import Channel, Disposition

RECEIVED = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)  # Monday 16 November 2026, 10:00 GMT
ADDRESS = ["12 Heol y Bryn", "Caerfyrddin", "SA31 1AA"]
LEAK = ("Mae'r to yn fy ystafell wely yn gollwng ers mis Hydref. Daeth contractwr unwaith ond ni orffennodd y "
        "gwaith, ac nid oes neb wedi dod yn ôl er i mi ffonio bedair gwaith. Rwy'n anhapus iawn ac am wneud cwyn.")


def web_submission(*, description: str, language: str, adjustments: list[str], note: str | None,
                   email: str | None = "sian.jones@example.net", address: list[str] | None = ADDRESS) -> Submission:
    """A form as triage.public_form.submission stores it."""
    fields = {"description": description, "outcome": "Trwsio'r to", "name": "Siân Jones", "email": email or "",
              "address": "\n".join(address[:-1]) if address else "", "postcode": address[-1] if address else "",
              "adjustments": adjustments, "adjustment_note": note or ""}
    raw = json.dumps({"form": "report", "language": language, "received_at": RECEIVED.isoformat(), "fields": fields,
                      "files": []}, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return Submission(
        source="web-form", kind=Channel.WEB, natural_key=uuid.uuid4().hex, raw=raw,
        raw_sha256=hashlib.sha256(raw).hexdigest(), received_at=RECEIVED, disposition=Disposition.PENDING,
        details={"language": language, "adjustments": adjustments, "adjustment_note": note, "representative": None,
                 "name": "Siân Jones", "email": email, "phone": None, "address": address[:-1] if address else None,
                 "postcode": address[-1] if address else None, "postal_address": address},
    )


def process(service, submission: Submission) -> str:
    with service.db.transaction() as session:
        session.add(submission)
    service.runner.process(submission.id)
    with service.db.sessions() as session:
        return session.get(Submission, submission.id).case.reference


def test_a_forms_adjustments_and_welsh_land_on_the_case_and_its_letter_follows_them(make_settings):
    service = scheduler.build(make_settings(landlord={"welsh": True}))
    reference = process(service, web_submission(description=LEAK, language="cy", adjustments=["post_only", "large_print"],
                                                note="Rwy'n rhannol ddall: print bras os gwelwch yn dda"))

    with service.db.sessions() as session:
        case = find(session, reference)
        assert case.adjustments == ["large_print", "post_only"]
        assert case.adjustment_note == "Rwy'n rhannol ddall: print bras os gwelwch yn dda"
        assert case.language == "cy"
        [event] = [e for e in case.events if e.action == "adjustments_changed"]
        assert event.actor == "system" and event.detail["source"] == "web"
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)).all()
        # an email address is known, but the resident asked for post: a letter, in Welsh first
        assert [(row.channel, row.to_address) for row in rows] == [("letter", None)]
        assert rows[0].subject.startswith(("Eich cwyn / Your complaint", "Rydym wedi cael eich llythyr"))

    service.run_once()
    [pdf] = (service.settings.var_dir / "print").glob(f"{reference}-*.pdf")
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Ein cyfeirnod / Our reference" in text and "Annwyl Siân Jones" in text
    with pymupdf.open(pdf) as document:
        sizes = {round(span["size"]) for page in document for block in page.get_text("dict")["blocks"]
                 for line in block.get("lines", []) for span in line["spans"] if "cyfeirnod yw" in span["text"]}
    assert sizes == {16}  # large print: Layout.large()'s 16pt body


def test_with_welsh_off_the_forms_language_changes_nothing_but_its_adjustments_still_land(make_settings):
    service = scheduler.build(make_settings())
    reference = process(service, web_submission(description=LEAK, language="cy", adjustments=["phone_call"],
                                                note="Ffoniwch ar ôl 2pm", address=None))
    with service.db.sessions() as session:
        case = find(session, reference)
        assert (case.adjustments, case.adjustment_note, case.language) == (["phone_call"], "Ffoniwch ar ôl 2pm", None)
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)).all()
        assert [row.channel for row in rows] == ["email"]  # a phone call is asked for: we still write
        assert not rows[0].subject.startswith("Eich")
        queued = [e for e in case.events if e.action == "acknowledgement_queued"]
        assert queued and queued[0].detail["note"] == "the resident asked for a phone call: call them as well"


def test_post_only_with_no_postal_address_queues_nothing_and_the_case_says_why(make_settings):
    service = scheduler.build(make_settings())
    reference = process(service, web_submission(description="The roof in my bedroom still leaks and nobody has come "
                                                "back after four calls. I want to complain.", language="en",
                                                adjustments=["post_only"], note=None, address=None))
    with service.db.sessions() as session:
        case = find(session, reference)
        assert session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)).all() == []
        reasons = [e.detail.get("reason") for e in case.events if e.action == "no_acknowledgement"]
        assert reasons == ["resident asked for post but no postal address: tell them another way"]


def test_a_later_form_adds_to_what_a_person_set(make_settings):
    service = scheduler.build(make_settings(landlord={"welsh": True}))
    reference = process(service, web_submission(description="My kitchen tap drips all day; please send someone.",
                                                language="en", adjustments=[], note=None))
    casework = scheduler.build_casework(service.settings, service.db)
    casework.adjust(reference, ["large_print"], "Partially sighted", by="alice@landlord.org")

    process(service, web_submission(description=f"About {reference}: the tap still drips and nobody came.",
                                    language="en", adjustments=["post_only"], note="No email please"))

    with service.db.sessions() as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert len(case.submissions) == 2
        assert case.adjustments == ["large_print", "post_only"]
        assert case.adjustment_note == "Partially sighted\nNo email please"
        assert case.language is None  # the English form, English words: still English
