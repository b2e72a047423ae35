#!/usr/bin/env bash
# Evidence benchmark (release mode, issue 5): Indicators.compute over a year of 1-min data for a
# 16-signal site beside a plain energy-sum loop; EvidenceExporter.export of 1 month and 1 year at
# 15 min, each in a fresh child process, with its peak RSS (VmHWM); and (issue 12) the release
# essctl importing a year of 1-min CSV, dry run and import each in a child process, peak RSS side
# by side.
#   scripts/bench-evidence.sh [--dir /tmp] [--keep]
# Builds a synthetic year store (a few hundred MB) under --dir and removes it after.
# EVIDENCE_BENCH_SCRATCH=DIR: the build's scratch path (default: SwiftPM's .build), so several
# people can build in one working tree without sharing a build directory;
# EVIDENCE_BENCH_ESSCTL_SCRATCH=DIR the same for the release essctl (default: .build).
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=()
if [[ -n "${EVIDENCE_BENCH_SCRATCH:-}" ]]; then SCRATCH=(--scratch-path "$EVIDENCE_BENCH_SCRATCH"); fi
. scripts/bench-fresh-plan.sh
bench_fresh_plan "${EVIDENCE_BENCH_SCRATCH:-.build}"
(cd Benchmarks && swift build -c release "${SCRATCH[@]}" --product ess-evidence-bench && swift build -c release "${SCRATCH[@]}" --product ess-peak-rss)
BENCH_BIN="$(cd Benchmarks && swift build -c release "${SCRATCH[@]}" --show-bin-path)/ess-evidence-bench"
# The import part runs the real essctl (release), built in this package's own build folder.
ESSCTL_SCRATCH=()
if [[ -n "${EVIDENCE_BENCH_ESSCTL_SCRATCH:-}" ]]; then ESSCTL_SCRATCH=(--scratch-path "$EVIDENCE_BENCH_ESSCTL_SCRATCH"); fi
swift build -c release "${ESSCTL_SCRATCH[@]}" --product essctl
ESSCTL_BIN="$(swift build -c release "${ESSCTL_SCRATCH[@]}" --show-bin-path)/essctl"
echo "machine: $(nproc) cores, $(uname -r), $(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2}') scratch"
"$BENCH_BIN" --essctl "$ESSCTL_BIN" "$@"
