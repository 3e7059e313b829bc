"""`siteguard dataset stats|build`: import labelled sets onto the taxonomy, split, manifest."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from siteguard.datasets.build import SourceSpec, build
from siteguard.datasets.importers import read_dataset
from siteguard.datasets.mapping import load_mapping, shipped_mappings
from siteguard.progress import Progress


def _source(value: str) -> SourceSpec:
    """``ROOT`` (mapping named after the folder) or ``ROOT=MAPPING`` (name or .yaml path)."""
    root, _, mapping = value.partition("=")
    path = Path(root)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{root}: not a folder")
    try:
        return SourceSpec(path, load_mapping(mapping or path.name))
    except FileNotFoundError as exc:
        raise argparse.ArgumentTypeError(
            f"{exc}; shipped mappings: {', '.join(shipped_mappings())}; or give ROOT=MAPPING.yaml"
        ) from exc


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "dataset", help="import labelled image sets, report counts, build training splits"
    )
    dsub = p.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    help_src = "dataset folder, optionally ROOT=MAPPING (a shipped mapping name or a .yaml file)"
    s = dsub.add_parser("stats", help="count images and boxes per taxonomy class for each source")
    s.add_argument("sources", nargs="+", type=_source, metavar="SOURCE", help=help_src)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run_stats)
    b = dsub.add_parser(
        "build", help="write one YOLO dataset (split by source image) with a manifest"
    )
    b.add_argument("sources", nargs="+", type=_source, metavar="SOURCE", help=help_src)
    b.add_argument("--out", type=Path, required=True, help="output folder")
    b.add_argument("--seed", type=int, default=0, help="split seed (default 0)")
    b.add_argument("--val", type=float, default=0.10, help="validation fraction (default 0.10)")
    b.add_argument("--test", type=float, default=0.15, help="held-out test fraction (default 0.15)")
    b.add_argument(
        "--max-side",
        type=int,
        default=None,
        help="re-encode images to at most this many pixels (default: symlink)",
    )
    b.add_argument(
        "--pseudo-person",
        type=Path,
        default=None,
        help="JSON of person boxes for sources without complete person labels "
        "(from `siteguard pseudo-label`)",
    )
    b.set_defaults(func=run_build)


def run_stats(args: argparse.Namespace) -> int:
    report = {}
    for spec in args.sources:
        counts: Counter[str] = Counter()
        images = dropped = 0
        for sample in read_dataset(spec.root, spec.mapping):
            images += 1
            counts.update(sample.labels)
            dropped += sample.dropped
        report[spec.mapping.source] = {
            "images": images,
            "boxes": dict(sorted(counts.items())),
            "dropped_boxes": dropped,
            "complete": spec.mapping.complete,
        }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for src, r in report.items():
        boxes = ", ".join(f"{k} {v}" for k, v in r["boxes"].items())
        print(
            f"{src}: {r['images']} images; {boxes}; "
            f"{r['dropped_boxes']} boxes of unmapped classes dropped; "
            f"exhaustively labelled: {', '.join(r['complete'])}"
        )
    return 0


def run_build(args: argparse.Namespace) -> int:
    pseudo = None
    if args.pseudo_person:
        raw = json.loads(args.pseudo_person.read_text())
        pseudo = {k: [tuple(b) for b in v] for k, v in raw.items()}
    total = sum(sum(1 for _ in read_dataset(s.root, s.mapping)) for s in args.sources)
    progress = Progress(total, "build")
    report = build(
        args.sources,
        args.out,
        seed=args.seed,
        val=args.val,
        test=args.test,
        max_side=args.max_side,
        pseudo_person=pseudo,
        progress=progress,
    )
    progress.close()
    for w in report.warnings:
        print(f"warning: {w}")
    print(report.table())
    if report.pseudo_added:
        print(
            "pseudo person boxes added: "
            + ", ".join(f"{k} {v}" for k, v in report.pseudo_added.items())
        )
    print(
        f"manifest sha256 {report.manifest_sha256}\n"
        f"wrote {args.out}/data.yaml and {args.out}/manifest.json"
    )
    return 0
