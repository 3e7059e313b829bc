"""`site.yaml`: the edge worker's whole configuration, validated (unknown keys refused)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from siteguard.contract.hazards import CATALOGUE, HazardLevel, HazardType
from siteguard.edge.camera import CameraConfig
from siteguard.edge.evidence_store import EvidenceConfig
from siteguard.edge.lifecycle import LifecycleConfig
from siteguard.edge.publisher import MqttConfig
from siteguard.edge.zone_sync import ApiLink
from siteguard.pipeline.protection import ProtectionCheckConfig
from siteguard.pipeline.rules import RuleConfig
from siteguard.pipeline.tracker import TrackerConfig


class ConfigError(ValueError):
    """The site configuration cannot be used; the message says where and why."""


def _default_level(t: HazardType) -> HazardLevel:
    return CATALOGUE[t].default_level


class ZoneRules(BaseModel):
    """Levels and thresholds of the zone rules (`edge.rules`); defaults from the catalogue."""

    model_config = ConfigDict(extra="forbid")
    edge_unprotected_level: HazardLevel = Field(
        _default_level(HazardType.EDGE_UNPROTECTED),
        description="A person at an unprotected edge or opening",
    )
    scaffold_unsafe_level: HazardLevel = Field(
        _default_level(HazardType.SCAFFOLD_UNSAFE),
        description="No hard hat on a scaffold, or an unprotected working level",
    )
    protection_missing_level: HazardLevel = Field(
        _default_level(HazardType.PROTECTION_MISSING),
        description="Commissioned guardrail/net/cover no longer there",
    )
    bare_head_ioa: float = Field(
        0.6,
        gt=0,
        le=1,
        description="Share of a bare-head box that must lie inside a person's box for that "
        "person to count as bare-headed on a scaffold",
    )


class HttpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(
        8090, ge=0, lt=65536, description="Evidence, /metrics and /healthz; 0 = any free port"
    )


class EdgeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    site_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    model: Path | None = Field(
        None,
        description="ONNX model with its card, or a shipped model's name "
        "(siteguard-ppe-s320-int8 for more cameras per box); default: the shipped default",
    )
    provider: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int | None = Field(None, ge=1, description="onnxruntime intra-op threads")
    cameras: list[CameraConfig] = Field(min_length=1)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    outbox: Path = Path("edge-data/outbox.db")
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    rules: RuleConfig = Field(default_factory=RuleConfig)
    zone_rules: ZoneRules = Field(default_factory=ZoneRules)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    protection: ProtectionCheckConfig = Field(default_factory=ProtectionCheckConfig)
    api: ApiLink = Field(
        default_factory=ApiLink,
        description="Take the cameras' zones from the API at start (drawn in the console)",
    )
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)
    stats_interval_s: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> EdgeConfig:
        ids = [c.id for c in self.cameras]
        if len(set(ids)) != len(ids):
            raise ValueError(f"camera ids must be unique, got {ids}")
        for c in self.cameras:
            if c.motion.enabled and c.motion.full_check_s >= self.lifecycle.end_grace_s:
                raise ValueError(
                    f"camera {c.id}: motion.full_check_s ({c.motion.full_check_s}) must be shorter "
                    f"than lifecycle.end_grace_s ({self.lifecycle.end_grace_s}), or a still "
                    "violator's event would end between checks"
                )
        return self

    @classmethod
    def load(cls, path: Path) -> EdgeConfig:
        try:
            doc = yaml.safe_load(Path(path).read_text("utf-8"))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        try:
            config = cls.model_validate(doc)
        except ValidationError as exc:
            lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
            raise ConfigError(
                f"{path}: invalid site configuration:\n  " + "\n  ".join(lines)
            ) from exc
        base = Path(path).resolve().parent  # relative paths are relative to the config file
        for c in config.cameras:
            url = c.url.get_secret_value()
            if "://" not in url and not Path(url).is_absolute():
                c.url = type(c.url)(str(base / url))
            if c.reference_image is not None and not c.reference_image.is_absolute():
                c.reference_image = base / c.reference_image
        return config
