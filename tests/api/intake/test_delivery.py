"""Delivery that does not trust the broker's memory (attack report row 3): the edge numbers
its events and keeps them until the API confirms storing them; what stays unconfirmed is
sent again. Publish N, then exactly N stored, none twice, through the faults that lost
events before: a broker restart and a kill -9 while the API is down, an API that had
never subscribed, an edge killed with a backlog. Real Mosquitto, real API, real outbox."""

import time

import pytest
from sqlalchemy import func, select

from siteguard.api.app import create_app
from siteguard.api.intake.delivery import advance, note
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.api.store.db import create_schema, make_engine, make_sessions
from siteguard.api.store.tables import EventRow
from siteguard.contract.events import HazardEvent
from siteguard.demo.services import wait_until
from siteguard.edge.outbox import Outbox
from siteguard.edge.publisher import MqttConfig, Publisher
from tests.api.intake.test_ingest import event
from tests.support.api import api_client

SITE = "futian-0001"


def edge(tmp_path, login, name="outbox.db"):
    config = MqttConfig(**login, confirm_after_s=1.0, resend_after_s=2.0)
    pub = Publisher(config, SITE, Outbox(tmp_path / name))
    pub.start()
    return pub


def send(pub, first, n):
    for i in range(first, first + n):
        pub.send_event(HazardEvent.model_validate(event(f"evt_dl{i:011d}", t=i, started=i)))


def api(tmp_path, login):
    settings = ApiSettings(
        database_url=f"sqlite:///{tmp_path}/api.db", mqtt=MqttIngestSettings(**login)
    )
    return create_app(settings)


def stored(app):
    with app.state.services.sessions() as s:
        return s.scalar(select(func.count()).select_from(EventRow))


def run_api_until(tmp_path, login, pub, n, timeout=40):
    app = api(tmp_path, login)
    with api_client(app):
        assert app.state.services.mqtt.connected.wait(10)
        assert wait_until(lambda: stored(app) == n, timeout), stored(app)
        # the edge hears the receipt and lets go of everything it kept
        assert wait_until(lambda: pub.outbox.awaiting_confirmation() == 0, 10)
        time.sleep(1.5)  # a late duplicate would show now
        assert stored(app) == n  # exactly N: none lost, none twice
    return app


@pytest.mark.parametrize("fault", ["restart", "kill -9"])
def test_a_broker_that_forgets_while_the_api_is_down_loses_nothing(tmp_path, broker, fault):
    app = api(tmp_path, broker.login_as("siteguard-api"))
    with api_client(app):  # the API's persistent shared-subscription session exists
        assert app.state.services.mqtt.connected.wait(10)
        time.sleep(0.3)
    pub = edge(tmp_path, broker.login)
    assert pub.connected.wait(10)
    send(pub, 0, 40)
    assert wait_until(lambda: pub.outbox.depth() == 0, 15)  # the broker acknowledged all
    assert pub.outbox.awaiting_confirmation() == 40  # but the edge keeps them
    if fault == "restart":
        broker.stop()
    else:
        broker.kill()
    broker.start()
    assert pub.connected.wait(15)
    run_api_until(tmp_path, broker.login_as("siteguard-api"), pub, 40)
    pub.stop()


def test_events_sent_before_any_api_subscribed_arrive(tmp_path, broker):
    """Before: the broker drops events nobody has subscribed to yet (compose had to start
    the edge after the API for that reason)."""
    pub = edge(tmp_path, broker.login)
    assert pub.connected.wait(10)
    send(pub, 0, 20)
    assert wait_until(lambda: pub.outbox.depth() == 0, 15)
    run_api_until(tmp_path, broker.login_as("siteguard-api"), pub, 20)
    pub.stop()


def test_an_edge_killed_with_a_backlog_sends_it_after_restart(tmp_path, broker):
    broker.stop()  # the box cannot reach the broker: the backlog builds up on disk
    pub = edge(tmp_path, broker.login)
    send(pub, 0, 25)
    pub.client.loop_stop()  # "kill -9": no stop(), no flush; only the outbox file remains
    pub.outbox.close()
    broker.start()
    again = edge(tmp_path, broker.login)  # the same outbox file, the same epoch
    assert again.connected.wait(10)
    run_api_until(tmp_path, broker.login_as("siteguard-api"), again, 25)
    again.stop()


def test_the_pointer_stops_at_a_gap_and_says_so(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/d.db")
    create_schema(engine)
    sessions = make_sessions(engine)
    with sessions.begin() as s:
        for seq in (1, 2, 4, 5):
            note(s, SITE, "epoch-0001", seq)
        [(site, receipt)] = advance(s, [(SITE, "epoch-0001")])
    assert site == SITE and receipt.stored_through == 2 and receipt.missing_after
    assert receipt.model_dump_json().endswith('Z"}')  # one time form on the wire
    with sessions.begin() as s:
        note(s, SITE, "epoch-0001", 3)
        [(_, receipt)] = advance(s, [(SITE, "epoch-0001")])
    assert receipt.stored_through == 5 and not receipt.missing_after


def test_unconfirmed_events_go_out_again_less_and_less_often(tmp_path):
    box = Outbox(tmp_path / "o.db")
    oid = box.put("siteguard/s/c/events", '{"x": 1}', numbered=True)
    box.sent(oid)
    box.ack(oid)  # the broker has it; the API has not confirmed it
    assert box.depth() == 0 and box.awaiting_confirmation() == 1
    assert box.unconfirmed(0.2) == []
    time.sleep(0.25)
    [again] = box.unconfirmed(0.2)
    assert again.seq == 1
    box.sent(oid)  # second send: next due after twice the wait
    time.sleep(0.25)
    assert box.unconfirmed(0.2) == []
    time.sleep(0.2)
    assert [m.id for m in box.unconfirmed(0.2)] == [oid]
    assert box.confirm(box.epoch, 1) == 1 and box.awaiting_confirmation() == 0
    assert box.confirm("another-epoch", 5) == 0
