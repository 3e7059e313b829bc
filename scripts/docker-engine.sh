#!/usr/bin/env bash
# Make sure a Docker engine answers (the image tests need one): install Debian's engine,
# docker-compose and debootstrap when missing, start dockerd when it is not running.
set -euo pipefail
docker info >/dev/null 2>&1 && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
missing=()
for p in docker.io docker-compose debootstrap; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd (log: /tmp/siteguard-dockerd.log)" >&2
  $sudo sh -c 'nohup dockerd >/tmp/siteguard-dockerd.log 2>&1 &'
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && exit 0
    sleep 1
  done
  echo "dockerd did not start; its log:" >&2
  tail -20 /tmp/siteguard-dockerd.log >&2
  exit 1
fi
