"""A generated, deterministic history of several projects, through the real ingest,
notice and workflow code: for tests, demos and screenshots of the insurer and regulator
views (`siteguard history generate`).

Each project follows a profile (careful, typical, risky) that sets its hazard rate, share
of major hazards, camera downtime, how fast it rectifies and how often a rectification is
rejected. The same seed gives the same records (ids, times, counts).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from siteguard.api.access.keys import Principal
from siteguard.api.intake.events import Ingestor
from siteguard.api.notices.issue import issue_notice
from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.notices.workflow import apply, dismiss
from siteguard.api.platform.escalation import escalate_overdue
from siteguard.api.store.tables import (
    CameraRow,
    CameraUptimeRow,
    HazardRow,
    NoticeRow,
    ProjectRow,
)
from siteguard.contract.events import HazardEvent

MODEL = {"name": "siteguard-ppe", "version": "generated", "sha256": "0" * 64}


@dataclass(frozen=True)
class Profile:
    hazards_per_camera_day: float
    major_share: float
    downtime: float  # share of each day the cameras are off
    rectify_days: tuple[float, float]
    reject_share: float
    ignore_share: float  # notices never rectified
    dismiss_share: float


PROFILES = {
    "careful": Profile(0.12, 0.05, 0.02, (0.1, 1.0), 0.05, 0.0, 0.10),
    "typical": Profile(0.35, 0.12, 0.08, (0.5, 4.0), 0.15, 0.05, 0.10),
    "risky": Profile(0.9, 0.30, 0.35, (4.0, 15.0), 0.40, 0.35, 0.05),
}
HAZARD_TYPES = [
    ("no_helmet", 0.6, ""),
    ("edge_unprotected", 0.2, "edge-3F"),
    ("scaffold_unsafe", 0.1, "scaffold-east"),
    ("protection_missing", 0.1, "edge-3F"),
]
JURISDICTIONS = ("合肥市包河区", "合肥市蜀山区")
INSURERS = ("平安财险安徽分公司", "人保财险安徽分公司")
NAMES = ("滨湖花园", "科学城", "高铁南站", "锦绣苑", "创新产业园", "翡翠湖", "天鹅湖", "云谷")


@dataclass
class HistorySummary:
    projects: list[str] = field(default_factory=list)
    events: int = 0
    notices: int = 0
    profiles: dict[str, str] = field(default_factory=dict)


def generate(
    sessions: sessionmaker[Session],
    start: datetime,
    days: int,
    projects: int = 6,
    seed: int = 7,
    policy: DeadlinePolicy | None = None,
) -> HistorySummary:
    """Write `days` of history from `start` (naive UTC) for `projects` projects."""
    rng = random.Random(seed)
    policy = policy or DeadlinePolicy()
    ingestor = Ingestor(sessions, window_s=3600)
    summary = HistorySummary()
    queue: list[tuple[datetime, int, Callable[[], None]]] = []
    order = itertools.count()

    def at(t: datetime, job: Callable[[], None]) -> None:
        heapq.heappush(queue, (t, next(order), job))

    inspector = {
        ins: Principal(f"巡查员-{i + 1}", "inspector", insurer=ins)
        for i, ins in enumerate(INSURERS)
    }
    profile_names = list(PROFILES)
    with sessions.begin() as s:
        for i in range(projects):
            site = f"site-{i + 1:02d}"
            profile = profile_names[i % len(profile_names)]
            s.add(
                ProjectRow(
                    site_id=site,
                    name=f"{NAMES[i % len(NAMES)]}项目{i // len(NAMES) + 1}期",
                    address=f"合肥市示例路{i + 1}号",
                    permit_no=f"340100202609{i:04d}",
                    policy_no=f"AZX-2026-{i + 1:05d}",
                    insurer=INSURERS[i % len(INSURERS)],
                    contractor=f"示例建设集团第{i + 1}工程公司",
                    responsible_person=f"项目经理{i + 1}",
                    responsible_phone=f"1380000{i:04d}",
                    jurisdiction=JURISDICTIONS[i % len(JURISDICTIONS)],
                )
            )
            for c in range(2 + i % 2):
                s.add(
                    CameraRow(
                        site_id=site, camera_id=f"cam-{c + 1}", name=f"塔吊{c + 1}", zones="[]"
                    )
                )
            summary.projects.append(site)
            summary.profiles[site] = profile
    for site in summary.projects:
        prof = PROFILES[summary.profiles[site]]
        cameras = 2 + summary.projects.index(site) % 2
        contractor = Principal(f"{site}-施工方", "contractor", frozenset({site}))
        with sessions.begin() as s:
            insurer = s.scalar(select(ProjectRow.insurer).where(ProjectRow.site_id == site)) or ""
        for d in range(days):
            day = start + timedelta(days=d)
            for c in range(cameras):
                off = prof.downtime * rng.uniform(0.5, 1.5)
                with sessions.begin() as s:
                    s.add(
                        CameraUptimeRow(
                            site_id=site,
                            camera_id=f"cam-{c + 1}",
                            start=day,
                            end=day + timedelta(hours=24 * max(0.0, 1 - off)),
                            open=False,
                        )
                    )
                n = _poisson(rng, prof.hazards_per_camera_day)
                for _ in range(n):
                    t = day + timedelta(hours=rng.uniform(7, 18) * (1 - prof.downtime))
                    at(t, _hazard_job(ingestor, rng, site, f"cam-{c + 1}", t, prof, summary))
            if d % 7 == 6:  # weekly inspection: dismiss false alarms, then issue a notice
                t = day + timedelta(hours=10)
                at(
                    t,
                    _inspection_job(
                        sessions,
                        rng,
                        site,
                        t,
                        prof,
                        policy,
                        inspector[insurer],
                        contractor,
                        at,
                        summary,
                    ),
                )
        for d in range(days):
            check = start + timedelta(days=d, hours=23)
            at(check, _escalation_job(sessions, check))
    end = start + timedelta(days=days)
    while queue:
        t, _, job = heapq.heappop(queue)
        if t < end:
            job()
    return summary


def _escalation_job(sessions: sessionmaker[Session], t: datetime) -> Callable[[], None]:
    def job() -> None:
        escalate_overdue(sessions, t)

    return job


def _poisson(rng: random.Random, lam: float) -> int:
    n, p, limit = 0, 1.0, pow(2.718281828459045, -lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


def _hazard_job(
    ingestor: Ingestor,
    rng: random.Random,
    site: str,
    camera: str,
    t: datetime,
    prof: Profile,
    summary: HistorySummary,
) -> Callable[[], None]:
    r = rng.random()
    acc = 0.0
    kind, zone = HAZARD_TYPES[0][0], HAZARD_TYPES[0][2]
    for name, share, z in HAZARD_TYPES:
        acc += share
        if r <= acc:
            kind, zone = name, z
            break
    major = rng.random() < prof.major_share
    event_id = f"gen_{rng.getrandbits(48):012x}"
    ts = t.replace(tzinfo=UTC)

    def job() -> None:
        ev = HazardEvent.model_validate(
            {
                "event_id": event_id,
                "seq": 0,
                "state": "start",
                "site_id": site,
                "camera_id": camera,
                "hazard_type": kind,
                "level": "major" if major else "general",
                "reason": f"generated {kind}",
                "score": 0.8,
                "zones": [zone] if zone else [],
                "frame_width": 1920,
                "frame_height": 1080,
                "started_at": ts.isoformat(),
                "frame_time": ts.isoformat(),
                "model": MODEL,
            }
        )
        ingestor.ingest(ev, "generator")
        summary.events += 1

    return job


def _inspection_job(
    sessions: sessionmaker[Session],
    rng: random.Random,
    site: str,
    t: datetime,
    prof: Profile,
    policy: DeadlinePolicy,
    inspector: Principal,
    contractor: Principal,
    at: Callable[[datetime, Callable[[], None]], None],
    summary: HistorySummary,
) -> Callable[[], None]:
    def job() -> None:
        with sessions.begin() as s:
            for h in s.scalars(
                select(HazardRow).where(HazardRow.site_id == site, HazardRow.status == "open")
            ):
                if rng.random() < prof.dismiss_share:
                    dismiss(s, h, inspector, "generated: not a violation", t)
            p = s.scalar(select(ProjectRow).where(ProjectRow.site_id == site))
            assert p is not None
            notice = issue_notice(s, p, policy, inspector.name, t.replace(tzinfo=UTC))
            if notice is None:
                return
            nid = notice.id
            summary.notices += 1
        if rng.random() < prof.ignore_share:
            return
        ack = t + timedelta(hours=rng.uniform(1, 8))
        done = ack + timedelta(days=rng.uniform(*prof.rectify_days))
        rejected = rng.random() < prof.reject_share
        at(ack, _step(sessions, nid, "acknowledge", contractor, ack))
        at(done, _step(sessions, nid, "submit", contractor, done, ["proof/generated.jpg"]))
        if rejected:
            redo = done + timedelta(days=rng.uniform(1, 4))
            at(
                done + timedelta(hours=6),
                _step(
                    sessions,
                    nid,
                    "reject",
                    inspector,
                    done + timedelta(hours=6),
                    comment="护栏未按要求封闭",
                ),
            )
            at(redo, _step(sessions, nid, "submit", contractor, redo, ["proof/generated-2.jpg"]))
            done = redo
        at(
            done + timedelta(hours=8),
            _step(sessions, nid, "accept", inspector, done + timedelta(hours=8)),
        )

    return job


def _step(
    sessions: sessionmaker[Session],
    notice_id: int,
    action: str,
    who: Principal,
    t: datetime,
    attachments: list[str] | None = None,
    comment: str = "",
) -> Callable[[], None]:
    def job() -> None:
        with sessions.begin() as s:
            n = s.get_one(NoticeRow, notice_id)
            if n.status == "closed":  # e.g. every hazard on it was dismissed
                return
            apply(s, n, action, who, comment or f"generated {action}", attachments, t)

    return job
