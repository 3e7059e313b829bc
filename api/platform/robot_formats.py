"""What the group robots say, in each platform's documented message format.

One `Message` (title, facts, lines, console link, evidence pictures) is composed per
platform message, in Chinese and China time, then rendered per robot kind into the parts
that are posted one by one:

- 企业微信: a ``markdown`` message, then one ``image`` message per evidence picture (the
  JPEG itself, base64 with the md5 of its bytes, at most 2 MB). The picture lands in the
  chat, so the people there see the evidence even when the API is reachable only on the
  office network; a ``news`` card would need a picture URL the WeCom servers can fetch.
- 钉钉: one ``markdown`` message whose pictures are links (a robot cannot upload a
  picture): signed, expiring links under the configured public base URL, served without a
  login by `robot_link_routes` (the signature is the permission, for that picture only).

An image part is stored without its picture (``picture_uri`` names the evidence); the
deliverer reads the picture when it sends the part (`wecom_image`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import cv2
import numpy as np

from siteguard.api.store.clock import china_text
from siteguard.contract.hazards import LEVEL_ZH, hazard_name

WECOM_MARKDOWN_MAX_BYTES = 4096
WECOM_PICTURE_MAX_BYTES = 2 * 1024 * 1024
DINGTALK_MARKDOWN_MAX_BYTES = 18000  # ours, for a phone screen: long notices are cut short
REPORTED_TO = "住建部门、应急管理部门、保险监管部门"


@dataclass(frozen=True)
class Names:
    """The project's and cameras' names (camera id -> name) as people know them."""

    project: str
    cameras: dict[str, str] = field(default_factory=dict)

    def camera(self, camera_id: str, zone: str | None = None) -> str:
        name = self.cameras.get(camera_id)
        label = f"{name}（{camera_id}）" if name else camera_id
        return f"{label}，区域 {zone}" if zone else label


@dataclass(frozen=True)
class Links:
    """Where the messages point: the console's public address, the picture links' key."""

    base_url: str
    secret: str
    valid_days: int
    max_pictures: int


@dataclass(frozen=True)
class Picture:
    hazard_id: int
    evidence_uri: str
    link: str  # the signed public link (钉钉)


@dataclass(frozen=True)
class Message:
    title: str
    alarm: bool  # shown in the warning colour (企业微信)
    facts: tuple[tuple[str, str], ...]
    link_text: str
    link: str
    lines: tuple[str, ...] = ()
    pictures: tuple[Picture, ...] = ()


def _plain(text: Any) -> str:
    """A value as one line of text (names typed by people may hold line breaks)."""
    return " ".join(str(text if text is not None else "").split())


def _local(wire_time: Any) -> str:
    """An ISO UTC time of a payload as people on site read it (China time)."""
    try:
        return china_text(datetime.fromisoformat(str(wire_time).removesuffix("Z")))
    except ValueError:
        return _plain(wire_time)


def _level(level: Any) -> str:
    return LEVEL_ZH.get(str(level), _plain(level))


def picture_signature(secret: str, hazard_id: int, expires: int) -> str:
    msg = f"evidence/{hazard_id}/{expires}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def picture_link(links: Links, hazard_id: int, now: float | None = None) -> str:
    """A link to the hazard's evidence picture that works without a login until it expires."""
    expires = int((time.time() if now is None else now) + links.valid_days * 86400)
    sig = picture_signature(links.secret, hazard_id, expires)
    return f"{links.base_url}/links/evidence/{hazard_id}.jpg?expires={expires}&sig={sig}"


def picture_link_valid(
    secret: str, hazard_id: int, expires: int, sig: str, now: float | None = None
) -> bool:
    if expires < (time.time() if now is None else now):
        return False
    # as bytes: compare_digest refuses a str with non-ASCII letters (TypeError)
    expected = picture_signature(secret, hazard_id, expires).encode()
    return hmac.compare_digest(expected, sig.encode("utf-8", "surrogateescape"))


def _picture(links: Links, hazard_id: Any, uri: Any) -> tuple[Picture, ...]:
    if not uri or not isinstance(hazard_id, int):
        return ()
    return (Picture(hazard_id, str(uri), picture_link(links, hazard_id)),)


def compose(type_: str, data: dict[str, Any], names: Names, links: Links) -> Message:
    """The message for one platform message (``alert.major_hazard``, ``notice.issued``,
    ``hazard.escalated``) from its data."""
    if type_ == "notice.issued":
        return _notice(data, names, links)
    hazard = hazard_name(str(data.get("hazard_type", "")))
    facts: list[tuple[str, str]] = [
        ("项目", names.project),
        ("隐患", f"{hazard}（{_level(data.get('level'))}）"),
        ("位置", names.camera(str(data.get("camera_id", "")), data.get("zone"))),
        ("发现时间", _local(data.get("first_seen"))),
    ]
    if type_ == "hazard.escalated":
        title = f"整改逾期：{names.project} · {hazard}"
        facts += [
            ("通知单", _plain(data.get("notice"))),
            ("整改期限", _local(data.get("deadline"))),
            ("已上报", REPORTED_TO),
        ]
    else:
        title = f"重大隐患：{names.project} · {hazard}"
    return Message(
        title=title,
        alarm=True,
        facts=tuple((k, _plain(v)) for k, v in facts),
        link_text="在控制台查看隐患",
        link=f"{links.base_url}/console/hazards/{data.get('id')}",
        pictures=_picture(links, data.get("id"), data.get("evidence_uri"))[: links.max_pictures],
    )


def _notice(data: dict[str, Any], names: Names, links: Links) -> Message:
    project = data.get("project") or {}
    items = [i for i in data.get("items") or [] if isinstance(i, dict)]
    lines = []
    for i in items:
        camera_id, _, zone = str(i.get("location", "")).partition(" / ")
        camera = names.camera(camera_id, zone or None)
        lines.append(
            f"{i.get('no')}. {hazard_name(str(i.get('hazard_type', '')))}"
            f"（{_level(i.get('level'))}）· {camera} · 整改期限 {_local(i.get('deadline'))}"
        )
    party = " ".join(
        _plain(project.get(k)) for k in ("contractor", "responsible_person") if project.get(k)
    )
    facts = [("项目", names.project)]
    if party:
        facts.append(("施工单位", party))
    facts += [
        ("下发", f"{_local(data.get('issued_at'))}（{_plain(data.get('issuer'))}）"),
        ("隐患", f"{len(items)} 项"),
    ]
    pictures: tuple[Picture, ...] = ()
    for i in items:
        pictures += _picture(links, i.get("hazard_id"), i.get("evidence_uri"))
    return Message(
        title=f"整改通知单 {_plain(data.get('number'))}：{names.project}",
        alarm=any(i.get("level") == "major" for i in items),
        facts=tuple((k, _plain(v)) for k, v in facts),
        link_text="在控制台查看整改通知单",
        link=f"{links.base_url}/console/notices/{data.get('id')}",
        lines=tuple(_plain(line) for line in lines),
        pictures=pictures[: links.max_pictures],
    )


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True)


def render(kind: str, m: Message) -> list[tuple[str, str]]:
    """The parts to post, in order: (JSON body, evidence URI of an image part or '')."""
    if kind == "wecom":
        parts = [(_dumps({"msgtype": "markdown", "markdown": {"content": wecom_text(m)}}), "")]
        return parts + [(_dumps({"msgtype": "image"}), p.evidence_uri) for p in m.pictures]
    markdown = {"title": m.title, "text": dingtalk_text(m)}
    return [(_dumps({"msgtype": "markdown", "markdown": markdown}), "")]


def _fitted(m: Message, build: Callable[[list[str]], str], max_bytes: int) -> str:
    """`build` with as many of the notice's lines as fit in ``max_bytes``, the rest
    counted (the console shows them all)."""
    for shown in range(len(m.lines), -1, -1):
        lines = list(m.lines[:shown])
        if shown < len(m.lines):
            lines.append(f"……另有 {len(m.lines) - shown} 项，见通知单")
        text = build(lines)
        if len(text.encode()) <= max_bytes:
            return text
    return build([])[: max_bytes // 4]  # 4 bytes at most per character


def wecom_text(m: Message) -> str:
    """企业微信 markdown (at most 4096 bytes)."""
    title = f'<font color="warning">{m.title}</font>' if m.alarm else m.title
    head = f"### {title}\n" + "\n".join(f"> {k}：{v}" for k, v in m.facts)
    tail = f"[{m.link_text}]({m.link})"
    return _fitted(
        m,
        lambda lines: "\n\n".join([head, "\n".join(lines), tail] if lines else [head, tail]),
        WECOM_MARKDOWN_MAX_BYTES,
    )


def dingtalk_text(m: Message) -> str:
    """钉钉 markdown: the facts as a list, the notice's lines, the pictures as links."""
    head = [f"### {m.title}", "\n".join(f"- {k}：{v}" for k, v in m.facts)]
    tail = [f"![证据照片 {i + 1}]({p.link})" for i, p in enumerate(m.pictures)]
    tail.append(f"[{m.link_text}]({m.link})")
    return _fitted(
        m,
        lambda lines: "\n\n".join(head + (["\n".join(lines)] if lines else []) + tail),
        DINGTALK_MARKDOWN_MAX_BYTES,
    )


def fit_picture(jpeg: bytes, max_bytes: int = WECOM_PICTURE_MAX_BYTES) -> bytes:
    """The JPEG as it is when small enough, else re-encoded (lower quality, then smaller)
    until it fits; ValueError when it is not a picture."""
    if len(jpeg) <= max_bytes:
        return jpeg
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("the evidence is not a picture")
    while True:
        for quality in (85, 70, 55):
            ok, out = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok and len(out) <= max_bytes:
                return bytes(out.tobytes())
        h, w = image.shape[:2]
        if min(h, w) < 64:
            raise ValueError("the evidence picture cannot be made small enough")
        image = cv2.resize(image, (w * 3 // 4, h * 3 // 4), interpolation=cv2.INTER_AREA)


def wecom_image(jpeg: bytes) -> dict[str, Any]:
    """企业微信's image message: the picture's base64 and the md5 of its bytes (<= 2 MB)."""
    data = fit_picture(jpeg)
    return {
        "msgtype": "image",
        "image": {
            "base64": base64.b64encode(data).decode(),
            "md5": hashlib.md5(data).hexdigest(),  # the format's checksum, not a security hash
        },
    }


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉 加签: base64(HMAC-SHA256(key=secret, msg="<timestamp>\\n<secret>"))."""
    msg = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), msg, hashlib.sha256).digest()).decode()


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The webhook with ``timestamp`` (ms) and ``sign`` (URL-encoded) appended."""
    query = urlencode({"timestamp": timestamp_ms, "sign": dingtalk_sign(secret, timestamp_ms)})
    return f"{url}{'&' if urlsplit(url).query else '?'}{query}"
