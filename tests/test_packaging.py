"""What the images and the edge install are built from, checked statically (CI has no
Docker engine): no torch at run time, every file the Dockerfile copies exists."""

import re
import tomllib
from pathlib import Path

import yaml

from siteguard.edge.config import EdgeConfig

REPO = Path(__file__).resolve().parents[1]


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
