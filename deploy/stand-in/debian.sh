#!/usr/bin/env bash
# Import a minimal Debian bookworm root file system as a Docker image (the stand-ins' base).
set -euo pipefail
tag="$1"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
echo "debootstrap bookworm (about a minute)" >&2
debootstrap --variant=minbase --include=ca-certificates bookworm "$root/fs" \
  "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$root/log" 2>&1 \
  || { tail -20 "$root/log" >&2; exit 1; }
rm -rf "$root"/fs/var/cache/apt/archives/*.deb "$root"/fs/var/lib/apt/lists/*
tar -C "$root/fs" -c . | docker import --change 'CMD ["bash"]' - "$tag" >/dev/null
