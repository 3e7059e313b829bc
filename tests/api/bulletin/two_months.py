"""A constructed two-month history for the bulletin tests, written through the real
ingest, notice, workflow and escalation code.

September 2026 (China time): two general hazards on one notice, rectified and accepted
within their deadline. October: two general hazards and a major one on one notice that
is never rectified (all three overdue at the month's end, the major one escalated).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from siteguard.api.access.keys import Principal
from siteguard.api.app import create_app
from siteguard.api.notices.issue import issue_notice
from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.notices.workflow import apply
from siteguard.api.platform.escalation import escalate_overdue
from siteguard.api.settings import (
    ApiSettings,
    BulletinIssuer,
    BulletinSettings,
    MqttIngestSettings,
)
from siteguard.api.store.tables import NoticeRow, ProjectRow
from siteguard.contract.events import HazardEvent
from tests.support.paths import GOLDEN_START

J = "合肥市包河区"
OTHER_J = "合肥市蜀山区"  # registered, with no issuer configured
AUTHORITY = "合肥市包河区住房和城乡建设局"
SITE, NAME = "bh-101", "滨湖花园项目"


def settings_for(db_url: str, tmp: Any) -> ApiSettings:
    return ApiSettings(
        database_url=db_url,
        mqtt=MqttIngestSettings(enabled=False),
        data_dir=tmp / "data",
        bulletin=BulletinSettings(
            jurisdictions={J: BulletinIssuer(authority=AUTHORITY, number_prefix="包建安")}
        ),
    )


def ingest(
    app: Any,
    event_id: str,
    t: datetime,
    level: str = "general",
    kind: str = "no_helmet",
    camera: str = "cam-1",
) -> int:
    doc = json.loads(GOLDEN_START.read_text())
    doc.update(
        event_id=event_id,
        site_id=SITE,
        camera_id=camera,
        level=level,
        hazard_type=kind,
        started_at=t.isoformat(),
        frame_time=t.isoformat(),
    )
    hazard_id: int = app.state.services.ingestor.ingest(
        HazardEvent.model_validate(doc), "test"
    ).hazard_id
    return hazard_id


def build(db_url: str, tmp: Any) -> Any:
    """The API app over the two-month history."""
    app = create_app(settings_for(db_url, tmp))
    sessions = app.state.services.sessions
    with sessions.begin() as s:
        s.add(
            ProjectRow(
                site_id=SITE,
                name=NAME,
                jurisdiction=J,
                contractor="示例建设",
                insurer="平安财险安徽分公司",
            )
        )
        s.add(
            ProjectRow(
                site_id="sc-201", name="蜀山项目", jurisdiction=OTHER_J, contractor="另一建设"
            )
        )
    contractor = Principal("张工", "contractor", frozenset({SITE}))
    inspector = Principal("李巡查", "inspector", insurer="平安财险安徽分公司")
    # September: found, noticed, rectified and accepted in time
    ingest(app, "evt_sep_1", datetime(2026, 9, 10, 2, tzinfo=UTC))
    ingest(app, "evt_sep_2", datetime(2026, 9, 12, 2, tzinfo=UTC), camera="cam-2")
    with sessions.begin() as s:
        p = s.query(ProjectRow).filter_by(site_id=SITE).one()
        sep = issue_notice(s, p, DeadlinePolicy(), "李巡查", datetime(2026, 9, 12, 3))
        assert sep is not None
        sep_id = sep.id
    for action, who, day in (
        ("acknowledge", contractor, 13),
        ("submit", contractor, 13),
        ("accept", inspector, 14),
    ):
        with sessions.begin() as s:
            apply(
                s,
                s.get_one(NoticeRow, sep_id),
                action,
                who,
                f"test {action}",
                ["proof/p.jpg"] if action == "submit" else None,
                datetime(2026, 9, day, 6),
            )
    # October: found and noticed, never rectified; the major hazard escalates
    ingest(app, "evt_oct_1", datetime(2026, 10, 5, 2, tzinfo=UTC))
    ingest(app, "evt_oct_2", datetime(2026, 10, 6, 2, tzinfo=UTC), camera="cam-2")
    ingest(
        app,
        "evt_oct_3",
        datetime(2026, 10, 7, 2, tzinfo=UTC),
        level="major",
        kind="edge_unprotected",
        camera="cam-3",
    )
    with sessions.begin() as s:
        p = s.query(ProjectRow).filter_by(site_id=SITE).one()
        assert issue_notice(s, p, DeadlinePolicy(), "李巡查", datetime(2026, 10, 7, 4))
    assert escalate_overdue(sessions, datetime(2026, 10, 9, 4)) == 1
    return app
