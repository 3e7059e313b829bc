"""Evidence is fetched only from the site's own edge box (the project's evidence_base_url),
within a total deadline and a size cap, and kept only when it is a picture or a clip;
every refusal is counted in /metrics. The edge boxes here are real HTTP servers on
loopback that record every request they get."""

import contextlib
import json
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from siteguard.api.app import create_app
from siteguard.api.hazards.evidence import (
    EdgeBox,
    EvidenceRefusals,
    cached_evidence,
    under_base_url,
)
from siteguard.api.settings import ApiSettings, EvidenceFetchSettings, MqttIngestSettings
from tests.support.api import api_client
from tests.support.paths import FIXTURES, GOLDEN_START, REPO

JPEG = (FIXTURES / "images" / "hhw-000011.jpg").read_bytes()
CLIP = (REPO / "cli" / "data" / "sample-site.mp4").read_bytes()
# a JPEG header that declares 30000 x 30000 pixels (SOI, then a baseline SOF0 segment)
HUGE_JPEG = b"\xff\xd8\xff\xc0\x00\x11\x08" + (30000).to_bytes(2, "big") * 2 + b"\x03" + bytes(9)


class Box:
    """A stand-in HTTP server: `routes` maps a path to a handler function; every request
    path is recorded, and `sent` counts the body bytes the handlers wrote."""

    def __init__(self, routes):
        box = self
        self.requests: list[str] = []
        self.sent = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                box.requests.append(self.path)
                route = routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                # the API hanging up mid-body is what it should do past a limit
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    route(self, box)

            def log_message(self, *_args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def file(body, kind="image/jpeg"):
    def route(h, box):
        h.send_response(200)
        h.send_header("Content-Type", kind)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
        box.sent += len(body)

    return route


def endless(chunk=64 * 1024, total=256 * 1024 * 1024, pause_s=0.0, declared=None):
    """A body of `total` zero bytes, chunked (or with a declared Content-Length)."""

    def route(h, box):
        h.send_response(200)
        h.send_header("Content-Type", "image/jpeg")
        if declared is None:
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Content-Length", str(declared))
        h.end_headers()
        data = bytes(chunk)
        for _ in range(total // chunk):
            if declared is None:
                h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            else:
                h.wfile.write(data)
            h.wfile.flush()
            box.sent += len(data)
            if pause_s:
                time.sleep(pause_s)
        if declared is None:
            h.wfile.write(b"0\r\n\r\n")

    return route


@pytest.fixture
def boxes():
    started = []

    def start(routes):
        started.append(Box(routes))
        return started[-1]

    yield start
    for b in started:
        b.stop()


def make_app(tmp_path, **evidence):
    settings = ApiSettings(
        database_url=f"sqlite:///{tmp_path}/api.db",
        mqtt=MqttIngestSettings(enabled=False),
        data_dir=tmp_path / "data",
        evidence=EvidenceFetchSettings(**evidence),
    )
    return create_app(settings)


def register(client, base_url, site="futian-0001"):
    body = {"name": "福田工程", "evidence_base_url": base_url}
    r = client.put(f"/api/v1/projects/{site}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def hazard(client, uri, camera="cam-1", site="futian-0001"):
    """A hazard whose event names `uri` as its evidence; its id."""
    doc = json.loads(GOLDEN_START.read_text())
    doc.update(
        event_id=f"evt_{camera.replace('-', '_')}_0001",
        camera_id=camera,
        site_id=site,
        evidence_uri=uri,
    )
    r = client.post("/api/v1/events", json=doc)
    assert r.status_code == 202, r.text
    return r.json()["hazard_id"]


def refused(client):
    """siteguard_evidence_refused_total by reason, read off /metrics."""
    out = {}
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("siteguard_evidence_refused_total{"):
            reason = line.split('reason="')[1].split('"')[0]
            out[reason] = int(line.rsplit(" ", 1)[1])
    return out


def kept_files(tmp_path):
    folder = tmp_path / "data" / "evidence"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


BASE = "http://10.1.2.3:8090/evidence/"


@pytest.mark.parametrize(
    "uri",
    [
        "http://10.1.2.3:8090/evidence/evt_1/0.jpg",
        "HTTP://10.1.2.3:8090/evidence/evt_1/0.jpg",  # scheme and host compare normalised
        "http://10.1.2.3:8090/evidence/evt_1/clip.mp4",
    ],
)
def test_uris_under_the_edge_box_are_allowed(uri):
    assert under_base_url(uri, BASE)
    assert under_base_url("http://box.local/evidence/a.jpg", "http://BOX.local:80/evidence/")
    assert under_base_url("https://box.local:443/e/a.jpg", "https://box.local/e/")


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:8090/evidence/evt_1/0.jpg",  # another host
        "http://10.1.2.3:8091/evidence/evt_1/0.jpg",  # another port
        "https://10.1.2.3:8090/evidence/evt_1/0.jpg",  # another scheme
        "http://10.1.2.3/evidence/evt_1/0.jpg",  # the default port is another port
        "http://10.1.2.3:8090/evidence-old/evt_1/0.jpg",  # a path that only starts alike
        "http://10.1.2.3:8090/evidence/",  # the folder itself
        "http://10.1.2.3:8090/metrics",
        "http://user@10.1.2.3:8090/evidence/evt_1/0.jpg",  # userinfo
        "http://10.1.2.3:8090@169.254.169.254/evidence/evt_1/0.jpg",
        "http://10.1.2.3:8090/evidence/../metrics",
        "http://10.1.2.3:8090/evidence/%2e%2e/metrics",
        "http://10.1.2.3:8090/evidence/evt_1/%2E%2E%2F%2E%2E/etc/passwd",
        "http://10.1.2.3:8090/evidence/evt_1/..%5C..%5Cmetrics",
        "http://10.1.2.3:8090/evidence/./evt_1/0.jpg",
        "http://10.1.2.3:8090/evidence/evt_1/0.jpg?x=1",  # query
        "http://10.1.2.3:8090/evidence/evt_1/0.jpg#x",
        "http://10.1.2.3:8090\\@127.0.0.1/evidence/evt_1/0.jpg",
        "file:///etc/passwd",
        "gopher://10.1.2.3:8090/evidence/evt_1/0.jpg",
        "http://10.1.2.3:8090/evidence/evt_1/0.jpg\r\nX-Injected: 1",
    ],
)
def test_uris_outside_the_edge_box_are_refused(uri):
    assert not under_base_url(uri, BASE)
    assert not under_base_url(uri, "")  # no edge box registered: nothing is allowed


def test_a_uri_off_the_edge_box_is_refused_without_any_request(tmp_path, boxes):
    """An event naming an internal URL (or a path out of the box's evidence folder) gets
    a 404 and a count; neither the internal service nor the box is asked anything."""
    internal = boxes({"/secret.jpg": file(JPEG)})  # serves a real picture: it must not matter
    box = boxes({"/evidence/evt_1/0.jpg": file(JPEG), "/secret.jpg": file(JPEG)})
    app = make_app(tmp_path)
    client = api_client(app)
    register(client, f"{box.url}/evidence/")
    ids = [
        hazard(client, f"{internal.url}/secret.jpg", "cam-1"),
        hazard(client, f"{box.url}/evidence/%2e%2e/secret.jpg", "cam-2"),
        hazard(client, f"{box.url}/evidence/evt_1/0.jpg?redirect=x", "cam-3"),
    ]
    for hid in ids:
        r = client.get(f"/api/v1/hazards/{hid}/evidence.jpg")
        assert r.status_code == 404 and "not under the site's edge box" in r.json()["error"]
    assert client.get(f"/api/v1/hazards/{ids[0]}/clip.mp4").status_code == 404
    assert internal.requests == [] and box.requests == []
    assert kept_files(tmp_path) == []
    assert refused(client)["outside_edge_box"] == 4


def test_a_slow_edge_box_is_cut_off_at_the_total_deadline(tmp_path, boxes):
    """A box that drips its bytes (each read well within any per-read timeout) is cut off
    when the whole fetch passes its deadline, and nothing is kept."""
    box = boxes({"/evidence/evt_1/0.jpg": endless(chunk=512, total=512 * 200, pause_s=0.05)})
    app = make_app(tmp_path, picture_deadline_s=0.5)
    client = api_client(app)
    register(client, f"{box.url}/evidence/")
    hid = hazard(client, f"{box.url}/evidence/evt_1/0.jpg")
    t0 = time.monotonic()
    r = client.get(f"/api/v1/hazards/{hid}/evidence.jpg")
    took = time.monotonic() - t0
    assert r.status_code == 404 and "within 0.5 s" in r.json()["error"]
    print(f"refused after {took:.2f} s")
    assert took < 2.0, took  # the drip would take 10 s
    assert box.requests == ["/evidence/evt_1/0.jpg"]
    assert kept_files(tmp_path) == []
    assert refused(client)["deadline"] == 1


def test_an_oversized_body_is_refused_without_holding_it(tmp_path, boxes):
    """Past the cap the read stops: the API never holds more than the cap (measured with
    tracemalloc) and writes nothing; a declared Content-Length over the cap is refused
    from the header."""
    box = boxes(
        {
            "/evidence/chunked.jpg": endless(total=256 * 1024 * 1024),
            "/evidence/declared.jpg": endless(total=1024 * 1024, declared=1 << 30),
        }
    )
    data_dir = tmp_path / "data"
    limits = EvidenceFetchSettings(picture_max_bytes=1024 * 1024)
    edge = EdgeBox(f"{box.url}/evidence/", limits, EvidenceRefusals())
    tracemalloc.start()
    try:
        got = cached_evidence(data_dir, f"{box.url}/evidence/chunked.jpg", edge)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got is None
    print(f"peak {peak} bytes traced, {box.sent} bytes sent by the box")
    assert peak < 4 * 1024 * 1024, peak  # the cap is 1 MB; the body 256 MB
    assert box.sent < 64 * 1024 * 1024, box.sent  # the API hung up long before the end
    assert cached_evidence(data_dir, f"{box.url}/evidence/declared.jpg", edge) is None
    assert edge.refusals.counts()["too_large"] == 2
    assert not (data_dir / "evidence").exists()  # no partial file either


def test_only_a_picture_or_a_clip_is_kept(tmp_path, boxes):
    """What the box serves must be what it claims: a picture decodes as one (and has no
    more pixels than allowed), a clip is an MP4 with a frame that decodes."""
    fake_mp4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(4096)
    box = boxes(
        {
            "/evidence/evt_1/0.jpg": file(b"<html>router admin</html>", "text/html"),
            "/evidence/evt_1/clip.mp4": file(JPEG, "video/mp4"),  # not an MP4
            "/evidence/evt_2/0.jpg": file(JPEG),
            "/evidence/evt_2/clip.mp4": file(fake_mp4, "video/mp4"),  # 'ftyp', no frame
            "/evidence/evt_3/0.jpg": file(HUGE_JPEG),
            "/evidence/evt_3/clip.mp4": file(CLIP, "video/mp4"),
        }
    )
    app = make_app(tmp_path)
    client = api_client(app)
    register(client, f"{box.url}/evidence/")
    h1, h2, h3 = (
        hazard(client, f"{box.url}/evidence/evt_{i}/0.jpg", f"cam-{i}") for i in (1, 2, 3)
    )
    r = client.get(f"/api/v1/hazards/{h1}/evidence.jpg")
    assert r.status_code == 404 and "not a JPEG or PNG" in r.json()["error"]
    assert (
        client.get(f"/api/v1/hazards/{h1}/clip.mp4")
        .json()["error"]
        .endswith("not an MP4 (no 'ftyp' box)")
    )
    ok = client.get(f"/api/v1/hazards/{h2}/evidence.jpg")
    assert ok.status_code == 200 and ok.content == JPEG
    r = client.get(f"/api/v1/hazards/{h2}/clip.mp4")
    assert r.status_code == 404 and "no frame of it decodes" in r.json()["error"]
    r = client.get(f"/api/v1/hazards/{h3}/evidence.jpg")
    assert r.status_code == 404 and "30000x30000 pixels" in r.json()["error"]
    clip = client.get(f"/api/v1/hazards/{h3}/clip.mp4")
    assert clip.status_code == 200 and clip.content == CLIP
    assert sorted(n[-4:] for n in kept_files(tmp_path)) == [".jpg", ".mp4"]  # those two
    counts = refused(client)
    assert (counts["not_a_picture"], counts["not_a_clip"], counts["too_large"]) == (1, 2, 1)


def test_a_site_without_an_edge_box_serves_only_what_was_kept(tmp_path, boxes):
    """No edge box registered (or no project at all): uncached evidence is a 404 saying so,
    without a request; a copy kept earlier is still served."""
    box = boxes({"/evidence/evt_1/0.jpg": file(JPEG), "/evidence/evt_2/0.jpg": file(JPEG)})
    app = make_app(tmp_path)
    client = api_client(app)
    register(client, f"{box.url}/evidence/")
    kept = hazard(client, f"{box.url}/evidence/evt_1/0.jpg", "cam-1")
    assert client.get(f"/api/v1/hazards/{kept}/evidence.jpg").status_code == 200
    register(client, "")  # the edge box is unregistered
    fresh = hazard(client, f"{box.url}/evidence/evt_2/0.jpg", "cam-2")
    stray = hazard(client, f"{box.url}/evidence/evt_2/0.jpg", "cam-3", site="no-project")
    for hid in (fresh, stray):
        r = client.get(f"/api/v1/hazards/{hid}/evidence.jpg")
        assert r.status_code == 404
        assert r.json() == {
            "error": "evidence of this site cannot be fetched: no edge box registered"
        }
    again = client.get(f"/api/v1/hazards/{kept}/evidence.jpg")
    assert again.status_code == 200 and again.content == JPEG
    assert box.requests == ["/evidence/evt_1/0.jpg"]
    assert refused(client)["no_edge_box"] == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3:8090/evidence",  # no trailing '/'
        "ftp://10.1.2.3/evidence/",
        "http://user:pw@10.1.2.3/evidence/",
        "http://10.1.2.3/evidence/?x=/",
        "http://10.1.2.3/evidence/#/",
        "http://10.1.2.3/../evidence/",
        "http://10.1.2.3:99999/evidence/",
        "http://10.1.2.3/" + "e" * 300 + "/",
        "javascript:alert(1)//",
    ],
)
def test_the_edge_box_url_is_validated(tmp_path, url):
    client = api_client(make_app(tmp_path))
    r = client.put("/api/v1/projects/futian-0001", json={"name": "x", "evidence_base_url": url})
    assert r.status_code == 422 and "evidence_base_url" in r.text
    saved = register(client, "http://[fd00::1]:8090/evidence/")
    assert saved["evidence_base_url"] == "http://[fd00::1]:8090/evidence/"
    listed = client.get("/api/v1/projects").json()
    assert [p["evidence_base_url"] for p in listed] == ["http://[fd00::1]:8090/evidence/"]
