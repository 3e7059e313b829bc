"""Take the console screenshots linked from the README (run through scripts/screenshots).

Data: `siteguard history generate`'s six projects over two months, plus one live site
whose evidence pictures are the bundled test photos (run through the shipped model and
annotated, faces pixelated), with cameras reporting online through the real status path.
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
from selenium.webdriver.common.by import By

from siteguard.api.access.keys import create_key
from siteguard.api.app import create_app
from siteguard.api.intake import camera_health
from siteguard.api.notices.issue import issue_notice
from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.api.sites.cameras import CameraIn, save_camera
from siteguard.api.store.tables import ProjectRow
from siteguard.contract.events import HazardEvent
from siteguard.contract.zones import Zone
from siteguard.demo.history import INSURERS, JURISDICTIONS, generate
from siteguard.demo.services import PhotoServer
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.evidence import annotate, encode_jpeg
from siteguard.pipeline.privacy import PrivacyConfig, detect_with_candidates, small_faces
from siteguard.pipeline.rules import evaluate

# run with the checkout on PYTHONPATH
from tests.support.browser import chromium, click_through, served

ROOT = Path(__file__).resolve().parents[1]

PHOTOS = ["hhw-000011.jpg", "hhw-000051.jpg", "css-2270.jpg"]


def evidence(folder: Path) -> list[tuple[str, list[dict[str, object]], tuple[int, int]]]:
    from siteguard.models.registry import default_model_path

    det = OnnxDetector(default_model_path())
    privacy = PrivacyConfig()
    out = []
    for name in PHOTOS:
        image = cv2.imread(str(ROOT / "tests" / "fixtures" / "images" / name))
        # as the edge stores a picture: faces pixelated (candidates and tiles too), the
        # scene outside the evidence coarsened
        [(d, seen)] = detect_with_candidates(det, [image], privacy.min_score)
        seen = Detections.concat([seen, small_faces(det, image, privacy.still_tiles)])
        picture = annotate(
            image, d, evaluate(d), candidates=seen, scene_blocks=privacy.scene_blocks
        )
        (folder / name).write_bytes(encode_jpeg(picture))
        boxes = [
            {"label": det.card.classes[c], "score": float(s), "box": [float(v) for v in b]}
            for b, s, c in zip(d.xyxy, d.confidence, d.class_id, strict=True)
        ]
        out.append((name, boxes, (image.shape[1], image.shape[0])))
    return out


def full_page_png(b: Any, path: Path) -> None:
    """The whole page, not just the window (Chrome DevTools' capture beyond the viewport)."""
    time.sleep(0.3)  # evidence pictures come from another server
    wide = b.execute_script(
        "var d = document.documentElement; return d.scrollWidth - d.clientWidth"
    )
    if wide > 0:
        print(f"{path.name}: {wide}px of horizontal scroll", file=sys.stderr)
    size = b.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = b.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {
                "x": 0,
                "y": 0,
                # the capture lays the page out without its scrollbar: the window's
                # width, not the content's (which leaves the scrollbar's 15 px out)
                "width": max(size["width"], b.execute_script("return window.innerWidth")),
                "height": min(size["height"], 1800),
                "scale": 1,
            },
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="siteguard-shots-"))
    ev_dir = tmp / "evidence"
    ev_dir.mkdir()
    print("annotating evidence with the shipped model...", file=sys.stderr)
    pictures = evidence(ev_dir)
    edge_box = PhotoServer(ev_dir)
    app = create_app(
        ApiSettings(
            database_url=f"sqlite:///{tmp}/shots.db",
            mqtt=MqttIngestSettings(enabled=False),
            data_dir=tmp / "data",
        )
    )
    sessions = app.state.services.sessions
    now = datetime.now(UTC).replace(tzinfo=None)
    month_start = (now.replace(day=1) - timedelta(days=1)).replace(day=1)
    print("generating two months of history for six projects...", file=sys.stderr)
    generate(sessions, month_start - timedelta(days=31), 31 + (now - month_start).days, 6, 7)
    template = json.loads((ROOT / "tests" / "golden" / "hazard_event_v1_start.json").read_text())
    with sessions.begin() as s:
        s.add(
            ProjectRow(
                site_id="live-01",
                name="滨湖花园二期（演示）",
                address="合肥市包河区示例路 88 号",
                insurer=INSURERS[0],
                contractor="示例建设集团",
                responsible_person="张工",
                jurisdiction=JURISDICTIONS[0],
                evidence_base_url=f"{edge_box.url}/",  # the evidence pictures come from it
            )
        )
        zones = [
            Zone(
                id="edge-3F",
                kind="edge",
                polygon=[(0.05, 0.7), (0.45, 0.7), (0.45, 0.95), (0.05, 0.95)],
                protected=True,
            ),
            Zone(
                id="scaffold-east",
                kind="scaffold",
                polygon=[(0.6, 0.1), (0.95, 0.1), (0.95, 0.6), (0.6, 0.6)],
            ),
        ]
        for i in range(3):
            save_camera(
                s,
                "live-01",
                f"cam-{i + 1}",
                CameraIn(name=f"塔吊 {i + 1} 号", zones=zones if i == 0 else []),
                "setup",
            )
        for i in range(3):
            state = "offline" if i == 2 else "online"
            msg = json.dumps(
                {"state": state, "detail": "", "at": now.isoformat() + "Z", "fps_in": 12.5}
            ).encode()
            camera_health.record(s, f"siteguard/live-01/cam-{i + 1}/status", msg, now)
        keys = {
            role: create_key(s, name, role, ["live-01"], JURISDICTIONS[0], INSURERS[0])
            for role, name in (
                ("contractor", "张工"),
                ("inspector", "李巡查"),
                ("regulator", "包河区住建局"),
                ("insurer", "平安财险"),
            )
        }
    for i, (name, boxes, (w, h)) in enumerate(pictures):
        t = (now - timedelta(hours=3 - i)).replace(tzinfo=UTC)
        doc = dict(
            template,
            event_id=f"evt_live_{i:08d}",
            site_id="live-01",
            camera_id=f"cam-{i + 1}",
            level="major" if i == 1 else "general",
            reason="未佩戴安全帽：头部检测置信度高于阈值",
            boxes=boxes[:50],
            frame_width=w,
            frame_height=h,
            started_at=t.isoformat(),
            frame_time=t.isoformat(),
            evidence_uri=f"{edge_box.url}/{name}",
        )
        app.state.services.ingestor.ingest(HazardEvent.model_validate(doc), "screenshots")
    with sessions.begin() as s:
        p = s.query(ProjectRow).filter_by(site_id="live-01").one()
        notice = issue_notice(s, p, DeadlinePolicy(), "李巡查", datetime.now(UTC))
        assert notice is not None
        notice_id = notice.id
    pages = [
        ("inspector", "00-home", "/console/", None),
        ("contractor", "01-sites", "/console/", None),
        ("contractor", "02-site-live", "/console/sites/live-01", None),
        ("contractor", "03-notice", f"/console/notices/{notice_id}", None),
        ("inspector", "04-notices", "/console/notices", None),
        ("inspector", "05-hazard", "/console/hazards/{hazard}", None),
        ("inspector", "06-zone-editor", "/console/sites/live-01/cameras/cam-1/zones", None),
        ("regulator", "07-alerts", "/console/alerts", None),
        ("regulator", "08-bulletin", f"/regulator/bulletin.html?month={month_start:%Y-%m}", None),
        ("insurer", "09-risk", "/console/risk", None),
        ("contractor", "10-phone-notice", f"/console/notices/{notice_id}", (412, 915)),
        ("inspector", "11-inbox", "/console/inbox", None),
        ("inspector", "12-alarm-centre", "/console/alerts", None),
        ("inspector", "13-phone-home", "/console/", (412, 915)),
        ("contractor", "14-phone-alarms", "/console/alerts", (412, 915)),
        ("insurer", "15-phone-risk", "/console/risk", (390, 844)),
    ]
    from siteguard.api.store.tables import NoticeItemRow

    with sessions() as s:
        hazard = s.query(NoticeItemRow).filter_by(notice_id=notice_id).first().hazard_id  # type: ignore[union-attr]
    with served(app) as url:
        for role, name, path, size in pages:
            b = chromium(*(size or (1280, 900)))
            try:
                b.get(url + "/console/login")
                b.find_element(By.ID, "key").send_keys(keys[role])
                click_through(b, b.find_element(By.ID, "login"))
                b.get(url + path.format(hazard=hazard))
                full_page_png(b, out / f"{name}.png")
                print(f"{out / name}.png ({role})", file=sys.stderr)
            finally:
                b.quit()
    edge_box.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
