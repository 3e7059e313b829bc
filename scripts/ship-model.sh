#!/usr/bin/env bash
# From trained weights to a shipped model, in the order that keeps the test split clean:
# export (ONNX + card) -> calibrate the bare-head threshold on val -> evaluate on test
# (metrics into the card) -> INT8 variant calibrated on val images -> evaluate it on test.
#   scripts/ship-model.sh WEIGHTS.pt CONFIG.yaml DATASET_DIR [VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."
weights=$1 config=$2 data=$3 version=${4:-0.1.0}
name=$(.venv/bin/python -c "import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))['name'])" "$config")
scripts/setup-train.sh
.venv-train/bin/siteguard export "$weights" --config "$config" --manifest "$data/manifest.json" \
    --out models --version "$version"
.venv/bin/siteguard calibrate "models/$name.onnx" --data "$data" --split val
.venv/bin/siteguard evaluate "models/$name.onnx" --data "$data" --split test --write-card \
    --json "models/$name.eval.json"
.venv/bin/siteguard quantize "models/$name.onnx" --calib "$data/images/val" --count 200
.venv/bin/siteguard evaluate "models/$name-int8.onnx" --data "$data" --split test --write-card \
    --json "models/$name-int8.eval.json"
