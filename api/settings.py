"""API settings: a validated model built by a factory (never at import time)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.platform.push import PushSettings
from siteguard.api.platform.robots import RobotSettings
from siteguard.api.risk.model import RiskSettings


class MqttIngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(1883, gt=0, lt=65536)
    prefix: str = "siteguard"
    share_group: str = Field("siteguard-api", description="MQTT 5 shared subscription group")
    client_id: str = "siteguard-api"
    batch_size: int = Field(200, ge=1, le=1000, description="Events stored per transaction")
    batch_wait_s: float = Field(
        0.05, ge=0, le=1, description="How long a batch waits to fill before it is stored"
    )
    max_lag_s: float = Field(
        60.0,
        gt=0,
        description="/healthz turns unhealthy (503) when the oldest message taken from the "
        "broker and not yet stored is older than this",
    )
    username: str | None = Field(None, description="The API's broker login (a locked broker)")
    password: SecretStr | None = None
    tls: bool = Field(False, description="TLS to the broker (port 8883 by convention)")
    ca_file: Path | None = Field(None, description="CA bundle for the broker's certificate")


class EvidenceFetchSettings(BaseModel):
    """What the API accepts from a site's edge box when it fetches evidence to keep."""

    model_config = ConfigDict(extra="forbid")
    picture_max_bytes: int = Field(5 * 1024 * 1024, gt=0, description="Larger pictures: refused")
    clip_max_bytes: int = Field(50 * 1024 * 1024, gt=0, description="Larger clips: refused")
    picture_deadline_s: float = Field(
        3.0, gt=0, le=60, description="Whole fetch of a picture (connect to last byte)"
    )
    clip_deadline_s: float = Field(15.0, gt=0, le=300, description="Whole fetch of a clip")
    max_pixels: int = Field(
        40_000_000, gt=0, description="Pictures (and clip frames) with more pixels: refused"
    )


class CameraSettings(BaseModel):
    """When a camera whose heartbeats stopped is shown offline (derived when read)."""

    model_config = ConfigDict(extra="forbid")
    missed_heartbeats: int = Field(
        3,
        ge=1,
        description="A camera is offline once this many heartbeat intervals passed with no "
        "heartbeat or status from it (edge box switched off, network down)",
    )
    heartbeat_interval_s: float = Field(
        10.0,
        gt=0,
        description="The interval of a camera whose heartbeats do not name theirs (older "
        "edges; the edge's default stats_interval_s)",
    )


class BulletinIssuer(BaseModel):
    """Who issues one jurisdiction's monthly bulletin (发文机关) and how it is numbered."""

    model_config = ConfigDict(extra="forbid")
    authority: str = Field(
        ..., min_length=1, description="The issuing authority, e.g. 合肥市包河区住房和城乡建设局"
    )
    number_prefix: str = Field(
        ...,
        min_length=1,
        description="The document number's prefix (文号), e.g. 包建安 -> 包建安〔2026〕11号: "
        "the issue date's year, then its month as the sequence number",
    )
    sequence_offset: int = Field(
        0,
        ge=0,
        description="Added to the issue month's number, for a series that shares its numbers "
        "with other documents of the authority",
    )


class BulletinSettings(BaseModel):
    """The regulator's monthly bulletin as a document to file, per jurisdiction."""

    model_config = ConfigDict(extra="forbid")
    issue_day: int = Field(
        5,
        ge=1,
        le=28,
        description="A month's bulletin is dated this day of the next month (China time)",
    )
    jurisdictions: dict[str, BulletinIssuer] = Field(
        default_factory=dict,
        description="Jurisdiction (as projects name it) -> issuing authority and number "
        "prefix; a jurisdiction not named here gets a bulletin marked 未配置发文机关 and no "
        "document number. SITEGUARD_BULLETIN_JURISDICTIONS takes the mapping as JSON.",
    )

    @field_validator("jurisdictions", mode="before")
    @classmethod
    def _json_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:  # from the environment: the mapping as JSON
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON mapping of jurisdiction -> issuer: {exc}") from None

    def issuer_of(self, jurisdiction: str) -> BulletinIssuer | None:
        return self.jurisdictions.get(jurisdiction)


class ApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    database_url: str = Field("sqlite:///siteguard.db", description="SQLAlchemy URL")
    mqtt: MqttIngestSettings = Field(default_factory=MqttIngestSettings)
    hazard_window_s: float = Field(
        3600.0,
        gt=0,
        description="Events of one type on one camera and zone within this window are one hazard",
    )
    max_payload_bytes: int = Field(
        256 * 1024, gt=0, description="Larger messages are dead-lettered"
    )
    max_messages_per_site_per_minute: int = Field(
        1200,
        gt=0,
        description="More from one site in a minute are refused and counted (over_rate); a "
        "box of 8 cameras sends about 60 status/stats messages and a few events a minute",
    )
    deadlines: DeadlinePolicy = Field(default_factory=DeadlinePolicy)
    data_dir: Path = Field(Path("api-data"), description="Proof photos and other uploaded files")
    evidence: EvidenceFetchSettings = Field(default_factory=EvidenceFetchSettings)
    cameras: CameraSettings = Field(default_factory=CameraSettings)
    proof_max_pixels: int = Field(
        40_000_000, gt=0, description="Proof photos with more pixels are refused (413)"
    )
    max_body_bytes: int = Field(
        25 * 1024 * 1024,
        gt=0,
        description="Request bodies larger than this are refused (413) before they are read; "
        "25 MB carries a reply with 5-10 phone photos (2-5 MB each, 10 MB at most per photo)",
    )
    push: PushSettings = Field(default_factory=PushSettings)
    robots: RobotSettings = Field(
        default_factory=RobotSettings,
        description="企业微信 / 钉钉 group robots told of major hazards, notices issued and "
        "escalations (api/platform/robots.py, docs/deploy.md)",
    )
    risk: dict[str, RiskSettings] = Field(
        default_factory=lambda: {"default": RiskSettings()},
        description="Premium base rate, band and model weights per province/product; a "
        "project names its product (`risk_product`), 'default' otherwise",
    )
    audit_anchor_s: float = Field(
        3600.0,
        gt=0,
        description="How often the audit chain's end is written to data_dir/"
        "audit-anchors.jsonl and pushed to the supervision platform (audit.anchor)",
    )
    risk_check_s: float = Field(
        3600.0, gt=0, description="How often premium bands are recomputed (changes are pushed)"
    )
    warm_risk: bool = Field(
        True,
        description="Keep the insurer views' assessments computed in the background (from "
        "30 s after start, then every quarter hour), so the risk page stays under a second "
        "for hundreds of projects (api/risk/warmer.py)",
    )
    bulletin: BulletinSettings = Field(default_factory=BulletinSettings)
    retention_years: int = Field(
        5,
        ge=5,
        description="How long records must be kept (domain rule: at least 5 years). "
        "SiteGuard never deletes them; older years move out with `siteguard archive export`.",
    )

    def risk_for(self, product: str) -> RiskSettings:
        return self.risk.get(product) or self.risk.get("default") or RiskSettings()

    @model_validator(mode="after")
    def _no_default_secret_with_push(self) -> ApiSettings:
        secret = self.push.secret.get_secret_value()
        if self.push.url and secret.strip().lower() in DEFAULT_SECRETS:
            raise ValueError(
                "push.secret: a platform URL is set but the HMAC secret is empty or the "
                "default; set SITEGUARD_PUSH_SECRET or push.secret to the platform's"
            )
        return self

    @classmethod
    def load(cls, path: Path | None = None, env: Mapping[str, str] | None = None) -> ApiSettings:
        """Settings from an api.yaml (validated, unknown keys refused), then the environment
        variables in `ENV` on top; SettingsError says which key is wrong and why."""
        e = os.environ if env is None else env
        doc: dict[str, Any] = {}
        if path is not None:
            try:
                loaded = yaml.safe_load(Path(path).read_text("utf-8"))
            except OSError as exc:
                raise SettingsError(f"{path}: cannot read: {exc}") from exc
            except yaml.YAMLError as exc:
                raise SettingsError(f"{path}: not valid YAML: {exc}") from exc
            if loaded is not None and not isinstance(loaded, dict):
                raise SettingsError(f"{path}: expected a mapping of settings")
            doc = loaded or {}
        for var, dotted in ENV.items():
            if var in e:
                node = doc
                *parents, leaf = dotted.split(".")
                for key in parents:
                    node = node.setdefault(key, {})
                node[leaf] = e[var]
        try:
            return cls.model_validate(doc)
        except ValidationError as exc:
            where = str(path) if path else "environment"
            lines = [f"{'.'.join(str(p) for p in x['loc'])}: {x['msg']}" for x in exc.errors()]
            raise SettingsError(
                f"{where}: invalid API settings:\n  " + "\n  ".join(lines)
            ) from None


class SettingsError(ValueError):
    """The API's settings cannot be used; the message says which and why."""


DEFAULT_SECRETS = {"", "change-me", "changeme", "secret"}

# environment variable -> setting (they override api.yaml)
ENV = {
    "SITEGUARD_DATABASE_URL": "database_url",
    "SITEGUARD_DATA_DIR": "data_dir",
    "SITEGUARD_MQTT_ENABLED": "mqtt.enabled",
    "SITEGUARD_MQTT_HOST": "mqtt.host",
    "SITEGUARD_MQTT_PORT": "mqtt.port",
    "SITEGUARD_MQTT_PREFIX": "mqtt.prefix",
    "SITEGUARD_MQTT_BATCH_SIZE": "mqtt.batch_size",
    "SITEGUARD_MQTT_BATCH_WAIT_S": "mqtt.batch_wait_s",
    "SITEGUARD_MQTT_USERNAME": "mqtt.username",
    "SITEGUARD_MQTT_PASSWORD": "mqtt.password",
    "SITEGUARD_MQTT_TLS": "mqtt.tls",
    "SITEGUARD_MQTT_CA_FILE": "mqtt.ca_file",
    "SITEGUARD_CAMERAS_MISSED_HEARTBEATS": "cameras.missed_heartbeats",
    "SITEGUARD_CAMERAS_HEARTBEAT_INTERVAL_S": "cameras.heartbeat_interval_s",
    "SITEGUARD_PUSH_URL": "push.url",
    "SITEGUARD_PUSH_SECRET": "push.secret",
    "SITEGUARD_ROBOTS_PUBLIC_BASE_URL": "robots.public_base_url",
    "SITEGUARD_ROBOTS_LINK_SECRET": "robots.link_secret",
    "SITEGUARD_ROBOTS_GROUPS": "robots.groups",
    "SITEGUARD_BULLETIN_ISSUE_DAY": "bulletin.issue_day",
    "SITEGUARD_BULLETIN_JURISDICTIONS": "bulletin.jurisdictions",
    "SITEGUARD_WARM_RISK": "warm_risk",
}
