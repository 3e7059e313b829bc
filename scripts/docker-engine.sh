#!/usr/bin/env bash
# Make sure a Docker engine answers (the image tests need one): install Debian's engine,
# docker-compose and debootstrap when missing, start dockerd when it is not running.
set -euo pipefail
docker info >/dev/null 2>&1 && exit 0
"$(dirname "$0")/system-deps.sh" docker.io docker-compose debootstrap
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
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
