"""schemathesis against the served OpenAPI spec: generated requests (valid and invalid,
as admin) never produce a 500, and every error is JSON."""

import json
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from siteguard.api.access.keys import create_key
from siteguard.api.app import create_app
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from tests.support.api import sqlite_app

_tmp = Path(tempfile.mkdtemp(prefix="siteguard-fuzz-"))
APP = sqlite_app(_tmp, "f.db")
with APP.state.services.sessions.begin() as _s:
    ADMIN = {"Authorization": f"Bearer {create_key(_s, 'fuzz', 'admin')}"}
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_api_fail(case):
    response = case.call(headers=ADMIN)
    case.validate_response(response, checks=[not_a_server_error])
    kind = response.headers.get("content-type", "")
    kind = kind[0] if isinstance(kind, list) else kind
    if response.status_code >= 400 and kind.startswith("application/json"):
        body = json.loads(response.content)
        assert "error" in body, body  # one error shape everywhere


def test_no_request_makes_the_api_fail_on_postgresql(postgres, tmp_path):
    """The same generated requests against the API on a real PostgreSQL (column bounds,
    NULs and overflows are its errors, not SQLite's): every operation of the schema."""
    app = create_app(
        ApiSettings(
            database_url=postgres.new_database(),
            mqtt=MqttIngestSettings(enabled=False),
            data_dir=tmp_path / "data",
        )
    )
    with app.state.services.sessions.begin() as s:
        admin = {"Authorization": f"Bearer {create_key(s, 'fuzz', 'admin')}"}
    pg_schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tried = 0
    for result in pg_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(headers=admin)
            case.validate_response(response, checks=[not_a_server_error])

        check()
        tried += 1
    assert tried >= 20  # every route of the API, not a few
