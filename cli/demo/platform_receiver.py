"""A small reference receiver for the supervision-platform contract (tests and demos).

A real HTTP server: verifies the HMAC signature and timestamp, applies each idempotency key
once (a repeat is answered 200 "duplicate"), and appends accepted messages to a JSON-lines
file. Platforms implementing the contract can use it as the executable specification.

For tests of outages, ``refuse`` (a function of the message) makes it answer 500 to a
signed, well-formed message without applying it while the function says so; every such
message that reached it, refused or not, is in ``attempts`` in arrival order.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from siteguard.api.platform.push import sign
from siteguard.edge.quiet_http import QuietHandler

MAX_SKEW_S = 300


class PlatformReceiver:
    def __init__(
        self,
        secret: str,
        store: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        refuse: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self.secret = secret
        self.store = store
        self.refuse = refuse
        self.attempts: list[dict[str, Any]] = []
        self.refused = 0
        self.received: list[dict[str, Any]] = []
        self.keys: set[str] = set()
        self.duplicates = 0
        self.rejected = 0
        self._lock = threading.Lock()
        if store and store.exists():  # a restarted receiver still knows what it applied
            for line in store.read_text().splitlines():
                msg = json.loads(line)
                self.received.append(msg)
                self.keys.add(msg["idempotency_key"])
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/siteguard/v1/messages"

    def start(self) -> PlatformReceiver:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def accept(self, body: bytes, headers: Any) -> tuple[int, dict[str, str]]:
        ts = headers.get("X-SiteGuard-Timestamp", "")
        given = headers.get("X-SiteGuard-Signature", "")
        if not ts.isdigit() or abs(time.time() - int(ts)) > MAX_SKEW_S:
            self.rejected += 1
            return 401, {"error": "missing or stale timestamp"}
        if not hmac.compare_digest(given, sign(self.secret, ts, body)):
            self.rejected += 1
            return 401, {"error": "bad signature"}
        try:
            msg = json.loads(body)
            key = msg["idempotency_key"]
            if (
                headers.get("Idempotency-Key") != key
                or msg.get("contract_version", "").split(".")[0] != "1"
            ):
                raise ValueError("idempotency key or contract version mismatch")
        except (ValueError, KeyError) as exc:
            self.rejected += 1
            return 400, {"error": f"not a SiteGuard v1 message: {exc}"}
        with self._lock:
            self.attempts.append(msg)
            refuse = self.refuse
            if refuse is not None and refuse(msg):
                self.refused += 1
                return 500, {"error": "platform unavailable (refusing on purpose)"}
            if key in self.keys:
                self.duplicates += 1
                return 200, {"status": "duplicate"}
            self.keys.add(key)
            self.received.append(msg)
            if self.store:
                with open(self.store, "a", encoding="utf-8") as f:
                    f.write(json.dumps(msg, ensure_ascii=False) + "\n")
        return 200, {"status": "accepted"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                code, reply = receiver.accept(self.rfile.read(length), self.headers)
                self.reply(code, json.dumps(reply).encode(), "application/json")

        return Handler
