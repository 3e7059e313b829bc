"""The container images and compose.yaml, built and run on a real Docker engine.

`scripts/test` starts the engine (scripts/docker-engine.sh). The official base images are
used when Docker Hub answers; otherwise (this project's CI reaches only Debian's and PyPI's
mirrors) local stand-ins built from Debian bookworm (scripts/stand-in-images). Either way
the SiteGuard images come from the repository's own Dockerfile and compose.yaml.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from siteguard.demo.ports import free_port

REPO = Path(__file__).resolve().parents[2]
OFFICIAL = ("python:3.11-slim", "eclipse-mosquitto:2", "postgres:16")
PROJECT = {
    "name": "Compose test site",
    "evidence_base_url": "http://edge:8090/evidence/",  # the only box evidence comes from
    "address": "深圳市福田区测试路1号",
    "permit_no": "T-0001",
    "policy_no": "AZX-T-0001",
    "insurer": "测试保险",
    "contractor": "测试建筑公司",
    "responsible_person": "李工",
    "responsible_phone": "138-0000-0001",
    "jurisdiction": "福田区住建局",
}


# compose.yaml's broker is locked and takes both logins' passwords from the environment
# (every compose command needs them, `build` too): new random ones for each run
MQTT_PASSWORDS = {
    "SITEGUARD_EDGE_MQTT_PASSWORD": secrets.token_urlsafe(18),
    "SITEGUARD_API_MQTT_PASSWORD": secrets.token_urlsafe(18),
}


def sh(*cmd: str, env: dict[str, str] | None = None, timeout: float = 600, check: bool = True):
    return subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=check
    )


def base_images() -> dict[str, str]:
    """Variables for compose.yaml: empty when the official images can be pulled."""
    sh(str(REPO / "scripts" / "docker-engine.sh"), timeout=900)

    def pull(image: str, timeout: float) -> bool:
        try:
            return sh("docker", "pull", "-q", image, timeout=timeout, check=False).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    # one short try first: where Docker Hub is unreachable, a hanging pull must not eat CI time
    if pull(OFFICIAL[0], 60) and all(pull(image, 600) for image in OFFICIAL[1:]):
        print("base images: the official ones from Docker Hub")
        return {}
    print("base images: Docker Hub unreachable, local stand-ins (deploy/stand-in)")
    out = sh(str(REPO / "scripts" / "stand-in-images"), timeout=900).stdout
    found = dict(
        line.removeprefix("export ").split("=", 1)
        for line in out.splitlines()
        if line.startswith("export ")
    )
    assert set(found) == {"PYTHON_IMAGE", "MOSQUITTO_IMAGE", "POSTGRES_IMAGE"}
    return found


def compose_command() -> list[str]:
    if sh("docker", "compose", "version", check=False).returncode == 0:
        return ["docker", "compose"]
    assert shutil.which("docker-compose"), "neither `docker compose` nor docker-compose"
    return ["docker-compose"]


@dataclass
class Stack:
    env: dict[str, str]
    compose: list[str]
    api_ports: tuple[int, int]
    mqtt_port: int
    admin_key: str = ""

    def run(self, *args: str, timeout: float = 600, check: bool = True):
        return sh(*self.compose, *args, env=self.env, timeout=timeout, check=check)

    def container(self, service: str) -> str:
        return self.run("ps", "-q", service).stdout.strip()

    def health(self, service: str) -> str:
        cid = self.container(service)
        fmt = "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}"
        return sh("docker", "inspect", "-f", fmt, cid, check=False).stdout.strip()

    def wait_healthy(self, *services: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = {s: self.health(s) for s in services}
            if all(v == "healthy" for v in states.values()):
                return
            time.sleep(2)
        raise AssertionError(f"not healthy after {timeout:.0f} s: {states}")

    def api(self, replica: int, method: str, path: str, **kw) -> httpx.Response:
        url = f"http://127.0.0.1:{self.api_ports[replica - 1]}{path}"
        headers = {"Authorization": f"Bearer {self.admin_key}"}
        return httpx.request(method, url, headers=headers, timeout=30, **kw)

    def sql(self, query: str) -> list[list[str]]:
        out = self.run("exec", "-T", "postgres", "psql", "-U", "siteguard", "-At", "-c", query)
        return [line.split("|") for line in out.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def images() -> dict[str, str]:
    env = {**os.environ, **base_images(), **MQTT_PASSWORDS}
    started = time.monotonic()
    built = sh(*compose_command(), "build", env=env, timeout=1200, check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    print(f"images built in {time.monotonic() - started:.0f} s")
    return env


@pytest.fixture(scope="module")
def stack(images: dict[str, str], request: pytest.FixtureRequest) -> Iterator[Stack]:
    ports = (free_port(), free_port())
    mqtt_port = free_port()
    env = {
        **images,
        "COMPOSE_PROJECT_NAME": f"sgtest{uuid.uuid4().hex[:8]}",
        "SITEGUARD_MQTT_PORT": str(mqtt_port),
        "SITEGUARD_API_PORT": str(ports[0]),
        "SITEGUARD_API2_PORT": str(ports[1]),
    }
    stack = Stack(env, compose_command(), ports, mqtt_port)
    stack.run("up", "-d")
    try:
        stack.wait_healthy("postgres", "api-1", "api-2", "edge")
        key = stack.run(
            "exec", "-T", "api-1", "siteguard", "api-key", "add", "--name", "ops", "--role", "admin"
        )
        stack.admin_key = key.stdout.split()[0]
        yield stack
    finally:
        if request.session.testsfailed:  # what the services said, for the failure
            print(stack.run("logs", "--no-color", "--tail", "40", check=False).stdout[-6000:])
        stack.run("down", "-v", "--remove-orphans", timeout=300, check=False)


def test_images_run_as_a_user_with_health_checks_and_no_torch(images):
    for image in ("siteguard-edge", "siteguard-api"):
        uid = sh("docker", "run", "--rm", "--entrypoint", "id", image, "-u").stdout.strip()
        assert uid != "0", f"{image} runs as root"
        check = sh("docker", "inspect", "-f", "{{json .Config.Healthcheck}}", image).stdout
        assert "/healthz" in check, f"{image} has no health check"
        torch = sh(
            "docker",
            "run",
            "--rm",
            "--entrypoint",
            "python",
            image,
            "-c",
            "import importlib.util as u; print(u.find_spec('torch'))",
        ).stdout.strip()
        assert torch == "None", f"{image} carries torch"
        size = int(sh("docker", "image", "inspect", "-f", "{{.Size}}", image).stdout)
        print(f"{image}: {size / 1e6:.0f} MB")


def test_the_edge_image_detects_what_the_host_install_detects(images, tmp_path):
    """The shipped default model inside the image gives the host's answers on real photos."""
    photos = REPO / "tests" / "fixtures" / "images"
    names = sorted(p.name for p in photos.glob("*.jpg"))[:3]
    inside = sh(
        "docker",
        "run",
        "--rm",
        "-v",
        f"{photos}:/in:ro",
        "--entrypoint",
        "siteguard",
        "siteguard-edge",
        "detect",
        "--json",
        *[f"/in/{n}" for n in names],
    ).stdout
    host = sh(
        str(REPO / ".venv" / "bin" / "siteguard"),
        "detect",
        "--json",
        *[str(photos / n) for n in names],
    ).stdout
    got = [json.loads(line) for line in inside.splitlines()]
    want = [json.loads(line) for line in host.splitlines()]
    assert len(got) == len(want) == len(names)
    assert sum(len(r["detections"]) for r in got) > 0
    for g, w in zip(got, want, strict=True):
        assert [d["label"] for d in g["detections"]] == [d["label"] for d in w["detections"]]
        for a, b in zip(g["detections"], w["detections"], strict=True):
            assert a["box"] == pytest.approx(b["box"], abs=1.0)
        assert [v["type"] for v in g["violations"]] == [v["type"] for v in w["violations"]]


def test_the_stack_turns_the_sample_camera_into_a_notice_with_evidence(stack, tmp_path):
    assert stack.api(1, "PUT", "/api/v1/projects/demo-site", json=PROJECT).status_code == 200
    deadline = time.monotonic() + 180
    hazards: list[dict] = []
    while not hazards and time.monotonic() < deadline:
        hazards = stack.api(2, "GET", "/api/v1/hazards").json()
        time.sleep(2)
    assert hazards, "no hazard from the edge container within 3 minutes"
    assert hazards[0]["hazard_type"] == "no_helmet"
    r = stack.api(2, "POST", "/api/v1/projects/demo-site/notices")
    assert r.status_code == 201, r.text
    notice = r.json()
    pdf = stack.api(1, "GET", f"/notices/{notice['id']}.pdf")  # the other replica
    assert pdf.headers["content-type"] == "application/pdf"
    (tmp_path / "n.pdf").write_bytes(pdf.content)
    text = sh("pdftotext", str(tmp_path / "n.pdf"), "-").stdout
    assert notice["number"] in text and "未佩戴安全帽" in text  # the CJK font is in the image
    # evidence: the API fetches it from the edge container (http://edge:8090/...)
    photo = stack.api(1, "GET", f"/api/v1/hazards/{hazards[0]['id']}/evidence.jpg")
    assert photo.status_code == 200 and photo.content[:2] == b"\xff\xd8"


def mqtt_login(port: int, username: str | None = None, password: str | None = None) -> str:
    """The broker's answer to one MQTT 5 CONNECT from the host ("Success", "Not authorized")."""
    answers: list[str] = []
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"sgtest-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    if username is not None:
        client.username_pw_set(username, password)
    client.on_connect = lambda _c, _u, _f, reason, _p: answers.append(str(reason))
    client.connect("127.0.0.1", port, keepalive=10)
    deadline = time.monotonic() + 15
    while not answers and time.monotonic() < deadline:
        client.loop(0.2)
    client.disconnect()
    assert answers, "the broker never answered the CONNECT"
    return answers[0]


def test_the_broker_refuses_anonymous_clients_and_wrong_passwords(stack, tmp_path):
    """compose.yaml's broker is locked: only the logins broker-users wrote get in (that the
    edge's events still become hazards with its login is the test above), and compose has no
    default password to fall back on."""
    port = stack.mqtt_port
    api_password = stack.env["SITEGUARD_API_MQTT_PASSWORD"]
    assert mqtt_login(port) == "Not authorized"
    assert mqtt_login(port, "siteguard-api", api_password + "x") == "Not authorized"
    assert mqtt_login(port, "edge-demo-site", api_password) == "Not authorized"
    assert mqtt_login(port, "siteguard-api", api_password) == "Success"
    edge_password = stack.env["SITEGUARD_EDGE_MQTT_PASSWORD"]
    assert mqtt_login(port, "edge-demo-site", edge_password) == "Success"
    # the broker found its password and ACL files private (newer Mosquitto warns about, or
    # refuses, files that others can read or that another user owns)
    log = stack.run("logs", "--no-color", "mosquitto").stdout
    assert "Warning: File" not in log, log[-2000:]
    unset = {k: v for k, v in stack.env.items() if k not in MQTT_PASSWORDS}
    (tmp_path / "empty.env").write_text("")  # not a .env a developer may keep here
    r = sh(
        *stack.compose, "--env-file", str(tmp_path / "empty.env"), "config", env=unset, check=False
    )
    assert r.returncode != 0 and "set the MQTT passwords first" in r.stderr, r.stderr


def stored(stack: Stack) -> tuple[int, int, int]:
    """Events stored; events split over more than one hazard; and seqs missing below an
    event's highest (each message of an event carries the next seq, 0 on start), counting
    only events whose newest message is 10 s older than the newest stored (so a message
    still on its way is not counted as lost)."""
    [[total, split, missing]] = stack.sql(
        "SELECT (SELECT count(*) FROM events), "
        "(SELECT count(*) FROM (SELECT event_id FROM events GROUP BY event_id "
        "  HAVING count(DISTINCT hazard_id) > 1) s), "
        "(SELECT coalesce(sum(max_seq + 1 - n), 0) FROM (SELECT max(seq) AS max_seq, "
        "  count(DISTINCT seq) AS n, max(received_at) AS last FROM events GROUP BY event_id) g "
        "  WHERE last < (SELECT max(received_at) FROM events) - interval '10 seconds')"
    )
    return int(total), int(split), int(missing)


def test_a_replica_killed_mid_stream_loses_and_repeats_nothing(stack):
    before, _, _ = stored(stack)
    stack.run("kill", "-s", "SIGKILL", "api-1")
    time.sleep(15)  # the camera keeps producing; api-1's share waits at the broker
    during, _, _ = stored(stack)
    assert during > before, "replica 2 stopped storing events while replica 1 was down"
    stack.run("start", "api-1")
    stack.wait_healthy("api-1")
    time.sleep(20)  # replica 1 drains what waited for it; the stream goes on
    total, split, missing = stored(stack)
    assert total > during
    assert split == 0, "an event's messages were filed under two hazards"
    assert missing == 0, f"{missing} message(s) never stored"


def test_a_replica_retired_for_good_hands_over_what_waited_for_it(stack):
    """The scale-down step of docs/deploy.md, as written there for compose."""
    stack.run("stop", "api-2")
    time.sleep(10)  # replica 2's share of the camera's events waits at the broker
    out = stack.run("run", "--rm", "api-2", "--replica", "2", "--retire").stdout
    assert "left the shared subscription and ended its session" in out, out
    taken = int(out.split("stored ")[1].split(" message")[0])
    assert taken > 0
    time.sleep(15)
    _, split, missing = stored(stack)
    assert split == 0 and missing == 0, (split, missing)
