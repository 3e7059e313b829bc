"""The API half of `siteguard demo`: API (SQLite, MQTT ingest), reference supervision
platform, demo project and keys, and a follower that issues the first notice."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from siteguard.demo.ports import free_port

DEMO_PROJECT = {
    "name": "演示工程（SiteGuard demo）",
    "address": "深圳市福田区演示路1号",
    "permit_no": "DEMO-0001",
    "policy_no": "AZX-DEMO-0001",
    "insurer": "演示保险",
    "contractor": "演示建筑公司",
    "responsible_person": "张工",
    "responsible_phone": "138-0000-0000",
    "jurisdiction": "福田区住建局",
}


@dataclass
class DemoApi:
    data: Path
    broker_port: int
    site_id: str
    mqtt_user: str | None = None
    mqtt_password: str | None = None
    port: int = field(default_factory=free_port)
    keys: dict[str, str] = field(default_factory=dict)
    notices: list[dict[str, Any]] = field(default_factory=list)

    def start(self) -> DemoApi:
        import uvicorn

        from siteguard.api.access.keys import create_key
        from siteguard.api.app import create_app
        from siteguard.api.platform.push import PushSettings
        from siteguard.api.settings import ApiSettings, MqttIngestSettings
        from siteguard.demo.platform_receiver import PlatformReceiver

        self.data.mkdir(parents=True, exist_ok=True)
        self.platform = PlatformReceiver(
            "demo-secret", self.data / "platform-messages.jsonl"
        ).start()
        settings = ApiSettings(
            database_url=f"sqlite:///{self.data / 'api.db'}",
            data_dir=self.data / "api-data",
            mqtt=MqttIngestSettings(
                port=self.broker_port,
                client_id="siteguard-demo-api",
                username=self.mqtt_user,
                password=self.mqtt_password,
            ),
            push=PushSettings(
                url=self.platform.url, secret="demo-secret", poll_s=0.5, escalation_check_s=30
            ),
        )
        self.app = create_app(settings)
        with self.app.state.services.sessions.begin() as s:
            self.keys = {
                "admin": create_key(s, "demo-admin", "admin"),
                "inspector": create_key(
                    s, "演示检查员", "inspector", insurer=DEMO_PROJECT["insurer"]
                ),
                "contractor": create_key(s, "演示施工方", "contractor", [self.site_id]),
                "regulator": create_key(
                    s, "演示监管", "regulator", jurisdiction=DEMO_PROJECT["jurisdiction"]
                ),
            }
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        threading.Thread(target=self.server.run, name="demo-api", daemon=True).start()
        deadline = time.monotonic() + 15
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        self.call("admin", "PUT", f"/api/v1/projects/{self.site_id}", json=DEMO_PROJECT)
        return self

    def register_edge_box(self, evidence_base_url: str) -> None:
        """Name the edge worker's evidence endpoint as the site's edge box: the API fetches
        evidence (for the console and the notice PDF) from nowhere else."""
        base = evidence_base_url.rstrip("/") + "/"
        project = dict(DEMO_PROJECT, evidence_base_url=base)
        self.call("admin", "PUT", f"/api/v1/projects/{self.site_id}", json=project)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, role: str, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[role]}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=10, **kw)

    def follow_first_notice(self, stop: threading.Event) -> None:
        """As the inspector would: once hazards arrive, issue the notice and save it."""
        while not stop.wait(1.0):
            hazards = self.call("inspector", "GET", "/api/v1/hazards").json()
            if not hazards:
                continue
            time.sleep(2.0)  # let the first few hazards of the clip arrive: one notice, not several
            r = self.call("inspector", "POST", f"/api/v1/projects/{self.site_id}/notices")
            if r.status_code != 201:
                continue
            n = r.json()
            self.notices.append(n)
            html = self.data / f"notice-{n['number']}.html"
            pdf = self.data / f"notice-{n['number']}.pdf"
            html.write_text(
                self.call("inspector", "GET", f"/notices/{n['id']}.html").text, encoding="utf-8"
            )
            pdf.write_bytes(self.call("inspector", "GET", f"/notices/{n['id']}.pdf").content)
            lines = [
                f"  NOTICE {n['number']} issued to {n['project']['contractor']}, "
                f"{len(n['items'])} item(s):"
            ]
            lines += [
                f"    {i['no']}. {i['title']} [{i['level_zh']}] by {i['deadline_local']}; "
                f"evidence {i['evidence_uri']}"
                for i in n["items"]
            ]
            lines += [
                f"    saved: {html}",
                f"           {pdf}",
                f"    API:   curl -H 'Authorization: Bearer {self.keys['inspector']}' "
                f"{self.url}/api/v1/notices/{n['id']}",
                f"    console: {self.url}/console/notices/{n['id']}",
            ]
            print("\n".join(lines), flush=True)
            return

    def stop(self) -> None:
        self.server.should_exit = True
        time.sleep(0.5)
        self.platform.stop()
