"""Premium-band watch: recompute each project's rolling 30-day factor and, when its band
(5 % steps) changes, push a signed `risk.band_changed` message to the insurer.

The first assessment of a project records its band without a push (there is no change to
announce). State lives in `risk_bands`, so restarts and replicas announce a change once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from siteguard.api.platform.push import enqueue
from siteguard.api.records import audit
from siteguard.api.risk.signals import Period, band_of, project_risk, risk_json
from siteguard.api.settings import ApiSettings
from siteguard.api.store.clock import now_naive
from siteguard.api.store.tables import ProjectRow, RiskBandRow


def check_bands(
    sessions: sessionmaker[Session], settings: ApiSettings, now: datetime | None = None
) -> int:
    """Return how many band changes were announced."""
    now = now or now_naive()
    period = Period.rolling(now)
    with sessions() as s:
        ids = list(s.scalars(select(ProjectRow.id).order_by(ProjectRow.id)))
    changed = 0
    for pid in ids:
        try:
            with sessions.begin() as s:
                changed += _check(s, s.get_one(ProjectRow, pid), period, settings, now)
        except IntegrityError:  # another replica recorded this project's first band
            continue
    return changed


def _check(s: Session, p: ProjectRow, period: Period, settings: ApiSettings, now: datetime) -> bool:
    cfg = settings.risk_for(p.risk_product)
    assessment, detail = project_risk(s, p, period, cfg)
    band = band_of(assessment.factor)
    row = s.scalar(select(RiskBandRow).where(RiskBandRow.site_id == p.site_id))
    if row is None:
        s.add(
            RiskBandRow(
                site_id=p.site_id,
                band=band,
                factor=assessment.factor,
                score=assessment.score,
                at=now,
            )
        )
        s.flush()
        return False
    if row.band == band:
        return False
    data = dict(
        risk_json(p, period, assessment, detail, cfg),
        previous_band_percent=row.band,
        insurer=p.insurer,
    )
    key = f"risk:{p.site_id}:{now:%Y%m%dT%H%M%S}:{row.band}->{band}"
    enqueue(s, "risk.band_changed", key, data)
    audit.append(
        s,
        "risk-watch",
        "risk.band_changed",
        "project",
        p.site_id,
        {"from": row.band, "to": band, "factor": assessment.factor},
    )
    row.band, row.factor, row.score, row.at = band, assessment.factor, assessment.score, now
    return True
