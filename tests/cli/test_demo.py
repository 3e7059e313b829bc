"""`siteguard demo` end to end: local broker, RTSP server, edge worker, printed events."""

import pytest

from siteguard.cli import main
from siteguard.pipeline.decode import OutputKind
from tests.support.onnx_factory import make_model, raw_prediction

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("rtsp", [True, False])
def test_demo_prints_camera_status_and_hazard_events(tmp_path, capsys, rtsp):
    pred = raw_prediction([(32, 32, 16, 30), (32, 20, 6, 6)], [[0.9, 0.0], [0.0, 0.8]])
    model = make_model(tmp_path / "m.onnx", pred, OutputKind.RAW, ["person", "head"])
    args = ["demo", "--model", str(model), "--duration", "12", "--data", str(tmp_path / "demo")]
    assert main(args + ([] if rtsp else ["--no-rtsp"])) == 0
    out = capsys.readouterr().out
    assert ("rtsp://127.0.0.1:" in out) == rtsp
    assert "reading sample-site.mp4 as a file" in out or rtsp
    assert "camera cam-gate online" in out
    assert "EVENT start  no_helmet [general/一般]" in out
    assert "evidence: http://127.0.0.1:" in out
    assert "EVENT end" in out  # Ctrl-C / --duration ends open hazards cleanly
    assert any((tmp_path / "demo" / "evidence").rglob("*.jpg"))
    # the API ingested the hazards and the inspector's notice was issued and saved
    assert "NOTICE SG-demo-site-" in out and "未佩戴安全帽" in out
    pdf = next((tmp_path / "demo" / "api").glob("notice-*.pdf"))
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert "notice(s), " in out and "1 notice(s)" in out
    assert "/console/" in out and "contractor" in out and "console: http://127.0.0.1:" in out


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_ctrl_c_or_kill_stops_the_edge_before_the_broker_and_leaves_nothing_running(tmp_path, how):
    """A terminal's Ctrl-C reaches the whole foreground process group; `kill`, `timeout`
    or systemd send SIGTERM to the demo alone. The broker and the RTSP server run in their
    own sessions, so either way the demo stops the edge first (its last messages delivered,
    its outbox empty) and then them: nothing is left listening."""
    import os
    import re
    import signal
    import socket
    import sqlite3
    import subprocess
    import sys
    import time
    from pathlib import Path

    pred = raw_prediction([(32, 32, 16, 30), (32, 20, 6, 6)], [[0.9, 0.0], [0.0, 0.8]])
    model = make_model(tmp_path / "m.onnx", pred, OutputKind.RAW, ["person", "head"])
    exe = Path(sys.executable).with_name("siteguard")
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(exe), "demo", "--model", str(model), "--data", str(tmp_path / "demo")],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group of its own, like a terminal's job
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    deadline = time.monotonic() + 90
    while "EVENT start" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(60) == 0
    text = log.read_text()
    ports = [int(p) for p in re.findall(r"(?:mqtt|rtsp)://127\.0\.0\.1:(\d+)", text)]
    assert len(set(ports)) == 2  # the broker and the RTSP server
    for port in set(ports):
        with pytest.raises(ConnectionRefusedError), socket.socket() as sock:
            sock.connect(("127.0.0.1", port))
    assert "EVENT start" in text and "done:" in text
    assert "connection lost" not in text, text[-2000:]
    with sqlite3.connect(tmp_path / "demo" / "outbox.db") as db:
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
