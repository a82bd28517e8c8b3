"""XOAUTH2 logins to a real Dovecot whose oauth2 passdb asks a loopback introspection endpoint about
each token, with tokens fetched from a loopback token endpoint: Google's refresh-token grant through
google-auth (plain http), and Microsoft's client-credentials grant through MSAL (https, as MSAL
insists, with the test's own certificate trusted through REQUESTS_CA_BUNDLE)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

import scheduler
from casework.models import SourceHealth, Submission
from core.errors import SourceUnavailable
from core.oauth import tokens_for
from core.settings import ImapSourceSettings
from intake.checkpoints import Checkpoints
from intake.imap import ImapSource
from tests.dovecot import Dovecot
from tests.intake_sources.oauth_endpoints import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, TENANT, OAuth2Endpoints
from tests.mail import deliver, make_mail, new_maildir

HOUR = 3600


def message(n: int) -> bytes:
    return (f"From: resident{n}@example.net\r\nTo: complaints@example.org\r\nSubject: Complaint {n}\r\n"
            f"Message-ID: <oauth{n}@example.net>\r\n\r\nThe boiler in flat {n} has failed.\r\n").encode()


def oauth2_dovecot(endpoints: OAuth2Endpoints):
    server = Dovecot(oauth2_introspection_url=endpoints.introspection_url)
    server.start()
    return server


@pytest.fixture
def dovecot(endpoints):
    server = oauth2_dovecot(endpoints)
    try:
        yield server
    finally:
        server.cleanup()


def google(endpoints: OAuth2Endpoints, **overrides) -> dict:
    return {"provider": "google", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN, "token_url": endpoints.token_url, **overrides}


def imap_settings(server: Dovecot, oauth2: dict, **overrides) -> ImapSourceSettings:
    return ImapSourceSettings(name="complaints", host=server.host, port=server.port, security="none",
                              username=server.user, oauth2=oauth2, **overrides)


def make_source(settings: ImapSourceSettings, db) -> ImapSource:
    return ImapSource(settings, Checkpoints(db, settings.name), retries=1, backoff_seconds=0.01)


def xoauth2_logins(server: Dovecot) -> int:
    """Logins Dovecot let in by XOAUTH2 (a refused one is logged as a disconnection, not a login)."""
    return len(re.findall(r"Login: user=<[^>]*>, method=XOAUTH2", server.log()))


def test_a_google_token_the_server_accepts_logs_in_and_the_mail_is_fetched(endpoints, dovecot, sqlite_db):
    uids = dovecot.append_many("INBOX", [message(n) for n in range(3)])
    source = make_source(imap_settings(dovecot, google(endpoints)), sqlite_db)

    items = list(source.fetch())
    source.close()

    assert [item.details["uid"] for item in items] == uids
    assert xoauth2_logins(dovecot) == 1
    [request] = endpoints.token_requests
    assert (request["grant_type"], request["refresh_token"], request["scope"]) == (
        "refresh_token", REFRESH_TOKEN, "https://mail.google.com/")
    assert len(endpoints.introspected) == 1 and endpoints.introspected[0] in endpoints.accepted


def test_a_microsoft_token_from_msal_logs_in(https_endpoints, sqlite_db):
    server = oauth2_dovecot(https_endpoints)
    try:
        server.append("INBOX", message(1))
        oauth2 = {"provider": "microsoft", "tenant_id": TENANT, "client_id": CLIENT_ID,
                  "client_secret": CLIENT_SECRET, "authority": https_endpoints.authority}
        source = make_source(imap_settings(server, oauth2), sqlite_db)

        assert len(list(source.fetch())) == 1
        source.close()
        assert xoauth2_logins(server) == 1
    finally:
        server.cleanup()
    [request] = https_endpoints.token_requests
    assert request["grant_type"] == "client_credentials"
    assert request["scope"] == "https://outlook.office365.com/.default"
    assert (request["client_id"], request["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)


def test_a_token_the_server_rejects_is_a_clear_source_unavailable_and_the_next_poll_gets_a_new_one(
        endpoints, dovecot, sqlite_db):
    dovecot.append("INBOX", message(1))
    endpoints.issue_rejected = True  # the provider hands out a token the mail server will not take
    source = make_source(imap_settings(dovecot, google(endpoints)), sqlite_db)

    with pytest.raises(SourceUnavailable) as refused:
        list(source.fetch())

    assert str(refused.value) == (f"XOAUTH2 login (the server refused the OAuth2 token) failed for "
                                  f"{dovecot.user} on {dovecot.host}:{dovecot.port}")
    assert xoauth2_logins(dovecot) == 0 and len(endpoints.token_requests) == 1
    endpoints.issue_rejected = False
    assert len(list(source.fetch())) == 1  # the refused token was forgotten, not offered again
    source.close()
    assert len(endpoints.token_requests) == 2 and xoauth2_logins(dovecot) == 1


def test_a_refused_refresh_token_is_a_clear_source_unavailable(endpoints, dovecot, sqlite_db):
    source = make_source(imap_settings(dovecot, google(endpoints, refresh_token="revoked")), sqlite_db)

    with pytest.raises(SourceUnavailable) as refused:
        list(source.fetch())

    assert str(refused.value) == (f"no OAuth2 token to log in as {dovecot.user} on {dovecot.host}:{dovecot.port}: "
                                  "Google refused a token: invalid_grant: Token has been expired or revoked.")
    assert "revoked" not in endpoints.introspected  # nothing was offered to the server


def test_the_worker_keeps_going_when_a_mailbox_refuses_its_token(endpoints, dovecot, make_settings, tmp_path):
    maildir = new_maildir(tmp_path / "maildir")
    deliver(maildir, make_mail("Resident <r1@example.net>", "Leak", "My kitchen tap is leaking. Can someone come?"))
    dovecot.append("INBOX", message(1))
    endpoints.issue_rejected = True
    imap = {"name": "m365", "host": dovecot.host, "port": dovecot.port, "security": "none",
            "username": dovecot.user, "oauth2": google(endpoints)}
    service = scheduler.build(make_settings(imap=[imap], maildir=[{"name": "scans", "path": str(maildir)}]))

    for source in service.runner.sources:
        service.runner.poll(source)

    with service.db.sessions() as session:
        assert len(session.scalars(select(Submission)).all()) == 1  # the maildir's letter was taken in
        assert session.get(SourceHealth, "scans").last_error is None
        assert "refused the OAuth2 token" in session.get(SourceHealth, "m365").last_error
    assert service.runner.totals.failed_polls == 1
    assert dovecot.folder_uids("INBOX") != []  # left where it was, for the next poll


def test_a_token_is_renewed_once_fewer_than_refresh_minutes_of_it_remain(endpoints, dovecot, sqlite_db):
    settings = imap_settings(dovecot, google(endpoints, refresh_minutes=5))
    tokens = tokens_for(settings.oauth2)
    now = [1_000_000.0]
    tokens.clock = lambda: now[0]
    endpoints.lifetime = HOUR

    def log_in_once() -> None:
        source = make_source(settings, sqlite_db)
        list(source.fetch())
        source.close()

    log_in_once()
    now[0] += HOUR - 5 * 60 - 1  # 5 minutes and 1 second left: the same token still serves
    log_in_once()
    assert len(endpoints.token_requests) == 1
    now[0] += 2  # 4 minutes 59 seconds left: renewed before it is offered
    log_in_once()

    assert len(endpoints.token_requests) == 2
    assert xoauth2_logins(dovecot) == 3
    first, second = endpoints.introspected[0], endpoints.introspected[-1]
    assert endpoints.introspected == [first, first, second] and first != second
