"""`siteguard api --config api.yaml`: every setting reachable (push URL and secret, risk
products, deadlines, data dir, MQTT credentials and TLS), unknown keys refused, the
environment on top, and no start with a default secret when pushing (attack row 7)."""

import pytest

from siteguard.api.settings import ApiSettings, SettingsError
from siteguard.cli import main

API_YAML = """
database_url: sqlite:///x.db
data_dir: /var/lib/siteguard
push:
  url: https://platform.example/siteguard/v1/messages
  secret: a-long-secret-from-the-platform
deadlines: {major_days: 1, general_days: 5}
risk:
  default: {base_rate_per_mille: 1.65}
  anhui-building: {base_rate_per_mille: 1.8, band: 0.15}
mqtt:
  host: broker.internal
  port: 8883
  username: siteguard-api
  password: broker-pass
  tls: true
"""


def test_an_api_yaml_reaches_every_setting_and_the_environment_wins(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(API_YAML)
    s = ApiSettings.load(
        path, env={"SITEGUARD_MQTT_PASSWORD": "from-env", "SITEGUARD_MQTT_PORT": "1884"}
    )
    assert s.push.url.startswith("https://platform.example")
    assert s.push.secret.get_secret_value() == "a-long-secret-from-the-platform"
    assert s.deadlines.major_days == 1 and s.risk_for("anhui-building").band == 0.15
    assert str(s.data_dir) == "/var/lib/siteguard"
    assert s.mqtt.username == "siteguard-api" and s.mqtt.tls
    assert s.mqtt.password.get_secret_value() == "from-env" and s.mqtt.port == 1884
    assert "broker-pass" not in repr(s)  # secrets never print


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("push: {url: https://p.example/x}\n", {}, "push.secret"),
        ("push: {url: https://p.example/x, secret: change-me}\n", {}, "default"),
        ("mqtt: {hostname: x}\n", {}, "mqtt.hostname"),
        ("deadlines: {major_days: -1}\n", {}, "deadlines.major_days"),
        ("- a list\n", {}, "mapping"),
        ("", {"SITEGUARD_MQTT_PORT": "many"}, "mqtt.port"),
        ("", {"SITEGUARD_PUSH_URL": "https://p.example/x"}, "push.secret"),
    ],
)
def test_settings_that_cannot_be_used_are_refused_by_name(tmp_path, text, env, message):
    path = tmp_path / "api.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=message):
        ApiSettings.load(path, env=env)


def test_siteguard_api_refuses_to_start_on_a_bad_config(tmp_path, capsys):
    path = tmp_path / "api.yaml"
    path.write_text("push: {url: https://p.example/x}\nunknown_key: 1\n")
    assert main(["api", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "unknown_key" in err and "api.yaml" in err
