#!/usr/bin/env bash
# Store benchmark (release mode): essd's store beside librrd doing the same work, one table.
#   scripts/bench-store.sh [--samples 1000000] [--checkpoint-every 5000] [--rrd-batch 10000]
#                          [--essd-batch 10000] [--repeats 3] [--only ingest,aggregate,bytes,memory] [--dir /tmp]
# Needs librrd-dev (scripts/setup-debian.sh installs it). Reserves about 17 GB under --dir
# while it runs (the 1,000-signal store with the default tiers) and removes everything after.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -e /usr/include/rrd.h ] || { echo "bench-store.sh: librrd-dev is missing; run scripts/setup-debian.sh" >&2; exit 1; }
# BENCH_SCRATCH_PATH: the Benchmarks package's build folder (default .build), e.g. .build-store
# to keep one's own build apart from another engineer's in the same working tree.
SCRATCH=(--scratch-path "${BENCH_SCRATCH_PATH:-.build}")
# SwiftPM keeps the build plan of the path dependency (essd) and does not notice source files
# added to it since; drop the plan when any source is newer, so it is made again.
PLAN="Benchmarks/${BENCH_SCRATCH_PATH:-.build}/release/description.json"
if [ -f "$PLAN" ] && [ -n "$(find Sources -name '*.swift' -newer "$PLAN" -print -quit)" ]; then
    rm -f "$PLAN" "Benchmarks/${BENCH_SCRATCH_PATH:-.build}/release.yaml"
fi
(cd Benchmarks && swift build -c release "${SCRATCH[@]}" --product ess-store-bench)
BENCH_BIN="$(cd Benchmarks && swift build -c release "${SCRATCH[@]}" --show-bin-path)/ess-store-bench"
echo "machine: $(nproc) cores, $(uname -r), $(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2}') scratch"
"$BENCH_BIN" "$@"
