#!/usr/bin/python3
"""A real RTSP server for tests and the demo: serves H.264 MP4 files over RTSP (TCP/UDP).

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
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


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
    for spec in args.mounts:
        name, _, path = spec.partition("=")
        if not path or not os.path.isfile(path):
            print(f"rtsp_server: {spec!r}: expected NAME=FILE, an existing file", file=sys.stderr)
            return 2
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(
            f'( filesrc location="{os.path.abspath(path)}" ! qtdemux ! h264parse ! '
            "rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
        factory.set_shared(False)
        mounts.add_factory(f"/{name}", factory)
    if server.attach(None) == 0:
        print(f"rtsp_server: cannot listen on {args.host}:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    names = ", ".join(f"rtsp://{args.host}:{args.port}/{s.partition('=')[0]}" for s in args.mounts)
    print(f"rtsp_server: serving {names}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
