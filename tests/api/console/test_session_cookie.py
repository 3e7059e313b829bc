"""The console's session cookie is Secure when the browser reached the console over HTTPS,
also behind a TLS-terminating reverse proxy that `siteguard api --forwarded-allow-ips`
trusts (uvicorn's proxy headers), and not when an untrusted client merely claims it."""

from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from siteguard.api.access.keys import create_key
from siteguard.api_cmd import forwarded_allow_ips
from tests.support.api import sqlite_app


def login_cookie(app, trusted: str | None, headers: dict[str, str]) -> str:
    with app.state.services.sessions.begin() as s:
        key = create_key(s, "cookie", "inspector", insurer="ins")
    served = app if trusted is None else ProxyHeadersMiddleware(app, trusted_hosts=trusted)
    c = TestClient(served)
    r = c.post("/console/login", data={"key": key}, headers=headers, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    return r.headers["set-cookie"]


def test_plain_http_gets_a_cookie_without_secure(tmp_path):
    cookie = login_cookie(sqlite_app(tmp_path, "c.db"), None, {})
    assert "httponly" in cookie.lower() and "secure" not in cookie.lower()


def test_https_at_a_trusted_proxy_makes_the_cookie_secure(tmp_path):
    cookie = login_cookie(sqlite_app(tmp_path, "c.db"), "*", {"X-Forwarded-Proto": "https"})
    assert "; secure" in cookie.lower()


def test_an_untrusted_client_claiming_https_does_not(tmp_path):
    app = sqlite_app(tmp_path, "c.db")
    cookie = login_cookie(app, "10.9.8.7", {"X-Forwarded-Proto": "https"})
    assert "secure" not in cookie.lower()


def test_the_trusted_proxies_come_from_the_option_then_the_environment(monkeypatch):
    monkeypatch.delenv("SITEGUARD_FORWARDED_ALLOW_IPS", raising=False)
    assert forwarded_allow_ips(None) == "127.0.0.1"
    monkeypatch.setenv("SITEGUARD_FORWARDED_ALLOW_IPS", "10.0.0.2")
    assert forwarded_allow_ips(None) == "10.0.0.2"
    assert forwarded_allow_ips("10.0.0.3,10.0.0.4") == "10.0.0.3,10.0.0.4"
