"""Settings: every mistake a person can make in the TOML file or the environment is an error that
names the setting or the file, through ``load_settings`` as the command loads them."""

from __future__ import annotations

import os

import pytest

from core.errors import ConfigurationError
from core.settings import load_settings
from tests.conftest import REPO

IMAP = 'name = "office"\nhost = "imap.example.org"\nusername = "u"\npassword = "p"\n'


@pytest.fixture(autouse=True)
def no_outside_settings(monkeypatch, tmp_path):
    """Only what a test sets counts: no INTAKE_ variable from the shell, nothing written under the repo."""
    for name in [name for name in os.environ if name.startswith("INTAKE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("INTAKE_CONFIG", "")  # load_settings(path) sets it; the fixture restores it
    monkeypatch.setenv("INTAKE_VAR_DIR", str(tmp_path / "var"))


def toml(tmp_path, text: str):
    path = tmp_path / "intake.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_from(**kwargs) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(**kwargs)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[smtp]\nhostname = "mail.example.org"\n', "smtp.hostname: Extra inputs are not permitted"),
        ("[policy]\nstage_1_ack_days = 3\n", "policy.stage_1_ack_days: Extra inputs are not permitted"),
        (f"[[imap]]\n{IMAP}pasword = \"p\"\n", "imap.0.pasword: Extra inputs are not permitted"),
        ('[landlord]\nmail = "a@example.org"\n', "landlord.mail: Extra inputs are not permitted"),
        ('[[maildir]]\nname = "m"\npath = "md"\nfolder = "x"\n', "maildir.0.folder: Extra inputs are not permitted"),
        ('[letters]\npath = "scans"\nlanguage = "eng"\n', "letters.language: Extra inputs are not permitted"),
        ("[outbox]\nmax_acks = 2\n", "outbox.max_acks: Extra inputs are not permitted"),
        ('[classifier]\nmodel = "m"\n', "classifier.model: Extra inputs are not permitted"),
        ('[references]\nprefix = "X"\n', "references.prefix: Extra inputs are not permitted"),
        ("pol_seconds = 5\n", "pol_seconds: Extra inputs are not permitted"),
    ],
)
def test_a_misspelt_key_in_any_table_is_an_error_naming_it(tmp_path, text, line):
    assert f"  {line}" in error_from(config_file=toml(tmp_path, text)).splitlines()


def test_a_misspelt_key_in_the_environment_is_an_error_naming_it(monkeypatch):
    monkeypatch.setenv("INTAKE_SMTP__HOSTNAME", "mail.example.org")
    assert "smtp.hostname: Extra inputs are not permitted" in error_from()


def test_the_right_keys_still_load_from_the_file_and_the_environment_wins(tmp_path, monkeypatch):
    path = toml(tmp_path, f'poll_seconds = 5\n[smtp]\nhost = "mail.example.org"\n[policy]\nstage1_ack_days = 3\n'
                          f"[[imap]]\n{IMAP}")
    monkeypatch.setenv("INTAKE_CONFIG", str(path))
    monkeypatch.setenv("INTAKE_SMTP__PORT", "2525")
    settings = load_settings()
    assert (settings.poll_seconds, settings.smtp.host, settings.smtp.port) == (5, "mail.example.org", 2525)
    assert settings.policy.stage1_ack_days == 3 and settings.imap[0].password == "p"


def test_the_demo_settings_file_loads():
    settings = load_settings(config_file=REPO / "demo" / "intake.toml")
    assert settings.maildir[0].name == "demo-mailbox"


def test_a_config_file_named_by_intake_config_that_does_not_exist_is_an_error_naming_it(tmp_path, monkeypatch):
    missing = tmp_path / "nope.toml"
    monkeypatch.setenv("INTAKE_CONFIG", str(missing))
    assert error_from() == f"config file not found: {missing} (named by INTAKE_CONFIG)"


def test_a_config_file_given_on_the_command_line_that_does_not_exist_is_an_error_naming_it(tmp_path):
    missing = tmp_path / "nope.toml"
    assert error_from(config_file=missing) == f"config file not found: {missing}"


def test_broken_toml_is_one_line_naming_the_file_and_the_line(tmp_path, monkeypatch):
    path = toml(tmp_path, 'log_level = "INFO"\npoll_seconds = \n')
    monkeypatch.setenv("INTAKE_CONFIG", str(path))
    message = error_from()
    assert "\n" not in message
    assert str(path) in message and "line 2" in message and "not valid TOML" in message


def test_a_toml_file_that_is_not_utf8_is_an_error_naming_it(tmp_path):
    path = tmp_path / "intake.toml"
    path.write_bytes(b'log_level = "\xff"\n')
    message = error_from(config_file=path)
    assert "\n" not in message and str(path) in message


@pytest.mark.parametrize("value", ["0", "-5", "-0.5"])
def test_poll_seconds_must_be_more_than_zero(monkeypatch, value):
    monkeypatch.setenv("INTAKE_POLL_SECONDS", value)
    assert "poll_seconds: Input should be greater than 0" in error_from()


def test_poll_seconds_of_zero_in_the_file_is_an_error_too(tmp_path):
    message = error_from(config_file=toml(tmp_path, "poll_seconds = 0\n"))
    assert "poll_seconds: Input should be greater than 0" in message


def test_an_unknown_log_level_is_an_error_naming_the_setting(monkeypatch):
    monkeypatch.setenv("INTAKE_LOG_LEVEL", "LOUD")
    message = error_from()
    assert "log_level: Value error, must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'" in message


def test_a_log_level_in_lower_case_is_accepted_and_stored_as_logging_wants_it(tmp_path):
    assert load_settings(config_file=toml(tmp_path, 'log_level = "warning"\n')).log_level == "WARNING"


def test_an_unknown_time_zone_is_an_error_naming_the_setting_not_a_traceback(monkeypatch):
    monkeypatch.setenv("INTAKE_POLICY__TIMEZONE", "Europe/Atlantis")
    assert "policy.timezone: Value error, no time zone called 'Europe/Atlantis'" in error_from()
