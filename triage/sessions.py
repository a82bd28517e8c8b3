"""Server-side sessions: a random token in a Secure, HttpOnly, SameSite=Strict cookie; only its SHA-256
in the database, beside the session's CSRF token. Signing out, a disabled account or expiry deletes
or ignores the row, so the cookie stops working at once. Failed sign-ins are recorded and, past a few
in a quarter of an hour for one email or one client, refused without checking the password."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from casework.models import LoginAttempt, User, WebSession, utcnow

COOKIE = "intake_session"
LIFETIME = dt.timedelta(hours=10)  # a working day, then sign in again
IDLE = dt.timedelta(hours=2)
THROTTLE_WINDOW = dt.timedelta(minutes=15)
THROTTLE_AFTER = 5  # failures per email or per client in the window


@dataclass(frozen=True)
class SignedIn:
    """Who is using the app in this request, and the CSRF token their forms must carry."""

    user_id: int
    email: str
    role: str
    csrf_token: str


def start(session: Session, user: User, now: dt.datetime | None = None) -> str:
    """A new session for the user; returns the cookie's token (never stored as such)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_sha256=_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                           created_at=now, last_seen_at=now, expires_at=now + LIFETIME))
    return token


def lookup(session: Session, token: str | None, now: dt.datetime | None = None) -> SignedIn | None:
    """The signed-in person for a cookie, or None when it is unknown, expired, idle or their account is off."""
    if not token:
        return None
    now = now or utcnow()
    row = session.get(WebSession, _digest(token))
    if row is None or row.expires_at <= now or row.last_seen_at + IDLE <= now or row.user.disabled_at is not None:
        return None
    if now - row.last_seen_at > dt.timedelta(minutes=1):
        row.last_seen_at = now
    return SignedIn(row.user.id, row.user.email, row.user.role, row.csrf_token)


def end(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_sha256 == _digest(token)))


def throttled(session: Session, email: str, client: str | None, now: dt.datetime | None = None) -> bool:
    """True when this email or this client has failed too often lately: refuse without trying."""
    since = (now or utcnow()) - THROTTLE_WINDOW
    failures = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False),
                                                                     LoginAttempt.at > since)
    by_email = session.scalar(failures.where(LoginAttempt.email == email)) or 0
    by_client = session.scalar(failures.where(LoginAttempt.client == client)) or 0 if client else 0
    return max(by_email, by_client) >= THROTTLE_AFTER


def record_attempt(session: Session, email: str, client: str | None, succeeded: bool) -> None:
    session.add(LoginAttempt(email=email[:320], client=(client or "")[:100] or None, at=utcnow(), succeeded=succeeded))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
