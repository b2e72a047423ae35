#!/usr/bin/env bash
# Runs every test: unit, property and integration (real ess-sim, pymodbus, mbpoll, socat on loopback).
# Needs libmodbus-dev, socat, mbpoll and Python 3 with venv (scripts/setup-debian.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

# Test peers written by others, in a venv of their own.
if [ ! -x .venv-peers/bin/python ] || ! .venv-peers/bin/python -c 'import pymodbus' 2>/dev/null; then
    python3 -m venv .venv-peers
    .venv-peers/bin/pip install --quiet --disable-pip-version-check 'pymodbus==3.16.1'
fi
export ESSD_TEST_PYTHON="$PWD/.venv-peers/bin/python"

for tool in socat mbpoll pkg-config; do
    command -v "$tool" >/dev/null || { echo "test.sh: $tool is missing; run scripts/setup-debian.sh" >&2; exit 1; }
done

swift build --build-tests
swift test --skip-build --no-parallel "$@"
