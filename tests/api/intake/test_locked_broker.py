"""Nobody in (attack report row 1): the broker the project ships is locked. An anonymous
client is refused, an edge login may publish only under its own site, the API joins with
its own login (read only), a body claiming another site than its topic is a dead letter,
and a flooding site is capped and counted. A real Mosquitto with the password and ACL
files `siteguard broker` writes."""

import json
import time

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from siteguard.api.app import create_app
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.broker_cmd import password_entry
from siteguard.cli import main
from siteguard.demo.services import Mosquitto, wait_until
from tests.api.intake.test_ingest import event
from tests.support.api import api_client

USERS = {
    "edge-futian-0001": ("edge-a-pass", "futian-0001"),
    "edge-site-b": ("edge-b-pass", "site-b"),
    "siteguard-api": ("api-pass", None),
}


@pytest.fixture
def locked(tmp_path):
    b = Mosquitto(tmp_path / "locked", users=USERS).start()
    yield b
    b.stop()


def client(port, user=None, password=None):
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{user}", protocol=paho.MQTTv5)
    if user:
        c.username_pw_set(user, password)
    refused = []
    c.on_connect = lambda _c, _u, _f, reason, _p: refused.append(reason.is_failure)
    c.connect("127.0.0.1", port)
    c.loop_start()
    assert wait_until(lambda: refused, 5)
    return c, refused[0]


def publish(c, topic, doc):
    c.publish(topic, json.dumps(doc), qos=1).wait_for_publish(5)


def api_on(port, tmp_path, **kw):
    mqtt = MqttIngestSettings(port=port, username="siteguard-api", password="api-pass")
    return create_app(ApiSettings(database_url=f"sqlite:///{tmp_path}/api.db", mqtt=mqtt, **kw))


def test_anonymous_and_wrong_passwords_are_refused(locked):
    for user, password in ((None, None), ("edge-futian-0001", "guess")):
        c, refused = client(locked.port, user, password)
        c.loop_stop()
        assert refused, user


def test_the_suites_broker_fixture_is_locked_too(broker):
    """Every test's `broker` runs locked, as the product ships: anonymous clients and a
    wrong password are refused; its test login, the edge's and the API's get in."""
    for user, password in ((None, None), (broker.username, "guess")):
        c, refused = client(broker.port, user, password)
        c.loop_stop()
        assert refused, user
    for login in (broker.login, broker.login_as("edge-site-1"), broker.login_as("siteguard-api")):
        c, refused = client(login["port"], login["username"], login["password"])
        c.loop_stop()
        c.disconnect()
        assert not refused, login["username"]


def test_an_edge_publishes_only_its_own_site_and_the_api_reads_with_its_login(locked, tmp_path):
    app = api_on(locked.port, tmp_path)
    with api_client(app) as admin:
        assert app.state.services.mqtt.connected.wait(10)
        time.sleep(0.3)
        edge_a, refused = client(locked.port, "edge-futian-0001", "edge-a-pass")
        assert not refused
        topic_a = "siteguard/futian-0001/cam-north/events"
        publish(edge_a, topic_a, event("evt_own000000001"))
        # under another site's topic: the broker drops it (ACL), nothing reaches the API
        forged = event("evt_forged000001", site_id="site-b")
        publish(edge_a, "siteguard/site-b/cam-north/events", forged)
        # under its own topic, a body claiming site-b: refused by the API, kept, counted
        publish(edge_a, topic_a, event("evt_claims000001", site_id="site-b"))
        counts = app.state.services.ingestor.counts
        assert wait_until(lambda: counts["new"] + counts["rejected"] >= 2, 10), counts
        time.sleep(1.0)  # anything forged that slipped through would have arrived by now
        hazards = admin.get("/api/v1/hazards").json()
        assert [h["site_id"] for h in hazards] == ["futian-0001"]
        assert counts["new"] == 1 and counts["topic_mismatch"] == 1
        [dead] = admin.get("/api/v1/dead-letters").json()
        assert "names site 'site-b'" in dead["reason"]
        edge_a.loop_stop()


def test_the_api_login_cannot_publish(locked, tmp_path):
    app = api_on(locked.port, tmp_path)
    with api_client(app):
        assert app.state.services.mqtt.connected.wait(10)
        time.sleep(0.3)
        api_login, _ = client(locked.port, "siteguard-api", "api-pass")
        publish(api_login, "siteguard/futian-0001/cam-north/events", event("evt_fromapi00001"))
        time.sleep(1.5)
        assert app.state.services.ingestor.counts["new"] == 0
        api_login.loop_stop()


def test_a_flooding_site_is_capped_and_counted(locked, tmp_path):
    app = api_on(locked.port, tmp_path, max_messages_per_site_per_minute=20)
    with api_client(app) as admin:
        assert app.state.services.mqtt.connected.wait(10)
        time.sleep(0.3)
        edge_a, _ = client(locked.port, "edge-futian-0001", "edge-a-pass")
        for i in range(50):
            publish(edge_a, "siteguard/futian-0001/cam-north/events", event(f"evt_fl{i:011d}", t=i))
        counts = app.state.services.ingestor.counts
        assert wait_until(lambda: counts["new"] + counts["over_rate"] >= 50, 15), counts
        assert counts["new"] == 20 and counts["over_rate"] == 30
        dead = admin.get("/api/v1/dead-letters").json()
        assert len(dead) == 1 and "more than 20 messages in a minute" in dead[0]["reason"]
        edge_a.loop_stop()


def test_siteguard_broker_writes_mosquitto_entries_and_keeps_other_users(tmp_path, capsys):
    pw, acl = tmp_path / "passwd", tmp_path / "acl"
    args = ["--password-file", str(pw), "--acl-file", str(acl)]
    assert main(["broker", "add-site", "futian-0001", *args, "--password", "p1"]) == 0
    assert main(["broker", "add-api", *args]) == 0
    assert main(["broker", "add-site", "futian-0001", *args, "--password", "p2"]) == 0  # rotate
    out = capsys.readouterr().out
    assert "user siteguard-api" in out and "password " in out
    users = [line.split(":")[0] for line in pw.read_text().splitlines()]
    assert users == ["siteguard-api", "edge-futian-0001"]
    assert "topic write siteguard/futian-0001/#" in acl.read_text()
    assert "topic read siteguard/#" in acl.read_text()
    assert acl.read_text().count("user edge-futian-0001") == 1
    assert main(["broker", "add-site", "../etc", *args]) == 2
    # a password that starts with "-" (1 in 64 random ones do), passed as compose passes it
    assert main(["broker", "add-site", "site-x", *args, "--password=-dash-first"]) == 0
    assert "edge-site-x:" in pw.read_text()
    # mosquitto_passwd's own hash of this password and salt
    salt = bytes.fromhex("d6fc9e8a0ba7117c39d52b5d")
    assert password_entry("user1", "secret", salt) == (
        "user1:$7$101$1vyeigunEXw51Std$cLiQRrhuzwnw1XqOl4umh+7n/03lkc/3DsbLDkp5k/J/IEnUyLwlb"
        "it5yi8ea4Cs/FHj0ix/EDQ8J4Uaft5htw=="
    )


def test_receipts_pass_the_acl_both_ways(locked, tmp_path):
    """The API may write its receipts under <site>/delivery and the edge read its own, so
    end-to-end delivery works on the locked broker."""
    from pydantic import SecretStr

    from siteguard.contract.events import HazardEvent
    from siteguard.edge.outbox import Outbox
    from siteguard.edge.publisher import MqttConfig, Publisher

    app = api_on(locked.port, tmp_path)
    with api_client(app):
        assert app.state.services.mqtt.connected.wait(10)
        time.sleep(0.3)
        config = MqttConfig(
            port=locked.port, username="edge-futian-0001", password=SecretStr("edge-a-pass")
        )
        pub = Publisher(config, "futian-0001", Outbox(tmp_path / "o.db"))
        pub.start()
        assert pub.connected.wait(10)
        for i in range(5):
            pub.send_event(HazardEvent.model_validate(event(f"evt_rc{i:011d}", t=i)))
        assert wait_until(lambda: app.state.services.ingestor.counts["new"] == 5, 10)
        assert wait_until(lambda: pub.outbox.awaiting_confirmation() == 0, 10)
        assert pub.confirmed_through == 5
        pub.stop()


def test_the_api_and_the_edge_speak_tls_to_a_tls_only_broker(tmp_path):
    """TLS on both sides (a throw-away CA made by openssl): the API's mqtt.tls / ca_file and
    the edge's; a client without TLS gets nowhere."""
    from pydantic import SecretStr

    from siteguard.contract.events import HazardEvent
    from siteguard.demo.services import make_tls_files
    from siteguard.edge.outbox import Outbox
    from siteguard.edge.publisher import MqttConfig, Publisher

    ca, cert, key = make_tls_files(tmp_path / "tls")
    broker = Mosquitto(tmp_path / "tls-broker", users=USERS, tls=(ca, cert, key)).start()
    try:
        plain = paho.Client(CallbackAPIVersion.VERSION2, client_id="t-plain")
        plain.username_pw_set("edge-futian-0001", "edge-a-pass")
        connected = []
        plain.on_connect = lambda *a: connected.append(not a[3].is_failure)
        plain.connect_async("127.0.0.1", broker.port)
        plain.loop_start()
        time.sleep(2)
        plain.loop_stop()
        assert connected in ([], [False])  # no session without TLS
        mqtt = MqttIngestSettings(
            port=broker.port, username="siteguard-api", password="api-pass", tls=True, ca_file=ca
        )
        app = create_app(ApiSettings(database_url=f"sqlite:///{tmp_path}/api.db", mqtt=mqtt))
        with api_client(app):
            assert app.state.services.mqtt.connected.wait(10)
            time.sleep(0.3)
            config = MqttConfig(
                port=broker.port,
                username="edge-futian-0001",
                password=SecretStr("edge-a-pass"),
                tls=True,
                ca_file=str(ca),
            )
            pub = Publisher(config, "futian-0001", Outbox(tmp_path / "o.db"))
            pub.start()
            assert pub.connected.wait(10)
            pub.send_event(HazardEvent.model_validate(event("evt_tls000000001")))
            assert wait_until(lambda: app.state.services.ingestor.counts["new"] == 1, 10)
            assert wait_until(lambda: pub.outbox.awaiting_confirmation() == 0, 10)
            pub.stop()
    finally:
        broker.stop()
