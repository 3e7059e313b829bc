#!/usr/bin/env bash
# Create .venv and install SiteGuard into it (editable). Idempotent: re-installs only
# when pyproject.toml or the package files change. Usage: scripts/setup.sh [EXTRAS] (e.g. dev)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
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
want=$(install_fingerprint "${extras}")
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing siteguard${extras:+[$extras]} into .venv (first run takes a minute)" >&2
  quiet .venv/bin/python -m pip install -q --upgrade pip
  quiet .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}" --config-settings editable_mode=strict
  echo "$want" > "$stamp"
fi
