"""Evidence clips in H.264 (edge/clip_encoder.py): index first, avc1, yuv420p, the right
frames and duration, odd sizes, atomic writes; the store's clip never raises on storage
trouble; and the API's own check of fetched clips (OpenCV decode) accepts it."""

import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from siteguard.api.hazards.evidence import _check_clip
from siteguard.edge.clip_encoder import even_size, frame_rate, write_h264
from siteguard.edge.evidence_store import EvidenceConfig, EvidenceStore
from tests.edge.test_disk_full import fill, small_disk


def frames(n=16, size=(320, 240)):
    """Moving bars on a gradient: content an encoder cannot make from nothing."""
    w, h = size
    base = np.tile(np.linspace(0, 255, w, dtype=np.uint8), (h, 1))
    out = []
    for i in range(n):
        img = np.dstack([base, np.roll(base, 7 * i, axis=1), np.full((h, w), 90, np.uint8)])
        img[:, (13 * i) % w : (13 * i) % w + 9] = (255, 255, 255)
        out.append(np.ascontiguousarray(img))
    return out


def top_level_boxes(path: Path) -> list[str]:
    data, boxes, at = path.read_bytes(), [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        boxes.append(kind.decode("latin-1"))
        if size < 8:
            break
        at += size
    return boxes


def probe(path: Path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        decoded = [f.to_ndarray(format="bgr24") for f in c.decode(s)]
        return dict(
            codec=s.codec_context.name,
            tag=s.codec_tag,
            pix_fmt=s.codec_context.pix_fmt,
            size=(s.codec_context.width, s.codec_context.height),
            rate=s.average_rate,
            frames=s.frames,
            duration=float(s.duration * s.time_base),
            decoded=decoded,
        )


def test_the_clip_is_h264_avc1_yuv420p_with_the_index_first(tmp_path):
    path = tmp_path / "clip.mp4"
    write_h264(path, frames(16), 2.0)
    boxes = top_level_boxes(path)
    assert boxes[:2] == ["ftyp", "moov"] and "mdat" in boxes  # faststart: moov before mdat
    p = probe(path)
    assert (p["codec"], p["tag"], p["pix_fmt"]) == ("h264", "avc1", "yuv420p")
    assert p["size"] == (320, 240) and p["rate"] == 2
    assert p["frames"] == 16 and len(p["decoded"]) == 16
    assert p["duration"] == pytest.approx(8.0, abs=0.01)
    # no B-frames: decode order is presentation order
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=has_b_frames", "-of", "csv=p=0", path],
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip() in ("0", "")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["clip.mp4"]  # no temp file left
    # the frames are what was given (lossy, but close)
    diff = np.abs(p["decoded"][5].astype(int) - frames(16)[5].astype(int)).mean()
    assert diff < 6, diff


def test_odd_sizes_are_padded_to_even_and_keep_every_pixel(tmp_path):
    src = frames(4, size=(321, 241))
    path = tmp_path / "odd.mp4"
    write_h264(path, src, 4.0)
    p = probe(path)
    assert p["size"] == even_size(321, 241) == (322, 242)
    assert len(p["decoded"]) == 4
    diff = np.abs(p["decoded"][2][:241, :321].astype(int) - src[2].astype(int)).mean()
    assert diff < 6, diff


def test_low_and_fractional_rates_give_the_right_duration(tmp_path):
    path = tmp_path / "slow.mp4"
    write_h264(path, frames(4), 0.5)
    p = probe(path)
    assert p["frames"] == 4 and p["duration"] == pytest.approx(8.0, abs=0.01)
    assert frame_rate(30000 / 1001) == Fraction(30000, 1001)  # as a capture reports it
    with pytest.raises(ValueError):
        frame_rate(0)
    with pytest.raises(ValueError):
        write_h264(tmp_path / "none.mp4", [], 2.0)


def test_frames_of_another_size_are_left_out(tmp_path):
    path = tmp_path / "mixed.mp4"
    write_h264(path, [*frames(3), *frames(2, size=(160, 120)), *frames(3)], 2.0)
    p = probe(path)
    assert p["size"] == (320, 240) and p["frames"] == 6


def store(folder: Path) -> EvidenceStore:
    return EvidenceStore(EvidenceConfig(dir=folder, base_url="http://box.example:8090/evidence/"))


def test_save_clip_writes_the_clip_at_its_path_and_the_api_accepts_it(tmp_path):
    s = store(tmp_path / "evidence")
    uri = s.save_clip("evt_abc-1", frames(16), 2.0)
    assert uri == s.clip_uri("evt_abc-1") == "http://box.example:8090/evidence/evt_abc-1/clip.mp4"
    path = s.clip_path("evt_abc-1")
    assert path == tmp_path / "evidence" / "evt_abc-1" / "clip.mp4" and path.is_file()
    assert s.resolve("evt_abc-1/clip.mp4") == path.resolve()  # served by the box
    assert probe(path)["codec"] == "h264" and s.failures == 0
    _check_clip(path.read_bytes(), 40_000_000)  # the API's OpenCV decode check: no Refused
    assert s.save_clip("evt_abc-2", [], 2.0) is None and s.failures == 0
    with pytest.raises(ValueError):
        s.clip_path("../escape")


def test_a_full_or_read_only_disk_gives_no_clip_and_counts_a_failure(tmp_path):
    with small_disk(tmp_path, "2m") as disk:
        s = store(disk / "evidence")
        s.clip_path("evt_ro")  # the event's folder exists, then the disk turns read-only
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        try:
            assert s.save_clip("evt_ro", frames(16), 2.0) is None
            assert s.save_clip("evt_new", frames(16), 2.0) is None  # no folder can be made
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        assert s.failures == 2 and not (disk / "evidence" / "evt_ro" / "clip.mp4").exists()
        fill(disk)
        big = frames(40, size=(640, 480))
        assert s.save_clip("evt_full", big, 2.0) is None
        assert s.failures == 3
        assert sorted(p.name for p in (disk / "evidence" / "evt_full").iterdir()) == []
