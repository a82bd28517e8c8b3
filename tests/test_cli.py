"""The `intake` command as people and scripts use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO

DEMO = REPO / "demo" / "mail"


def intake(*args: str, env: dict | None = None, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_classify_json_prints_one_object_per_file_in_the_promised_form(tmp_path):
    letter = tmp_path / "letter.txt"
    letter.write_text("Dear Sir,\nThe smell of gas in my kitchen is very strong this morning.\nMrs P Jones, 4 Oak Road")
    paths = [DEMO / "04-gas-smell.eml", DEMO / "08-ooo.eml", DEMO / "03-compliment.eml", letter]
    result = intake("classify", "--json", *map(str, paths))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["path"] for row in rows] == [str(path) for path in paths]
    for row in rows:
        assert set(row) == {"path", "category", "confidence", "flags", "auto_reply", "acknowledgement", "model_version"}
        assert row["category"] in {"complaint", "service_request", "compliment", "out_of_scope"}
        assert 0 <= row["confidence"] <= 1 and row["acknowledgement"] in {"category", "neutral", "none"}
    gas, out_of_office, compliment, letter_row = rows
    assert "emergency_hazard" in gas["flags"]
    assert out_of_office["auto_reply"] is True and out_of_office["acknowledgement"] == "none"
    assert "auto_reply" in out_of_office["flags"]
    assert compliment["category"] == "compliment"
    assert "emergency_hazard" in letter_row["flags"]


def test_classify_reports_an_unreadable_file_and_carries_on(tmp_path):
    missing = tmp_path / "missing.eml"
    result = intake("classify", "--json", str(missing), str(DEMO / "03-compliment.eml"))
    assert result.returncode == 1
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert "error" in first and second["category"] == "compliment"


def test_run_once_then_cases_prints_the_table(tmp_path):
    env = {"INTAKE_VAR_DIR": str(tmp_path / "var"), "INTAKE_MAILDIR": json.dumps([{"name": "m", "path": str(tmp_path / "md")}])}
    from tests.mail import deliver, make_mail, new_maildir

    deliver(new_maildir(tmp_path / "md"), make_mail(body="My boiler has stopped working, could someone come out please?"))
    assert intake("run", "--once", env=env).returncode == 0
    table = intake("cases", env=env)
    assert table.returncode == 0
    header, row = table.stdout.splitlines()[:2]
    assert header.split()[:5] == ["reference", "category", "flags", "stage", "status"]
    assert row.split()[0].startswith(("SR-", "GEN-", "CMP-"))


def test_a_wrong_setting_is_a_clear_error_not_a_traceback(tmp_path):
    result = intake("run", "--once", env={"INTAKE_POLICY__NATION": "FRA", "INTAKE_VAR_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "policy.nation" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_config_file_is_a_clear_error(tmp_path):
    result = intake("--config", str(tmp_path / "nope.toml"), "cases")
    assert result.returncode == 2 and "config file not found" in result.stderr


def test_classify_json_reads_scanned_letters_with_ocr_first(tmp_path):
    from tests.letters.scans import LETTER, save_png, save_text_pdf

    scan = save_png(tmp_path / "scan.png", LETTER)
    pdf = save_text_pdf(tmp_path / "letter.pdf", LETTER)
    result = intake("classify", "--json", str(scan), str(pdf))
    assert result.returncode == 0, result.stderr
    png_row, pdf_row = [json.loads(line) for line in result.stdout.splitlines()]
    assert png_row["category"] == pdf_row["category"] == "complaint"
    assert png_row["acknowledgement"] in {"category", "neutral"}  # by post: the letter has an address
