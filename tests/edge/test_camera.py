import time

import cv2
import numpy as np
import pytest

from siteguard.contract.camera import CameraState
from siteguard.edge.camera import (
    CameraConfig,
    CameraReader,
    MotionConfig,
    MotionGate,
    redact,
)


def make_clip(path, frames=20, fps=20, size=(96, 64)):
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    for i in range(frames):
        img = np.zeros((size[1], size[0], 3), np.uint8)
        cv2.rectangle(img, (i * 3, 10), (i * 3 + 10, 30), (255, 255, 255), -1)
        w.write(img)
    w.release()
    return path


def wait(cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


def test_redact_hides_credentials():
    assert (
        redact("rtsp://admin:s3cret@10.0.0.5:554/Streaming/101")
        == "rtsp://***@10.0.0.5:554/Streaming/101"
    )
    assert redact("/data/clip.mp4") == "/data/clip.mp4"
    cfg = CameraConfig(id="c1", url="rtsp://admin:s3cret@cam/1")
    assert "s3cret" not in repr(cfg) and "s3cret" not in cfg.safe_url


def test_file_camera_goes_online_and_newest_frame_wins(tmp_path):
    states = []
    cfg = CameraConfig(id="c1", url=str(make_clip(tmp_path / "a.mp4")), realtime=False)
    cam = CameraReader(cfg, on_state=lambda cid, st, d: states.append(st))
    cam.start()
    assert wait(lambda: cam.frames_read >= 20)
    f = cam.latest()
    assert f is not None and f.image.shape == (64, 96, 3)
    assert cam.latest() is None  # taken: nothing newer yet
    assert cam.frames_dropped >= 10  # nobody took them: counted, not queued
    assert wait(lambda: cam.state is CameraState.OFFLINE)  # the file ended, no loop
    cam.stop()
    assert states[:2] == [CameraState.ONLINE, CameraState.OFFLINE]


def test_looping_file_keeps_going(tmp_path):
    cfg = CameraConfig(
        id="c1", url=str(make_clip(tmp_path / "a.mp4", frames=10)), realtime=False, loop=True
    )
    cam = CameraReader(cfg)
    cam.start()
    assert wait(lambda: cam.frames_read >= 35)
    assert cam.state is CameraState.ONLINE
    cam.stop()


@pytest.mark.parametrize("content", [b"", b"\x00\x00\x00\x18ftypmp42 garbage" * 50])
def test_corrupt_or_missing_stream_reports_offline_and_retries_without_crashing(tmp_path, content):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    states = []
    cam = CameraReader(
        CameraConfig(id="c1", url=str(bad), max_backoff_s=1.0),
        on_state=lambda cid, st, d: states.append((st, d)),
    )
    cam.start()
    assert wait(lambda: cam.reconnects >= 2)
    assert states and states[0][0] is CameraState.OFFLINE and "bad.mp4" in states[0][1]
    # the file becomes a good clip: the watchdog's next attempt picks it up
    make_clip(bad)
    assert wait(lambda: cam.state is CameraState.ONLINE)
    cam.stop()


def test_motion_gate_skips_static_scenes_but_checks_periodically():
    gate = MotionGate(MotionConfig(full_check_s=5.0))
    still = np.full((120, 160, 3), 100, np.uint8)
    moved = still.copy()
    cv2.rectangle(moved, (40, 40), (90, 100), (250, 250, 250), -1)
    assert gate.should_detect(still, 0.0)  # first frame
    assert not gate.should_detect(still, 1.0)
    assert not gate.should_detect(still.copy(), 2.0)
    assert gate.should_detect(moved, 3.0)
    assert not gate.should_detect(moved, 4.0)
    assert gate.should_detect(moved, 8.5)  # periodic full check: a still violator is not missed
    assert gate.skipped == 3
    off = MotionGate(MotionConfig(enabled=False))
    assert off.should_detect(still, 0) and off.should_detect(still, 0.1)


def test_a_camera_that_never_answers_gives_up_after_its_open_timeout(tmp_path, fixtures):
    """OpenCV's FFmpeg backend opens one stream at a time per process (measured: a file
    camera waited 7.5 s behind an RTSP server that accepted and never answered), so the
    open is bounded: such a camera is offline after open_timeout_s, and the others open."""
    import socket
    import threading

    from siteguard.demo.sample import sample_video_path

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    held = []
    threading.Thread(target=lambda: held.append(srv.accept()), daemon=True).start()
    port = srv.getsockname()[1]
    events = []
    silent = CameraReader(
        CameraConfig(id="silent", url=f"rtsp://127.0.0.1:{port}/x", open_timeout_s=1.5),
        on_state=lambda cam, state, detail: events.append((cam, state)),
    )
    fine = CameraReader(
        CameraConfig(id="gate", url=str(sample_video_path()), realtime=False),
        on_state=lambda cam, state, detail: events.append((cam, state)),
    )
    silent.start()
    time.sleep(0.3)
    fine.start()
    try:
        assert wait(lambda: ("silent", CameraState.OFFLINE) in events, 15)
        assert wait(lambda: ("gate", CameraState.ONLINE) in events, 15)
    finally:
        silent.stop()
        fine.stop()
        srv.close()
