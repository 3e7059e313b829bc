"""Request bodies are refused before they are read: a change under /api/ that carries no
credential at all (no `Authorization: Bearer`, no console session cookie) is a 401, and
any body over the limit a 413, whether its Content-Length says so up front or a chunked
body runs past the limit while it streams in.

Pure ASGI (the outermost layer of the app but for error handling): nothing here reads a
body, so a 200 MB request without a key costs nothing, and a credential that is present
but wrong still meets the limit before the key is looked up."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from siteguard.api.access.sessions import SESSION_COOKIE

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

WRITES = frozenset({"POST", "PUT", "PATCH"})
NO_KEY = "missing API key (Authorization: Bearer <key>)"


class _Exceeded(Exception):
    """The body ran past the limit while it was being read."""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


def has_credential(scope: Scope) -> bool:
    """A bearer key or the console session cookie is present (not whether it is valid)."""
    auth = _header(scope, b"authorization") or b""
    if auth.startswith(b"Bearer ") and auth.removeprefix(b"Bearer ").strip():
        return True
    cookies = (_header(scope, b"cookie") or b"").decode("latin-1")
    prefix = f"{SESSION_COOKIE}="
    return any(c.strip().startswith(prefix) and c.strip() != prefix for c in cookies.split(";"))


async def _refuse(send: Send, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: 401 for an uncredentialed change under /api/, 413 for a body over
    `max_body_bytes`; both without reading the body."""

    def __init__(self, app: App, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def too_large(self) -> str:
        return f"request body larger than {self.max_body_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (
            scope["method"] in WRITES
            and scope["path"].startswith("/api/")
            and not has_credential(scope)
        ):
            await _refuse(send, 401, NO_KEY)
            return
        declared = (_header(scope, b"content-length") or b"").strip()
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await _refuse(send, 413, self.too_large())
            return
        await self._limited(scope, receive, send)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting the body as the app reads it: past the limit the
        read fails, and whatever the app makes of that is replaced by a 413."""
        seen, exceeded, started = 0, False, False

        async def counted_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    exceeded = True
                    raise _Exceeded
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's answer to a body cut short: the 413 below replaces it
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _refuse(send, 413, self.too_large())
