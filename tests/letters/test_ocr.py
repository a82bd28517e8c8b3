"""Reading letter files with real Tesseract: each format the post room's scanner produces."""

from __future__ import annotations

import pytest

from core.errors import UnreadableSubmission
from intake.scans.ocr import page_images, read_document
from tests.letters.scans import (
    LETTER, image_pdf_bytes, save_corrupt_pdf, save_encrypted_pdf, save_jpeg, save_png, save_tiff, text_pdf_bytes,
)

SECOND_PAGE = "Page two of my letter.\n\nThe bathroom ceiling has black mould\nabove the bath."


def test_it_reads_a_slightly_rotated_noisy_png_scan_with_its_confidence(tmp_path):
    document = read_document(save_png(tmp_path / "scan.png", LETTER).read_bytes(), ".png")
    assert "leak under my" in document.text
    assert "EX2 4QT" in document.text
    assert document.pages == 1
    assert 60 < document.confidence <= 100


def test_it_reads_a_jpeg_scan(tmp_path):
    document = read_document(save_jpeg(tmp_path / "scan.jpg", LETTER, angle=-1.2).read_bytes(), ".JPG")
    assert "kitchen sink" in document.text


def test_it_reads_every_page_of_a_multi_page_tiff(tmp_path):
    document = read_document(save_tiff(tmp_path / "scan.tif", [LETTER, SECOND_PAGE]).read_bytes(), ".tif")
    assert document.pages == 2
    assert "kitchen sink" in document.text
    assert "black mould" in document.text


def test_it_ocrs_each_page_of_an_image_only_pdf():
    document = read_document(image_pdf_bytes([LETTER]), ".pdf")
    assert "kitchen sink" in document.text
    assert document.confidence is not None


def test_it_reads_a_pdf_text_layer_directly_without_ocr():
    document = read_document(text_pdf_bytes(LETTER), ".pdf")
    assert "I am writing to complain about the leak under my" in document.text
    assert document.confidence is None


def test_it_reads_plain_text_letters_in_any_common_encoding():
    document = read_document("Dear Sir, the café roof leaks.".encode("cp1252"), ".txt")
    assert document.text == "Dear Sir, the café roof leaks."
    assert document.confidence is None


@pytest.mark.parametrize(
    ("make", "suffix", "reason"),
    [
        (lambda tmp: save_corrupt_pdf(tmp / "x.pdf", LETTER).read_bytes(), ".pdf", "corrupt PDF"),
        (lambda tmp: save_encrypted_pdf(tmp / "x.pdf", LETTER).read_bytes(), ".pdf", "encrypted"),
        (lambda tmp: b"", ".pdf", "empty"),
        (lambda tmp: b"PK\x03\x04 a word document", ".docx", "unsupported file type .docx"),
        (lambda tmp: b"\x89PNG\r\n\x1a\n cut off", ".png", "corrupt or unrecognised image"),
    ],
    ids=["corrupt", "encrypted", "empty", "unsupported", "broken-image"],
)
def test_it_says_why_a_file_cannot_be_read(tmp_path, make, suffix, reason):
    with pytest.raises(UnreadableSubmission, match=reason):
        read_document(make(tmp_path), suffix)


def test_a_blank_scan_has_no_readable_text(tmp_path):
    with pytest.raises(UnreadableSubmission, match="no readable text"):
        read_document(save_png(tmp_path / "blank.png", "", noise=0.0).read_bytes(), ".png")


def test_it_renders_each_page_as_a_png_for_a_person_to_read(tmp_path):
    pages = page_images(save_tiff(tmp_path / "scan.tif", [LETTER, SECOND_PAGE]).read_bytes(), ".tiff")
    assert len(pages) == 2
    assert all(page.startswith(b"\x89PNG") for page in pages)
    assert len(page_images(image_pdf_bytes([LETTER]), ".pdf")) == 1
