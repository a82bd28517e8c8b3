"""`intake case ...` as a landlord's script would use it: the real command, a real SQLite file, the
shipped model. The JSON shape and the exit codes are a contract; dates are counted by hand."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

BY = ["--by", "alice@landlord.org"]


@pytest.fixture
def intake(tmp_path):
    env = {**os.environ, "INTAKE_VAR_DIR": str(tmp_path / "var")}
    env.pop("INTAKE_CONFIG", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=120)

    return run


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def refused(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    return lines[-1]


def show(intake, reference: str) -> dict:
    return json.loads(ok(intake("case", "show", reference, "--json")))


def test_a_phone_complaint_is_logged_worked_and_shown_as_json(intake):
    reference = ok(intake("case", "log-contact", "--channel", "phone", "--name", "Mrs P Jones", "--email",
                          "p.jones@example.net", "--notes", "Mrs Jones rang to complain that the roof repair was "
                          "promised three times and nobody came. She is very unhappy.", "--on", "2026-11-02", *BY))
    assert re.fullmatch(r"(CMP|SR|CPL|GEN)-2026-\d{6}", reference)
    ok(intake("case", "reclassify", reference, "--category", "complaint", "--flags", "", *BY))
    case = show(intake, reference)
    if case["status"] == "held":
        ok(intake("case", "release", reference, *BY))
    ok(intake("case", "assign", reference, "--to", "bob@landlord.org", *BY))
    ok(intake("case", "acknowledge", reference, "--channel", "phone", "--on", "2026-11-03", *BY))
    ok(intake("case", "extend", reference, "--days", "5", "--reason", "waiting for the roofer", "--on", "2026-11-10",
              *BY))

    case = show(intake, reference)
    assert {"reference", "category", "flags", "stage", "status", "assignee", "received_at", "clocks", "events"} <= set(case)
    assert (case["reference"], case["category"], case["stage"], case["assignee"]) == (
        reference, "complaint", 1, "bob@landlord.org")
    assert case["received_at"].startswith("2026-11-02")
    clocks = {clock["kind"]: clock for clock in case["clocks"]}
    assert set(clocks["response_stage1"]) >= {"kind", "starts_at", "due_at", "met_at", "extended_by_days"}
    assert clocks["ack_stage1"]["met_at"].startswith("2026-11-03")
    # acknowledged Tue 3 Nov: 10 wd is Tue 17 Nov; 5 more: 18, 19, 20, 23, 24 -> Tue 24 Nov, end of day
    assert clocks["response_stage1"]["due_at"] == "2026-11-24T23:59:59+00:00"
    assert clocks["response_stage1"]["extended_by_days"] == 5
    actions = [(event["actor"], event["action"]) for event in case["events"]]
    assert ("alice@landlord.org", "contact_logged") in actions
    assert ("alice@landlord.org", "clock_extended") in actions
    assert all(set(event) >= {"at", "actor", "action"} for event in case["events"])

    ok(intake("case", "close", reference, "--outcome", "upheld", *BY))
    assert "closed" in refused(intake("case", "respond", reference, *BY))
    listed = [json.loads(line) for line in ok(intake("case", "list", "--json", "--status", "closed")).splitlines()]
    assert [row["reference"] for row in listed] == [reference]


def test_a_wrong_reference_a_bad_date_and_a_verb_that_does_not_apply_are_one_line_and_exit_2(intake):
    reference = ok(intake("case", "log-contact", "--channel", "in_person", "--name", "Sam", "--email",
                          "sam@example.net", "--notes", "The light in the stairwell of block C is out again.", *BY))
    ok(intake("case", "reclassify", reference, "--category", "service_request", *BY))
    before = show(intake, reference)

    assert "no case has the reference" in refused(intake("case", "assign", "CMP-2026-999999", "--to", "x", *BY))
    assert "not a date" in refused(intake("case", "close", reference, "--outcome", "upheld", "--on", "2026-13-45", *BY))
    assert "not a complaint" in refused(intake("case", "escalate", reference, *BY))
    assert "future" in refused(intake("case", "close", reference, "--outcome", "upheld", "--on", "2099-01-01", *BY))
    assert show(intake, reference) == before
