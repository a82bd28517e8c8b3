"""The scanned-letter folder as a source: only complete files, read at once, filed afterwards."""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import pytest

from core.errors import ConfigurationError, SourceUnavailable

from intake.scans.source import LetterSource
from tests.letters.conftest import drain, settle
from tests.letters.scans import LETTER, save_corrupt_pdf, save_encrypted_pdf, save_png, save_text_pdf, text_pdf_bytes


def test_a_file_is_never_taken_the_first_time_it_is_seen(source, letters_dir):
    settle(save_text_pdf(letters_dir / "a.pdf", LETTER))
    assert list(source.fetch()) == []
    [item] = list(source.fetch())
    assert item.filename == "a.pdf"


def test_a_file_still_being_written_is_not_taken_until_its_size_is_stable(source, letters_dir):
    data = text_pdf_bytes(LETTER)
    growing = letters_dir / "incoming.pdf"
    growing.write_bytes(data[:100])
    assert list(source.fetch()) == []
    growing.write_bytes(data[:2000])
    assert list(source.fetch()) == []  # it grew between polls
    growing.write_bytes(data)
    assert list(source.fetch()) == []  # still growing
    [item] = list(source.fetch())  # unchanged since the last poll: complete
    assert item.raw == data and "unreadable" not in item.details


def test_hidden_and_temporary_files_are_ignored(source, letters_dir):
    for name in (".scan.pdf", "~$letter.pdf", "scan.pdf.tmp", "scan.part", "scan.crdownload", "Thumbs.db"):
        save_text_pdf(letters_dir / name, LETTER)
    (letters_dir / ".incoming").mkdir()
    save_text_pdf(letters_dir / ".incoming" / "scan.pdf", LETTER)
    assert drain(source) == []


def test_the_processed_and_quarantine_folders_are_not_read_again(source, letters_dir):
    for folder in ("processed/2026-11-20", "quarantine"):
        (letters_dir / folder).mkdir(parents=True)
        save_text_pdf(letters_dir / folder / "old.pdf", LETTER)
    assert drain(source) == []


def test_a_letter_becomes_a_raw_item_with_its_text_hash_and_post_room_date(source, letters_dir):
    (letters_dir / "2026-11-20").mkdir()
    path = save_png(letters_dir / "2026-11-20" / "scan 1.png", LETTER)
    settle(path)
    [item] = drain(source)
    assert item.kind == "letter" and item.source == "letters"
    assert item.natural_key == hashlib.sha256(path.read_bytes()).hexdigest()
    assert item.filename == "2026-11-20/scan 1.png"
    assert item.received_at.isoformat() == "2026-11-20T00:00:00+00:00"
    assert str(item.received_at.tzinfo) == "Europe/London"
    details = item.details
    assert details["receipt_date_source"] == "folder" and details["pages"] == 1
    assert "kitchen sink" in details["text"] and details["ocr_confidence"] > 60
    assert dt.datetime.fromisoformat(details["scanned_at"]).tzinfo is not None


def test_a_letter_is_received_at_midnight_in_the_policys_time_zone(settings, letters_dir, tmp_path):
    auckland = ZoneInfo("Pacific/Auckland")
    source = LetterSource(settings.letters, tmp_path / "var", auckland)
    (letters_dir / "2026-11-20").mkdir()
    settle(save_text_pdf(letters_dir / "2026-11-20" / "a.pdf", LETTER))
    [item] = drain(source)
    assert item.received_at.tzinfo is auckland
    assert item.received_at.isoformat() == "2026-11-20T00:00:00+13:00"
    source.done(item)
    today = dt.datetime.now(auckland).date().isoformat()
    assert (letters_dir / "processed" / today / "2026-11-20" / "a.pdf").exists()


def test_done_moves_a_read_letter_to_processed_under_todays_date(source, letters_dir):
    (letters_dir / "2026-11-20").mkdir()
    settle(save_text_pdf(letters_dir / "2026-11-20" / "a.pdf", LETTER))
    [item] = drain(source)
    source.done(item)
    source.done(item)  # idempotent
    today = dt.datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    assert (letters_dir / "processed" / today / "2026-11-20" / "a.pdf").read_bytes() == item.raw
    assert not (letters_dir / "2026-11-20" / "a.pdf").exists()
    assert drain(source) == []


def test_unreadable_files_are_still_yielded_then_quarantined_with_a_note(source, letters_dir):
    settle(
        save_corrupt_pdf(letters_dir / "corrupt.pdf", LETTER),
        save_encrypted_pdf(letters_dir / "locked.pdf", LETTER),
    )
    (letters_dir / "empty.pdf").write_bytes(b"")
    (letters_dir / "letter.docx").write_bytes(b"PK\x03\x04")
    settle(letters_dir / "empty.pdf", letters_dir / "letter.docx")
    items = {item.filename: item for item in drain(source)}
    reasons = {name: item.details["unreadable"] for name, item in items.items()}
    assert "corrupt PDF" in reasons["corrupt.pdf"]
    assert "encrypted" in reasons["locked.pdf"]
    assert "empty" in reasons["empty.pdf"]
    assert "unsupported file type .docx" in reasons["letter.docx"]
    for item in items.values():
        source.done(item)
    quarantine = letters_dir / "quarantine"
    assert (quarantine / "locked.pdf").read_bytes() == items["locked.pdf"].raw
    assert "encrypted" in (quarantine / "locked.pdf.why.txt").read_text()
    assert (quarantine / "empty.pdf").exists() and (quarantine / "empty.pdf.why.txt").exists()
    assert sorted(p.name for p in letters_dir.iterdir()) == ["quarantine"]


def test_a_name_clash_gets_a_suffix_and_nothing_is_overwritten(source, letters_dir):
    quarantine = letters_dir / "quarantine"
    quarantine.mkdir()
    (quarantine / "scan.pdf").write_bytes(b"an earlier file")
    (letters_dir / "scan.pdf").write_bytes(b"")
    settle(letters_dir / "scan.pdf")
    [item] = drain(source)
    source.done(item)
    assert (quarantine / "scan.pdf").read_bytes() == b"an earlier file"
    assert (quarantine / "scan-2.pdf").exists() and (quarantine / "scan-2.pdf.why.txt").exists()


def test_a_missing_folder_makes_the_source_unavailable_not_broken(settings, tmp_path):
    settings.letters.path = tmp_path / "nowhere"
    with pytest.raises(SourceUnavailable):
        list(LetterSource(settings.letters, tmp_path).fetch())


def test_a_missing_ocr_language_is_a_configuration_error_not_a_quarantined_letter(settings, tmp_path):
    settings.letters.ocr_languages = "eng+xyz"
    with pytest.raises(ConfigurationError, match="xyz"):
        LetterSource(settings.letters, tmp_path)
