"""`siteguard api`: the API service (HTTP + MQTT ingest)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from siteguard.waiting import wait_until_set

if TYPE_CHECKING:
    from siteguard.api.settings import ApiSettings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "api",
        help="run the API: ingest hazard events (MQTT shared subscription, HTTP), serve hazards",
        description="Settings come from --config api.yaml (every key of docs/api.md "
        "'Configuration'; unknown keys are refused), then the environment (SITEGUARD_DATABASE_URL, "
        "SITEGUARD_DATA_DIR, SITEGUARD_MQTT_HOST/PORT/PREFIX/ENABLED/USERNAME/PASSWORD/TLS/"
        "CA_FILE, SITEGUARD_PUSH_URL/SECRET), then the options. OpenAPI at /docs.",
    )
    p.add_argument("--config", type=Path, default=None, help="api.yaml (see docs/api.md)")
    p.add_argument("--db", default=None, help="SQLAlchemy URL (default sqlite:///siteguard.db)")
    p.add_argument("--mqtt-host", default=None)
    p.add_argument("--mqtt-port", type=int, default=None)
    p.add_argument("--no-mqtt", action="store_true", help="HTTP ingest only")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--replica", default="0", help="replica name (MQTT client id suffix)")
    p.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="addresses of the TLS-terminating reverse proxies whose X-Forwarded-Proto/For "
        "are believed (comma list or *; default $SITEGUARD_FORWARDED_ALLOW_IPS, else "
        "127.0.0.1): behind them the console's session cookie is Secure and the access log "
        "shows the client's address",
    )
    p.add_argument(
        "--retire",
        action="store_true",
        help="scale down for good: store what the broker kept for this replica, leave the "
        "shared subscription and end its session, then exit (serves no HTTP)",
    )
    p.set_defaults(func=run)
    register_receiver(sub)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from siteguard.api.app import create_app
    from siteguard.api.settings import ApiSettings, SettingsError

    try:
        settings = ApiSettings.load(args.config)
    except SettingsError as exc:
        print(f"siteguard api: {exc}", file=sys.stderr)
        return 2
    mqtt = settings.mqtt.model_copy(
        update={
            k: v
            for k, v in {"host": args.mqtt_host, "port": args.mqtt_port}.items()
            if v is not None
        }
        | ({"enabled": False} if args.no_mqtt else {})
    )
    settings = settings.model_copy(
        update={"mqtt": mqtt} | ({"database_url": args.db} if args.db else {})
    )
    if args.retire:
        return retire(settings, args.replica)
    uvicorn.run(
        create_app(settings, args.replica),
        host=args.host,
        port=args.port,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips(args.forwarded_allow_ips),
    )
    return 0


def forwarded_allow_ips(option: str | None) -> str:
    """The proxies whose forwarded headers uvicorn believes: the option, else
    $SITEGUARD_FORWARDED_ALLOW_IPS, else the loopback address alone."""
    import os

    return option or os.environ.get("SITEGUARD_FORWARDED_ALLOW_IPS") or "127.0.0.1"


def retire(settings: ApiSettings, replica: str) -> int:
    from siteguard.api.services import Services

    if not settings.mqtt.enabled:
        print("siteguard api --retire: MQTT ingest is disabled; nothing to retire")
        return 2
    services = Services(settings, replica)
    assert services.mqtt is not None
    print(
        f"retiring replica {replica}: taking what {settings.mqtt.host}:{settings.mqtt.port} "
        "kept for it ...",
        flush=True,
    )
    services.mqtt.start()
    try:
        taken = services.mqtt.retire()
    except TimeoutError as exc:
        print(f"siteguard api --retire: {exc}; the replica's session is left as it was")
        return 1
    finally:
        services.engine.dispose()
    print(
        f"replica {replica}: stored {taken} message(s) that waited for it, left the shared "
        "subscription and ended its session; the broker no longer queues events for it"
    )
    return 0


def register_receiver(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "platform-receiver",
        help="run the reference supervision-platform receiver (demos, contract tests)",
        description="Verifies signatures, applies each idempotency key once, appends accepted "
        "messages to --store (JSON lines). See docs/platform-contract.md.",
    )
    p.add_argument("--secret", required=True, help="the HMAC secret shared with the API")
    p.add_argument("--store", type=Path, default=Path("platform-messages.jsonl"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000)
    p.set_defaults(func=run_receiver)


def run_receiver(args: argparse.Namespace) -> int:
    import threading

    from siteguard.demo.platform_receiver import PlatformReceiver

    rx = PlatformReceiver(args.secret, args.store, args.host, args.port).start()
    print(f"platform receiver at {rx.url}; messages -> {args.store}; Ctrl-C to stop", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        wait_until_set(threading.Event())
    rx.stop()
    return 0
