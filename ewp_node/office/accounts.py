"""Accounts (argon2id password hashes) and server-side console sessions.

A session is a random token in a cookie; the database keeps its SHA-256, the user, the CSRF token and the
language. Logging in always opens a new session (no fixation), logging out or disabling the account closes
it at once, and a session expires :data:`SESSION_LIFETIME` after login.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ewp_node.office.models import OfficeSession, OfficeUser, Role
from ewp_node.store.base import utc_now

SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD_LENGTH = 10
LANGUAGES = ("en", "fr")

_hasher = PasswordHasher()
#: Verified against when the name is unknown, so that both failures take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A refused account operation; the message says why in plain words."""


@dataclass(frozen=True)
class Account:
    """Who is logged in, as the web layer sees it."""

    user_id: int
    name: str
    email: str | None
    role: Role
    hei_ids: tuple[str, ...]
    csrf_token: str
    lang: str

    @property
    def may_act(self) -> bool:
        return self.role is Role.OFFICER


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def add_user(session: Session, name: str, password: str, role: Role, hei_ids: tuple[str, ...] = (),
             email: str | None = None) -> None:
    """Create an account (the caller commits). :raises AccountError: name taken or password too short."""
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise AccountError("a user name is 1 to 64 printable characters")
    if session.scalar(select(OfficeUser.id).where(OfficeUser.name == name)) is not None:
        raise AccountError(f"user {name!r} exists already")
    _check_password(password)
    if email is not None and ("@" not in email or len(email) > 255):
        raise AccountError(f"{email!r} is not an e-mail address")
    session.add(OfficeUser(name=name, password_hash=_hasher.hash(password), email=email, role=role,
                           hei_ids=list(hei_ids), disabled=False, created_at=utc_now()))


def _user(session: Session, name: str) -> OfficeUser:
    user = session.scalar(select(OfficeUser).where(OfficeUser.name == name))
    if user is None:
        raise AccountError(f"no user {name!r}")
    return user


def set_password(session: Session, name: str, password: str) -> None:
    """Change a password and close the account's sessions (the caller commits)."""
    _check_password(password)
    user = _user(session, name)
    user.password_hash = _hasher.hash(password)
    session.execute(delete(OfficeSession).where(OfficeSession.user_id == user.id))


def disable_user(session: Session, name: str) -> None:
    """Disable an account and close its sessions at once (the caller commits)."""
    user = _user(session, name)
    user.disabled = True
    session.execute(delete(OfficeSession).where(OfficeSession.user_id == user.id))


def list_users(session: Session) -> list[OfficeUser]:
    return list(session.scalars(select(OfficeUser).order_by(OfficeUser.name)))


def log_in(session: Session, name: str, password: str, lang: str = "en") -> str | None:
    """Check a password and open a new session: its cookie token, or None (the caller commits)."""
    user = session.scalar(select(OfficeUser).where(OfficeUser.name == name))
    try:
        _hasher.verify(user.password_hash if user is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    token = secrets.token_urlsafe(32)
    now = utc_now()
    session.execute(delete(OfficeSession).where(OfficeSession.expires_at < now))
    session.add(OfficeSession(token_hash=_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                              lang=lang if lang in LANGUAGES else "en", created_at=now,
                              expires_at=now + SESSION_LIFETIME))
    return token


def account_for(session: Session, token: str, now: datetime | None = None) -> Account | None:
    """The account of a live session token, or None (unknown, expired, or the user disabled)."""
    row = session.execute(
        select(OfficeSession, OfficeUser).join(OfficeUser, OfficeUser.id == OfficeSession.user_id)
        .where(OfficeSession.token_hash == _digest(token))
    ).first()
    if row is None:
        return None
    live, user = row
    if user.disabled or live.expires_at <= (now or utc_now()):
        return None
    return Account(user_id=user.id, name=user.name, email=user.email, role=user.role, hei_ids=tuple(user.hei_ids or ()),
                   csrf_token=live.csrf_token, lang=live.lang)


def set_language(session: Session, token: str, lang: str) -> None:
    if lang not in LANGUAGES:
        raise AccountError(f"language {lang!r}: one of {', '.join(LANGUAGES)}")
    live = session.scalar(select(OfficeSession).where(OfficeSession.token_hash == _digest(token)))
    if live is not None:
        live.lang = lang


def log_out(session: Session, token: str) -> None:
    session.execute(delete(OfficeSession).where(OfficeSession.token_hash == _digest(token)))


class LoginThrottle:
    """At most ``attempts`` failed logins per client address and per user name within ``window`` seconds.

    Per process: with N workers an attacker gets N times the budget, still a few guesses a minute.
    """

    def __init__(self, attempts: int = 5, window: float = 300.0) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def allowed(self, address: str, name: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return all(len(self._recent(k, now)) < self.attempts for k in (f"a:{address}", f"n:{name}"))

    def failed(self, address: str, name: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:  # a flood of distinct names: forget, rather than grow
                self._failures.clear()
            for key in (f"a:{address}", f"n:{name}"):
                self._recent(key, now).append(now)
