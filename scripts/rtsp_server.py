#!/usr/bin/python3
"""A real RTSP server for tests and the demo: serves H.264 and H.265 (HEVC) MP4 files over
RTSP (TCP/UDP), each file by the codec its video track actually holds (the MP4's sample
entry: avc1/avc3 -> h264parse ! rtph264pay, hvc1/hev1 -> h265parse ! rtph265pay; the
parsers are in gstreamer1.0-plugins-bad, the payloaders in -good). A file of any other
codec, or not an MP4 at all, is refused at startup with its name and codec. An MP4 whose
boxes are broken (truncated, corrupt: the codec cannot be read) is still served on the
H.264 pipeline, so clients see the broken stream a broken camera sends; a note says so.

Runs under Debian's own /usr/bin/python3 (GStreamer's GObject bindings, python3-gi and
gir1.2-gst-rtsp-server-1.0, belong to it; scripts/system-deps.sh installs them). It does
not import SiteGuard. Each client session plays its file from the start; when the file
ends the session ends, and a reconnecting client starts it again.

    /usr/bin/python3 scripts/rtsp_server.py --port 8554 cam1=clip.mp4 [cam2=other.mp4 ...]
    -> rtsp://127.0.0.1:8554/cam1
"""

import argparse
import os
import signal
import struct
import sys
from collections.abc import Iterator
from typing import BinaryIO

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

# sample entry -> (codec, parser, payloader)
CODECS = {
    b"avc1": ("H.264", "h264parse", "rtph264pay"),
    b"avc3": ("H.264", "h264parse", "rtph264pay"),
    b"hvc1": ("H.265", "h265parse", "rtph265pay"),
    b"hev1": ("H.265", "h265parse", "rtph265pay"),
}


class NotServable(Exception):
    """A file this server refuses: not an MP4, or a video codec it cannot packetise."""


class Unreadable(Exception):
    """An MP4 whose boxes cannot be read far enough to find its video codec."""


def _boxes(f: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the ISO-BMFF boxes in f[start:end]."""
    at = start
    while at + 8 <= end:
        f.seek(at)
        size, kind = struct.unpack(">I4s", f.read(8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", f.read(8))
            header = 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            raise Unreadable(f"a broken MP4 box {kind!r} at byte {at}")
        yield kind, at + header, at + size
        at += size


def _child(f: BinaryIO, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for k, s, e in _boxes(f, start, end):
        if k == kind:
            return s, e
    return None


def _path(f: BinaryIO, box: tuple[int, int], kinds: tuple[bytes, ...]) -> tuple[int, int] | None:
    found: tuple[int, int] | None = box
    for kind in kinds:
        found = found and _child(f, *found, kind)
    return found


def video_sample_entry(path: str) -> bytes:
    """The sample entry type (b'avc1', b'hvc1', ...) of the MP4's first video track."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(8)
        if len(head) < 8 or head[4:8] != b"ftyp":
            raise NotServable("not an MP4 (no 'ftyp' box)")
        moov = _child(f, 0, size, b"moov")
        if moov is None:
            raise Unreadable("an MP4 without a 'moov' box")
        for kind, s, e in _boxes(f, *moov):
            if kind != b"trak":
                continue
            mdia = _child(f, s, e, b"mdia")
            hdlr = mdia and _child(f, *mdia, b"hdlr")
            if not mdia or not hdlr:
                continue
            f.seek(hdlr[0] + 8)  # version/flags, pre_defined
            if f.read(4) != b"vide":
                continue
            stsd = _path(f, mdia, (b"minf", b"stbl", b"stsd"))
            if stsd is None:
                raise Unreadable("a video track without a sample description")
            f.seek(stsd[0] + 8)  # version/flags, entry count
            entry = f.read(8)
            if len(entry) < 8:
                raise Unreadable("an empty sample description")
            return entry[4:8]
    raise NotServable("no video track")


def launch_line(path: str) -> tuple[str, str]:
    """The media factory's pipeline for the file by its video codec, and a note ('' or why
    it is served as H.264 although its codec could not be read); NotServable: refused."""
    note = ""
    try:
        entry = video_sample_entry(path)
    except Unreadable as exc:
        entry, note = b"avc1", f"{exc}: codec unknown, served as H.264 (a broken stream)"
    if entry not in CODECS:
        served = ", ".join(f"{c} {k.decode()}" for k, (c, _, _) in CODECS.items())
        raise NotServable(f"video codec {entry.decode('latin-1')!r} is not served ({served})")
    codec, parser, payloader = CODECS[entry]
    for element in (parser, payloader):
        if Gst.ElementFactory.find(element) is None:
            raise NotServable(
                f"{codec} needs GStreamer's {element} (gstreamer1.0-plugins-bad/-good: "
                "scripts/system-deps.sh)"
            )
    location = os.path.abspath(path).replace("\\", "\\\\").replace('"', '\\"')
    launch = (
        f'( filesrc location="{location}" ! qtdemux ! {parser} ! '
        f"{payloader} name=pay0 pt=96 config-interval=1 )"
    )
    return launch, note


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--port", type=int, default=8554)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("mounts", nargs="+", metavar="NAME=FILE.mp4")
    args = ap.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    notes: list[str] = []
    for spec in args.mounts:
        name, _, path = spec.partition("=")
        if not path or not os.path.isfile(path):
            print(f"rtsp_server: {spec!r}: expected NAME=FILE, an existing file", file=sys.stderr)
            return 2
        try:
            launch, note = launch_line(path)
        except (NotServable, OSError) as exc:
            print(f"rtsp_server: {spec!r}: {exc}", file=sys.stderr)
            return 2
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.set_shared(False)
        mounts.add_factory(f"/{name}", factory)
        if note:
            notes.append(f"rtsp_server: {spec!r}: {note}")
    if server.attach(None) == 0:
        print(f"rtsp_server: cannot listen on {args.host}:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    names = ", ".join(f"rtsp://{args.host}:{args.port}/{s.partition('=')[0]}" for s in args.mounts)
    print(f"rtsp_server: serving {names}", flush=True)  # the first line: started
    for line in notes:
        print(line, file=sys.stderr, flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
