"""`intake report tsm` as a landlord's script would run it: the real command, a real SQLite file. Its
field names are a contract (the Regulator's return is filled from them); figures are counted by hand.

Two complaints in November 2025 (England; no bank holiday in November), each logged as a phone call:
* P received Mon 3 Nov, acknowledged Tue 4 Nov; response due 10 working days after 4 Nov: 5, 6, 7,
  10, 11, 12, 13, 14, 17, 18 -> Tue 18 Nov; responded Mon 17 Nov: within.
* Q received Wed 5 Nov, acknowledged Thu 6 Nov; response due: 7, 10-14 (6), 17-20 (10) -> Thu 20 Nov;
  responded Mon 24 Nov: not within.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

BY = ["--by", "alice@landlord.org"]
PERIOD = ["--from", "2025-11-01", "--to", "2025-11-30"]


@pytest.fixture(scope="module")
def intake(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("report") / "var"
    env = {**os.environ, "INTAKE_VAR_DIR": str(var_dir)}
    for name in ("INTAKE_CONFIG", "INTAKE_FIGURES__HOMES", "INTAKE_FIGURES__HOMES_BY_STOCK_TYPE"):
        env.pop(name, None)

    def run(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO, env={**env, **extra_env},
                              capture_output=True, text=True, timeout=120)

    for received, acknowledged, responded in [("2025-11-03", "2025-11-04", "2025-11-17"),
                                              ("2025-11-05", "2025-11-06", "2025-11-24")]:
        made = run("case", "log-contact", "--channel", "phone", "--name", "A resident", "--notes",
                   "Unhappy that the broken fence was never repaired.", "--on", received, *BY)
        assert made.returncode == 0, made.stderr
        reference = made.stdout.split()[-1]
        for verb in (["reclassify", reference, "--category", "complaint", "--flags", "", "--on", received],
                     ["acknowledge", reference, "--on", acknowledged], ["respond", reference, "--on", responded]):
            done = run("case", *verb, *BY)
            assert done.returncode == 0, done.stderr
    return run


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


EXPECTED = {
    "from": "2025-11-01", "to": "2025-11-30", "homes": 1600,
    # 2 stage 1 complaints / 1,600 homes x 1,000 = 1.25; none at stage 2
    "ch01_stage1_per_1000": 1.25, "ch01_stage2_per_1000": 0.0,
    # P within, Q not: 1 / 2 = 50.0 %; no stage 2 response, so no percentage
    "ch02_stage1_within_pct": 50.0, "ch02_stage2_within_pct": None,
    "stage1_received": 2, "stage2_received": 0, "stage1_responded": 2, "stage1_responded_within": 1,
    "stage1_within_by_extension": 0, "stage1_extension_past_limit": 0, "stage2_responded": 0,
    "stage2_responded_within": 0, "stage2_within_by_extension": 0, "stage2_extension_past_limit": 0,
}


def test_tsm_as_json_with_homes_from_the_settings(intake):
    tsm = json.loads(ok(intake("report", "tsm", *PERIOD, INTAKE_FIGURES__HOMES="1600")))
    assert tsm == EXPECTED
    assert list(tsm) == list(EXPECTED)  # the fields in the contract's order


def test_tsm_as_csv_has_the_same_fields_and_values(intake):
    rows = list(csv.reader(io.StringIO(ok(intake("report", "tsm", *PERIOD, "--format", "csv",
                                                 INTAKE_FIGURES__HOMES="1600")))))
    assert len(rows) == 2 and rows[0] == list(EXPECTED)
    assert dict(zip(rows[0], rows[1])) == {key: "" if value is None else str(value) for key, value in EXPECTED.items()}


def test_homes_option_overrides_the_setting_and_stock_types_add_up(intake):
    # --homes 400 wins over the setting: 2 / 400 x 1,000 = 5.0
    tsm = json.loads(ok(intake("report", "tsm", *PERIOD, "--homes", "400", INTAKE_FIGURES__HOMES="1600")))
    assert (tsm["homes"], tsm["ch01_stage1_per_1000"]) == (400, 5.0)
    # only stock types: 1,200 + 400 = 1,600 homes
    tsm = json.loads(ok(intake("report", "tsm", *PERIOD,
                               INTAKE_FIGURES__HOMES_BY_STOCK_TYPE='{"LCRA": 1200, "LCHO": 400}')))
    assert (tsm["homes"], tsm["ch01_stage1_per_1000"]) == (1600, 1.25)


def test_missing_homes_bad_input_and_disagreeing_settings_are_one_line_and_exit_2(intake):
    def refused(result: subprocess.CompletedProcess) -> str:
        assert result.returncode == 2, (result.stdout, result.stderr)
        assert result.stdout == "" and "Traceback" not in result.stderr
        return result.stderr.strip().splitlines()[-1]

    missing = refused(intake("report", "tsm", *PERIOD))
    assert "[figures] homes" in missing and "--homes" in missing
    assert "before it starts" in refused(intake("report", "tsm", "--from", "2025-11-30", "--to", "2025-11-01",
                                               "--homes", "10"))
    assert "not a date" in refused(intake("report", "tsm", "--from", "2025-11-31", "--to", "2025-12-01"))
    assert "not a number of homes" in refused(intake("report", "tsm", *PERIOD, "--homes", "0"))
    disagree = refused(intake("report", "tsm", *PERIOD, INTAKE_FIGURES__HOMES="10",
                              INTAKE_FIGURES__HOMES_BY_STOCK_TYPE='{"LCRA": 5}'))
    assert "homes=10" in disagree and "homes_by_stock_type" in disagree


def test_figures_report_gives_every_figure_and_one_as_csv(intake):
    figures = json.loads(ok(intake("report", "figures", *PERIOD)))
    names = [figure["name"] for figure in figures["figures"]]
    assert {"ch01", "ch02", "acknowledgements", "extensions", "outcomes", "awaabs_law", "open_by_age",
            "classifier_agreement", "held_by_reason", "received_by_category", "received_by_channel"} <= set(names)
    assert figures["tsm"]["stage1_responded_within"] == 1 and figures["tsm"]["homes"] is None
    table = list(csv.reader(io.StringIO(ok(intake("report", "figures", *PERIOD, "--figure", "acknowledgements",
                                                  "--format", "csv")))))
    # both acknowledged the next working day, well inside 5
    assert table == [["stage", "received", "within", "late", "waiting", "within_pct"],
                     ["stage_1", "2", "2", "0", "0", "100.0"], ["stage_2", "0", "0", "0", "0", ""]]
    assert "no figure called" in intake("report", "figures", *PERIOD, "--figure", "nope").stderr
