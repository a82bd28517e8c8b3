"""OAuth2 for the mailboxes: access tokens for XOAUTH2 logins to IMAP and SMTP, and warnings before
a client secret or refresh token runs out.

Microsoft 365 uses MSAL's client-credentials grant (an application mailbox, no person signs in);
Gmail and Google Workspace use google-auth to exchange a refresh token a person granted once.

Invariants:
  - a token is handed out only while more than ``refresh_minutes`` of its life remain; otherwise a
    new one is fetched first, so a login never presents a token about to lapse;
  - there is one cache per credential (provider, endpoint, client, secret or refresh token, scopes),
    shared by every connection in this process: an IMAP source and SMTP using the same app share a
    token, and a reconnect does not fetch again. A token a server refused is forgotten at once;
  - tokens and secrets never appear in a log line or an error message. What a token endpoint says
    about a refusal (``invalid_client: ...``) does: it names the fault, not the secret.

This lives in core, not intake, because both intake (IMAP) and responders (SMTP) log in with it and
those two never import each other.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

from imapclient.exceptions import LoginError

from core.errors import IntakeError, TemporaryDeliveryFailure
from core.settings import GoogleOAuth2Settings, MicrosoftOAuth2Settings, Settings

if TYPE_CHECKING:
    from imapclient import IMAPClient

    from core.settings import ImapSourceSettings, SmtpSettings

log = logging.getLogger(__name__)

OAuth2 = MicrosoftOAuth2Settings | GoogleOAuth2Settings
HTTP_TIMEOUT_SECONDS = 30


class TokenUnavailable(IntakeError):
    """No access token could be had: the token endpoint refused (a wrong or expired secret, a revoked
    refresh token) or could not be reached. The message says which, never the secret."""


# -- fetching tokens ---------------------------------------------------------------------------------

class TokenClient(Protocol):
    def fetch(self) -> tuple[str, float]:
        """A new access token from the provider and its lifetime in seconds; or TokenUnavailable."""


class MicrosoftClient:
    """MSAL's confidential client for the client-credentials grant. It is built on first use (building
    it fetches the authority's OpenID configuration) and then kept, as MSAL advises."""

    def __init__(self, settings: MicrosoftOAuth2Settings) -> None:
        self.settings = settings
        self._app = None

    def fetch(self) -> tuple[str, float]:
        import msal  # here, not at the top: only a mailbox that uses OAuth2 pays for importing MSAL
        import requests

        try:
            app = self._application()
            # MSAL keeps tokens too and would hand back the same one until five minutes before its
            # end; when to renew is decided by Tokens, so MSAL's copy is dropped before asking.
            for token in list(app.token_cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                app.token_cache.remove_at(token)
            result = app.acquire_token_for_client(scopes=self.settings.scopes)
        except (ValueError, requests.RequestException) as exc:
            raise TokenUnavailable(f"cannot reach Microsoft's token endpoint at {self.settings.authority_url} "
                                   f"({type(exc).__name__}: {_first_line(exc)})") from exc
        if "access_token" not in result:
            raise TokenUnavailable(f"Microsoft refused a token: {result.get('error', 'no error given')}: "
                                   f"{_first_line(result.get('error_description', ''))}")
        return result["access_token"], float(result["expires_in"])

    def _application(self):
        import msal

        if self._app is None:
            s = self.settings
            # instance_discovery=False: Microsoft's own hosts skip it anyway; any other authority
            # (a sovereign cloud's, a test's) is one the settings name on purpose.
            self._app = msal.ConfidentialClientApplication(
                s.client_id, client_credential=s.client_secret, authority=s.authority_url,
                instance_discovery=False, timeout=HTTP_TIMEOUT_SECONDS)
        return self._app


class GoogleClient:
    """google-auth's user credentials: the refresh token exchanged at ``token_url``. The same
    credentials object is kept, so a refresh token Google rotates is used from then on."""

    def __init__(self, settings: GoogleOAuth2Settings) -> None:
        from google.oauth2.credentials import Credentials  # only a mailbox that uses OAuth2 imports google-auth

        self.settings = settings
        self._credentials = Credentials(
            token=None, refresh_token=settings.refresh_token, token_uri=settings.token_url,
            client_id=settings.client_id, client_secret=settings.client_secret, scopes=settings.scopes)

    def fetch(self) -> tuple[str, float]:
        import google.auth.exceptions
        from google.auth.transport.requests import Request

        try:
            self._credentials.refresh(Request())
        except google.auth.exceptions.RefreshError as exc:
            raise TokenUnavailable(f"Google refused a token: {_first_line(exc.args[0] if exc.args else exc)}") from exc
        except google.auth.exceptions.TransportError as exc:
            raise TokenUnavailable(f"cannot reach Google's token endpoint at {self.settings.token_url} "
                                   f"({type(exc).__name__})") from exc
        expiry = self._credentials.expiry.replace(tzinfo=dt.UTC)  # google-auth keeps naive UTC
        return self._credentials.token, (expiry - dt.datetime.now(dt.UTC)).total_seconds()


def client_for(settings: OAuth2) -> TokenClient:
    if isinstance(settings, MicrosoftOAuth2Settings):
        return MicrosoftClient(settings)
    return GoogleClient(settings)


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float  # on the Tokens' clock, in seconds


class Tokens:
    """One credential's access token, renewed before it lapses (see the module's invariants)."""

    def __init__(self, settings: OAuth2, client: TokenClient | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.client = client or client_for(settings)
        self.clock = clock
        self._token: AccessToken | None = None
        self._lock = threading.Lock()

    def access_token(self) -> str:
        """A token with more than ``refresh_minutes`` to live, fetched first if need be."""
        with self._lock:
            if self._token is None or self._token.expires_at - self.clock() <= self.settings.refresh_minutes * 60:
                self._token = self._fetch()
            return self._token.value

    def forget(self) -> None:
        """The server refused the token (revoked, or lapsed early): the next login fetches a new one."""
        with self._lock:
            self._token = None

    def _fetch(self) -> AccessToken:
        for warning in expiry_warnings(self.settings, "OAuth2 client " + self.settings.client_id):
            log.warning("%s", warning)
        started = self.clock()
        value, lifetime = self.client.fetch()
        log.info("OAuth2 client %s: new access token, good for %d minutes", self.settings.client_id, lifetime // 60)
        return AccessToken(value, started + lifetime)


_tokens: dict[tuple, Tokens] = {}
_tokens_lock = threading.Lock()


def tokens_for(settings: OAuth2) -> Tokens:
    """The process's one Tokens for this credential (made on first use)."""
    key = _credential_key(settings)
    with _tokens_lock:
        if key not in _tokens:
            _tokens[key] = Tokens(settings)
        return _tokens[key]


def _credential_key(settings: OAuth2) -> tuple:
    if isinstance(settings, MicrosoftOAuth2Settings):
        where, grant = settings.authority_url, None
    else:
        where, grant = settings.token_url, settings.refresh_token
    return (settings.provider, where, settings.client_id, settings.client_secret, grant, tuple(settings.scopes),
            settings.refresh_minutes)


# -- logging in ------------------------------------------------------------------------------------

def xoauth2(username: str, token: str) -> str:
    """The XOAUTH2 SASL initial response (before base64), as Microsoft and Google document it."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01"


def imap_login(client: IMAPClient, settings: ImapSourceSettings) -> None:
    """Log in with the password or by XOAUTH2. Raises imapclient's LoginError when the server refuses
    (a refused token is forgotten first) and TokenUnavailable when there is no token to offer."""
    if settings.oauth2 is None:
        client.login(settings.username, settings.password)
        return
    tokens = tokens_for(settings.oauth2)
    try:
        client.oauth2_login(settings.username, tokens.access_token())
    except LoginError:
        tokens.forget()
        raise


def smtp_login(smtp: smtplib.SMTP, settings: SmtpSettings) -> None:
    """Log in with the password or by AUTH XOAUTH2. A refusal raises SMTPAuthenticationError (a refused
    token is forgotten first); no token to offer is a TemporaryDeliveryFailure: the outbox tries again."""
    if settings.oauth2 is None:
        smtp.login(settings.username, settings.password or "")
        return
    tokens = tokens_for(settings.oauth2)
    try:
        answer = xoauth2(settings.username, tokens.access_token())
    except TokenUnavailable as exc:
        log.error("SMTP: no OAuth2 token to log in with: %s", exc)
        raise TemporaryDeliveryFailure(f"SMTP login: no OAuth2 token ({exc})") from exc
    try:
        smtp.ehlo_or_helo_if_needed()
        # A refused token gets a 334 challenge carrying the error; the client must answer it empty.
        smtp.auth("XOAUTH2", lambda challenge=None: answer if challenge is None else "", initial_response_ok=True)
    except smtplib.SMTPAuthenticationError:
        tokens.forget()
        raise


# -- expiry warnings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CredentialExpiry:
    """A secret with a known end date. ``owner`` is "imap:<source name>" or "smtp"; ``credential``
    is "client_secret" or "refresh_token"; ``days_left`` is negative once it has expired."""

    owner: str
    credential: str
    provider: str
    expires_on: dt.date
    days_left: int
    warn_days: int

    @property
    def due(self) -> bool:
        """Within ``warn_days`` of its end, or past it: someone must act."""
        return self.days_left <= self.warn_days

    def message(self, who: str) -> str:
        what = "refresh token" if self.credential == "refresh_token" else "client secret"
        if self.days_left < 0:
            when = f"expired on {self.expires_on} ({-self.days_left} days ago): logins fail until it is replaced"
        elif self.days_left == 0:
            when = f"expires today ({self.expires_on})"
        else:
            when = f"expires on {self.expires_on}, in {self.days_left} day{'' if self.days_left == 1 else 's'}"
        return f"{who}: the OAuth2 {what} {when}; {RENEW[self.provider, self.credential]}"


RENEW = {
    ("microsoft", "client_secret"): "add a new client secret to the app in Entra ID (Certificates & secrets), "
                                    "then set client_secret and secret_expires_on",
    ("google", "client_secret"): "add a new client secret in the Google Cloud console, then set client_secret "
                                 "and secret_expires_on",
    ("google", "refresh_token"): "have the mailbox's owner grant access again, then set refresh_token and "
                                 "refresh_token_expires_on",
}


def credential_expiries(settings: Settings, today: dt.date | None = None) -> list[CredentialExpiry]:
    """Every configured secret with an end date, due or not (for a metric of days left)."""
    today = today or dt.datetime.now(dt.UTC).date()
    found: list[CredentialExpiry] = []
    for owner, oauth2 in _oauth2_owners(settings):
        found.extend(_expiries(owner, oauth2, today))
    return found


def credential_warnings(settings: Settings, today: dt.date | None = None) -> list[str]:
    """One line for each secret within its ``warn_days`` of its end or past it, for a person to act on."""
    return [expiry.message(_who(expiry.owner)) for expiry in credential_expiries(settings, today) if expiry.due]


def expiry_warnings(oauth2: OAuth2, who: str, today: dt.date | None = None) -> list[str]:
    """The same lines for one credential, named as ``who``."""
    today = today or dt.datetime.now(dt.UTC).date()
    return [expiry.message(who) for expiry in _expiries("", oauth2, today) if expiry.due]


def _expiries(owner: str, oauth2: OAuth2, today: dt.date) -> list[CredentialExpiry]:
    dates = [("client_secret", oauth2.secret_expires_on)]
    if isinstance(oauth2, GoogleOAuth2Settings):
        dates.append(("refresh_token", oauth2.refresh_token_expires_on))
    return [CredentialExpiry(owner, credential, oauth2.provider, on, (on - today).days, oauth2.warn_days)
            for credential, on in dates if on is not None]


def _oauth2_owners(settings: Settings) -> list[tuple[str, OAuth2]]:
    owners = [(f"imap:{imap.name}", imap.oauth2) for imap in settings.imap if imap.oauth2 is not None]
    if settings.smtp.host and settings.smtp.oauth2 is not None:
        owners.append(("smtp", settings.smtp.oauth2))
    return owners


def _who(owner: str) -> str:
    kind, _, name = owner.partition(":")
    return f"IMAP source {name!r}" if kind == "imap" else "SMTP"


def _first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return lines[0][:300] if lines else ""
