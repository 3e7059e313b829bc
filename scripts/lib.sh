# Shared by scripts/setup.sh and scripts/setup-train.sh (sourced, not run).

# What an install depends on: pyproject.toml and the set of package files. A strict
# editable install is a link tree, so adding or removing a file needs a re-install.
install_fingerprint() {
  local files
  files=$(find cli contract pipeline edge api models datasets -type f -not -path '*/__pycache__/*' | sort | sha256sum | cut -c1-16)
  echo "$(sha256sum pyproject.toml | cut -d' ' -f1) ${files} $*"
}

# Run an installer step quietly; its log is shown only if it fails.
_quiet_log=$(mktemp)
trap 'rm -f "$_quiet_log"' EXIT
quiet() {
  if ! "$@" >>"$_quiet_log" 2>&1; then
    cat "$_quiet_log" >&2
    echo "setup failed: $*" >&2
    exit 1
  fi
}
