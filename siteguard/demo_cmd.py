"""`siteguard demo`: the main job on the embedded default (the bundled sample clip)."""

from __future__ import annotations

import argparse
from pathlib import Path

from siteguard import detect_cmd
from siteguard.defaults import sample_video_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="run detection and the hazard rules on the bundled sample site clip",
        description="Runs the default model and the no-helmet rule over the bundled sample "
        "clip (or --video), prints each frame with a violation and writes an annotated video "
        "to --out.",
    )
    p.add_argument(
        "--video", type=Path, default=None, help="another video instead of the bundled clip"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("out/demo"),
        help="folder for the annotated video (default out/demo)",
    )
    p.add_argument("--every", type=int, default=5, help="detect on every Nth frame (default 5)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    video = args.video or sample_video_path()
    if not video.exists():
        print(f"error: sample video {video} is missing")
        return 2
    print(f"SiteGuard demo: detecting on {video} (every {args.every}th frame)")
    detect_args = argparse.Namespace(
        paths=[str(video)],
        model=None,
        conf=None,
        json=False,
        out=args.out,
        every=args.every,
        no_blur=False,
        provider="auto",
    )
    return detect_cmd.run(detect_args)
