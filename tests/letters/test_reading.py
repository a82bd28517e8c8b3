"""Reading a stored letter into a ParsedMessage and the facts staff and the pipeline need."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import UnreadableSubmission
from casework.models import Submission
from classifier import Classification
from pipeline.classify_files import classify_file
from intake.scans.reading import read_letter_file, read_letter_submission
from pipeline.runner import store
from tests.letters.conftest import drain, settle
from tests.letters.scans import (
    EMAIL_LETTER, LETTER, save_corrupt_pdf, save_image_pdf, save_png, save_poor_scan, save_text_pdf, save_tiff,
)


def stored(source, db, *paths) -> list[int]:
    settle(*paths)
    for item in drain(source):
        store(db, item)
    with db.sessions() as session:
        return list(session.scalars(select(Submission.id).order_by(Submission.id)))


def test_it_reads_a_stored_scan_into_a_message_and_notes_the_letters_facts(source, sqlite_db, settings, letters_dir):
    [submission_id] = stored(source, sqlite_db, save_png(letters_dir / "a.png", LETTER))
    with sqlite_db.transaction() as session:
        submission = session.get(Submission, submission_id)
        message = read_letter_submission(submission, settings)
        assert message.sender is None and message.sender_name == "Mrs Jane Smith"
        assert "kitchen sink" in message.new_text
    with sqlite_db.sessions() as session:
        details = session.get(Submission, submission_id).details
    assert details["postal_address"] == ["Mrs Jane Smith", "12 Acacia Avenue", "Exampletown", "EX2 4QT"]
    assert details["postcode"] == "EX2 4QT" and details["phone"] == "07700 900123"
    assert details["low_confidence"] is False and details["letter_references"] == []


def test_the_email_address_in_a_letter_becomes_the_sender(source, sqlite_db, settings, letters_dir):
    [submission_id] = stored(source, sqlite_db, save_text_pdf(letters_dir / "b.pdf", EMAIL_LETTER))
    with sqlite_db.transaction() as session:
        message = read_letter_submission(session.get(Submission, submission_id), settings)
    assert message.sender == "tom.brown@example.net" and message.sender_name == "Tom Brown"


def test_a_poorly_scanned_letter_is_marked_low_confidence_with_its_page_images(source, sqlite_db, settings, letters_dir):
    [submission_id] = stored(source, sqlite_db, save_poor_scan(letters_dir / "poor.jpg", LETTER))
    for _ in range(2):  # a re-run does not add the pages twice
        with sqlite_db.transaction() as session:
            read_letter_submission(session.get(Submission, submission_id), settings)
    with sqlite_db.sessions() as session:
        submission = session.get(Submission, submission_id)
        assert submission.details["low_confidence"] is True
        assert submission.details["ocr_confidence"] < settings.letters.min_ocr_confidence
        assert [(a.filename, a.content_type) for a in submission.attachments] == [("page-1.png", "image/png")]
        assert submission.attachments[0].data.startswith(b"\x89PNG")


def test_an_unreadable_letter_raises_with_the_sources_reason(source, sqlite_db, settings, letters_dir):
    [submission_id] = stored(source, sqlite_db, save_corrupt_pdf(letters_dir / "bad.pdf", LETTER))
    with sqlite_db.transaction() as session, pytest.raises(UnreadableSubmission, match="corrupt PDF"):
        read_letter_submission(session.get(Submission, submission_id), settings)


def test_without_stored_text_it_reads_the_raw_bytes_again(source, sqlite_db, settings, letters_dir):
    [submission_id] = stored(source, sqlite_db, save_image_pdf(letters_dir / "c.pdf", [LETTER]))
    with sqlite_db.transaction() as session:
        submission = session.get(Submission, submission_id)
        submission.extracted_text = None
        submission.details = {k: v for k, v in submission.details.items() if k not in ("text", "ocr_confidence")}
    with sqlite_db.transaction() as session:
        message = read_letter_submission(session.get(Submission, submission_id), settings)
        assert "kitchen sink" in message.text
        assert session.get(Submission, submission_id).details["ocr_confidence"] > 0


@pytest.mark.parametrize("make", [
    lambda d: save_png(d / "l.png", LETTER), lambda d: save_tiff(d / "l.tif", [LETTER]),
    lambda d: save_image_pdf(d / "l.pdf", [LETTER]), lambda d: save_text_pdf(d / "t.pdf", LETTER),
], ids=["png", "tiff", "image-pdf", "text-pdf"])
def test_read_letter_file_ocrs_images_and_pdfs_first(tmp_path, settings, make):
    message, address = read_letter_file(make(tmp_path), settings)
    assert "kitchen sink" in message.text
    assert address[-1] == "EX2 4QT"


class StandInClassifier:
    """Only the classification is fixed here; reading the file is the code under test."""

    threshold = 0.5  # 0.9 is confident enough for a category acknowledgement

    def classify(self, subject: str, text: str) -> Classification:
        category = "complaint" if "complain" in text else "compliment"
        return Classification(category, 0.9, frozenset(), "stand-in")


def test_classify_json_accepts_scans_and_answers_by_post_or_email(tmp_path, settings):
    by_post = classify_file(save_png(tmp_path / "a.png", LETTER), StandInClassifier(), settings)
    by_email = classify_file(save_text_pdf(tmp_path / "b.pdf", EMAIL_LETTER), StandInClassifier(), settings)
    assert (by_post["category"], by_post["acknowledgement"]) == ("complaint", "category")
    assert (by_email["category"], by_email["acknowledgement"]) == ("compliment", "category")
