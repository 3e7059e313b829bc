"""Console logins: a random session token (kept in an HttpOnly cookie, only its sha256
stored) that stands for an API key, with a CSRF token for every change made through it."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal, hash_key, key_principal, refusal
from siteguard.api.store.clock import now_naive
from siteguard.api.store.tables import ApiKeyRow, ConsoleSessionRow

SESSION_COOKIE = "sg_session"
SESSION_HOURS = 12


def open_session(s: Session, key: str) -> str | None:
    """Log in with an API key: the new session's token (None: no such key, or an edge key,
    which has no console, or a revoked or expired key)."""
    row = s.scalar(select(ApiKeyRow).where(ApiKeyRow.key_sha256 == hash_key(key.strip())))
    if row is None or row.role == "edge" or refusal(row) is not None:
        return None
    token = secrets.token_urlsafe(32)
    now = now_naive()
    # expired logins are not kept: they are swept whenever someone logs in
    s.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at < now))
    s.add(
        ConsoleSessionRow(
            token_sha256=hash_key(token),
            key_sha256=row.key_sha256,
            csrf=secrets.token_urlsafe(24),
            created_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    )
    return token


def session_principal(s: Session, token: str) -> tuple[Principal, str] | None:
    """The login behind a session token, with its CSRF token (None: no or expired login)."""
    if not token:
        return None
    row = s.scalar(
        select(ConsoleSessionRow).where(ConsoleSessionRow.token_sha256 == hash_key(token))
    )
    if row is None or row.expires_at < now_naive():
        return None
    who = key_principal(s, row.key_sha256)
    return (who, row.csrf) if who else None


def close_session(s: Session, token: str) -> None:
    row = s.scalar(
        select(ConsoleSessionRow).where(ConsoleSessionRow.token_sha256 == hash_key(token))
    )
    if row is not None:
        s.delete(row)
