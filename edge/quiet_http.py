"""The small HTTP servers SiteGuard runs itself (the edge's /evidence, /metrics and
/healthz; the reference platform receiver): one request handler base that answers with a
body and stays quiet in the logs."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    def reply(self, code: int, body: bytes, kind: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:  # requests are not news
        pass
