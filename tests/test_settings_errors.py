"""The real `intake` command, run as a person runs it, given each mistake issue 16 lists: one line
(``intake: ...``) naming what is wrong, the exit status the README's table gives, never a traceback."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO

MAILDIR_TOML = '[[maildir]]\nname = "office"\npath = "{path}"\n'


def intake(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env=_environment(env))


def _environment(env: dict | None) -> dict:
    """The shell's environment without any INTAKE_ setting, plus the test's own."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("INTAKE_")}
    return {**clean, **(env or {})}


def one_line(result: subprocess.CompletedProcess, status: int) -> str:
    """The single line the command printed, having exited with ``status`` and no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == status, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("intake: ")
    return lines[0]


def invalid(result: subprocess.CompletedProcess) -> list[str]:
    """Bad values: ``intake: invalid settings:`` then one line per wrong setting, status 2, no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    first, *problems = result.stderr.strip().splitlines()
    assert first == "intake: invalid settings:" and problems
    return [problem.strip() for problem in problems]


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "intake.toml"
    path.write_text(text, encoding="utf-8")
    return path


def maildir(tmp_path: Path) -> Path:
    for folder in ("cur", "new", "tmp"):
        (tmp_path / "mail" / folder).mkdir(parents=True, exist_ok=True)
    return tmp_path / "mail"


# -- --config anywhere -----------------------------------------------------------------------------------


def test_config_given_after_the_command_is_read(tmp_path):
    var = tmp_path / "from-the-file"
    config = toml(tmp_path, f'var_dir = "{var}"\n' + MAILDIR_TOML.format(path=maildir(tmp_path)))
    result = intake("run", "--once", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert (var / "intake.db").is_file()  # the file's var_dir was used, so the file was read


def test_config_given_after_a_nested_command_is_read(tmp_path):
    config = toml(tmp_path, "poll_seconds = -1\n")
    assert invalid(intake("case", "show", "CMP-2026-000001", "--config", str(config))) == [
        "poll_seconds: Input should be greater than 0"]


def test_a_missing_config_file_after_the_command_is_named(tmp_path):
    missing = tmp_path / "nope.toml"
    assert one_line(intake("cases", "--config", str(missing)), 2) == f"intake: config file not found: {missing}"


# -- unknown keys and bad values ----------------------------------------------------------------------------


def test_an_unknown_top_level_environment_variable_is_named(tmp_path):
    line = one_line(intake("cases", env={"INTAKE_VAR_DIR": str(tmp_path), "INTAKE_POLL_SECOND": "5"}), 2)
    assert "INTAKE_POLL_SECOND" in line and "not a setting" in line


def test_a_table_setting_with_one_underscore_is_named_with_the_hint(tmp_path):
    line = one_line(intake("cases", env={"INTAKE_VAR_DIR": str(tmp_path), "INTAKE_SMTP_HOST": "mail.example.org"}), 2)
    assert "INTAKE_SMTP_HOST" in line and "INTAKE_SMTP__HOST" in line


def test_the_test_suites_own_variables_and_the_password_are_not_settings_mistakes(tmp_path):
    env = {"INTAKE_VAR_DIR": str(tmp_path), "INTAKE_TEST_POSTGRES": "x", "INTAKE_PASSWORD": "p"}
    assert intake("cases", env=env).returncode == 0


def test_an_unknown_key_in_an_array_of_tables_is_named(tmp_path):
    config = toml(tmp_path, MAILDIR_TOML.format(path=maildir(tmp_path)) + 'folder = "INBOX"\n')
    result = intake("check", "--config", str(config), env={"INTAKE_VAR_DIR": str(tmp_path / "var")})
    assert invalid(result) == ["maildir.0.folder: Extra inputs are not permitted"]


def test_an_unknown_key_in_a_nested_environment_variable_is_named(tmp_path):
    result = intake("cases", env={"INTAKE_VAR_DIR": str(tmp_path), "INTAKE_RETENTION__CLOSED_CASE_YEAR": "7"})
    assert invalid(result) == ["retention.closed_case_year: Extra inputs are not permitted"]


def test_a_negative_poll_interval_is_refused_before_anything_runs(tmp_path):
    config = toml(tmp_path, f'var_dir = "{tmp_path / "var"}"\npoll_seconds = -5\n'
                  + MAILDIR_TOML.format(path=maildir(tmp_path)))
    assert invalid(intake("run", "--config", str(config))) == ["poll_seconds: Input should be greater than 0"]
    assert not (tmp_path / "var").exists()  # refused before the worker made anything


def test_a_negative_number_of_days_in_the_policy_is_refused(tmp_path):
    result = intake("check", env={"INTAKE_VAR_DIR": str(tmp_path), "INTAKE_POLICY__STAGE1_ACK_DAYS": "-1"})
    assert invalid(result) == ["policy.stage1_ack_days: Input should be greater than or equal to 0"]


def test_broken_toml_is_one_line(tmp_path):
    config = toml(tmp_path, "poll_seconds = \n")
    line = one_line(intake("--config", str(config), "cases"), 2)
    assert "not valid TOML" in line and "line 1" in line


# -- outside failures -------------------------------------------------------------------------------------


def test_an_unreachable_database_is_one_line_with_the_password_hidden(tmp_path):
    url = f"postgresql+psycopg://intake:s3cret@127.0.0.1:{closed_port()}/intake"
    line = one_line(intake("cases", env={"INTAKE_VAR_DIR": str(tmp_path), "INTAKE_DATABASE_URL": url}), 1)
    assert line.startswith(f"intake: cannot use the database postgresql+psycopg://intake:***@127.0.0.1:")
    assert "refused" in line and "s3cret" not in line


def test_a_var_dir_that_cannot_be_written_is_one_line_naming_it(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # var_dir below a file: unwritable even for root, who ignores folder modes
    line = one_line(intake("cases", env={"INTAKE_VAR_DIR": str(blocker / "var")}), 1)
    assert line == f"intake: cannot use {blocker / 'var'} (var_dir): Not a directory"


def test_ctrl_c_is_one_line_and_status_130(tmp_path):
    """Ctrl-C while the command waits for another process migrating the database (the lock file beside
    it, held here). The worker itself (`intake run`) stops cleanly on SIGINT instead: see scheduler.py."""
    var = tmp_path / "var"
    var.mkdir()
    lock = var / "intake.db.migrate-lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        command = subprocess.Popen([sys.executable, "-m", "cli", "cases"], cwd=REPO,
                                   env=_environment({"INTAKE_VAR_DIR": str(var)}), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: has_open(command.pid, lock), seconds=60)  # then it waits in flock
            time.sleep(0.2)
            command.send_signal(signal.SIGINT)
            _, stderr = command.communicate(timeout=60)
        finally:
            if command.poll() is None:
                command.kill()
    assert command.returncode == 130 and "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines() == ["intake: interrupted"]


def has_open(pid: int, path: Path) -> bool:
    folder = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in folder.iterdir())
    except OSError:
        return False  # a descriptor closed while listing


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on leaving: nothing listens there


def wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_database_url_can_be_read_from_a_file_a_container_secret(tmp_path, postgresql_url):
    postgres_url = postgresql_url
    url_file = tmp_path / "database_url"
    url_file.write_text(postgres_url + "\n", encoding="utf-8")
    result = intake("migrate", "--check", env={"INTAKE_DATABASE_URL_FILE": str(url_file),
                                                "INTAKE_VAR_DIR": str(tmp_path / "var")})
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1  # the new database is empty: its migrations are pending
    assert "migration(s) pending" in result.stdout
    assert not (tmp_path / "var" / "intake.db").exists()  # it looked at PostgreSQL, not a SQLite file

    problems = invalid(intake("check", env={"INTAKE_DATABASE_URL_FILE": str(url_file),
                                            "INTAKE_DATABASE_URL": postgres_url}))
    assert any("give database_url or database_url_file, not both" in p for p in problems), problems
    problems = invalid(intake("check", env={"INTAKE_DATABASE_URL_FILE": str(tmp_path / "missing")}))
    assert any("database_url_file: cannot read" in p and "missing" in p for p in problems), problems
