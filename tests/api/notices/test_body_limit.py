"""Request bodies are refused before they are read: a change under /api/ with no key (and
no console session) is a 401 without reading its body, a body over max_body_bytes a 413,
whether its Content-Length says so or a chunked body runs past the limit; authenticated
uploads within the limit go through as before."""

import io
import json
import socket

import cv2
import httpx
import numpy as np
from fastapi.testclient import TestClient

from tests.support.api import api_client, sqlite_app
from tests.support.browser import served
from tests.support.paths import GOLDEN_START

MB = 1024 * 1024
EVENT = json.loads(GOLDEN_START.read_text())


def make_app(tmp_path, **settings):
    return sqlite_app(tmp_path, "api.db", **settings)


class Body:
    """A request body: `head`, then `chunks` chunks of `size` bytes; counts how many of
    them were taken."""

    def __init__(self, chunks, size=MB, head=b'{"reason": "'):
        self.chunks, self.size, self.head, self.taken = chunks, size, head, 0

    def __iter__(self):
        for i in range(self.chunks):
            self.taken += 1
            yield (self.head if i == 0 else b"") + b"x" * self.size


def raw_request(url, head):
    """Send only a request head (the body it announces never comes); the status line and
    body of the answer, or a timeout if the server waits for the body."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    status = answer.split(b"\r\n", 1)[0].decode()
    return status, json.loads(answer.split(b"\r\n\r\n", 1)[1])


def test_a_200_mb_body_without_a_key_is_never_read(tmp_path):
    app = make_app(tmp_path)
    # routes with a JSON body: FastAPI reads and parses it before it checks the key
    for method, path in (
        ("PUT", "/api/v1/projects/futian-0001"),
        ("POST", "/api/v1/hazards/1/dismiss"),
    ):
        body = Body(200)  # 200 MB
        r = TestClient(app).request(
            method, path, content=body, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 401
        assert r.json() == {"error": "missing API key (Authorization: Bearer <key>)"}
        assert body.taken == 0, path
    # a console session cookie is a credential too (checked later by the route): the body
    # is read then, and the route's own check answers
    cookie = Body(1, size=0, head=b'{"reason": "false alarm"}')
    r = TestClient(app, cookies={"sg_session": "not-a-session"}).post(
        "/api/v1/hazards/1/dismiss", content=cookie, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 401 and cookie.taken == 1
    # reads need no body: still answered by the route
    assert TestClient(app).get("/api/v1/hazards").status_code == 401


def test_a_real_server_refuses_before_the_body_arrives(tmp_path):
    """On a real uvicorn: the head alone (announcing 200 MB, or 30 MB with a key) is
    answered at once; the server never waits for the body."""
    app = make_app(tmp_path)
    key = api_client(app, "edge", sites=["futian-0001"]).headers["authorization"]
    with served(app) as url:
        status, body = raw_request(
            url,
            "PUT /api/v1/projects/futian-0001 HTTP/1.1\nHost: x\n"
            f"Content-Type: application/json\nContent-Length: {200 * MB}\n",
        )
        assert status == "HTTP/1.1 401 Unauthorized" and body["error"].startswith("missing API key")
        status, body = raw_request(
            url,
            "POST /api/v1/events HTTP/1.1\nHost: x\nContent-Type: application/json\n"
            f"Authorization: {key}\nContent-Length: {30 * MB}\n",
        )
        assert status == "HTTP/1.1 413 Request Entity Too Large"
        assert body == {"error": f"request body larger than {25 * MB} bytes"}


def test_an_oversized_body_is_refused_with_413(tmp_path):
    app = make_app(tmp_path, max_body_bytes=2 * MB)
    edge = api_client(app, "edge", sites=["futian-0001"])
    declared = Body(3)
    r = edge.post(
        "/api/v1/events",
        content=declared,
        headers={"Content-Type": "application/json", "Content-Length": str(3 * MB)},
    )
    assert r.status_code == 413 and declared.taken == 0
    assert r.json() == {"error": f"request body larger than {2 * MB} bytes"}
    # chunked, with no Content-Length: cut off once it runs past the limit, on a real
    # server, for the event ingest and for a multipart upload alike
    with served(app) as url:
        photo_part = (
            b'--x\r\nContent-Disposition: form-data; name="photos"; filename="p.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n"
        )
        for path, kind, head in (
            ("/api/v1/events", "application/json", b'{"reason": "'),
            ("/api/v1/notices/1/submit", "multipart/form-data; boundary=x", photo_part),
        ):
            chunked = Body(6, head=head)
            r = httpx.post(
                url + path,
                content=chunked,
                headers={**edge.headers, "Content-Type": kind},
                timeout=30,
            )
            assert r.status_code == 413, (path, r.text)
            assert r.json() == {"error": f"request body larger than {2 * MB} bytes"}
    assert not (tmp_path / "data" / "proof").exists()


def test_authenticated_requests_within_the_limit_work_as_before(tmp_path):
    """An event and a reply with proof photos go through; the event ingest keeps its own
    per-message cap (256 KB: rejected and dead-lettered, not cut off by the body limit)."""
    app = make_app(tmp_path)
    admin = api_client(app)
    edge = api_client(app, "edge", sites=["futian-0001"])
    contractor = api_client(app, "contractor", sites=["futian-0001"])
    admin.put("/api/v1/projects/futian-0001", json={"name": "福田工程"})
    assert edge.post("/api/v1/events", json=EVENT).status_code == 202
    big = edge.post("/api/v1/events", json=dict(EVENT, reason="x" * 300_000))
    assert big.status_code == 422 and "bytes" in big.json()["reason"]
    assert len(admin.get("/api/v1/dead-letters").json()) == 1
    notice = admin.post("/api/v1/projects/futian-0001/notices").json()["id"]
    contractor.post(f"/api/v1/notices/{notice}/actions/acknowledge", json={"comment": ""})
    _ok, photo = cv2.imencode(".jpg", np.random.default_rng(1).integers(0, 255, (2400, 2400, 3)))
    photos = [("photos", (f"p{i}.jpg", io.BytesIO(photo.tobytes()), "image/jpeg")) for i in (1, 2)]
    assert len(photo.tobytes()) > 5 * MB  # two of them: over 10 MB in one body
    r = contractor.post(f"/api/v1/notices/{notice}/submit", data={"reply": "已整改"}, files=photos)
    assert r.status_code == 200 and r.json()["status"] == "submitted"
