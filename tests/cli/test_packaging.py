"""What the images and the edge install are built from, checked without Docker (quick, and
part of `scripts/test --fast`): no torch at run time, every file the Dockerfile copies
exists. tests/images builds and runs the images themselves."""

import re
import tomllib

import yaml

from siteguard.edge.config import EdgeConfig
from tests.support.paths import REPO


def test_runtime_dependencies_carry_no_training_stack():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=\[ ;]", d)[0].lower() for d in deps}
    assert not names & {"torch", "torchvision", "ultralytics"}
    assert {"onnxruntime", "opencv-python-headless", "paho-mqtt", "fastapi"} <= names


def test_dockerfile_copies_existing_paths_and_has_both_targets():
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM .* AS edge$", text, re.M) and re.search(
        r"^FROM .* AS api$", text, re.M
    )
    for src in re.findall(r"^COPY (?!--from)(\S+)", text, re.M):
        assert (REPO / src).exists(), f"Dockerfile copies {src}, which does not exist"
    assert text.count("USER siteguard") == 2 and text.count("HEALTHCHECK") == 2


def test_compose_uses_the_images_and_a_valid_edge_config():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    assert {"mosquitto", "postgres", "api-1", "api-2", "edge"} <= set(compose["services"])
    config = EdgeConfig.load(REPO / "edge" / "sample" / "site.docker.yaml")
    assert config.mqtt.host == "mosquitto" and config.http.host == "0.0.0.0"
    # every file the compose file mounts is in the repository
    for svc in compose["services"].values():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./"):
                assert (REPO / src).exists(), f"compose mounts {src}, which does not exist"
    broker_conf = (REPO / "deploy" / "mosquitto.conf").read_text()
    assert "max_inflight_messages 1000" in broker_conf  # batches of acknowledged-after-commit


def test_the_wheel_the_images_install_carries_everything_the_services_load(tmp_path):
    """The images install the project (Dockerfile: `pip install .` into a venv). Build its
    wheel, install it alone into a folder, and run the API (migrations, console
    and bulletin templates, CJK PDF), the shipped models and the sample clip from there,
    not from the checkout."""
    import subprocess
    import sys

    wheels, site = tmp_path / "wheels", tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "--wheel-dir",
            str(wheels),
            str(REPO),
        ],
        check=True,
        cwd=tmp_path,
    )
    [wheel] = wheels.glob("siteguard-*.whl")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
    )
    probe = """
import siteguard, sys
assert siteguard.__file__.startswith(sys.argv[1]), siteguard.__file__
from fastapi.testclient import TestClient
from siteguard.api.app import create_app
from siteguard.api.access.keys import create_key
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.demo.sample import sample_video_path
from siteguard.models.registry import default_model_path, resolve_model
from siteguard.pipeline.detector import OnnxDetector
settings = ApiSettings(database_url="sqlite:///" + sys.argv[2])
app = create_app(settings.model_copy(update={"mqtt": MqttIngestSettings(enabled=False)}))
with app.state.services.sessions.begin() as s:
    key = create_key(s, "probe", "admin")
c = TestClient(app)
assert c.get("/console/login").status_code == 200
assert c.post("/console/login", data={"key": key}).status_code == 200
assert c.get("/console/notices").status_code == 200
auth = {"Authorization": "Bearer " + key}
r = c.get("/regulator/bulletin.pdf?month=2026-10&jurisdiction=x", headers=auth)
assert r.content.startswith(b"%PDF")
OnnxDetector(default_model_path()); OnnxDetector(resolve_model("siteguard-ppe-s320-int8"))
assert sample_video_path().stat().st_size > 100_000
print("ok")
"""
    out = subprocess.run(
        [sys.executable, "-c", probe, str(site), str(tmp_path / "probe.db")],
        env={**__import__("os").environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]
