#!/usr/bin/env bash
# Store benchmark (release mode): essd's store beside librrd doing the same work, one table.
#   scripts/bench-store.sh [--samples 1000000] [--checkpoint-every 5000] [--rrd-batch 10000]
#                          [--essd-batch 10000] [--repeats 3] [--only ingest,aggregate,bytes,memory] [--dir /tmp]
# Needs librrd-dev (scripts/setup-debian.sh bench installs it). Reserves about 17 GB under --dir
# while it runs (the 1,000-signal store with the default tiers) and removes everything after.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -e /usr/include/rrd.h ] || { echo "bench-store.sh: librrd-dev is missing; run scripts/setup-debian.sh bench" >&2; exit 1; }
# BENCH_SCRATCH_PATH: the Benchmarks package's build folder (default .build), e.g. .build-store
# to keep one's own build apart from another engineer's in the same working tree.
SCRATCH=(--scratch-path "${BENCH_SCRATCH_PATH:-.build}")
. scripts/bench-fresh-plan.sh
bench_fresh_plan "${BENCH_SCRATCH_PATH:-.build}"
(cd Benchmarks && swift build -c release "${SCRATCH[@]}" --product ess-store-bench)
BENCH_BIN="$(cd Benchmarks && swift build -c release "${SCRATCH[@]}" --show-bin-path)/ess-store-bench"
echo "machine: $(nproc) cores, $(uname -r), $(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2}') scratch"
"$BENCH_BIN" "$@"
