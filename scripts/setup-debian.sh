#!/usr/bin/env bash
# Installs what essd needs on Debian/Ubuntu (as root, or with sudo available).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends libmodbus-dev pkg-config socat mbpoll python3 python3-venv librrd-dev prometheus systemd libfaketime
