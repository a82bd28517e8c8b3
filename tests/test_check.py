"""`intake check` as a person runs it before `intake run`: one line per problem and status 1, or
"settings ok" and status 0. Each fault is made for real: a config file, folders that are or are not
there, a copy of the templates with one broken, a PostgreSQL port nothing listens on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

CLOSED_PORT_URL = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/x"


def intake_check(
    tmp_path, extra_toml: str = "", missing: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess:
    """Run `intake check` on a clean config plus ``extra_toml``: a Maildir and a letters folder, both
    made unless named in ``missing``, and the default SQLite file under tmp_path."""
    for folder in {"maildir", "letters"} - set(missing):
        (tmp_path / folder).mkdir(exist_ok=True)
    config = tmp_path / "intake.toml"
    config.write_text(
        f'var_dir = "{tmp_path / "var"}"\n{extra_toml}\n'
        f'[[maildir]]\nname = "office"\npath = "{tmp_path / "maildir"}"\n'
        '[landlord]\nname = "Riverside Homes"\naddress = ["2 Quay Street", "Riverton", "RV1 2AB"]\n'
        f'[letters]\npath = "{tmp_path / "letters"}"\n',
        encoding="utf-8",
    )
    clean_env = {name: value for name, value in os.environ.items() if not name.startswith("INTAKE_")}
    return subprocess.run(
        [sys.executable, "-m", "cli", "check"], cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**clean_env, "INTAKE_CONFIG": str(config), **env},
    )


def problems(result: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr.splitlines()


def test_a_clean_config_says_settings_ok_and_exits_0(tmp_path):
    result = intake_check(tmp_path)
    assert problems(result) == [] and result.returncode == 0
    assert result.stdout.splitlines() == ["settings ok"]


def test_a_policy_that_breaches_the_code_is_one_line_and_exits_1(tmp_path):
    result = intake_check(tmp_path, "[policy]\nstage1_ack_days = 10\n")
    [line] = problems(result)
    assert result.returncode == 1
    assert line.startswith("policy breaches the Complaint Handling Code: stage1_ack_days=10")


def test_a_broken_template_is_one_line_naming_it_and_exits_1(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "responders" / "templates", templates)
    (templates / "email" / "neutral" / "subject.txt").write_text("{{ no_such_thing }}\n")
    result = intake_check(tmp_path, f'templates_dir = "{templates}"\n')
    [line] = problems(result)
    assert result.returncode == 1
    assert line.startswith("template problem: neutral: ") and "no_such_thing" in line


def test_a_missing_templates_folder_is_one_line_not_one_per_template(tmp_path):
    result = intake_check(tmp_path, f'templates_dir = "{tmp_path / "nope"}"\n')
    assert problems(result) == [f"templates_dir {tmp_path / 'nope'} does not exist or is not a folder"]
    assert result.returncode == 1


def test_an_unreachable_database_is_one_line_giving_its_url_without_the_password(tmp_path):
    result = intake_check(tmp_path, f'database_url = "{CLOSED_PORT_URL}"\n')
    [line] = problems(result)
    assert result.returncode == 1
    assert line.startswith("database unreachable: postgresql+psycopg://postgres@127.0.0.1:1/x: ")
    assert "refused" in line.lower()
    assert "hunter2" not in result.stdout + result.stderr


def test_a_database_url_from_the_environment_is_checked_too(tmp_path):
    result = intake_check(tmp_path, INTAKE_DATABASE_URL=CLOSED_PORT_URL)
    [line] = problems(result)
    assert line.startswith("database unreachable: postgresql+psycopg://postgres@127.0.0.1:1/x: ")


def test_a_reachable_postgresql_database_passes(tmp_path, postgresql_url):
    result = intake_check(tmp_path, f'database_url = "{postgresql_url}"\n')
    assert problems(result) == [] and result.returncode == 0


@pytest.mark.parametrize(("table", "name"), [("maildir", "office"), ("letters", "letters")])
def test_a_source_folder_that_does_not_exist_is_one_line_naming_it(tmp_path, table, name):
    result = intake_check(tmp_path, missing=(table,))
    assert problems(result) == [f"{table} {name}: path {tmp_path / table} does not exist or is not a folder"]
    assert result.returncode == 1


@pytest.mark.parametrize(
    ("form", "line"),
    [
        ("{prefix}-{year}", "references.format '{prefix}-{year}' must use {prefix} and {number} and may use {year}"),
        ("{prefix}-{number:06q}", "references.format '{prefix}-{number:06q}' cannot write a reference"),
        ("{prefix}-{number:x}", "references.format '{prefix}-{number:x}' writes references like GEN-7b that would not"),
    ],
)
def test_a_bad_reference_format_is_one_line_naming_it(tmp_path, form, line):
    result = intake_check(tmp_path, f"[references]\nformat = '{form}'\n")
    [problem] = problems(result)
    assert problem.startswith(line) and result.returncode == 1


def test_every_problem_gets_its_own_line_in_a_fixed_order(tmp_path):
    faults = f'database_url = "{CLOSED_PORT_URL}"\n[policy]\nstage2_ack_days = 9\n[references]\nformat = "{{prefix}}"\n'
    result = intake_check(tmp_path, faults, missing=("letters",))
    found = problems(result)
    assert result.returncode == 1
    firsts = [line.split(" ")[0] for line in found]
    assert firsts == ["policy", "database", "letters", "references.format"]


def test_settings_that_do_not_load_exit_2_naming_the_key_without_a_traceback(tmp_path):
    result = intake_check(tmp_path, '[smtp]\nhostname = "mail.example.org"\n')
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "smtp.hostname: Extra inputs are not permitted" in result.stderr
