#!/usr/bin/env bash
# Create .venv and install SiteGuard into it (editable). Idempotent: re-installs only
# when pyproject.toml changes. Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh dev
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-}
py=${PYTHON:-python3}
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "SiteGuard needs Python >= 3.11 (found: $("$py" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv" >&2
  "$py" -m venv .venv
fi
stamp=.venv/.siteguard-installed
# strict editable install = a link tree: re-install when modules are added or removed
modules=$(find cli pipeline edge api models datasets -type f -not -path '*/__pycache__/*' | sort | sha256sum | cut -c1-16)
want="$(sha256sum pyproject.toml | cut -d' ' -f1) ${modules} ${extras}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
quiet() {  # run an installer step; its log is shown only if it fails
  if ! "$@" >>"$log" 2>&1; then cat "$log" >&2; echo "setup failed: $*" >&2; exit 1; fi
}
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing siteguard${extras:+[$extras]} into .venv (first run takes a minute)" >&2
  quiet .venv/bin/python -m pip install -q --upgrade pip
  quiet .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}" --config-settings editable_mode=strict
  echo "$want" > "$stamp"
fi
