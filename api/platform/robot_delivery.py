"""Delivers the robot outbox (api/platform/robots.py) to the 企业微信 / 钉钉 webhooks.

As the platform pusher does (api/platform/push.py): a background thread, each group's
messages as one queue in creation order (only its oldest undelivered part is attempted,
so a notice's text comes before its pictures), a row claimed before it is sent so that
of several replicas one sends it, and exponential backoff until the robot answers
HTTP 200 with ``errcode`` 0. A refusal (``errcode`` not 0: too many messages 45009 /
130101, a wrong signature 310000, ...) is retried like a robot that is down; a refusal as
too many waits at least ``rate_limit_pause_s``.

An image part (企业微信) takes its picture from the API's kept evidence, fetched from the
site's edge box the first time (api/hazards/evidence.py); a picture that cannot be had
after ``picture_attempts`` tries is left out (``gave_up_at``, with the reason), so the
group's later messages are not held up by an edge box that is gone.

The webhook URLs carry the robots' keys: they are never logged nor stored; errors are
kept with every secret replaced by ``***`` (`redact`), and httpx's request log is
redacted the same way while a deliverer runs.
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from siteguard.api.hazards.evidence import EvidenceRefusals, cached_evidence, site_edge_box
from siteguard.api.platform import robot_formats
from siteguard.api.platform.outbox import OutboxDeliverer, Queue, claim
from siteguard.api.platform.push import backoff_s
from siteguard.api.platform.robots import RobotGroup, RobotSettings
from siteguard.api.settings import EvidenceFetchSettings
from siteguard.api.store.clock import now_naive
from siteguard.api.store.tables import RobotMessageRow

log = logging.getLogger(__name__)
RATE_LIMITED = {45009, 130101}  # 企业微信 / 钉钉: more than 20 messages a minute
SECRET_QUERY = re.compile(r"(?i)\b(key|access_token|sign|timestamp)=[^&\s'\"<>]+")


def redact(text: str, group: RobotGroup | None = None) -> str:
    """`text` with the group's URL, its query values and its secret replaced by ``***``,
    and any ``key=``/``access_token=``/``sign=`` value too."""
    if group is not None:
        url = group.url.get_secret_value()
        secrets = [url, *(v for _, v in parse_qsl(urlsplit(url).query) if len(v) >= 4)]
        if group.secret is not None:
            secrets.append(group.secret.get_secret_value())
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
    return SECRET_QUERY.sub(lambda m: f"{m.group(1)}=***", text)


class _RedactQuery(logging.Filter):
    """On httpx's logger: request lines with their key / token / signature redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if SECRET_QUERY.search(message):
            record.msg, record.args = redact(message), None
        return True


def _redact_httpx_log() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactQuery) for f in logger.filters):
        logger.addFilter(_RedactQuery())


class PictureMissing(Exception):
    """The evidence picture of an image part cannot be had now."""


class EvidencePictures:
    """Evidence pictures as the API keeps them (fetched from the site's edge box once)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        data_dir: Path,
        limits: EvidenceFetchSettings,
        refusals: EvidenceRefusals,
    ) -> None:
        self.sessions = sessions
        self.data_dir = data_dir
        self.limits = limits
        self.refusals = refusals

    def picture(self, site_id: str, uri: str) -> bytes:
        with self.sessions() as s:
            box = site_edge_box(s, site_id, self.limits, self.refusals)
        data = cached_evidence(self.data_dir, uri, box, "picture")
        if data is None:
            raise PictureMissing("the evidence picture cannot be had from the site's edge box")
        return data


class RobotDeliverer(OutboxDeliverer):
    """Sends the robot outbox, one robot's queue after another; one per API process,
    started only when groups are set."""

    thread_name = "robots"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: RobotSettings,
        pictures: EvidencePictures,
    ) -> None:
        super().__init__(settings.timeout_s, settings.poll_s)
        self.sessions = sessions
        self.settings = settings
        self.pictures = pictures
        self.groups = {g.name: g for g in settings.groups}
        self._last_post: dict[str, float] = {}

    def _enabled(self) -> bool:
        if self.groups:
            _redact_httpx_log()
        return bool(self.groups)

    def _round_failed(self, exc: Exception) -> None:
        log.error("robot delivery failed; retrying: %s", redact(repr(exc)))

    def _may_send(self, key: str) -> bool:
        # both platforms take at most 20 messages a minute per robot
        return time.monotonic() - self._last_post.get(key, -1e9) >= self.settings.min_interval_s

    def _queues(self) -> dict[str, Queue]:
        with self.sessions() as s:
            rows = s.execute(
                select(
                    RobotMessageRow.id,
                    RobotMessageRow.robot,
                    RobotMessageRow.next_attempt_at,
                    RobotMessageRow.claimed_until,
                )
                .where(
                    RobotMessageRow.delivered_at.is_(None),
                    RobotMessageRow.gave_up_at.is_(None),
                    RobotMessageRow.robot.in_(list(self.groups)),
                )
                .order_by(RobotMessageRow.id)
            ).all()
        queues: dict[str, Queue] = {}
        for r in rows:
            queues.setdefault(r.robot, []).append((r.id, r.next_attempt_at, r.claimed_until))
        return queues

    def _claim(self, s: Session, row_id: int) -> bool:
        hold = self.settings.timeout_s * 3 + self.pictures.limits.picture_deadline_s
        return claim(s, RobotMessageRow, row_id, hold, RobotMessageRow.gave_up_at.is_(None))

    def _deliver(self, row_id: int) -> int:
        """Send one part; 1 when it is done (delivered, or its picture left out)."""
        with self.sessions() as s:
            if not self._claim(s, row_id):
                return 0  # another replica has it
            row = s.get_one(RobotMessageRow, row_id)
            group = self.groups[row.robot]
            row.attempts += 1
            row.claimed_until = None
            try:
                payload = self._payload(row)
            except (PictureMissing, ValueError) as exc:
                return self._picture_missing(s, row, str(exc))
            error, rate_limited = self._post(group, payload)
            if error:
                self._retry_later(row, error, rate_limited)
                s.commit()
                self.failures += 1
                log.warning(
                    "robot %s: message %d (%s) not delivered, attempt %d: %s",
                    row.robot,
                    row.id,
                    row.type,
                    row.attempts,
                    error,
                )
                return 0
            row.delivered_at = now_naive()
            s.commit()
            self.delivered += 1
            return 1

    def _payload(self, row: RobotMessageRow) -> dict[str, object]:
        payload: dict[str, object] = json.loads(row.body)
        if row.picture_uri:
            payload = robot_formats.wecom_image(self.pictures.picture(row.site_id, row.picture_uri))
        return payload

    def _picture_missing(self, s: Session, row: RobotMessageRow, why: str) -> int:
        row.last_error = why[:2000]
        if row.attempts >= self.settings.picture_attempts:
            row.gave_up_at = now_naive()
            s.commit()
            log.warning("robot %s: picture of message %d left out: %s", row.robot, row.id, why)
            return 1
        self._retry_later(row, why)
        s.commit()
        return 0

    def _retry_later(self, row: RobotMessageRow, error: str, rate_limited: bool = False) -> None:
        delay = backoff_s(row.attempts, self.settings)
        if rate_limited:
            delay = max(delay, self.settings.rate_limit_pause_s)
        row.next_attempt_at = now_naive() + timedelta(seconds=delay)
        row.last_error = error[:2000]

    def _post(self, group: RobotGroup, payload: dict[str, object]) -> tuple[str, bool]:
        """Post to the group's webhook: ('', False) when it answered errcode 0, else why
        not (redacted) and whether it refused as too many."""
        url = group.url.get_secret_value()
        if group.kind == "dingtalk" and group.secret is not None:
            url = robot_formats.dingtalk_signed_url(
                url, group.secret.get_secret_value(), int(time.time() * 1000)
            )
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._last_post[group.name] = time.monotonic()
        try:
            r = self._client.post(
                url, content=body, headers={"Content-Type": "application/json; charset=utf-8"}
            )
        except httpx.HTTPError as exc:
            return redact(f"{type(exc).__name__}: {exc}", group), False
        if r.status_code != 200:
            return redact(f"HTTP {r.status_code}: {r.text[:200]}", group), False
        try:
            answer = r.json()
            errcode = int(answer.get("errcode", -1))
        except (ValueError, AttributeError, TypeError):
            return redact(f"not a robot's answer: {r.text[:200]}", group), False
        if errcode == 0:
            return "", False
        errmsg = str(answer.get("errmsg", ""))[:200]
        return redact(f"errcode {errcode}: {errmsg}", group), errcode in RATE_LIMITED
