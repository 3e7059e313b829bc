"""Group robots where site managers read: 企业微信 (WeCom) and 钉钉 (DingTalk) webhooks.

They carry three of the platform's messages: a new major hazard (``alert.major_hazard``),
a notice issued (``notice.issued``) and an overdue major hazard escalated
(``hazard.escalated``), in Chinese and China time, with the evidence picture and a link
to the console page (`robot_formats`).

The platform push's design (api/platform/push.py): `push.enqueue` calls `enqueue` here in
the same transaction as the change, which writes one outbox row (`RobotMessageRow`) per
configured group and message part; `RobotDeliverer` (robot_delivery.py) sends them with
exponential backoff until the robot answers ``errcode`` 0, each group's messages in order,
claimed by one replica at a time. A site no group names gets nothing queued.

The configuration reaches `enqueue` through the session factory (`attach`): the API's
sessions carry it in ``Session.info``; sessions made elsewhere (a CLI command, the sample
history) carry none, so nothing is queued for the robots there.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from siteguard.api.platform import robot_formats
from siteguard.api.store.clock import now_naive
from siteguard.api.store.tables import CameraRow, ProjectRow, RobotMessageRow

RobotEvent = Literal["alert.major_hazard", "notice.issued", "hazard.escalated"]
ROBOT_EVENTS: tuple[RobotEvent, ...] = ("alert.major_hazard", "notice.issued", "hazard.escalated")
INFO_KEY = "siteguard.robots"
DEFAULT_LINK_SECRETS = {"", "change-me", "changeme", "secret"}


def _http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class RobotGroup(BaseModel):
    """One group chat's robot and what it is told."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(
        ...,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="How the outbox and the logs name this group (its URL carries the "
        "robot's key and is never written anywhere)",
    )
    kind: Literal["wecom", "dingtalk"] = Field(..., description="企业微信 or 钉钉")
    url: SecretStr = Field(
        ...,
        description="The robot's webhook: https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
        "?key=... or https://oapi.dingtalk.com/robot/send?access_token=...",
    )
    secret: SecretStr | None = Field(
        None, description="钉钉 加签 secret (SEC...): every request is signed with it"
    )
    sites: list[str] = Field(
        default_factory=list, description="The sites whose messages go here; empty: every site"
    )
    events: list[RobotEvent] = Field(
        default_factory=lambda: list(ROBOT_EVENTS), min_length=1, description="What it carries"
    )

    @field_validator("url")
    @classmethod
    def _webhook(cls, value: SecretStr) -> SecretStr:
        if not _http_url(value.get_secret_value()):
            raise ValueError("not an http(s) webhook URL")  # the URL itself is not repeated
        return value

    @model_validator(mode="after")
    def _signed_only_on_dingtalk(self) -> RobotGroup:
        if self.kind == "wecom" and self.secret is not None:
            raise ValueError("secret: 企业微信 robots are not signed; only 钉钉 takes a secret")
        return self

    def wants(self, type_: str, site_id: str) -> bool:
        return type_ in self.events and (not self.sites or site_id in self.sites)


class RobotSettings(BaseModel):
    """The group robots, and how their messages are delivered."""

    model_config = ConfigDict(extra="forbid")
    public_base_url: str | None = Field(
        None,
        description="The console as people reach it from their phones, e.g. "
        "https://siteguard.example.com: every message links to a page under it, and 钉钉's "
        "evidence pictures are signed links under it",
    )
    link_secret: SecretStr = Field(
        SecretStr("change-me"), description="Signs the evidence picture links (钉钉)"
    )
    link_valid_days: int = Field(30, ge=1, le=3650, description="How long a picture link works")
    max_pictures: int = Field(3, ge=0, le=9, description="Evidence pictures per notice message")
    groups: list[RobotGroup] = Field(
        default_factory=list,
        description="The group robots; SITEGUARD_ROBOTS_GROUPS takes the list as JSON",
    )
    timeout_s: float = Field(10.0, gt=0)
    base_backoff_s: float = Field(5.0, gt=0)
    max_backoff_s: float = Field(600.0, gt=0)
    rate_limit_pause_s: float = Field(
        60.0,
        ge=0,
        description="At least this long before retrying a message the robot refused as too "
        "many (45009, 130101: 20 messages a minute per robot)",
    )
    min_interval_s: float = Field(
        3.0, ge=0, description="At least this long between two messages to one group"
    )
    poll_s: float = Field(1.0, gt=0, description="How often the deliverer looks for due messages")
    picture_attempts: int = Field(
        5,
        ge=1,
        description="Attempts to get an evidence picture from the site's edge box before the "
        "picture is left out (the text and its link were sent before it)",
    )

    @field_validator("groups", mode="before")
    @classmethod
    def _json_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:  # from the environment: the list as JSON
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON list of robot groups: {exc.msg}") from None

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _http_url(value):
            raise ValueError("not an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _usable(self) -> RobotSettings:
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise ValueError("groups: two groups have the same name")
        if self.groups and not self.public_base_url:
            raise ValueError(
                "public_base_url: the messages link to the console; set the address people "
                "reach it at"
            )
        dingtalk = any(g.kind == "dingtalk" for g in self.groups)
        if dingtalk and self.link_secret.get_secret_value().strip().lower() in DEFAULT_LINK_SECRETS:
            raise ValueError(
                "link_secret: 钉钉 messages carry signed picture links; set "
                "SITEGUARD_ROBOTS_LINK_SECRET or robots.link_secret to a random value"
            )
        return self

    def links(self) -> robot_formats.Links:
        return robot_formats.Links(
            base_url=self.public_base_url or "",
            secret=self.link_secret.get_secret_value(),
            valid_days=self.link_valid_days,
            max_pictures=self.max_pictures,
        )


def attach(sessions: sessionmaker[Session], settings: RobotSettings) -> None:
    """Make the sessions of this factory queue robot messages for these settings."""
    info = dict(sessions.kw.get("info") or {})
    info[INFO_KEY] = settings
    sessions.configure(info=info)


def site_of(data: dict[str, Any]) -> str:
    """The site a message is about: its data's ``site_id`` or ``project.site_id``."""
    project = data.get("project")
    site = data.get("site_id") or (project.get("site_id") if isinstance(project, dict) else "")
    return str(site or "")


def enqueue(s: Session, type_: str, key: str, data: dict[str, Any]) -> int:
    """Queue the message for every group that wants it, in the caller's transaction
    (called once per new platform message, so once per ``key``); how many rows."""
    cfg = s.info.get(INFO_KEY)
    if not isinstance(cfg, RobotSettings) or type_ not in ROBOT_EVENTS:
        return 0
    site = site_of(data)
    groups = [g for g in cfg.groups if g.wants(type_, site)]
    if not groups:
        return 0
    message = robot_formats.compose(type_, data, _names(s, site, data), cfg.links())
    now = now_naive()
    count = 0
    for g in groups:
        for part, (body, picture) in enumerate(robot_formats.render(g.kind, message)):
            s.add(
                RobotMessageRow(
                    robot=g.name,
                    kind=g.kind,
                    type=type_,
                    idempotency_key=f"{key}|{g.name}|{part}",
                    site_id=site,
                    body=body,
                    picture_uri=picture,
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now,
                )
            )
            count += 1
    return count


def _names(s: Session, site: str, data: dict[str, Any]) -> robot_formats.Names:
    """The project's and cameras' names as people know them (the ids where none)."""
    project = data.get("project")
    name = (project.get("name") if isinstance(project, dict) else None) or data.get("site_name")
    if not name:
        name = s.scalar(select(ProjectRow.name).where(ProjectRow.site_id == site))
    cameras = {
        c: n
        for c, n in s.execute(
            select(CameraRow.camera_id, CameraRow.name).where(CameraRow.site_id == site)
        )
        if n
    }
    return robot_formats.Names(project=str(name or site), cameras=cameras)
