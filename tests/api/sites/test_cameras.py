"""Cameras and their zones: managed through the API or imported from the edge's site.yaml."""

import pytest

from siteguard.api.app import create_app
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.cli import main
from tests.support.api import api_client

ZONE = {
    "id": "slab-3f",
    "kind": "edge",
    "protected": True,
    "polygon": [[0, 0.8], [1, 0.8], [1, 1], [0, 1]],
}


@pytest.fixture
def app(tmp_path, db_url):
    return create_app(ApiSettings(database_url=db_url, mqtt=MqttIngestSettings(enabled=False)))


def test_cameras_and_zones_are_validated_scoped_and_listed(app):
    with api_client(app) as admin:
        admin.put("/api/v1/projects/futian-0001", json={"name": "福田工程", "insurer": "保险A"})
        r = admin.put(
            "/api/v1/projects/futian-0001/cameras/cam-1", json={"name": "北门", "zones": [ZONE]}
        )
        assert r.status_code == 200 and r.json()["zones"][0]["id"] == "slab-3f"
        bad = dict(ZONE, polygon=[[0, 0], [0.5, 0.5], [1, 1]])
        assert (
            admin.put(
                "/api/v1/projects/futian-0001/cameras/cam-2", json={"zones": [bad]}
            ).status_code
            == 422
        )
        insp = api_client(app, "inspector", insurer="保险A")
        assert [
            c["camera_id"] for c in insp.get("/api/v1/projects/futian-0001/cameras").json()
        ] == ["cam-1"]
        assert insp.put("/api/v1/projects/futian-0001/cameras/cam-9", json={}).status_code == 403
        outsider = api_client(app, "contractor", sites=["nanshan-0002"])
        assert outsider.get("/api/v1/projects/futian-0001/cameras").status_code == 404


def test_site_import_reads_cameras_and_zones_from_site_yaml(tmp_path, db_url, capsys):
    import yaml

    cfg = tmp_path / "site.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "site_id": "futian-0001",
                "cameras": [
                    {"id": "cam-1", "url": "rtsp://u:p@cam/1", "zones": [ZONE]},
                    {"id": "cam-2", "url": "x.mp4"},
                ],
            }
        )
    )
    assert main(["site", "import", "--db", db_url, "--config", str(cfg)]) == 0
    assert "2 camera(s), 1 zone(s) imported" in capsys.readouterr().out
    app = create_app(ApiSettings(database_url=db_url, mqtt=MqttIngestSettings(enabled=False)))
    with api_client(app) as admin:
        cams = admin.get("/api/v1/projects/futian-0001/cameras").json()
        assert [(c["camera_id"], len(c["zones"])) for c in cams] == [("cam-1", 1), ("cam-2", 0)]
        assert "u:p" not in str(cams)  # stream credentials never reach the API
        # once the project is registered, importing again names its edge box for evidence
        assert admin.put("/api/v1/projects/futian-0001", json={"name": "P"}).status_code == 200
        assert main(["site", "import", "--db", db_url, "--config", str(cfg)]) == 0
        assert "fetched from its edge box at http://127.0.0.1:8090/evidence/" in (
            capsys.readouterr().out
        )
        [project] = admin.get("/api/v1/projects").json()
        assert project["evidence_base_url"] == "http://127.0.0.1:8090/evidence/"
        assert project["name"] == "P"  # the rest of the project kept
