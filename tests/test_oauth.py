"""OAuth2 beyond the IMAP login (tests/intake_sources/test_imap_oauth2.py has that, against Dovecot):
credentials in the settings (a typed choice, secrets from files), warnings before a secret or refresh
token expires, and AUTH XOAUTH2 to a real aiosmtpd server that checks each token with the loopback
introspection endpoint."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import urllib.parse
import urllib.request
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from core.errors import ConfigurationError, TemporaryDeliveryFailure
from core.oauth import TokenUnavailable, credential_expiries, credential_warnings, tokens_for
from core.settings import ImapSourceSettings, Settings, SmtpSettings, load_settings
from responders.transport import SmtpTransport
from tests.conftest import REPO
from tests.intake_sources.oauth_endpoints import CLIENT_ID, CLIENT_SECRET, MAILBOX, REFRESH_TOKEN, OAuth2Endpoints
from tests.smtp_server import Handler, free_port

# aiosmtpd warns about AUTH without TLS on each connection; these servers are on loopback only.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

TODAY = dt.date(2027, 1, 1)
ENTRA = "add a new client secret to the app in Entra ID (Certificates & secrets), then set client_secret and secret_expires_on"
REGRANT = "have the mailbox's owner grant access again, then set refresh_token and refresh_token_expires_on"


def google(endpoints: OAuth2Endpoints | None = None, **overrides) -> dict:
    token_url = endpoints.token_url if endpoints else "https://oauth2.googleapis.com/token"
    return {"provider": "google", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN, "token_url": token_url, **overrides}


def microsoft(**overrides) -> dict:
    return {"provider": "microsoft", "tenant_id": "contoso", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            **overrides}


def imap(**overrides) -> dict:
    return {"name": "complaints", "host": "outlook.office365.com", "username": MAILBOX, **overrides}


def error_from(**settings) -> str:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(**settings)
    return str(raised.value)


# Credentials in the settings -----------------------------------------------------------------------

def test_secrets_are_read_from_files_without_their_trailing_newline(tmp_path):
    (tmp_path / "password").write_text("imap password\n")
    (tmp_path / "secret").write_text("the client secret\r\n")
    (tmp_path / "refresh").write_text("the refresh token\n")

    password = ImapSourceSettings(**imap(password_file=tmp_path / "password"))
    m365 = ImapSourceSettings(**imap(oauth2=microsoft(client_secret=None, client_secret_file=tmp_path / "secret")))
    gmail = SmtpSettings(host="smtp.gmail.com", username=MAILBOX,
                         oauth2=google(client_secret=None, client_secret_file=tmp_path / "secret",
                                       refresh_token=None, refresh_token_file=tmp_path / "refresh"))

    assert password.password == "imap password" and password.oauth2 is None
    assert m365.oauth2.client_secret == "the client secret" and m365.password is None
    assert (gmail.oauth2.client_secret, gmail.oauth2.refresh_token) == ("the client secret", "the refresh token")


def test_an_oauth2_source_loads_from_toml_and_a_password_file_from_the_environment(tmp_path, monkeypatch):
    (tmp_path / "secret").write_text("from a container secret\n")
    (tmp_path / "smtp").write_text("smtp password\n")
    config = tmp_path / "intake.toml"
    config.write_text(f'[[imap]]\nname = "complaints"\nhost = "outlook.office365.com"\nusername = "{MAILBOX}"\n'
                      f'[imap.oauth2]\nprovider = "microsoft"\ntenant_id = "contoso"\nclient_id = "{CLIENT_ID}"\n'
                      f'client_secret_file = "{tmp_path / "secret"}"\nsecret_expires_on = 2027-06-30\n')
    monkeypatch.setenv("INTAKE_SMTP__USERNAME", MAILBOX)
    monkeypatch.setenv("INTAKE_SMTP__PASSWORD_FILE", str(tmp_path / "smtp"))

    settings = load_settings(config_file=config)

    oauth2 = settings.imap[0].oauth2
    assert (oauth2.provider, oauth2.client_secret, oauth2.secret_expires_on) == (
        "microsoft", "from a container secret", dt.date(2027, 6, 30))
    assert oauth2.authority_url == "https://login.microsoftonline.com/contoso"
    assert oauth2.scopes == ["https://outlook.office365.com/.default"]
    assert settings.smtp.password == "smtp password"


def test_a_secret_file_that_cannot_be_read_is_one_line_naming_the_setting(tmp_path):
    missing = tmp_path / "nope"
    (tmp_path / "empty").write_text("\n")

    assert error_from(imap=[imap(oauth2=microsoft(client_secret=None, client_secret_file=missing))]) == (
        f"invalid settings:\n  imap.0.oauth2.microsoft: Value error, client_secret_file: cannot read {missing} "
        "(No such file or directory)")
    assert error_from(smtp={"host": "smtp.example.org", "username": MAILBOX, "password_file": tmp_path / "empty"}) == (
        f"invalid settings:\n  smtp: Value error, password_file: {tmp_path / 'empty'} is empty")


def test_a_login_is_a_password_or_oauth2_never_both_and_never_neither(tmp_path):
    assert error_from(imap=[imap()]) == "invalid settings:\n  imap.0: Value error, password (or password_file) is required"
    assert error_from(imap=[imap(password="p", oauth2=google())]) == (
        "invalid settings:\n  imap.0: Value error, give password (or password_file) or [oauth2], not both")
    assert error_from(imap=[imap(password="p", password_file=tmp_path / "p")]) == (
        "invalid settings:\n  imap.0: Value error, give password or password_file, not both")
    assert error_from(smtp={"host": "smtp.example.org", "oauth2": google()}) == (
        "invalid settings:\n  smtp: Value error, [oauth2] needs username (the mailbox that sends)")
    assert error_from(imap=[imap(oauth2=google(refresh_token=None))]) == (
        "invalid settings:\n  imap.0.oauth2.google: Value error, refresh_token (or refresh_token_file) is required")
    assert "imap.0.oauth2: Input tag 'yahoo' found using 'provider' does not match" in error_from(
        imap=[imap(oauth2={**google(), "provider": "yahoo"})])


def test_secrets_stay_out_of_the_settings_repr():
    shown = repr(Settings(imap=[imap(oauth2=google())], smtp={"host": "h", "username": MAILBOX, "password": "pw-123"}))
    assert CLIENT_SECRET not in shown and REFRESH_TOKEN not in shown and "pw-123" not in shown


# Warnings before a secret runs out ----------------------------------------------------------------

def test_a_secret_within_warn_days_of_its_end_is_warned_about_and_one_further_off_is_not():
    settings = Settings(
        imap=[imap(name="complaints", oauth2=microsoft(secret_expires_on=dt.date(2027, 1, 30))),  # 29 days
              imap(name="repairs", oauth2=microsoft(secret_expires_on=dt.date(2027, 2, 1)))],  # 31 days
        smtp={"host": "smtp.gmail.com", "username": MAILBOX,
              "oauth2": google(refresh_token_expires_on=dt.date(2026, 12, 30), secret_expires_on=TODAY)})

    assert credential_warnings(settings, today=TODAY) == [
        f"IMAP source 'complaints': the OAuth2 client secret expires on 2027-01-30, in 29 days; {ENTRA}",
        "SMTP: the OAuth2 client secret expires today (2027-01-01); add a new client secret in the Google Cloud "
        "console, then set client_secret and secret_expires_on",
        f"SMTP: the OAuth2 refresh token expired on 2026-12-30 (2 days ago): logins fail until it is replaced; {REGRANT}",
    ]
    expiries = {(e.owner, e.credential): (e.days_left, e.due) for e in credential_expiries(settings, today=TODAY)}
    assert expiries == {("imap:complaints", "client_secret"): (29, True), ("imap:repairs", "client_secret"): (31, False),
                        ("smtp", "client_secret"): (0, True), ("smtp", "refresh_token"): (-2, True)}


def test_warn_days_is_each_credentials_own_and_no_date_means_no_warning():
    settings = Settings(imap=[imap(name="a", oauth2=microsoft(secret_expires_on=dt.date(2027, 3, 1), warn_days=90)),
                              imap(name="b", oauth2=microsoft()), imap(name="c", password="p")])
    assert credential_warnings(settings, today=TODAY) == [
        f"IMAP source 'a': the OAuth2 client secret expires on 2027-03-01, in 59 days; {ENTRA}"]
    assert credential_warnings(Settings(), today=TODAY) == []


def test_fetching_a_token_logs_the_warning_and_never_the_secret_or_the_token(endpoints, caplog):
    in_three_days = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3)
    settings = ImapSourceSettings(**imap(oauth2=google(endpoints, secret_expires_on=in_three_days)))
    caplog.set_level(logging.INFO)

    token = tokens_for(settings.oauth2).access_token()

    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [f"OAuth2 client {CLIENT_ID}: the OAuth2 client secret expires on {in_three_days}, in 3 days; "
                      "add a new client secret in the Google Cloud console, then set client_secret and secret_expires_on"]
    assert token in endpoints.accepted
    assert token not in caplog.text and CLIENT_SECRET not in caplog.text and REFRESH_TOKEN not in caplog.text


# AUTH XOAUTH2 to a real SMTP server ----------------------------------------------------------------

class XOAuth2Handler(Handler):
    """tests/smtp_server.py's handler plus AUTH XOAUTH2, each token checked by POSTing it to the
    introspection endpoint. A refusal is answered as Gmail does: a 334 challenge carrying the error
    (the client must answer it with an empty line), then 535."""

    def __init__(self, introspection_url: str) -> None:
        super().__init__()
        self.introspection_url = introspection_url
        self.answers_to_refusals: list[bytes] = []

    async def auth_XOAUTH2(self, server, args) -> AuthResult:
        fields = dict(part.split("=", 1) for part in base64.b64decode(args[1]).decode().split("\x01") if part)
        user, token = fields["user"], fields["auth"].removeprefix("Bearer ")
        if self._active(token, user):
            return AuthResult(success=True, auth_data=LoginPassword(user.encode(), b""))
        self.answers_to_refusals.append(await server.challenge_auth(json.dumps({"status": "401", "schemes": "Bearer"})))
        return AuthResult(success=False, handled=False)

    def _active(self, token: str, user: str) -> bool:
        body = urllib.parse.urlencode({"token": token}).encode()
        with urllib.request.urlopen(self.introspection_url, body, timeout=5) as reply:
            said = json.load(reply)
        return said.get("active") is True and said.get("username") == user


@pytest.fixture
def smtp_server(endpoints):
    handler = XOAuth2Handler(endpoints.introspection_url)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), auth_require_tls=False, auth_required=True)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def transport(smtp_server, endpoints) -> SmtpTransport:
    settings = SmtpSettings(host="127.0.0.1", port=smtp_server.port, security="none", username=MAILBOX,
                            timeout_seconds=5, oauth2=google(endpoints))
    return SmtpTransport(settings)


def acknowledgement(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = MAILBOX, f"resident{n}@example.net", "We have your complaint"
    message["Message-ID"] = f"<ack{n}@example.org>"
    message.set_content("Thank you.")
    return message


def test_smtp_logs_in_by_xoauth2_and_two_sends_share_one_token(smtp_server, endpoints):
    sender = transport(smtp_server, endpoints)

    sender.send(acknowledgement(1))
    sender.send(acknowledgement(2))

    received = smtp_server.handler.received
    assert [r.message["To"] for r in received] == ["resident1@example.net", "resident2@example.net"]
    assert [r.login for r in received] == [MAILBOX, MAILBOX]
    assert len(endpoints.token_requests) == 1 and len(endpoints.introspected) == 2


def test_a_token_the_smtp_server_refuses_is_a_temporary_failure_and_the_next_send_gets_a_new_one(
        smtp_server, endpoints):
    sender = transport(smtp_server, endpoints)
    endpoints.issue_rejected = True

    with pytest.raises(TemporaryDeliveryFailure, match="SMTP login refused"):
        sender.send(acknowledgement(1))

    assert smtp_server.handler.answers_to_refusals == [b""]  # the error challenge answered empty, as RFC 7628 asks
    endpoints.issue_rejected = False
    sender.send(acknowledgement(1))
    assert len(smtp_server.handler.received) == 1 and len(endpoints.token_requests) == 2


def test_no_token_to_be_had_is_a_temporary_failure_naming_the_refusal(smtp_server, endpoints):
    settings = SmtpSettings(host="127.0.0.1", port=smtp_server.port, security="none", username=MAILBOX,
                            oauth2=google(endpoints, client_secret="expired-secret"))

    with pytest.raises(TemporaryDeliveryFailure) as failed:
        SmtpTransport(settings).send(acknowledgement(1))

    assert str(failed.value) == ("SMTP login: no OAuth2 token (Google refused a token: invalid_client: "
                                 "AADSTS7000215: Invalid client secret provided.)")
    assert smtp_server.handler.received == [] and endpoints.introspected == []


def test_the_readmes_oauth2_examples_load(tmp_path):
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Microsoft 365 and Gmail: OAuth2", 1)[1].split("\n### ", 1)[0]
    examples = re.findall(r"```toml\n(.*?)```", section, re.S)
    assert len(examples) == 2
    for name in ("m365_client_secret", "google_client_secret", "google_refresh_token"):
        (tmp_path / name).write_text(f"{name}\n")
    for n, example in enumerate(examples):
        config = tmp_path / f"example{n}.toml"
        config.write_text(example.replace("/run/secrets/", f"{tmp_path}/"))
        settings = load_settings(config_file=config)
        assert settings.imap[0].oauth2.client_secret.endswith("client_secret")
    assert settings.imap[0].oauth2.refresh_token == "google_refresh_token"


# MSAL against a loopback https token endpoint ------------------------------------------------------

def test_msal_is_asked_again_when_our_token_nears_its_end_though_its_own_cache_still_holds_it(https_endpoints):
    settings = ImapSourceSettings(**imap(oauth2=microsoft(authority=https_endpoints.authority, refresh_minutes=10)))
    tokens = tokens_for(settings.oauth2)
    now = [0.0]
    tokens.clock = lambda: now[0]

    first = tokens.access_token()
    now[0] += 3600 - 10 * 60 - 1
    assert tokens.access_token() == first and len(https_endpoints.token_requests) == 1
    now[0] += 2  # 9:59 left by our clock; MSAL's own cache (five minutes' margin) would still hand back the first
    second = tokens.access_token()

    assert second != first and len(https_endpoints.token_requests) == 2
    assert [r["grant_type"] for r in https_endpoints.token_requests] == ["client_credentials"] * 2


def test_msal_refusing_a_wrong_secret_or_an_unreachable_authority_is_token_unavailable(https_endpoints):
    wrong = ImapSourceSettings(**imap(oauth2=microsoft(authority=https_endpoints.authority, client_secret="old")))
    port = free_port()
    down = ImapSourceSettings(**imap(oauth2=microsoft(authority=f"https://127.0.0.1:{port}/contoso")))

    with pytest.raises(TokenUnavailable) as refused:
        tokens_for(wrong.oauth2).access_token()
    with pytest.raises(TokenUnavailable) as unreachable:
        tokens_for(down.oauth2).access_token()

    assert str(refused.value) == "Microsoft refused a token: invalid_client: AADSTS7000215: Invalid client secret provided."
    assert str(unreachable.value).startswith(
        f"cannot reach Microsoft's token endpoint at https://127.0.0.1:{port}/contoso (ConnectionError: ")


def test_an_authority_that_is_not_https_is_one_line_naming_it():
    assert error_from(imap=[imap(oauth2=microsoft(authority="http://login.example.org/t"))]) == (
        "invalid settings:\n  imap.0.oauth2.microsoft.authority: Value error, must be an https URL like "
        "https://login.microsoftonline.com/<tenant_id>, not 'http://login.example.org/t'")
