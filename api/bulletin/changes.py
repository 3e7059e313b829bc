"""The bulletin's key figures against the previous month (环比) and over six months.

Counts change by an absolute number and a percentage of last month's figure (none when
last month had none); rates change by percentage points (a percentage of a percentage
would mislead). Each figure says which way is better for site safety, so a change reads
as better, worse or neutral (more notices is neither: it follows the hazards found).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Kpi:
    key: str
    unit: str  # count | hours | rate
    better: str | None  # up | down | None (neither)


KPIS = (
    Kpi("projects_watched", "count", "up"),
    Kpi("camera_hours", "hours", "up"),
    Kpi("hazards", "count", "down"),
    Kpi("major_hazards", "count", "down"),
    Kpi("notices_issued", "count", None),
    Kpi("notice_items", "count", None),
    Kpi("rectification_rate", "rate", "up"),
    Kpi("on_time_rate", "rate", "up"),
    Kpi("overdue_at_month_end", "count", "down"),
    Kpi("escalations", "count", "down"),
    Kpi("dismissed_false_alarms", "count", None),
)
KPI_BY_KEY = {k.key: k for k in KPIS}
TREND_KEYS = (
    "hazards",
    "major_hazards",
    "rectification_rate",
    "overdue_at_month_end",
    "escalations",
    "camera_hours",
)
TREND_MONTHS = 6


def change(kpi: Kpi, value: float | None, previous: float | None) -> dict[str, Any]:
    """One figure against last month's: delta (points for rates), percent, direction,
    assessment (better | worse | neutral)."""
    out: dict[str, Any] = {
        "key": kpi.key,
        "unit": kpi.unit,
        "value": value,
        "previous": previous,
        "delta": None,
        "percent": None,
        "direction": None,
        "assessment": "neutral",
    }
    if value is None or previous is None:
        return out
    delta = value - previous
    out["delta"] = round(delta, 4 if kpi.unit == "rate" else 2)
    if kpi.unit != "rate" and previous:
        out["percent"] = round(delta / previous * 100, 1)
    direction = "flat" if abs(delta) < 1e-9 else "up" if delta > 0 else "down"
    out["direction"] = direction
    if kpi.better and direction != "flat":
        out["assessment"] = "better" if direction == kpi.better else "worse"
    return out


def changes(current: dict[str, Any], previous: dict[str, Any]) -> list[dict[str, Any]]:
    return [change(k, current[k.key], previous[k.key]) for k in KPIS]


def trend(months: list[str], figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """months (oldest first) and each trend figure's value per month."""
    return {
        "months": months,
        "series": {key: [figures[m][key] for m in months] for key in TREND_KEYS},
    }


def months_until(month: str, n: int = TREND_MONTHS) -> list[str]:
    """The n calendar months ending with `month` (YYYY-MM), oldest first."""
    year, mon = (int(x) for x in month.split("-"))
    out = []
    for i in range(n - 1, -1, -1):
        y, m = divmod((year * 12 + mon - 1) - i, 12)
        out.append(f"{y:04d}-{m + 1:02d}")
    return out
