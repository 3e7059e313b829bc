"""`siteguard dataset stats|build|conventions`: import labelled sets onto the taxonomy, split,
manifest, and measure how each source draws its boxes."""

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
    b.add_argument(
        "--conventions",
        action="store_true",
        help="redraw boxes by each mapping's measured box rules (one convention per class; "
        "recorded in manifest.json; off by default so the baseline stays reproducible)",
    )
    b.set_defaults(func=run_build)
    c = dsub.add_parser(
        "conventions",
        help="measure how each source draws each class's boxes (h/w, size, size against "
        "its person) and write sample crops with the boxes drawn",
    )
    c.add_argument("sources", nargs="+", type=_source, metavar="SOURCE", help=help_src)
    c.add_argument("--crops", type=Path, default=None, help="folder for the sample-crop sheets")
    c.add_argument("--samples", type=int, default=30, help="crops per source and class (30)")
    c.add_argument(
        "--redrawn",
        action="store_true",
        help="measure the boxes as `build --conventions` writes them (after the box rules)",
    )
    c.add_argument(
        "--pseudo-person",
        type=Path,
        default=None,
        help="person boxes for sources without person labels (`siteguard pseudo-label`)",
    )
    c.add_argument("--json", type=Path, default=None, help="also write the figures here")
    c.set_defaults(func=run_conventions)


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
        conventions=args.conventions,
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


def run_conventions(args: argparse.Namespace) -> int:
    from siteguard.datasets.conventions import load_pseudo, measure, write_sheets

    if args.samples < 1:
        print("error: --samples must be >= 1")
        return 2
    pseudo = load_pseudo(args.pseudo_person) if args.pseudo_person else None
    total = sum(sum(1 for _ in read_dataset(s.root, s.mapping)) for s in args.sources)
    progress = Progress(total, "measure")
    result = measure(
        args.sources,
        pseudo_person=pseudo,
        redrawn=args.redrawn,
        samples_per_class=args.samples,
        progress=progress,
    )
    progress.close()
    print(f"box shape per source and class{' after the box rules' if args.redrawn else ''}")
    print("(h/w in pixels; w/person, h/person: medians against the person box it sits on)")
    print(result.table())
    if args.json:
        args.json.write_text(json.dumps(result.to_json(), indent=2))
        print(f"wrote {args.json}")
    if args.crops:
        sheets = write_sheets(result, args.crops)
        print(
            f"wrote {len(sheets)} sheets of sample crops to {args.crops} "
            "(green: the box as labelled; magenta: redrawn by the mapping's rule)"
        )
    return 0
