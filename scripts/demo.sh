#!/usr/bin/env bash
# The demo: installs what is needed (Debian), builds essd, starts the simulated plant
# (ess-sim) on loopback and essd polling it, printing live values. Ctrl-C stops both.
#   scripts/demo.sh            # run until Ctrl-C
#   DEMO_SECONDS=30 scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# Only what the demo needs (libmodbus, pkg-config); the test tools are scripts/test.sh's.
if ! pkg-config --exists libmodbus 2>/dev/null; then scripts/setup-debian.sh demo; fi
swift build --product ess-sim
swift build --product essd
BIN="$(swift build --show-bin-path)"

"$BIN/essd" --check-config Config/essd.toml
# A simulated day lasts 10 minutes: valley charging, peak discharging, idle in between.
"$BIN/ess-sim" --config Config/essd.toml --day-seconds 600 &
SIM=$!
trap 'kill $SIM $ESSD 2>/dev/null || true; wait 2>/dev/null || true' EXIT INT TERM
ESSD=""
sleep 1
mkdir -p .essd-demo-state
# The demo keeps its store and status socket in .essd-demo-state (no root needed).
start_essd() {
    "$BIN/essd" --config Config/essd.toml --state-directory .essd-demo-state \
        --socket-path "$PWD/.essd-demo-state/essd.sock" --log-scans &
    ESSD=$!
}
start_essd
sleep 2
# A demo store an older essd wrote (another store format) cannot be opened (exit 73): the demo's
# data is disposable, so move it aside and start a new one.
if ! kill -0 "$ESSD" 2>/dev/null; then
    status=0; wait "$ESSD" || status=$?
    if [ "$status" = 73 ]; then
        aside=".essd-demo-state.old-$(date +%Y%m%d%H%M%S)"
        echo "demo: moving the old demo store aside to $aside and starting a new one" >&2
        mv .essd-demo-state "$aside" && mkdir -p .essd-demo-state
        start_essd
    else
        exit "$status"
    fi
fi
swift build --product essctl >/dev/null
sleep 4
"$BIN/essctl" status --socket "$PWD/.essd-demo-state/essd.sock" || true
if [ -n "${DEMO_SECONDS:-}" ]; then sleep "$DEMO_SECONDS"; else wait "$ESSD"; fi
