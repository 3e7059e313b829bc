"""Zones drawn in the console (saved in the API) are what the edge worker uses: at start,
and while it runs (checked every api.refresh_s); with the API unreachable the worker keeps
the zones it has."""

import logging

import pytest

from siteguard.api.access.keys import create_key
from siteguard.demo.ports import free_port
from siteguard.demo.services import wait_until
from siteguard.edge.config import EdgeConfig
from siteguard.edge.worker import EdgeWorker
from siteguard.edge.zone_sync import ApiLink, ZoneSyncError, fetch_zones
from siteguard.pipeline.decode import OutputKind
from tests.support.api import api_client, sqlite_app
from tests.support.browser import served
from tests.support.onnx_factory import make_model, raw_prediction

LOCAL = [{"id": "local-edge", "kind": "edge", "polygon": [[0, 0.8], [1, 0.8], [1, 1], [0, 1]]}]
DRAWN = [
    {
        "id": "edge-3F",
        "kind": "edge",
        "polygon": [[0.1, 0.6], [0.5, 0.6], [0.5, 0.9]],
        "protected": False,
    },
    {"id": "scaffold-east", "kind": "scaffold", "polygon": [[0.6, 0.1], [0.9, 0.1], [0.9, 0.5]]},
]


def config(tmp_path, api_url=None, key=None, **extra):
    model = make_model(
        tmp_path / "m.onnx", raw_prediction([(32, 32, 8, 8)], [[0.9]]), OutputKind.RAW, ["person"]
    )
    return EdgeConfig.model_validate(
        {
            "site_id": "site-z",
            "model": str(model),
            "provider": "cpu",
            "cameras": [
                {"id": "cam-1", "url": "rtsp://127.0.0.1:1/x", "zones": LOCAL},
                {"id": "cam-2", "url": "rtsp://127.0.0.1:1/y", "zones": LOCAL},
            ],
            "outbox": str(tmp_path / "outbox.db"),
            "evidence": {"dir": str(tmp_path / "ev")},
            "api": {"url": api_url, "key": key},
            **extra,
        }
    )


@pytest.fixture
def api(tmp_path):
    app = sqlite_app(tmp_path, "z.db")
    admin = api_client(app)
    # drawn in the console (same call the console's save makes): cam-1 only
    r = admin.put("/api/v1/projects/site-z/cameras/cam-1", json={"name": "塔吊", "zones": DRAWN})
    assert r.status_code == 200
    with app.state.services.sessions.begin() as s:
        edge_key = create_key(s, "edge-z", "edge", ["site-z"])
        other_key = create_key(s, "edge-other", "edge", ["site-other"])
    with served(app) as url:
        yield url, edge_key, other_key, admin


def test_the_worker_takes_the_zones_drawn_in_the_console(tmp_path, api, caplog):
    url, key, _, _ = api
    caplog.set_level(logging.INFO)
    worker = EdgeWorker(config(tmp_path, url, key))
    try:
        assert [z.id for z in worker.cameras["cam-1"].cfg.zones] == ["edge-3F", "scaffold-east"]
        assert [z.id for z in worker.cameras["cam-2"].cfg.zones] == ["local-edge"]  # not in the API
        assert "zones from the API: edge-3F, scaffold-east" in caplog.text
    finally:
        worker.outbox.close()


def test_an_unreachable_api_or_a_wrong_key_keeps_the_local_zones(tmp_path, api, caplog):
    url, _, other_key, _ = api
    with pytest.raises(ZoneSyncError, match="404"):  # a key of another site sees nothing
        fetch_zones(ApiLink(url=url, key=other_key), "site-z")
    worker = EdgeWorker(config(tmp_path, f"http://127.0.0.1:{free_port()}", "sg_x"))
    try:
        assert [z.id for z in worker.cameras["cam-1"].cfg.zones] == ["local-edge"]
        assert "keeping those in site.yaml" in caplog.text and "cannot reach the API" in caplog.text
    finally:
        worker.outbox.close()


MOVED = [{"id": "edge-3F", "kind": "edge", "polygon": [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0]]}]


def test_zones_redrawn_while_the_worker_runs_apply_without_a_restart(tmp_path, api, caplog):
    url, key, _, admin = api
    caplog.set_level(logging.INFO)
    worker = EdgeWorker(config(tmp_path, url, key))
    try:
        assert worker.refresh_zones() == []  # nothing changed since start
        r = admin.put("/api/v1/projects/site-z/cameras/cam-1", json={"zones": MOVED})
        assert r.status_code == 200
        assert worker.refresh_zones() == ["cam-1"]
        [zone] = worker.cameras["cam-1"].cfg.zones
        assert zone.polygon == [(0.0, 0.5), (1.0, 0.5), (1.0, 1.0)]
        assert [z.id for z in worker.cameras["cam-2"].cfg.zones] == ["local-edge"]
        assert "camera cam-1: zones changed in the API: edge-3F" in caplog.text
        assert worker.refresh_zones() == []
    finally:
        worker.outbox.close()


def test_a_refresh_during_an_api_outage_keeps_the_zones_and_says_so_once(tmp_path, api, caplog):
    url, key, _, _ = api
    worker = EdgeWorker(config(tmp_path, url, key))
    try:
        worker.config.api.url = f"http://127.0.0.1:{free_port()}"  # the office link goes down
        caplog.clear()
        assert worker.refresh_zones() == [] and worker.refresh_zones() == []
        assert [z.id for z in worker.cameras["cam-1"].cfg.zones] == ["edge-3F", "scaffold-east"]
        assert caplog.text.count("cannot refresh, keeping the current ones") == 1
        worker.config.api.url = url  # back
        caplog.set_level(logging.INFO)
        assert worker.refresh_zones() == []
        assert "the API answers again" in caplog.text
    finally:
        worker.outbox.close()


def test_a_running_worker_checks_for_new_zones_every_refresh_s(tmp_path, api, broker):
    url, key, _, admin = api
    worker = EdgeWorker(
        config(
            tmp_path,
            url,
            key,
            mqtt=broker.login,
            http={"port": 0},
        )
    )
    worker.config.api.refresh_s = 0.2
    worker.start()
    try:
        admin.put("/api/v1/projects/site-z/cameras/cam-1", json={"zones": MOVED})
        assert wait_until(lambda: len(worker.cameras["cam-1"].cfg.zones) == 1, timeout=10)
    finally:
        worker.stop()
