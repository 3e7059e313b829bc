"""Proof photos: the pixel count is read from the JPEG or PNG header and a picture over the
limit is refused before it is decoded (a 30000x30000 PNG is a tiny file that would decode
into gigabytes); the decode of an allowed one runs off the event loop, so the API keeps
answering while it happens."""

import io
import json
import struct
import threading
import time
import zlib
from urllib.parse import unquote

import cv2
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from siteguard.api.access.keys import create_key
from siteguard.api.access.sessions import SESSION_COOKIE, open_session, session_principal
from siteguard.api.documents.pictures import picture_size
from siteguard.api.errors import Invalid
from tests.support.api import api_client, sqlite_app
from tests.support.browser import served
from tests.support.paths import GOLDEN_START


def png(width, height, pixels=None):
    """An 8-bit RGB PNG: all black rows by default (they compress to almost nothing), or the
    given scanline data; for a header-only test the image data may be a token."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = (b"\x00" + bytes(3 * width)) * height if pixels is None else pixels
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def jpeg(width=48, height=32, flags=()):
    _ok, buf = cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8), list(flags))
    return buf.tobytes()


HUGE_PNG = png(30000, 30000, pixels=b"\x00" * 64)  # 30000x30000 declared, ~100 bytes on disk


def make_world(tmp_path, **settings):
    app = sqlite_app(tmp_path, "api.db", **settings)
    admin = api_client(app)
    contractor = api_client(app, "contractor", "承包商甲", sites=["futian-0001"])
    inspector = api_client(app, "inspector", insurer="保险A")
    admin.put("/api/v1/projects/futian-0001", json={"name": "福田工程", "insurer": "保险A"})
    assert (
        admin.post("/api/v1/events", json=json.loads(GOLDEN_START.read_text())).status_code == 202
    )
    notice = inspector.post("/api/v1/projects/futian-0001/notices").json()["id"]
    r = contractor.post(f"/api/v1/notices/{notice}/actions/acknowledge", json={"comment": ""})
    assert r.status_code == 200
    return app, contractor, notice


def submit(client, notice, *photos):
    files = [("photos", (name, io.BytesIO(data), "image/png")) for name, data in photos]
    return client.post(f"/api/v1/notices/{notice}/submit", data={"reply": "已整改"}, files=files)


def stored(tmp_path):
    folder = tmp_path / "data" / "proof"
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_picture_sizes_are_read_from_the_header():
    assert picture_size("a", jpeg(48, 32)) == (48, 32)
    progressive = jpeg(640, 352, (cv2.IMWRITE_JPEG_PROGRESSIVE, 1))
    assert picture_size("b", progressive) == (640, 352)
    assert picture_size("c", png(7, 5)) == (7, 5)
    assert picture_size("d", HUGE_PNG) == (30000, 30000)
    for bad in (b"GIF89a" + bytes(20), b"\xff\xd8\xff\xe0\x00\x10JFIF", b"\x89PNG\r\n\x1a\n"):
        with pytest.raises(Invalid):
            picture_size("e", bad)


def test_a_30000_pixel_square_png_is_refused_from_its_header(tmp_path):
    """The decompression bomb is refused at once with a JSON 413 (it would decode into
    2.7 GB for most of a minute); nothing is stored and the notice waits for its reply."""
    _app, contractor, notice = make_world(tmp_path)
    t0 = time.monotonic()
    r = submit(contractor, notice, ("ok.jpg", jpeg()), ("bomb.png", HUGE_PNG))
    took = time.monotonic() - t0
    assert r.status_code == 413 and r.headers["content-type"] == "application/json"
    assert r.json() == {"error": "bomb.png: 30000x30000 pixels, over the limit of 40 megapixels"}
    assert took < 2.0, took
    assert stored(tmp_path) == []  # not even the good photo beside it
    assert contractor.get(f"/api/v1/notices/{notice}").json()["status"] == "rectifying"
    # a JPEG's start-of-frame that declares the same is refused the same way
    huge_jpeg = b"\xff\xd8\xff\xc0\x00\x11\x08" + (30000).to_bytes(2, "big") * 2 + bytes(10)
    assert submit(contractor, notice, ("bomb.jpg", huge_jpeg)).status_code == 413
    gif = submit(contractor, notice, ("x.gif", b"GIF89a" + bytes(64)))
    assert gif.status_code == 422 and "not a JPEG or PNG" in gif.json()["error"]


def test_the_pixel_limit_is_configured_and_normal_photos_pass(tmp_path):
    _app, contractor, notice = make_world(tmp_path, proof_max_pixels=2000)
    r = submit(contractor, notice, ("big.jpg", jpeg(48, 48)))  # 2304 pixels
    assert r.status_code == 413 and "0.002 megapixels" in r.json()["error"]
    ok = submit(contractor, notice, ("a.jpg", jpeg(48, 32)), ("b.png", png(40, 40)))
    assert ok.status_code == 200 and ok.json()["status"] == "submitted"
    assert len(stored(tmp_path)) == 2


def test_the_console_refuses_a_bomb_with_the_reason(tmp_path):
    app, _contractor, notice = make_world(tmp_path)
    with app.state.services.sessions.begin() as s:
        key = create_key(s, "承包商甲", "contractor", ["futian-0001"])
        token = open_session(s, key)
        assert token is not None
        _who, csrf = session_principal(s, token)
    browser = TestClient(app, cookies={SESSION_COOKIE: token}, follow_redirects=False)
    r = browser.post(
        f"/console/notices/{notice}/submit",
        data={"csrf": csrf, "reply": "已整改"},
        files=[("photos", ("bomb.png", io.BytesIO(HUGE_PNG), "image/png"))],
    )
    refusal = unquote(r.headers["location"])  # in the page's language (Chinese)
    assert r.status_code == 303 and "30000x30000 像素，超过 40 百万像素的上限" in refusal
    assert stored(tmp_path) == []


def multipart(boundary, reply, photos):
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="reply"\r\n\r\n{reply}\r\n'.encode()
    ]
    for name, data in photos:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
            f'filename="{name}"\r\nContent-Type: image/png\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)


def test_the_api_answers_while_a_big_photo_decodes(tmp_path):
    """A real server: while a reply with four 36-megapixel photos (allowed; about two
    seconds of decoding) is being checked, /healthz, sent once the whole upload is on
    the wire, answers before the upload does."""
    app, contractor, notice = make_world(tmp_path)
    key = contractor.headers["authorization"]
    big = png(6000, 6000)
    body = multipart("sgboundary", "已整改", [(f"p{i}.png", big) for i in range(4)])
    sent = threading.Event()
    done: dict[str, object] = {}

    def chunks():
        for i in range(0, len(body), 64 * 1024):
            yield body[i : i + 64 * 1024]
        sent.set()  # httpx asks for more only once the last chunk is written

    with served(app) as url:

        def upload():
            r = httpx.post(
                f"{url}/api/v1/notices/{notice}/submit",
                content=chunks(),
                headers={
                    "Authorization": key,
                    "Content-Type": "multipart/form-data; boundary=sgboundary",
                },
                timeout=120,
            )
            done["upload"], done["upload_status"] = time.monotonic(), r.status_code

        worker = threading.Thread(target=upload)
        worker.start()
        assert sent.wait(60)
        health = httpx.get(f"{url}/healthz", timeout=120)
        done["healthz"] = time.monotonic()
        worker.join(120)
    assert health.status_code == 200 and done["upload_status"] == 200
    assert done["healthz"] < done["upload"], done
    assert len(stored(tmp_path)) == 1  # four copies of one photo: one file by content
