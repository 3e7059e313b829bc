"""A camera whose edge box is switched off is shown offline once it missed
`cameras.missed_heartbeats` heartbeats, and every view of its state says so: the JSON
cameras list, the console's site page and the projects overview. Messages go through the
API's real ingest; the clock the views read is the test's."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from siteguard.api.access.keys import create_key
from siteguard.api.app import create_app
from siteguard.api.intake import camera_health
from siteguard.api.settings import ApiSettings, CameraSettings, MqttIngestSettings, SettingsError
from tests.support.api import api_client

SITE = "futian-0001"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(camera_health, "now_naive", c)
    return c


@pytest.fixture
def app(tmp_path, db_url):
    return create_app(
        ApiSettings(
            database_url=db_url,
            mqtt=MqttIngestSettings(enabled=False),
            cameras=CameraSettings(missed_heartbeats=3),
        )
    )


def send(app, camera, kind, at, **body):
    doc = {"state": "online", "at": at.isoformat() + "Z", **body}
    result = app.state.services.ingestor.ingest_camera(
        f"siteguard/{SITE}/{camera}/{kind}", json.dumps(doc).encode()
    )
    assert result.status == "new", result.reason


def views(admin, console):
    """(state per camera) as the JSON list, the console site page and the overview say."""
    cams = admin.get(f"/api/v1/projects/{SITE}/cameras").json()
    listed = {c["camera_id"]: c["status"]["state"] for c in cams}
    page = console.get(f"/console/sites/{SITE}").text
    badge = r'id="cam-([\w.-]+)">\s*<strong>.*?</strong>.*?class="badge (\w+)"'
    shown = dict(re.findall(badge, page, re.S))
    home = console.get("/console/").text
    online = re.search(r"(\d+)/(\d+) ", home.split(SITE, 1)[1])
    assert online is not None
    return listed, shown, (int(online[1]), int(online[2])), cams, page


def test_a_switched_off_box_turns_its_cameras_offline_everywhere_and_back(app, clock):
    admin = api_client(app)
    admin.put(f"/api/v1/projects/{SITE}", json={"name": "P"})
    with app.state.services.sessions.begin() as s:
        key = create_key(s, "console-admin", "admin")
    console = api_client(app)
    console.headers.pop("Authorization")
    assert console.post("/console/login", data={"key": key}).status_code == 200
    t0 = clock.now
    for cam in ("cam-1", "cam-2"):
        send(app, cam, "status", t0, detail="")
        send(app, cam, "stats", t0, interval_s=10.0, fps_in=25.0)
    listed, shown, online, _, _ = views(admin, console)
    assert listed == shown == {"cam-1": "online", "cam-2": "online"} and online == (2, 2)
    # cam-2's box goes dark: cam-1 keeps beating; 31 s later cam-2 missed 3 heartbeats
    clock.now = t0 + timedelta(seconds=31)
    send(app, "cam-1", "stats", clock.now, interval_s=10.0)
    listed, shown, online, cams, page = views(admin, console)
    assert listed == shown == {"cam-1": "online", "cam-2": "offline"} and online == (1, 2)
    [cam2] = [c for c in cams if c["camera_id"] == "cam-2"]
    since = t0.isoformat() + "Z"
    assert cam2["status"]["detail"] == f"no heartbeat since {since} (3 missed)"
    assert cam2["status"]["reported_state"] == "online" and cam2["status"]["at"] == since
    local = (t0 + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")  # China time, for people
    assert f"自 {local}" in page and "起未收到心跳" in page  # the reason, on the site page
    # its box comes back
    send(app, "cam-2", "stats", clock.now, interval_s=10.0)
    listed, shown, online, _, _ = views(admin, console)
    assert listed == shown == {"cam-1": "online", "cam-2": "online"} and online == (2, 2)


def test_the_liveness_settings_are_validated_and_read_from_the_environment():
    s = ApiSettings.load(
        env={
            "SITEGUARD_CAMERAS_MISSED_HEARTBEATS": "5",
            "SITEGUARD_CAMERAS_HEARTBEAT_INTERVAL_S": "30",
        }
    )
    assert (s.cameras.missed_heartbeats, s.cameras.heartbeat_interval_s) == (5, 30.0)
    assert ApiSettings().cameras == CameraSettings(missed_heartbeats=3, heartbeat_interval_s=10.0)
    with pytest.raises(SettingsError, match="cameras.missed_heartbeats"):
        ApiSettings.load(env={"SITEGUARD_CAMERAS_MISSED_HEARTBEATS": "0"})
