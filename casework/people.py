"""People who sign in: adding, disabling, checking a password. Passwords are hashed with argon2id
(argon2-cffi's defaults) and never stored or logged; a disabled person's sessions end at once."""

from __future__ import annotations

import datetime as dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from casework.models import User, WebSession, utcnow
from casework.vocabulary import ROLE_ORDER, Role
from core.errors import ActionRefused

HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
# Checked against when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = HASHER.hash("not a password anyone has")


def add_user(session: Session, email: str, password: str, role: str) -> User:
    email = normalise(email)
    if "@" not in email:
        raise ActionRefused(f"{email!r} is not an email address")
    if role not in [r.value for r in Role]:
        raise ActionRefused(f"role must be one of {', '.join(Role)}, not {role!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ActionRefused(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise ActionRefused(f"{email} already has an account")
    user = User(email=email, password_hash=HASHER.hash(password), role=role, created_at=utcnow())
    session.add(user)
    return user


def disable_user(session: Session, email: str, at: dt.datetime | None = None) -> User:
    """The person can no longer sign in, and every session they have open ends now."""
    user = find_user(session, email)
    user.disabled_at = at or utcnow()
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise(email)))
    if user is None:
        raise ActionRefused(f"no account for {email}")
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user when the password is right and the account is enabled; None otherwise (same time either way)."""
    user = session.scalar(select(User).where(User.email == normalise(email)))
    try:
        HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled_at is not None:
        return None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    return user


def may(user_role: str, needed: Role) -> bool:
    """Whether someone of ``user_role`` may do what ``needed`` may."""
    return ROLE_ORDER.index(Role(user_role)) >= ROLE_ORDER.index(needed)


def normalise(email: str) -> str:
    return email.strip().lower()
