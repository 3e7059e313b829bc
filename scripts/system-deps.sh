#!/usr/bin/env bash
# Install the Debian packages SiteGuard's services and tests use (only what is missing):
# mosquitto (MQTT broker) and its clients; GStreamer's RTSP server with Debian's python3-gi
# (tests and the demo stream a real clip over RTSP); ffmpeg; Chromium and ChromeDriver (the
# web console's browser tests). Needs root or sudo. Packages named as arguments are installed
# instead of these (scripts/docker-engine.sh uses that).
set -euo pipefail
default=(mosquitto mosquitto-clients ffmpeg poppler-utils fonts-wqy-microhei postgresql python3-gi gir1.2-gst-rtsp-server-1.0
      gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
      gstreamer1.0-plugins-ugly gstreamer1.0-libav chromium chromium-driver)
if [ $# -gt 0 ]; then pkgs=("$@"); else pkgs=("${default[@]}"); fi
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
