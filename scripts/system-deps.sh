#!/usr/bin/env bash
# Install the Debian packages SiteGuard's services and tests use (only what is missing):
# mosquitto (MQTT broker) and its clients. Needs root or sudo; apt-get update runs once.
set -euo pipefail
pkgs=(mosquitto mosquitto-clients)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
