"""The insurer's portfolio: every visible project's risk for a period with its trend, the
CSV export, a project's monthly history and a premium estimate."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal, check_site, visible_projects
from siteguard.api.errors import Invalid, NotFound
from siteguard.api.risk.cache import Risk, cache_for, data_versions, snapped
from siteguard.api.risk.model import RiskSettings
from siteguard.api.risk.signals import Period, portfolio_risk, project_risk, risk_json
from siteguard.api.settings import ApiSettings
from siteguard.api.store.clock import now_naive
from siteguard.api.store.tables import ProjectRow

INSURER_ROLES = ("insurer", "inspector")


def period_of(month: str | None, now: datetime | None = None) -> Period:
    """A calendar month, or the rolling 30 days up to the last quarter hour (what the
    console shows, so both read the same finished periods from the cache)."""
    if month is None:
        return Period.rolling(snapped(now or now_naive()))
    try:
        return Period.month(month)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def trend(current: float, previous: float) -> str:
    delta = current - previous
    return "rising" if delta > 0.005 else "falling" if delta < -0.005 else "steady"


def risk_over(
    s: Session,
    projects: list[ProjectRow],
    periods: list[Period],
    settings: ApiSettings,
    now: datetime | None = None,
) -> list[dict[int, Risk]]:
    """Every project's assessment for each period: finished periods from the cache (valid
    while the project's data version holds), a period not over yet computed afresh."""
    now = now or now_naive()

    def cfg_of(p: ProjectRow) -> RiskSettings:
        return settings.risk_for(p.risk_product)

    finished = [p.end for p in periods if p.end <= now]
    versions = data_versions(s, projects, max(finished)) if finished and projects else {}
    cache = cache_for(s)
    return [
        cache.risk(s, projects, p, cfg_of, versions)
        if p.end <= now and projects
        else portfolio_risk(s, projects, p, cfg_of)
        for p in periods
    ]


def portfolio_rows(
    projects: list[ProjectRow],
    period: Period,
    current: dict[int, Risk],
    before: dict[int, Risk],
    settings: ApiSettings,
) -> list[dict[str, Any]]:
    rows = []
    for p in projects:
        a, d = current[p.id]
        prev = before[p.id][0].factor
        rows.append(
            dict(
                risk_json(p, period, a, d, settings.risk_for(p.risk_product)),
                previous_factor=prev,
                trend=trend(a.factor, prev),
            )
        )
    return rows


def portfolio(
    s: Session,
    who: Principal,
    period: Period,
    settings: ApiSettings,
    now: datetime | None = None,
    projects: list[ProjectRow] | None = None,
) -> list[dict[str, Any]]:
    """Every visible project's risk this period, with its trend against the previous one,
    riskiest first (all projects' records are loaded together, finished periods cached)."""
    projects = visible_projects(s, who) if projects is None else projects
    current, before = risk_over(s, projects, [period, period.previous()], settings, now)
    rows = portfolio_rows(projects, period, current, before, settings)
    return sorted(rows, key=lambda r: (-r["factor"], r["site_id"]))


CSV_COLUMNS = [
    "site_id",
    "name",
    "policy_no",
    "score",
    "factor",
    "band_percent",
    "rate_per_mille",
    "confidence",
    "trend",
    "inspection",
    "reasons",
]


CSV_COLUMNS_ZH = {
    "site_id": "项目编号",
    "name": "项目名称",
    "policy_no": "保单号",
    "score": "风险评分",
    "factor": "费率调整系数",
    "band_percent": "浮动档位（%）",
    "rate_per_mille": "调整后费率（‰）",
    "confidence": "置信度",
    "trend": "趋势",
    "inspection": "检查频次",
    "reasons": "原因",
}


def portfolio_csv(rows: list[dict[str, Any]], lang: str = "en") -> str:
    """The portfolio as CSV for spreadsheets: a UTF-8 BOM (Excel then reads the Chinese
    names right), Chinese column names and reasons with ``lang="zh"``."""
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out)
    zh = lang == "zh"
    w.writerow([CSV_COLUMNS_ZH[c] for c in CSV_COLUMNS] if zh else CSV_COLUMNS)
    for r in rows:
        reasons = r["reasons_zh"] if zh else r["reasons"]
        w.writerow([" | ".join(reasons) if c == "reasons" else r[c] for c in CSV_COLUMNS])
    return out.getvalue()


def insured_project(db: Session, who: Principal, site_id: str) -> ProjectRow:
    who.require(*INSURER_ROLES)
    p = check_site(db, who, site_id)
    if p is None:
        raise NotFound(f"no project with site_id {site_id!r}")
    return p


def month_labels(end: datetime, months: int) -> list[str]:
    """The `months` China-time months up to the one holding `end` (naive UTC), oldest first."""
    local = end + timedelta(hours=8)
    labels, y, m = [], local.year, local.month
    for _ in range(months):
        labels.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return labels[::-1]


def project_history(
    db: Session, p: ProjectRow, end: datetime, months: int, settings: ApiSettings
) -> list[dict[str, Any]]:
    """One project's risk month by month up to the month holding `end`, oldest first."""
    cfg = settings.risk_for(p.risk_product)
    out = []
    for label in month_labels(end, months):
        period = Period.month(label)
        a, d = project_risk(db, p, period, cfg)
        out.append(risk_json(p, period, a, d, cfg))
    return out


def premium_estimate(
    db: Session, p: ProjectRow, contract_value: float, period: Period, settings: ApiSettings
) -> dict[str, Any]:
    """The premium for a contract value at the project's adjusted rate, with its band."""
    cfg = settings.risk_for(p.risk_product)
    a, _ = project_risk(db, p, period, cfg)
    base = contract_value * cfg.base_rate_per_mille / 1000
    return {
        "site_id": p.site_id,
        "period": period.label,
        "contract_value": contract_value,
        "base_rate_per_mille": cfg.base_rate_per_mille,
        "factor": a.factor,
        "rate_per_mille": a.rate_per_mille,
        "base_premium": round(base, 2),
        "premium": round(a.premium(contract_value), 2),
        "premium_range": [
            round(base * (1 - cfg.band), 2),
            round(base * (1 + cfg.band), 2),
        ],
        "confidence": a.confidence,
        "reasons": a.reasons,
    }
