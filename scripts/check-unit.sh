#!/usr/bin/env bash
# Checks systemd/essd.service: `systemd-analyze verify` must pass and the offline
# `systemd-analyze security` exposure must be at most 2.0 (override with ESSD_MAX_EXPOSURE).
# Prints the security table and the score. Needs systemd-analyze (Debian: apt-get install systemd);
# systemd need not be running (works in containers and CI).
#
# usage: scripts/check-unit.sh [PATH-TO-ESSD]
#   verify wants ExecStart's binary to exist: the unit is checked from a temporary copy whose
#   /usr/local/bin/essd is replaced by PATH-TO-ESSD (default: $ESSD_BIN, else the debug build,
#   built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

max="${ESSD_MAX_EXPOSURE:-2.0}"
unit=systemd/essd.service

command -v systemd-analyze >/dev/null || {
    echo "check-unit.sh: systemd-analyze is missing; install it with: apt-get install -y systemd" >&2
    exit 1
}
echo "check-unit.sh: $(systemd-analyze --version | head -n1)"

binary="${1:-${ESSD_BIN:-}}"
if [ -z "$binary" ]; then
    binary="$(swift build --show-bin-path)/essd"
    [ -x "$binary" ] || swift build --product essd
fi
[ -x "$binary" ] || { echo "check-unit.sh: $binary is not an executable; build essd first" >&2; exit 1; }
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The same unit, only with ExecStart/ExecStartPre pointing at the built binary.
sed "s#/usr/local/bin/essd#${binary}#g" "$unit" >"$work/essd.service"

echo "check-unit.sh: systemd-analyze verify $unit (ExecStart=$binary)"
# verify exits 0 on warnings such as "Unknown key": treat any output as a failure too.
if ! findings="$(cd "$work" && systemd-analyze verify ./essd.service 2>&1)" || [ -n "$findings" ]; then
    printf '%s\n' "$findings" | sed "s#$work/essd.service#$unit#g" >&2
    echo "check-unit.sh: FAIL: systemd-analyze verify $unit" >&2
    exit 1
fi
echo "check-unit.sh: verify passed"

echo "check-unit.sh: systemd-analyze security --offline=true $unit"
table="$(cd "$work" && systemd-analyze security --offline=true --no-pager ./essd.service 2>&1)" || true
echo "$table"
score="$(printf '%s\n' "$table" | sed -n 's/.*Overall exposure level for essd.service: \([0-9.]*\).*/\1/p' | tail -n1)"
if [ -z "$score" ]; then
    echo "check-unit.sh: FAIL: no exposure score in systemd-analyze security's output" >&2
    exit 1
fi
echo "check-unit.sh: exposure score $score (maximum $max)"
if awk -v s="$score" -v m="$max" 'BEGIN { exit !(s > m) }'; then
    echo "check-unit.sh: FAIL: exposure $score > $max; harden $unit" >&2
    exit 1
fi
echo "check-unit.sh: OK"
