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
    """A consumer that takes a frame whenever it likes (take_every_s=0): every frame is
    converted, the newest one is held, the ones nobody took are counted, not queued."""
    states = []
    cfg = CameraConfig(id="c1", url=str(make_clip(tmp_path / "a.mp4")), realtime=False)
    cam = CameraReader(cfg, on_state=lambda cid, st, d: states.append(st), take_every_s=0)
    cam.start()
    assert wait(lambda: cam.frames_read >= 20)
    f = cam.latest()
    assert f is not None and f.image.shape == (64, 96, 3)
    assert f.index == 19  # the newest
    assert cam.latest() is None  # taken: nothing newer yet
    assert cam.frames_dropped >= 10  # nobody took them: counted, not queued
    assert wait(lambda: cam.state is CameraState.OFFLINE)  # the file ended, no loop
    cam.stop()
    assert states[:2] == [CameraState.ONLINE, CameraState.OFFLINE]


@pytest.mark.parametrize("backend", ["pyav", "opencv"])
def test_only_the_frames_the_analysis_takes_are_converted(tmp_path, backend):
    """At detect_fps 2 a 20 fps clip has every frame grabbed (decoded: the decoder needs
    them) but about one in ten converted to BGR; the frame handed over is fresh."""
    cfg = CameraConfig(
        id="c1",
        url=str(make_clip(tmp_path / "a.mp4", frames=60)),
        detect_fps=2,
        decode={"backend": backend},
    )
    cam = CameraReader(cfg)
    cam.start()
    taken = []
    deadline = time.monotonic() + 10
    while cam.state is not CameraState.OFFLINE and time.monotonic() < deadline:
        f = cam.latest()
        if f is not None:
            taken.append((f, time.monotonic()))
        time.sleep(0.5)
    cam.stop()
    assert cam.frames_read == 60
    assert 4 <= cam.frames_converted <= 8, cam.frames_converted  # 3 s of clip at 2 fps
    assert len(taken) >= 4 and cam.frames_dropped <= 2
    # each frame taken was converted at most a fifth of a period (plus a frame) earlier
    # (after the first, which waited for the consumer's first look)
    assert max(now - f.t for f, now in taken[1:]) < 0.2 * 0.5 + 0.05 + 0.05


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


@pytest.mark.parametrize("backend", ["pyav", "opencv"])
def test_a_camera_that_never_answers_gives_up_after_its_open_timeout(tmp_path, backend):
    """A camera whose server accepts and never answers is offline after open_timeout_s.
    OpenCV's FFmpeg backend opens one stream at a time per process (measured: a file camera
    waited 7.5 s behind such a server); PyAV's opens run side by side, so with it the other
    camera is online while the silent one is still waiting."""
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
        CameraConfig(
            id="silent",
            url=f"rtsp://127.0.0.1:{port}/x",
            open_timeout_s=4 if backend == "pyav" else 1.5,
            decode={"backend": backend},
        ),
        on_state=lambda cam, state, detail: events.append((cam, state)),
    )
    fine = CameraReader(
        CameraConfig(
            id="gate", url=str(sample_video_path()), realtime=False, decode={"backend": backend}
        ),
        on_state=lambda cam, state, detail: events.append((cam, state)),
    )
    silent.start()
    time.sleep(0.3)
    fine.start()
    try:
        if backend == "pyav":
            assert wait(lambda: ("gate", CameraState.ONLINE) in events, 3)
            assert ("silent", CameraState.OFFLINE) not in events  # still waiting, not blocking
        assert wait(lambda: ("silent", CameraState.OFFLINE) in events, 15)
        assert wait(lambda: ("gate", CameraState.ONLINE) in events, 15)
    finally:
        silent.stop()
        fine.stop()
        srv.close()


def test_a_codec_the_build_cannot_decode_is_a_clear_status_not_a_black_camera(
    tmp_path, monkeypatch
):
    """The stream opens, but this build has no decoder for it (here: H.265 with the
    decoder list narrowed): the camera is offline and says why, and is not retried fast."""
    from siteguard.demo.sample import sample_video_path
    from siteguard.demo.streams import make_camera_clip
    from siteguard.edge import decoder

    clip = make_camera_clip(
        sample_video_path(), tmp_path / "h.mp4", (320, 180), codec="h265", seconds=1
    ).path
    monkeypatch.setattr(decoder, "decoder_available", lambda name: name != "hevc")
    states = []
    cam = CameraReader(
        CameraConfig(id="c1", url=str(clip), max_backoff_s=30),
        on_state=lambda cid, st, d: states.append((st, d)),
    )
    cam.start()
    try:
        assert wait(lambda: states)
        state, detail = states[0]
        assert state is CameraState.OFFLINE
        assert "unsupported stream" in detail and "'hevc' cannot be decoded" in detail
        time.sleep(1.0)
        assert cam.reconnects == 1  # waits max_backoff_s before trying again
    finally:
        cam.stop()


def test_keyframes_only_on_a_long_gop_warns_that_the_detect_rate_is_not_reached(tmp_path, caplog):
    from siteguard.demo.sample import sample_video_path
    from siteguard.demo.streams import make_camera_clip

    clip = make_camera_clip(
        sample_video_path(), tmp_path / "g.mp4", (320, 180), gop=50, seconds=8
    ).path
    cam = CameraReader(
        CameraConfig(id="c1", url=str(clip), detect_fps=2, decode={"keyframes_only": True})
    )
    with caplog.at_level("WARNING"):
        cam.start()
        try:
            assert wait(lambda: cam.frames_read >= 4, 15)
        finally:
            cam.stop()
    assert cam.frames_read <= 5  # one keyframe every 2 s of the 8 s clip
    assert any("keyframes only" in r.getMessage() for r in caplog.records)
