"""A camera's live frame through the API: fetched from the site's own edge box (a real HTTP
server on loopback standing in for it) under the evidence checks, never kept, and a 404
that says why when there is none."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from siteguard.api.access.keys import create_key
from tests.support.api import api_client, sqlite_app
from tests.support.paths import FIXTURES

JPEG = (FIXTURES / "images" / "hhw-000011.jpg").read_bytes()
SITE, BARE = "futian-0001", "nanshan-0002"


class EdgeBox:
    """Serves `frames` (path -> body) like the edge worker's /evidence/live/ and records
    every request."""

    def __init__(self, frames):
        box = self
        self.requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                box.requests.append(self.path)
                body = frames.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def box():
    b = EdgeBox({"/evidence/live/cam-1.jpg": JPEG, "/evidence/live/cam-bad.jpg": b"<html>"})
    yield b
    b.stop()


@pytest.fixture
def app(tmp_path, box):
    app = sqlite_app(tmp_path, "a.db")
    admin = api_client(app)
    base = f"{box.url}/evidence/"
    assert admin.put(
        f"/api/v1/projects/{SITE}", json={"name": "P", "insurer": "ins", "evidence_base_url": base}
    ).is_success
    assert admin.put(f"/api/v1/projects/{BARE}", json={"name": "Q", "insurer": "ins"}).is_success
    for site, cam in ((SITE, "cam-1"), (SITE, "cam-2"), (SITE, "cam-bad"), (BARE, "cam-1")):
        assert admin.put(f"/api/v1/projects/{site}/cameras/{cam}", json={}).is_success
    return app


def snapshot(client, camera, site=SITE):
    return client.get(f"/api/v1/projects/{site}/cameras/{camera}/snapshot")


def test_the_live_frame_comes_from_the_sites_edge_box_and_is_not_kept(app, box, tmp_path):
    insp = api_client(app, "inspector", insurer="ins")
    for _ in range(2):
        r = snapshot(insp, "cam-1")
        assert r.status_code == 200 and r.content == JPEG
        assert r.headers["content-type"] == "image/jpeg"
        assert r.headers["cache-control"] == "no-store"
    assert box.requests == ["/evidence/live/cam-1.jpg"] * 2  # asked each time: it is live
    assert not (tmp_path / "data" / "evidence").exists()  # and nothing kept
    # same scopes as the camera's other routes
    assert snapshot(api_client(app, "contractor", sites=["other-site"]), "cam-1").status_code == 404
    assert snapshot(api_client(app, "edge", sites=[SITE]), "cam-1").status_code == 403


def test_no_live_frame_says_why(app, box):
    admin = api_client(app)
    r = snapshot(admin, "cam-9")
    assert r.status_code == 404
    assert r.json() == {"error": f"site {SITE!r} has no camera 'cam-9'"}
    assert box.requests == []  # an unknown camera costs the box nothing
    r = snapshot(admin, "cam-1", site=BARE)
    assert r.status_code == 404 and "has no edge box registered" in r.json()["error"]
    r = snapshot(admin, "cam-2")  # registered here, no frame on the box
    assert r.status_code == 404 and "the edge box has no frame of it" in r.json()["error"]
    r = snapshot(admin, "cam-bad")  # whatever the box sends must be a picture
    assert r.status_code == 404 and "refused" in r.json()["error"]
    metrics = admin.get("/metrics").text
    assert 'siteguard_evidence_refused_total{reason="not_a_picture"} 1' in metrics
    box.stop()  # the box is switched off
    r = snapshot(admin, "cam-1")
    assert r.status_code == 404 and "the site's edge box cannot be reached" in r.json()["error"]


def test_the_zone_editor_draws_over_the_live_frame_when_the_site_has_a_box(app, box):
    with app.state.services.sessions.begin() as s:
        key = create_key(s, "console-inspector", "inspector", insurer="ins")
    c = api_client(app)
    c.headers.pop("Authorization")
    assert c.post("/console/login", data={"key": key}).status_code == 200
    live = f"/console/sites/{SITE}/cameras/cam-1/snapshot.jpg"
    page = c.get(f"/console/sites/{SITE}/cameras/cam-1/zones").text
    assert f'src="{live}"' in page
    r = c.get(live)
    assert r.status_code == 200 and r.content == JPEG and r.headers["cache-control"] == "no-store"
    assert c.get(f"/console/sites/{SITE}/cameras/cam-2/snapshot.jpg").status_code == 404
    # no edge box: what the editor used before (the latest evidence frame, or none)
    page = c.get(f"/console/sites/{BARE}/cameras/cam-1/zones").text
    assert "snapshot.jpg" not in page and 'id="no-frame"' in page


def test_the_zone_editor_refuses_zones_that_are_not_a_list_with_the_reason(app):
    """What the editor's form posts is the zones as a JSON list: any other JSON (a number,
    null, nesting too deep to parse), and a camera id the edge could not have, come back
    to the editor with the reason, never as a server error; the zones stay as they were."""
    from fastapi.testclient import TestClient

    with app.state.services.sessions.begin() as s:
        key = create_key(s, "console-inspector", "inspector", insurer="ins")
    c = TestClient(app, raise_server_exceptions=False)
    assert c.post("/console/login", data={"key": key}).status_code == 200
    csrf = c.get(f"/console/sites/{SITE}/cameras/cam-1/zones").text
    csrf = csrf.split('name="csrf" value="')[1].split('"')[0]
    url = f"/console/sites/{SITE}/cameras/cam-1/zones"
    for zones in ("5", "null", "true", '"x"', "[" * 100_000):
        r = c.post(url, data={"csrf": csrf, "zones": zones}, follow_redirects=False)
        assert r.status_code == 303, (zones[:10], r.status_code)
        assert "err=invalid%20zones" in r.headers["location"], r.headers["location"]
    odd = f"/console/sites/{SITE}/cameras/cam%0A%01x/zones"
    r = c.post(odd, data={"csrf": csrf, "zones": "[]"}, follow_redirects=False)
    assert r.status_code == 422
    cams = api_client(app).get(f"/api/v1/projects/{SITE}/cameras").json()
    assert sorted(x["camera_id"] for x in cams) == ["cam-1", "cam-2", "cam-bad"]
    assert all(x["zones"] == [] for x in cams)
