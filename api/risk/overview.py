"""What the insurer's risk page shows, computed in one pass over the portfolio: the rows
(sortable), the summary (bands, riskiest projects, the portfolio's trend), each project's
rolling 30-day chart with the headline's definition, and one project explained."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal, visible_projects
from siteguard.api.risk.cache import snapped
from siteguard.api.risk.explain import chart_ends, has_data, waterfall
from siteguard.api.risk.portfolio import portfolio_rows, premium_estimate, risk_over
from siteguard.api.risk.signals import Period
from siteguard.api.settings import ApiSettings
from siteguard.api.store.clock import now_naive

SORTS = ("factor", "band", "trend", "project")
TREND_ORDER = {"falling": 0, "steady": 1, "rising": 2}
DEFAULT_CONTRACT_VALUE = 10_000_000.0


def sort_rows(rows: list[dict[str, Any]], sort: str, order: str) -> list[dict[str, Any]]:
    """Rows by factor, band, trend (rising last ascending) or project name; ties by factor
    then site id, so the order is total and stable."""

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        first: Any = {
            "factor": r["factor"],
            "band": r["band_percent"],
            "trend": TREND_ORDER[r["trend"]],
            "project": r["name"],
        }[sort]
        return (first, r["factor"], r["site_id"])

    return sorted(rows, key=key, reverse=order == "desc")


def shown(factor: float) -> float:
    """The factor as the page writes it (three decimals)."""
    return round(factor * 1000) / 1000


def risk_page(
    s: Session,
    who: Principal,
    settings: ApiSettings,
    lang: str,
    sort: str = "factor",
    order: str = "desc",
    site: str | None = None,
    contract_value: float = DEFAULT_CONTRACT_VALUE,
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or now_naive()
    end = snapped(now)
    period = Period.rolling(end)
    ends = chart_ends(end)
    points = [Period.rolling(e) for e, _, _ in ends[:-1]]
    projects = visible_projects(s, who)
    current, before, *months = risk_over(
        s, projects, [period, period.previous(), *points], settings, now
    )
    months.append(current)
    rows = portfolio_rows(projects, period, current, before, settings)
    labels = [zh if lang == "zh" else en for _, zh, en in ends]
    charts: dict[str, list[tuple[str, float | None]]] = {}
    for p in projects:
        charts[p.site_id] = [
            (label, m[p.id][0].factor if has_data(m[p.id][1]) else None)
            for label, m in zip(labels, months, strict=True)
        ]
    trend_points: list[tuple[str, float | None]] = []
    for label, m in zip(labels, months, strict=True):
        seen = [a.factor for a, d in m.values() if has_data(d)]
        trend_points.append((label, round(statistics.fmean(seen), 4) if seen else None))
    bands = Counter(r["band_percent"] for r in rows)
    by_risk = sorted(rows, key=lambda r: (-r["factor"], r["site_id"]))
    detail = None
    chosen = next((r for r in rows if r["site_id"] == site), by_risk[0] if rows else None)
    if chosen is not None:
        p = next(p for p in projects if p.site_id == chosen["site_id"])
        a, d = current[p.id]
        cfg = settings.risk_for(p.risk_product)
        detail = {
            "row": chosen,
            "steps": waterfall(a, d, cfg, lang),
            "band": cfg.band,
            "premium": premium_estimate(s, p, contract_value, period, settings),
            "detail": d,
            "chart": charts[p.site_id],
        }
    return {
        "period": period,
        "end": end,
        "rows": sort_rows(rows, sort, order),
        "sort": sort,
        "order": order,
        "charts": charts,
        "bands": sorted(bands.items()),
        "riskiest": by_risk[:5],
        "trend": trend_points,
        "mean_factor": statistics.fmean(r["factor"] for r in rows) if rows else None,
        "detail": detail,
        "contract_value": contract_value,
    }
