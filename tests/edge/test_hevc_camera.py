"""H.265 (HEVC) cameras: a stream made by siteguard.demo.streams from the bundled clip,
served by the real GStreamer RTSP server (which picks h265parse ! rtph265pay from the
file's own sample entry), goes online in the edge's CameraReader at its frame size. A file
the server cannot serve is a clear startup error."""

import subprocess

import av
import cv2
import numpy as np
import pytest

from siteguard.demo.sample import sample_video_path
from siteguard.demo.services import RtspServer, wait_until
from siteguard.demo.streams import StreamError, main, make_camera_clip, parse_size
from siteguard.edge.camera import CameraConfig, CameraReader


@pytest.fixture(scope="module")
def hevc_clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("hevc") / "cam-h265.mp4"
    info = make_camera_clip(sample_video_path(), path, (640, 360), codec="h265", seconds=3)
    assert (info.frames, info.width, info.height) == (75, 640, 360)
    return path


def test_the_stream_maker_writes_a_camera_like_hevc_mp4(hevc_clip):
    assert hevc_clip.read_bytes()[4:8] == b"ftyp" and b"moov" in hevc_clip.read_bytes()[:64]
    with av.open(str(hevc_clip)) as c:
        s = c.streams.video[0]
        assert (s.codec_context.name, s.codec_tag, s.codec_context.pix_fmt) == (
            "hevc",
            "hvc1",
            "yuv420p",
        )
        assert s.average_rate == 25 and s.frames == 75
        keys = [i for i, p in enumerate(c.demux(s)) if p.size and p.is_keyframe]
    assert keys == [0, 50]  # GOP 50, fixed
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=has_b_frames",
            "-of",
            "csv=p=0",
            hevc_clip,
        ],
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip() == "0"  # no B-frames, as cameras stream


def test_the_stream_maker_refuses_bad_input_clearly(tmp_path, capsys):
    with pytest.raises(ValueError, match="even"):
        parse_size("641x360")
    with pytest.raises(StreamError, match="no such file"):
        make_camera_clip(tmp_path / "missing.mp4", tmp_path / "o.mp4", (64, 64))
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all")
    assert main([str(tmp_path / "junk.mp4"), str(tmp_path / "o.mp4"), "--size", "64x64"]) == 2
    assert "cannot be opened as a video" in capsys.readouterr().err
    assert not (tmp_path / "o.mp4").exists()


def test_an_hevc_camera_through_the_real_rtsp_server_goes_online(hevc_clip):
    rtsp = RtspServer({"h265": hevc_clip}).start()
    states = []
    reader = CameraReader(
        CameraConfig(id="cam-h265", url=rtsp.url("h265"), open_timeout_s=5),
        on_state=lambda _cam, state, detail: states.append(state.value),
    )
    reader.start()
    try:
        got = []
        assert wait_until(lambda: bool(got.append(reader.latest()) or got[-1] is not None), 15)
        frame = next(f for f in got if f is not None)
        assert frame.image.shape == (360, 640, 3)
        assert float(np.asarray(frame.image).std()) > 5  # a picture, not a grey screen
        assert states[:1] == ["online"]
    finally:
        reader.stop()
        rtsp.kill()


def test_the_rtsp_server_refuses_a_codec_it_cannot_serve(tmp_path):
    mp4v = tmp_path / "mpeg4.mp4"
    w = cv2.VideoWriter(str(mp4v), cv2.VideoWriter.fourcc(*"mp4v"), 5.0, (64, 48))
    for i in range(5):
        w.write(np.full((48, 64, 3), 40 * i, np.uint8))
    w.release()
    with pytest.raises(RuntimeError, match="'mp4v' is not served"):
        RtspServer({"old": mp4v}).start()
    (tmp_path / "text.mp4").write_text("hello")
    with pytest.raises(RuntimeError, match="not an MP4"):
        RtspServer({"text": tmp_path / "text.mp4"}).start()
