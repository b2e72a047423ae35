#!/usr/bin/env bash
# Acquisition benchmark (release mode): essd's figures beside a reference run in the same process.
#   scripts/bench.sh [--seconds 6] [--jitter-seconds 30]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product ess-sim
. scripts/bench-fresh-plan.sh
bench_fresh_plan .build
(cd Benchmarks && swift build -c release --product ess-bench)
SIM_BIN="$(swift build -c release --show-bin-path)/ess-sim"
BENCH_BIN="$(cd Benchmarks && swift build -c release --show-bin-path)/ess-bench"
"$SIM_BIN" --config Benchmarks/config/bench.toml --log-level warning > /tmp/ess-bench-sim.out &
SIM=$!
trap 'kill $SIM 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q "ess-sim ready" /tmp/ess-bench-sim.out 2>/dev/null && break; sleep 0.1; done
echo "machine: $(nproc) cores, $(uname -r)"
"$BENCH_BIN" --host 127.0.0.1 --port 15030 --unit 1 "$@"
