"""The insurer's risk signal: an explainable score and a premium-rate factor in the band.

Inputs are one project's signals over a period (`ProjectSignals`); the model is a weighted
sum of saturating components, each in [0, 1] and each rising with risk:

| component | what | saturation |
| --- | --- | --- |
| hazard_rate | general + 5 x major hazards per 100 camera-hours watched (dismissed excluded); hours not watched count as at least the neutral score | rate / (rate + k) |
| repeats | hazards again at a place that already had one | n / (n + 3) |
| timeliness | share of notices NOT closed on time | 1 - on_time share (0.5 without notices) |
| unrectified_major | major hazards past their deadline and still open | n / (n + 1) |
| rejections | rectifications rejected at re-inspection | r / (r + 2) |
| camera_downtime | share of the period the cameras were off (switching cameras off must not look safe) | 1 - uptime |

score = sum(w_i c_i) / sum(w_i) in [0, 1]. With little data the score is shrunk toward the
neutral score (configurable, 0.25: a typical project's components sit well below 0.5) by
the confidence, h / (h + full_confidence_hours), h being the camera-hours the project was
scheduled to be watched (switched on or not, so switching cameras off never buys a
shrink toward neutral). The factor maps
[0, neutral] linearly onto [1 - band, 1] and [neutral, 1] onto [1, 1 + band]: it never leaves
the band, is 1.0 for a neutral project, and never falls when a component rises (every
weight is positive, both maps rise, and the confidence depends on the schedule only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field


class RiskWeights(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hazard_rate: float = Field(3.0, gt=0)
    repeats: float = Field(1.0, gt=0)
    timeliness: float = Field(2.0, gt=0)
    unrectified_major: float = Field(3.0, gt=0)
    rejections: float = Field(1.0, gt=0)
    camera_downtime: float = Field(1.5, gt=0)


class RiskSettings(BaseModel):
    """Per province/product: Anhui building works: 1.65 per mille, +/-20 %."""

    model_config = ConfigDict(extra="forbid")
    base_rate_per_mille: float = Field(1.65, gt=0)
    band: float = Field(0.20, gt=0, lt=1)
    weights: RiskWeights = Field(default_factory=RiskWeights)
    hazard_rate_k: float = Field(
        2.0, gt=0, description="Weighted hazards per 100 camera-hours at half saturation"
    )
    full_confidence_hours: float = Field(200.0, gt=0, description="Camera-hours at 50 % confidence")
    neutral: float = Field(0.25, gt=0, lt=1, description="Score of a typical project (factor 1.0)")
    weekly_at: float = Field(0.5, ge=0, le=1, description="Score from which inspection is weekly")
    biweekly_at: float = Field(0.3, ge=0, le=1)


@dataclass(frozen=True)
class ProjectSignals:
    camera_hours: float = 0.0  # hours of camera coverage actually watched in the period
    scheduled_camera_hours: float = 0.0  # hours the cameras should have been on
    general_hazards: int = 0
    major_hazards: int = 0  # dismissed false alarms are not counted
    repeat_hazards: int = 0
    notices: int = 0
    closed_on_time: int = 0
    unrectified_major: int = 0
    rejected_rectifications: int = 0


@dataclass(frozen=True)
class RiskAssessment:
    score: float
    factor: float
    rate_per_mille: float
    confidence: float
    components: dict[str, float]
    contributions: dict[str, float]  # each component's share of (score - 0.5), signed
    inspection: str
    reasons: list[str] = field(default_factory=list)
    reasons_zh: list[str] = field(default_factory=list)

    def premium(self, contract_value: float) -> float:
        """Premium for a contract value (same currency), at this project's rate."""
        return contract_value * self.rate_per_mille / 1000


def _sat(x: float, k: float) -> float:
    return x / (x + k) if x > 0 else 0.0


def components(s: ProjectSignals, cfg: RiskSettings) -> dict[str, float]:
    rate = (s.general_hazards + 5 * s.major_hazards) / max(s.camera_hours, 1.0) * 100
    uptime = s.camera_hours / s.scheduled_camera_hours if s.scheduled_camera_hours > 0 else 0.0
    uptime = min(max(uptime, 0.0), 1.0)
    watched = _sat(rate, cfg.hazard_rate_k)
    # hours nobody watched are not hours without hazards: they count as at least typical
    unwatched = max(watched, cfg.neutral) if s.scheduled_camera_hours > 0 else watched
    return {
        "hazard_rate": uptime * watched + (1 - uptime) * unwatched,
        "repeats": _sat(s.repeat_hazards, 3),
        "timeliness": 1 - s.closed_on_time / s.notices if s.notices else 0.5,
        "unrectified_major": _sat(s.unrectified_major, 1),
        # a count, not a share of notices: more notices must not dilute the rejections
        "rejections": _sat(s.rejected_rectifications, 2),
        "camera_downtime": 1 - uptime,
    }


def measured(component: str, s: ProjectSignals, lang: str = "zh") -> str:
    """What a component measured, in words with its quantity ("3 起重大隐患逾期未整改")."""
    zh = lang == "zh"
    hazards = s.general_hazards + s.major_hazards
    if component == "hazard_rate":
        rate = (s.general_hazards + 5 * s.major_hazards) / max(s.camera_hours, 1.0) * 100
        if zh:
            return f"隐患 {hazards} 起（重大 {s.major_hazards} 起），每百监测小时 {rate:.1f}"
        return f"{hazards} hazards ({s.major_hazards} major), {rate:.1f} per 100 camera-hours"
    if component == "repeats":
        n = s.repeat_hazards
        return f"{n} 起同一部位重复隐患" if zh else f"{n} repeat hazards at the same place"
    if component == "timeliness":
        if not s.notices:
            return "本期无整改通知（按中性计）" if zh else "no notices this period (neutral)"
        if zh:
            return f"按期整改 {s.closed_on_time}/{s.notices} 份通知"
        return f"{s.closed_on_time} of {s.notices} notices rectified on time (late rectification)"
    if component == "unrectified_major":
        n = s.unrectified_major
        return f"{n} 起重大隐患逾期未整改" if zh else f"{n} overdue unrectified major hazards"
    if component == "rejections":
        n = s.rejected_rectifications
        return f"{n} 次整改复查不通过" if zh else f"{n} rejected rectifications"
    if component == "camera_downtime":
        up = s.camera_hours / s.scheduled_camera_hours if s.scheduled_camera_hours > 0 else 0.0
        pct = min(max(up, 0.0), 1.0) * 100
        if zh:
            return (
                f"摄像头在线率 {pct:.0f} %（监测 {s.camera_hours:.0f} / 计划 "
                f"{s.scheduled_camera_hours:.0f} 小时）"
            )
        return (
            f"cameras online {pct:.0f} % ({s.camera_hours:.0f} of "
            f"{s.scheduled_camera_hours:.0f} scheduled hours)"
        )
    raise KeyError(component)


def factor_shares(
    contributions: dict[str, float], score: float, cfg: RiskSettings
) -> dict[str, float]:
    """Each component's share of (factor - 1), in factor units: they sum to factor - 1."""
    n = cfg.neutral
    span = (1 - n) if score >= n else n
    return {k: v * cfg.band / span for k, v in contributions.items()}


def assess(s: ProjectSignals, cfg: RiskSettings | None = None) -> RiskAssessment:
    cfg = cfg or RiskSettings()
    c = components(s, cfg)
    w = cfg.weights.model_dump()
    total = sum(w.values())
    raw = sum(w[k] * c[k] for k in c) / total
    # backed by the hours the project was under watch, switched on or not: switching cameras
    # off must not shrink a bad record toward the neutral score
    hours = max(s.camera_hours, s.scheduled_camera_hours)
    confidence = hours / (hours + cfg.full_confidence_hours)
    n = cfg.neutral
    score = n + confidence * (raw - n)
    span = (1 - n) if score >= n else n
    factor = 1 + cfg.band * (score - n) / span
    contributions = {k: round(confidence * w[k] * (c[k] - n) / total, 4) for k in c}
    inspection = (
        "weekly"
        if score >= cfg.weekly_at
        else "biweekly"
        if score >= cfg.biweekly_at
        else "monthly"
    )
    shares = factor_shares(contributions, score, cfg)
    top = sorted(contributions.items(), key=lambda kv: -abs(kv[1]))[:3]
    reasons = [
        f"{'raises' if v > 0 else 'lowers'} risk: {measured(k, s, 'en')} ({shares[k] * 100:+.1f} %)"
        for k, v in top
        if abs(v) > 1e-4
    ]
    reasons_zh = [
        f"{'推高' if v > 0 else '降低'}风险：{measured(k, s, 'zh')}（{shares[k] * 100:+.1f} %）"
        for k, v in top
        if abs(v) > 1e-4
    ]
    return RiskAssessment(
        score=round(score, 4),
        factor=round(factor, 4),
        rate_per_mille=round(cfg.base_rate_per_mille * factor, 4),
        confidence=round(confidence, 4),
        components={k: round(v, 4) for k, v in c.items()},
        contributions=contributions,
        inspection=inspection,
        reasons=reasons,
        reasons_zh=reasons_zh,
    )
