"""Times in messages: UTC, and within years a camera clock can plausibly show."""

from __future__ import annotations

from datetime import datetime

EARLIEST_YEAR, LATEST_YEAR = 2000, 2999


def plausible_time(t: datetime) -> bool:
    """Not a clock error (year 1, year 9999): such times also overflow time-zone
    arithmetic."""
    return EARLIEST_YEAR <= t.year <= LATEST_YEAR
