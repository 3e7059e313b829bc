"""The edge worker end to end on one machine: a file camera, a test-built model that
always sees a bare head on a worker standing in an unprotected edge zone, a real
Mosquitto broker, evidence served over HTTP."""

import json
import time
import urllib.request

import cv2
import numpy as np
import pytest
import yaml

from siteguard.contract.events import EventState, HazardEvent
from siteguard.demo.services import Collector, wait_until
from siteguard.edge.config import ConfigError, EdgeConfig
from siteguard.edge.worker import EdgeWorker
from siteguard.pipeline.decode import OutputKind
from tests.support.onnx_factory import make_model, raw_prediction


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "cam.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 20, (128, 128))
    for i in range(40):
        img = np.full((128, 128, 3), 60, np.uint8)
        cv2.circle(img, (20 + i * 2, 64), 10, (200, 200, 200), -1)  # something moves
        w.write(img)
    w.release()
    return path


@pytest.fixture
def model(tmp_path):
    # 64x64 input; frames are 128x128: a person whose feet are at y=116 px, a bare head on it
    pred = raw_prediction([(32, 32, 16, 52), (32, 12, 8, 8)], [[0.9, 0.0], [0.0, 0.8]])
    return make_model(tmp_path / "m.onnx", pred, OutputKind.RAW, ["person", "head"])


def site_config(tmp_path, clip, model, login, **over):
    doc = {
        "site_id": "site-1",
        "model": str(model),
        "provider": "cpu",
        "cameras": [
            {
                "id": "cam-1",
                "url": str(clip),
                "detect_fps": 5,
                "loop": True,
                "motion": {"full_check_s": 1.0},
                "zones": [
                    {
                        "id": "slab-edge",
                        "kind": "edge",
                        "polygon": [[0, 0.8], [1, 0.8], [1, 1], [0, 1]],
                    }
                ],
            }
        ],
        "mqtt": login,
        "outbox": str(tmp_path / "outbox.db"),
        "evidence": {"dir": str(tmp_path / "evidence"), "clip_seconds": 1},
        "http": {"port": 0},
        "lifecycle": {"min_duration_s": 0.5, "min_frames": 2, "end_grace_s": 2.0},
        "stats_interval_s": 0.5,
    }
    doc.update(over)
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_worker_publishes_events_status_stats_and_serves_evidence(tmp_path, clip, model, broker):
    sub = Collector(**broker.login, topic="siteguard/#")
    config = EdgeConfig.load(site_config(tmp_path, clip, model, broker.login))
    worker = EdgeWorker(config)
    worker.start()
    try:
        starts = []
        deadline = time.monotonic() + 30
        while len(starts) < 2 and time.monotonic() < deadline:
            evs = [HazardEvent.model_validate_json(p) for p in sub.payloads("/events")]
            starts = [e for e in evs if e.state is EventState.START]
            time.sleep(0.1)
        kinds = {e.hazard_type.value: e for e in starts}
        assert set(kinds) == {"no_helmet", "edge_unprotected"}
        edge = kinds["edge_unprotected"]
        assert edge.level.value == "major" and edge.zones == ["slab-edge"]
        assert edge.boxes[0].label == "person" and edge.boxes[0].track_id is not None
        assert edge.model.name == "tiny-test" and edge.site_id == "site-1"
        # evidence: the snapshot and the clip are served by the worker
        assert edge.evidence_uri and not edge.evidence_missing
        url = edge.evidence_uri.replace(":8090/", f":{worker.http_port}/")
        jpeg = urllib.request.urlopen(url, timeout=5).read()
        assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape == (128, 128, 3)
        clip = tmp_path / "evidence" / edge.event_id / "clip.mp4"  # written beside, off the
        assert wait_until(clip.exists, 10) and clip.stat().st_size > 0  # analysis thread
        status = json.loads(sub.wait_for(1, topic_suffix="/cam-1/status")[0])
        assert status["state"] == "online"
        stats = json.loads(sub.wait_for(1, topic_suffix="/cam-1/stats")[-1])
        assert stats["frames_detected"] > 0 and "outbox_depth" in stats
        assert 0 < stats["fps_detected"] <= 6 and stats["fps_in"] > 0  # detect_fps 5, clip 20 fps
        metrics = (
            urllib.request.urlopen(f"http://127.0.0.1:{worker.http_port}/metrics").read().decode()
        )
        assert 'siteguard_camera_online{camera="cam-1"} 1' in metrics
        health = json.loads(
            urllib.request.urlopen(f"http://127.0.0.1:{worker.http_port}/healthz").read()
        )
        assert health["mqtt_connected"] is True
        bad = f"http://127.0.0.1:{worker.http_port}/evidence/../../etc/passwd"
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(bad)
    finally:
        worker.stop()
    # a clean stop ends every open hazard
    evs = [HazardEvent.model_validate_json(p) for p in sub.wait_for(4, topic_suffix="/events")]
    ended = {e.event_id for e in evs if e.state is EventState.END}
    assert {e.event_id for e in starts} <= ended
    keys = [(e.event_id, e.seq) for e in evs]
    assert len(keys) == len(set(keys)), "an (event id, seq) was published twice"
    sub.close()


def test_evidence_disk_trouble_marks_evidence_missing_but_events_flow(
    tmp_path, clip, model, broker
):
    blocker = tmp_path / "evidence"
    blocker.write_text("a file where the evidence folder should be")  # mkdir will fail
    sub = Collector(**broker.login, topic="siteguard/+/+/events")
    worker = EdgeWorker(EdgeConfig.load(site_config(tmp_path, clip, model, broker.login)))
    worker.start()
    try:
        ev = HazardEvent.model_validate_json(sub.wait_for(1)[0])
        assert ev.evidence_missing and ev.evidence_uri is None
        assert worker.evidence.failures >= 1
    finally:
        worker.stop()
    sub.close()


def test_bad_configs_are_clear_errors(tmp_path, clip, model):
    path = site_config(tmp_path, clip, model, {"port": 1883}, cameraz=[])
    with pytest.raises(ConfigError, match="cameraz"):
        EdgeConfig.load(path)
    path = site_config(tmp_path, clip, model, {"port": 1883}, lifecycle={"end_grace_s": 0.5})
    with pytest.raises(ConfigError, match="full_check_s"):
        EdgeConfig.load(path)
    (tmp_path / "broken.yaml").write_text("site_id: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        EdgeConfig.load(tmp_path / "broken.yaml")


def test_evidence_retention_removes_oldest_first(tmp_path):
    import os

    from siteguard.edge.evidence_store import EvidenceConfig, EvidenceStore

    store = EvidenceStore(EvidenceConfig(dir=tmp_path / "ev", retention_days=1, max_total_mb=1e-3))
    img = np.zeros((64, 64, 3), np.uint8)
    for i, age_days in enumerate([3, 0.5, 0.1]):
        assert store.save_snapshot(f"evt_{i:08d}", 0, img)
        t = time.time() - age_days * 86400
        os.utime(tmp_path / "ev" / f"evt_{i:08d}", (t, t))
    assert store.enforce_retention() >= 1
    left = sorted(p.name for p in (tmp_path / "ev").iterdir())
    assert "evt_00000000" not in left and "evt_00000002" in left
    assert store.resolve("evt_00000002/0.jpg") is not None
    assert store.resolve("../../etc/passwd") is None


def test_the_default_configuration_is_valid():
    config = EdgeConfig.model_validate({"site_id": "s", "cameras": [{"id": "c", "url": "x.mp4"}]})
    assert config.cameras[0].motion.full_check_s < config.lifecycle.end_grace_s


def test_protection_removed_raises_protection_missing_and_exposes_the_edge(tmp_path, broker):
    from tests.pipeline.test_protection import ZONE, site

    clip = tmp_path / "rails.mp4"
    w = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), 10, (320, 240))
    for i in range(60):  # 3 s with the guardrail, then 3 s after it was taken away
        w.write(site(rails=i < 30, seed=i))
    w.release()
    ref = tmp_path / "reference.jpg"
    cv2.imwrite(str(ref), site(rails=True))
    # the model sees one worker at the right-hand end, feet inside the protected band
    pred = raw_prediction([(56, 40, 8, 16)], [[0.9]])
    model = make_model(tmp_path / "p.onnx", pred, OutputKind.RAW, ["person"])
    sub = Collector(**broker.login, topic="siteguard/+/+/events")
    config = EdgeConfig.model_validate(
        {
            "site_id": "site-1",
            "model": str(model),
            "provider": "cpu",
            "cameras": [
                {
                    "id": "cam-1",
                    "url": str(clip),
                    "detect_fps": 5,
                    "reference_image": str(ref),
                    "motion": {"enabled": False},
                    "zones": [
                        {"id": "slab-3f", "kind": "edge", "protected": True, "polygon": ZONE}
                    ],
                }
            ],
            "mqtt": broker.login,
            "outbox": str(tmp_path / "o.db"),
            "evidence": {"dir": str(tmp_path / "ev"), "clip_seconds": 0},
            "http": {"port": 0},
            "lifecycle": {
                "min_duration_s": 0.5,
                "min_frames": 2,
                "end_grace_s": 5,
                "min_duration_by_type": {"protection_missing": 1.0},
            },
        }
    )
    worker = EdgeWorker(config)
    worker.start()
    try:
        evs = [HazardEvent.model_validate_json(p) for p in sub.wait_for(2, timeout=30)]
    finally:
        worker.stop()
    starts = {e.hazard_type.value: e for e in evs if e.state is EventState.START}
    assert set(starts) == {"protection_missing", "edge_unprotected"}
    pm = starts["protection_missing"]
    assert pm.zones == ["slab-3f"] and pm.level.value == "major" and "reference view" in pm.reason
    # while the rail was there the worker stood at a protected edge: no edge hazard yet
    assert starts["edge_unprotected"].frame_time >= pm.started_at
    sub.close()


def test_protected_zone_with_an_unreadable_reference_is_a_clear_error(tmp_path, clip, model):
    config = EdgeConfig.model_validate(
        {
            "site_id": "s",
            "model": str(model),
            "cameras": [
                {
                    "id": "c",
                    "url": str(clip),
                    "reference_image": str(tmp_path / "none.jpg"),
                    "zones": [
                        {
                            "id": "z",
                            "kind": "edge",
                            "protected": True,
                            "polygon": [[0, 0], [1, 0], [1, 1]],
                        }
                    ],
                }
            ],
        }
    )
    with pytest.raises(FileNotFoundError, match="reference image"):
        EdgeWorker(config)


def test_commission_writes_a_reference_and_refuses_a_view_without_structure(tmp_path, capsys):
    from siteguard.cli import main
    from tests.pipeline.test_protection import ZONE, site

    def clip_of(rails, name):
        path = tmp_path / name
        w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 10, (320, 240))
        for i in range(15):
            w.write(
                site(rails=rails, seed=i)
                if rails is not None
                else np.full((240, 320, 3), 120, np.uint8)
            )
        w.release()
        return path

    for rails, name, code in [(True, "ok.mp4", 0), (None, "flat.mp4", 1)]:
        cfg = tmp_path / f"{name}.yaml"
        cfg.write_text(
            yaml.safe_dump(
                {
                    "site_id": "s",
                    "cameras": [
                        {
                            "id": "c",
                            "url": str(clip_of(rails, name)),
                            "reference_image": f"refs/{name}.jpg",
                            "zones": [
                                {"id": "z", "kind": "edge", "protected": True, "polygon": ZONE}
                            ],
                        }
                    ],
                }
            )
        )
        assert main(["commission", "--config", str(cfg), "--camera", "c"]) == code
        assert (tmp_path / "refs" / f"{name}.jpg").exists() == (code == 0)
    assert "re-commission" in capsys.readouterr().err
    assert main(["commission", "--config", str(cfg), "--camera", "nope"]) == 2


@pytest.mark.parametrize("sees_rail", [True, False])
def test_a_protection_detector_decides_in_detector_mode(tmp_path, broker, sees_rail):
    """mode: detector uses a model with guardrail classes instead of the reference view."""
    clip = tmp_path / "c.mp4"
    w = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), 10, (128, 128))
    for i in range(30):
        w.write(np.full((128, 128, 3), 60 + i, np.uint8))
    w.release()
    rail = (32, 56, 60, 6)  # centre (32, 56) of 64: inside the zone band 0.8..0.95
    elsewhere = (32, 10, 60, 6)
    pred = raw_prediction([rail if sees_rail else elsewhere], [[0.9]])
    model = make_model(tmp_path / "g.onnx", pred, OutputKind.RAW, ["guardrail"])
    sub = Collector(**broker.login, topic="siteguard/+/+/events")
    config = EdgeConfig.model_validate(
        {
            "site_id": "s",
            "model": str(model),
            "provider": "cpu",
            "protection": {"mode": "detector"},
            "cameras": [
                {
                    "id": "c",
                    "url": str(clip),
                    "detect_fps": 5,
                    "loop": True,
                    "motion": {"enabled": False},
                    "zones": [
                        {
                            "id": "edge-1",
                            "kind": "edge",
                            "protected": True,
                            "polygon": [[0, 0.8], [1, 0.8], [1, 0.95], [0, 0.95]],
                        }
                    ],
                }
            ],
            "mqtt": broker.login,
            "outbox": str(tmp_path / "o.db"),
            "evidence": {"dir": str(tmp_path / "ev"), "clip_seconds": 0},
            "http": {"port": 0},
            "lifecycle": {
                "min_duration_s": 0.2,
                "min_frames": 2,
                "min_duration_by_type": {"protection_missing": 0.5},
            },
        }
    )
    worker = EdgeWorker(config)
    worker.start()
    try:
        if sees_rail:
            time.sleep(3)
            assert sub.payloads() == []
        else:
            ev = HazardEvent.model_validate_json(sub.wait_for(1, timeout=15)[0])
            assert ev.hazard_type.value == "protection_missing" and ev.zones == ["edge-1"]
    finally:
        worker.stop()
        sub.close()


def test_detector_mode_needs_a_model_with_protection_classes(tmp_path, clip, model):
    config = EdgeConfig.model_validate(
        {
            "site_id": "s",
            "model": str(model),
            "protection": {"mode": "detector"},
            "cameras": [{"id": "c", "url": str(clip)}],
        }
    )
    with pytest.raises(ValueError, match="no guardrail/safety_net classes"):
        EdgeWorker(config)


def test_a_far_field_camera_detects_on_tiles_and_the_others_on_the_whole_frame(
    tmp_path, clip, model
):
    from siteguard.pipeline.tiling import TiledDetector

    path = site_config(tmp_path, clip, model, {"port": 1883})
    doc = yaml.safe_load(path.read_text())
    far = dict(doc["cameras"][0], id="cam-far", tiles=2)
    doc["cameras"].append(far)
    path.write_text(yaml.safe_dump(doc))
    worker = EdgeWorker(EdgeConfig.load(path))  # not started: no broker needed
    near, far_runner = worker.cameras["cam-1"], worker.cameras["cam-far"]
    assert near.detector is worker.detector  # one model in memory, shared
    assert isinstance(far_runner.detector, TiledDetector)
    assert far_runner.detector.detector is worker.detector and far_runner.detector.grid == 2


def test_worker_serves_each_cameras_live_frame_and_names_its_heartbeat_period(
    tmp_path, clip, model, broker
):
    from siteguard.edge.evidence_store import EvidenceStore

    sub = Collector(**broker.login, topic="siteguard/#", client_id="live-frame-test")
    path = site_config(tmp_path, clip, model, broker.login)
    doc = yaml.safe_load(path.read_text())
    dark = {"id": "cam-dark", "url": str(tmp_path / "missing.mp4"), "motion": {"full_check_s": 1.0}}
    doc["cameras"].append(dark)
    path.write_text(yaml.safe_dump(doc))
    worker = EdgeWorker(EdgeConfig.load(path))
    worker.start()
    base = f"http://127.0.0.1:{worker.http_port}/evidence/live"

    def get(name):
        try:
            with urllib.request.urlopen(f"{base}/{name}", timeout=5) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    try:
        deadline = time.monotonic() + 30
        while (got := get("cam-1.jpg"))[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        code, headers, body = got
        assert code == 200 and headers["Content-Type"] == "image/jpeg"
        assert headers["Cache-Control"] == "no-store"  # live: never cached on the way
        frame = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
        assert frame.shape == (128, 128, 3)  # the frame itself, not a thumbnail
        code, _, body = get("cam-dark.jpg")  # a camera that never delivered a frame
        assert code == 404 and json.loads(body) == {"error": "no analysed frame yet"}
        for unknown in ("cam-9.jpg", "cam-1.png", "cam-1", "../cam-1.jpg"):
            code, _, body = get(unknown)
            assert code == 404 and json.loads(body) == {"error": "no such camera"}
        stats = json.loads(sub.wait_for(1, topic_suffix="/cam-1/stats")[-1])
        assert stats["interval_s"] == 0.5  # the configured stats_interval_s
    finally:
        worker.stop()
        sub.close()
    # no event folder can shadow the live frames
    store = EvidenceStore(worker.config.evidence)
    for reserved in ("live", "LIVE"):
        with pytest.raises(ValueError, match="reserved"):
            store.save_snapshot(reserved, 0, np.zeros((8, 8, 3), np.uint8))
    assert not (worker.config.evidence.dir / "live").exists()


@pytest.mark.parametrize("blur", [True, False])
def test_commission_keeps_the_reference_with_faces_pixelated(tmp_path, capsys, blur):
    """The reference view is kept on the box like stored evidence: with blur_faces (the
    default) the workers' faces in it are pixelated, and the engineer is told people are
    in a view that should show the protection clear of them; without it, kept as taken."""
    from siteguard.cli import main
    from tests.pipeline.test_protection import ZONE
    from tests.support.paths import FIXTURES

    photo = cv2.imread(str(FIXTURES / "images" / "hhw-000011.jpg"))  # workers, faces seen
    h, w = photo.shape[:2]
    clip = tmp_path / "view.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), 10, (w, h))
    for _ in range(15):
        writer.write(photo)
    writer.release()
    cap = cv2.VideoCapture(str(clip))
    frames = [cap.read()[1] for _ in range(11)]  # what commission keeps: after 10 skipped
    cap.release()
    cfg = tmp_path / "site.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "site_id": "s",
                "evidence": {"blur_faces": blur},
                "cameras": [
                    {
                        "id": "c",
                        "url": str(clip),
                        "reference_image": "ref.png",  # lossless: compared pixel for pixel
                        "zones": [{"id": "z", "kind": "edge", "protected": True, "polygon": ZONE}],
                    }
                ],
            }
        )
    )
    assert main(["commission", "--config", str(cfg), "--camera", "c"]) == 0
    kept = cv2.imread(str(tmp_path / "ref.png"))
    cx, cy, bw, bh = (0.5638, 0.5660, 0.0495, 0.0903)  # a labelled head (the fixture's .txt)
    face = (
        slice(int((cy - bh / 4) * h), int((cy + bh / 2) * h)),
        slice(int((cx - bw / 2) * w), int((cx + bw / 2) * w)),
    )
    assert np.array_equal(kept[face], frames[-1][face]) is (not blur)
    assert ("person(s) in the view" in capsys.readouterr().err) is blur
    if not blur:
        assert np.array_equal(kept, frames[-1])
