#!/usr/bin/env bash
# Store stress (issue 11): kill -9 at random moments, byte flips and truncation in every kind of
# store file (raw rows, head hints, tier headers, slot rows, catalog, checkpoint, event log), and
# clocks that step back and forward. Runs the StoreStressTests suite with large counts and
# prints its report (the "stress:" lines); exits non-zero on any checkpointed row lost, any
# duplicate, any value read as valid that was not written, any damaged row not reported, or any
# intact row overwritten.
#
#   scripts/stress-store.sh                       100 kills, 400 damage trials, 200 clock steps
#   KILLS=300 DAMAGE=2000 STEPS=1000 scripts/stress-store.sh
#   SEED=12345 scripts/stress-store.sh            another seed (the report names it; replays a failure)
set -euo pipefail
cd "$(dirname "$0")/.."

export ESSD_STRESS_KILLS=${KILLS:-100}
export ESSD_STRESS_DAMAGE=${DAMAGE:-400}
export ESSD_STRESS_STEPS=${STEPS:-200}
[ -n "${SEED:-}" ] && export ESSD_STRESS_SEED=$SEED

swift build --build-tests
log=$(mktemp /tmp/essd-stress.XXXXXX.log)
status=0
swift test --skip-build --filter StoreStressTests > "$log" 2>&1 || status=$?
grep -E '^stress:' "$log" || true
if [ "$status" != 0 ]; then
    grep -E 'recorded an issue|Expectation failed|error:' "$log" | head -40 >&2 || true
    echo "stress-store.sh: FAILED (full log: $log)" >&2
    exit 1
fi
grep -E 'Test run with|passed after' "$log" | tail -2
rm -f "$log"
