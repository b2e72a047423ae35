#!/usr/bin/env bash
# Runs every test: unit, property and integration (real ess-sim, pymodbus, mbpoll, socat on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."

# The system packages the tests need: scripts/setup-debian.sh names the missing ones before it
# installs them, and touches nothing already installed (CI installs them itself first).
scripts/setup-debian.sh test

# Test peers written by others, in a venv of their own.
if [ ! -x .venv-peers/bin/python ] || ! .venv-peers/bin/python -c 'import pymodbus' 2>/dev/null; then
    python3 -m venv .venv-peers
    .venv-peers/bin/pip install --quiet --disable-pip-version-check 'pymodbus==3.16.1'
fi
export ESSD_TEST_PYTHON="$PWD/.venv-peers/bin/python"

swift build --build-tests
swift test --skip-build --no-parallel "$@"
