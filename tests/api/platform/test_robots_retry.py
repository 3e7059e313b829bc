"""Group robot delivery is retried like the platform push: a robot that is down (across an
API restart) gets each message once when it is back, a refusal (errcode not 0, e.g. too
many messages) is retried, two replicas send each message once, an evidence picture that
cannot be had is left out after its attempts without holding up the group, and the
robots' keys, tokens and secrets appear in no log and no stored error."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import text

from siteguard.api.app import create_app
from siteguard.demo.services import wait_until
from tests.api.platform.test_robots import (
    DINGTALK_SECRET,
    DINGTALK_TOKEN,
    JPEG,
    WECOM_KEY,
    A,
    RobotReceiver,
    api_settings,
    dingtalk,
    edge_box_server,
    major_hazard,
    outbox,
    picture_of,
    register,
    started_robots,
    wecom,
)
from tests.support.api import api_client


@pytest.fixture
def robots():
    start, stop = started_robots()
    yield start
    stop()


@pytest.fixture
def edge_box():
    box = edge_box_server()
    yield box
    box.stop()


def test_a_robot_down_across_an_api_restart_gets_each_message_once_when_back(
    tmp_path,
    db_url,
    edge_box,
):
    rx = RobotReceiver("wecom")
    port = rx.port
    rx.stop()  # the robot is down: connection refused
    settings = api_settings(tmp_path, db_url, [wecom(rx)])
    app = create_app(settings)
    with api_client(app) as admin:
        register(admin, edge_box)
        major_hazard(api_client(app, "edge", sites=[A]), edge_box)
        assert wait_until(lambda: app.state.services.robots.failures >= 3)
    app2 = create_app(settings)  # the API restarts while the robot is still down
    with api_client(app2):
        assert wait_until(lambda: app2.state.services.robots.failures >= 1)
        rx = RobotReceiver("wecom", port=port)  # the robot is back
        try:
            assert wait_until(lambda: len(rx.received) == 2), outbox(app2)
            time.sleep(0.5)  # nothing more arrives
            rows = outbox(app2)
        finally:
            rx.stop()
    assert rx.refused == [] and [m["msgtype"] for m in rx.received] == ["markdown", "image"]
    assert picture_of(rx.received[1]) == JPEG
    (_, _, _, tries, delivered, error), image = rows
    assert delivered and tries >= 5 and "ConnectError" in error  # the last failure is kept
    # a group's parts go in order: the picture is tried only once the text is delivered
    assert image[4] and image[3] == 1


@pytest.mark.parametrize(
    ("kind", "errcode"),
    [("wecom", 45009), ("dingtalk", 130101), ("dingtalk", 310000)],
    ids=["wecom-rate-limit", "dingtalk-rate-limit", "dingtalk-refused"],
)
def test_a_non_zero_errcode_is_retried_until_the_robot_takes_the_message(
    tmp_path,
    robots,
    edge_box,
    kind,
    errcode,
):
    rx = robots(kind, secret=DINGTALK_SECRET if kind == "dingtalk" else None, answers=[errcode] * 2)
    group = wecom(rx) if kind == "wecom" else dingtalk(rx)
    db_url = f"sqlite:///{tmp_path}/api.db"
    app = create_app(api_settings(tmp_path, db_url, [group], rate_limit_pause_s=0.3))
    with api_client(app) as admin:
        register(admin, edge_box)
        started = time.monotonic()
        major_hazard(api_client(app, "edge", sites=[A]), edge_box)
        assert wait_until(lambda: len(rx.received) >= 1), (rx.answered, outbox(app))
        took = time.monotonic() - started
        time.sleep(0.5)
        rows = outbox(app)
    assert rx.answered[:3] == [errcode, errcode, 0] and rx.refused == []
    first = rows[0]
    assert first[3] == 3 and first[4] and f"errcode {errcode}" in first[5]
    if errcode != 310000:  # too many messages: each retry waits the rate-limit pause
        assert took >= 0.6
    assert len([m for m in rx.received if m["msgtype"] == "markdown"]) == 1  # once


def test_two_replicas_send_each_message_once(tmp_path, db_url, edge_box):
    rx = RobotReceiver("dingtalk", secret=DINGTALK_SECRET)
    settings = api_settings(tmp_path, db_url, [dingtalk(rx)])
    one, two = create_app(settings, replica="1"), create_app(settings, replica="2")
    try:
        with api_client(one) as admin, api_client(two):
            register(admin, edge_box)
            edge = api_client(one, "edge", sites=[A])
            for n in range(1, 7):  # six hazards: a camera each
                major_hazard(edge, edge_box, n=n, camera=f"cam-{n}")
            assert wait_until(lambda: len(rx.received) == 6), (rx.answered, outbox(one))
            time.sleep(0.5)  # nothing more arrives
    finally:
        rx.stop()
    titles = [m["markdown"]["text"] for m in rx.received]
    assert len(set(titles)) == 6 and rx.refused == []


def test_a_picture_the_edge_box_cannot_give_is_left_out_after_its_attempts(
    tmp_path,
    robots,
    edge_box,
):
    rx = robots("wecom")
    db_url = f"sqlite:///{tmp_path}/api.db"
    app = create_app(api_settings(tmp_path, db_url, [wecom(rx)], picture_attempts=3))
    with api_client(app) as admin:
        register(admin, edge_box)
        edge = api_client(app, "edge", sites=[A])
        major_hazard(edge, edge_box, n=1, picture=None)  # the box has no picture to give
        assert wait_until(lambda: len(rx.received) == 1)
        major_hazard(edge, edge_box, n=2, camera="cam-2")  # a later hazard, picture served
        assert wait_until(lambda: len(rx.received) == 3), (rx.answered, outbox(app))
        with app.state.services.engine.connect() as c:
            given_up = c.execute(
                text("SELECT attempts, last_error FROM robot_outbox WHERE gave_up_at IS NOT NULL")
            ).all()
    assert [m["msgtype"] for m in rx.received] == ["markdown", "markdown", "image"]
    assert given_up == [(3, "the evidence picture cannot be had from the site's edge box")]


def test_webhook_keys_tokens_and_secrets_appear_in_no_log_and_no_stored_error(
    tmp_path,
    caplog,
    edge_box,
):
    caplog.set_level(logging.DEBUG)
    wx = RobotReceiver("wecom", answers=[93000], echo_url=True)  # its refusal repeats the URL
    ding = RobotReceiver("dingtalk", secret=DINGTALK_SECRET, answers=[130101], echo_url=True)
    ding_port = ding.port
    ding.stop()  # down first
    db_url = f"sqlite:///{tmp_path}/api.db"
    settings = api_settings(tmp_path, db_url, [wecom(wx), dingtalk(ding)], rate_limit_pause_s=0)
    app = create_app(settings)
    try:
        with api_client(app) as admin:
            register(admin, edge_box)
            major_hazard(api_client(app, "edge", sites=[A]), edge_box)
            assert wait_until(lambda: app.state.services.robots.failures >= 3)
            ding = RobotReceiver(
                "dingtalk", secret=DINGTALK_SECRET, port=ding_port, answers=[130101], echo_url=True
            )
            assert wait_until(lambda: len(wx.received) == 2 and len(ding.received) == 1)
            rows = outbox(app)
    finally:
        wx.stop()
        ding.stop()
    logs = caplog.text
    assert "not delivered" in logs and "HTTP Request: POST" in logs  # the logs were captured
    assert "key=***" in logs and "access_token=***" in logs
    errors = " ".join(r[5] for r in rows)
    assert "errcode 93000" in errors and "key=***" in errors
    for secret in (WECOM_KEY, DINGTALK_TOKEN, DINGTALK_SECRET):
        assert secret not in logs, secret
        assert secret not in errors, secret
        assert secret not in repr(settings) and secret not in settings.model_dump_json()
