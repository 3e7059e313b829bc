"""Time as the records keep it and as people read it.

The database stores naive UTC; every JSON payload writes a time as ISO 8601 UTC with a
``Z`` (`iso`); people on site read China time (`china_text`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")


def utc_naive(t: datetime) -> datetime:
    """Any time as the database keeps it: UTC, no tzinfo (a naive time is taken as UTC)."""
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def now_naive() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def iso(t: datetime) -> str:
    """The one wire form of a time in every payload: '2026-11-23T07:00:00Z'."""
    return utc_naive(t).isoformat() + "Z"


def iso_or_none(t: datetime | None) -> str | None:
    return None if t is None else iso(t)


def china_time(stored: datetime) -> datetime:
    """A stored time (naive UTC) as a China wall-clock time."""
    return stored.replace(tzinfo=UTC).astimezone(CHINA)


def china_text(stored: datetime) -> str:
    """A stored time as people on site read it: '2026-11-23 07:00'."""
    return china_time(stored).strftime("%Y-%m-%d %H:%M")


def china_day(stored: datetime) -> str:
    """The China-time day (YYYY-MM-DD) a stored time falls on."""
    return china_time(stored).strftime("%Y-%m-%d")
