"""API settings: a validated model built by a factory (never at import time)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.platform.push import PushSettings
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
    deadlines: DeadlinePolicy = Field(default_factory=DeadlinePolicy)
    data_dir: Path = Field(Path("api-data"), description="Proof photos and other uploaded files")
    push: PushSettings = Field(default_factory=PushSettings)
    risk: dict[str, RiskSettings] = Field(
        default_factory=lambda: {"default": RiskSettings()},
        description="Premium base rate, band and model weights per province/product; a "
        "project names its product (`risk_product`), 'default' otherwise",
    )
    risk_check_s: float = Field(
        3600.0, gt=0, description="How often premium bands are recomputed (changes are pushed)"
    )
    retention_years: int = Field(
        5,
        ge=5,
        description="How long records must be kept (domain rule: at least 5 years). "
        "SiteGuard never deletes them; older years move out with `siteguard archive export`.",
    )

    def risk_for(self, product: str) -> RiskSettings:
        return self.risk.get(product) or self.risk.get("default") or RiskSettings()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        """SITEGUARD_DATABASE_URL, SITEGUARD_MQTT_HOST/PORT/PREFIX, SITEGUARD_MQTT_ENABLED,
        SITEGUARD_MQTT_BATCH_SIZE, SITEGUARD_MQTT_BATCH_WAIT_S."""
        e = os.environ if env is None else env
        mqtt = MqttIngestSettings(
            enabled=e.get("SITEGUARD_MQTT_ENABLED", "1") not in {"0", "false", "no"},
            host=e.get("SITEGUARD_MQTT_HOST", "127.0.0.1"),
            port=int(e.get("SITEGUARD_MQTT_PORT", "1883")),
            prefix=e.get("SITEGUARD_MQTT_PREFIX", "siteguard"),
            batch_size=int(e.get("SITEGUARD_MQTT_BATCH_SIZE", "200")),
            batch_wait_s=float(e.get("SITEGUARD_MQTT_BATCH_WAIT_S", "0.05")),
        )
        return cls(
            database_url=e.get("SITEGUARD_DATABASE_URL", "sqlite:///siteguard.db"), mqtt=mqtt
        )
