"""`intake print batch|posted` and `intake check` refusing the shipped example landlord, run as the
real command in a subprocess on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

from pypdf import PdfReader

from core.db import Database
from responders.post import LetterPrinter
from responders.render import TemplateSet
from tests.conftest import REPO
from tests.letters.test_print_batch import RIVERSIDE, queue

LANDLORD = '[landlord]\nname = "Riverside Homes"\naddress = ["2 Quay Street", "Riverton", "RV1 2AB"]\n'


def intake(tmp_path, *args: str, toml: str = LANDLORD, letters: bool = True) -> subprocess.CompletedProcess:
    (tmp_path / "letters").mkdir(exist_ok=True)
    config = tmp_path / "intake.toml"
    source = f'[letters]\npath = "{tmp_path / "letters"}"\nprint_dir = "{tmp_path / "print"}"\n' if letters else ""
    config.write_text(f'var_dir = "{tmp_path / "var"}"\n{toml}{source}', encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if not name.startswith("INTAKE_")}
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**env, "INTAKE_CONFIG": str(config)})


def printed_letters(tmp_path) -> list[int]:
    """Two letters printed on Monday 7 December 2026 (GMT: local = UTC), before the 15:00 cut."""
    (tmp_path / "var").mkdir(exist_ok=True)
    db = Database(f"sqlite:///{tmp_path / 'var' / 'intake.db'}")
    db.migrate()
    templates = TemplateSet()
    printer = LetterPrinter(db, templates, RIVERSIDE, tmp_path / "print")
    ids = []
    for reference, hour in (("CMP-2026-000101", 9), ("CMP-2026-000102", 11)):
        at = dt.datetime(2026, 12, 7, hour, 0, tzinfo=dt.UTC)
        ids.append(queue(db, templates, reference, at=at))
        assert printer.run_once(now=at) == 1
    db.engine.dispose()
    return ids


def test_print_batch_writes_the_days_file_and_prints_its_path(tmp_path):
    ids = printed_letters(tmp_path)
    result = intake(tmp_path, "print", "batch", "--date", "2026-12-07")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "print" / "batches" / "print-batch-2026-12-07.pdf"
    assert result.stdout.splitlines() == [str(path)]
    assert "2 letters (0 large print)" in result.stderr
    cover = PdfReader(path).pages[0].extract_text()
    assert "Letters: 2." in cover and f"(outbox {ids[0]})  page 2" in cover


def test_print_posted_records_the_days_batch_once(tmp_path):
    printed_letters(tmp_path)
    first = intake(tmp_path, "print", "posted", "--date", "2026-12-07", "--by", "post.room@riverside.example")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == ("2 letters of the 2026-12-07 batch recorded as posted by post.room@riverside.example"
                                    " (0 already were)")
    again = intake(tmp_path, "print", "posted", "--date", "2026-12-07", "--by", "bob@riverside.example")
    assert again.stdout.strip().startswith("0 letters") and again.stdout.strip().endswith("(2 already were)")
    other_day = intake(tmp_path, "print", "posted", "--date", "2026-12-08", "--by", "bob@riverside.example")
    assert other_day.stdout.strip().startswith("0 letters") and "(0 already were)" in other_day.stdout


def test_a_bad_date_is_one_line_and_exit_2(tmp_path):
    result = intake(tmp_path, "print", "batch", "--date", "7/12/2026")
    assert result.returncode == 2 and "not a date: '7/12/2026' (use YYYY-MM-DD)" in result.stderr


def test_intake_check_refuses_to_print_with_the_example_landlord(tmp_path):
    result = intake(tmp_path, "check", toml="")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "landlord name and address are the shipped example (Example Homes, EX1 1AA) and letters letters would print "
        "them: set [landlord] name and address"]
    half = intake(tmp_path, "check", toml='[landlord]\nname = "Riverside Homes"\n')
    assert half.returncode == 1 and half.stderr.startswith("landlord address is the shipped example")


def test_intake_check_passes_a_configured_landlord_and_ignores_the_example_without_letters(tmp_path):
    assert intake(tmp_path, "check").returncode == 0
    assert intake(tmp_path, "check", toml="", letters=False).returncode == 0
