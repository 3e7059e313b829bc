"""The insurer's views in words and figures people read: a factor's waterfall from 1.000
(each component's share with the quantity it measured, rounded so the steps add up to the
factor shown), periods in Chinese or English, China time, and the page's words."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from siteguard.api.risk.model import RiskAssessment, RiskSettings, factor_shares, measured
from siteguard.api.risk.signals import Period, SignalDetail, _utc
from siteguard.api.store.clock import china_time

COMPONENTS = (
    "unrectified_major",
    "hazard_rate",
    "timeliness",
    "repeats",
    "rejections",
    "camera_downtime",
)
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rounded_to(values: list[float], total: int) -> list[int]:
    """Whole numbers, each within 1 of its value, that add up to `total` (largest
    remainder; `total` is the rounded sum, so at most one unit moves per value)."""
    floors = [math.floor(v) for v in values]
    diff = total - sum(floors)
    order = sorted(range(len(values)), key=lambda i: floors[i] - values[i])  # largest rest first
    out = list(floors)
    if not values:
        return out
    for j in range(abs(diff)):
        i = order[j % len(values)] if diff > 0 else order[-1 - j % len(values)]
        out[i] += 1 if diff > 0 else -1
    return out


def waterfall(
    a: RiskAssessment, d: SignalDetail, cfg: RiskSettings, lang: str
) -> list[dict[str, Any]]:
    """The steps from 1.000 to the factor: component, words, change in thousandths of the
    factor (they add up to the factor shown with three decimals) and the exact share."""
    shares = factor_shares(a.contributions, a.score, cfg)
    exact = [shares[k] * 1000 for k in COMPONENTS]
    milli = rounded_to(exact, round(a.factor * 1000) - 1000)
    return [
        {
            "component": k,
            "text": measured(k, d.signals, lang),
            "milli": m,
            "share": round(shares[k], 6),
        }
        for k, m in zip(COMPONENTS, milli, strict=True)
    ]


def day_text(t: datetime, lang: str, year: bool = True) -> str:
    if lang == "zh":
        return f"{t.year}年{t.month}月{t.day}日" if year else f"{t.month}月{t.day}日"
    return f"{t.day} {MONTHS_EN[t.month - 1]}" + (f" {t.year}" if year else "")


def period_text(period: Period, lang: str) -> str:
    """'2026年11月2日 至 12月2日' / '2 Nov – 2 Dec 2026' (China dates); a calendar month
    is '2026年10月' / 'Oct 2026'."""
    if len(period.label) == 7:
        y, m = int(period.label[:4]), int(period.label[5:])
        return f"{y}年{m}月" if lang == "zh" else f"{MONTHS_EN[m - 1]} {y}"
    a, b = china_time(period.start), china_time(period.end)
    if lang == "zh":
        return f"{day_text(a, lang)} 至 {day_text(b, lang, year=a.year != b.year)}"
    return f"{day_text(a, lang, year=a.year != b.year)} – {day_text(b, lang)}"


def chart_ends(end: datetime, months: int = 6) -> list[tuple[datetime, str, str]]:
    """The ends of the chart's rolling 30-day points, oldest first: the China-time ends of
    the `months - 1` months before the one holding `end`, then `end` itself (the headline
    period). Each with its label in Chinese and English."""
    local = china_time(end)
    y, m = local.year, local.month
    out = [(end, day_text(local, "zh", year=False), day_text(local, "en", year=False))]
    for _ in range(months - 1):
        first = datetime(y, m, 1)  # China time: the end of the month before
        last = first - timedelta(days=1)
        out.append((_utc(first), f"{last.month}月末", MONTHS_EN[last.month - 1]))
        y, m = last.year, last.month
    return out[::-1]


def has_data(d: SignalDetail) -> bool:
    """Anything at all to assess in the period (else the chart shows no point)."""
    s = d.signals
    return bool(
        s.scheduled_camera_hours
        or s.camera_hours
        or s.general_hazards
        or s.major_hazards
        or s.notices
        or d.overdue_items
        or d.dismissed
    )


TEXT: dict[str, tuple[str, str]] = {
    "headline_period": ("近 30 天", "Last 30 days"),
    "as_of": ("截至 {t}（每 15 分钟更新）", "as of {t} (updated every 15 minutes)"),
    "period_rule": (
        "图中每个点与上方系数口径一致：截至该时点的近 30 天滚动值（月末点为该月最后 30 天，"
        "最后一点即当前系数）；项目尚无数据的月份不画点。",
        "Every point uses the headline's definition: the rolling 30 days up to that time "
        "(month-end points are that month's last 30 days; the last point is the current "
        "factor). Months before a project has data have no point.",
    ),
    "summary": ("组合概览", "Portfolio"),
    "projects_n": ("在保项目 {n} 个，平均系数 {f}", "{n} insured projects, mean factor {f}"),
    "bands": ("浮动档位分布", "Premium bands"),
    "riskiest": ("风险最高的项目", "Riskiest projects"),
    "portfolio_trend": ("组合平均系数走势", "Portfolio mean factor"),
    "table": ("全部项目", "All projects"),
    "project": ("项目", "Project"),
    "band": ("档位", "Band"),
    "sort_by": ("按此列排序", "Sort by this column"),
    "detail": ("项目风险说明", "Project risk explained"),
    "waterfall": ("系数构成（从 1.000 起）", "How the factor adds up (from 1.000)"),
    "start": ("基准系数", "Neutral factor"),
    "total": ("费率调整系数", "Rate factor"),
    "gauge": ("系数在浮动区间内的位置", "The factor inside its band"),
    "band_of": ("浮动区间 {lo} – {hi}（±{b} %）", "band {lo} – {hi} (±{b} %)"),
    "rates": ("费率与保费", "Rate and premium"),
    "base_rate": ("基准费率", "Base rate"),
    "adjusted_rate": ("调整后费率", "Adjusted rate"),
    "contract_value": ("工程合同价（元）", "Contract value (CNY)"),
    "premium": ("保费", "Premium"),
    "base_premium": ("基准保费", "Base premium"),
    "premium_range": ("浮动范围", "Range in the band"),
    "compute": ("计算", "Compute"),
    "signals": ("监测信号", "Signals"),
    "sig_watched": ("摄像头监测时长", "Camera-hours watched"),
    "sig_watched_v": ("{a} / 计划 {b} 小时（{p} %）", "{a} of {b} scheduled ({p} %)"),
    "sig_hazards": ("隐患（一般 / 重大）", "Hazards (general / major)"),
    "sig_repeats": ("同一部位重复", "Repeats at the same place"),
    "sig_notices": ("整改通知（按期 / 全部）", "Notices (on time / all)"),
    "sig_overdue": ("逾期未整改条目", "Overdue items"),
    "sig_unrectified": ("其中重大隐患", "of them major"),
    "sig_rejected": ("复查不通过", "Rejected rectifications"),
    "sig_median": ("整改中位天数", "Median days to close"),
    "sig_dismissed": ("误报（已排除）", "False alarms (excluded)"),
    "days": ("{d} 天", "{d} days"),
    "history": ("近 6 个月系数", "Factor, last 6 months"),
    "xlsx": ("导出 Excel", "Export Excel"),
    "no_data": ("暂无数据", "no data yet"),
    "per_mille": ("‰", "‰"),
    "yuan": ("{v} 元", "CNY {v}"),
    "open_detail": ("查看说明", "Explain"),
}


def words(lang: str) -> Any:
    """The page's translator: t(key, **fields)."""
    i = 0 if lang == "zh" else 1

    def t(key: str, **fields: Any) -> str:
        pair = TEXT.get(key)
        text = pair[i] if pair else key
        return text.format(**fields) if fields else text

    return t
