#!/usr/bin/env bash
# Daemon benchmark (release mode): essd polling ess-sim with 32 devices x 500 registers at 1 s
# for 60 s, with the store configured as such a site would be (cell-level points in the raw and
# 15-min tiers only). Prints essd's CPU %, RssAnon and poll-start jitter beside a plain C
# libmodbus poller doing the same Modbus reads (the reference, same machine, same script).
#   scripts/bench-daemon.sh [DEVICES] [REGISTERS] [SECONDS]
#   REALTIME=10 scripts/bench-daemon.sh   # polling threads (and the reference's) under SCHED_FIFO 10
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICES=${1:-32}; REGISTERS=${2:-500}; SECONDS_RUN=${3:-60}; PORT=${BENCH_PORT:-16100}
swift build -c release --product essd >/dev/null
swift build -c release --product ess-sim >/dev/null
swift build -c release --product essctl >/dev/null
BIN="$(swift build -c release --show-bin-path)"
WORK="$(mktemp -d /tmp/essd-bench-daemon.XXXXXX)"
trap 'kill $SIM $ESSD 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
SIM=""; ESSD=""
python3 Benchmarks/daemon/make_site.py "$WORK" "$DEVICES" "$REGISTERS" "$PORT" "${REALTIME:-}"
cc -O2 -o "$WORK/reference_poller" Benchmarks/daemon/reference_poller.c -lmodbus -lpthread
"$BIN/essd" --check-config "$WORK/site.toml"

"$BIN/ess-sim" --config "$WORK/site.toml" --log-level warning > "$WORK/sim.out" &
SIM=$!
for _ in $(seq 100); do grep -q "ess-sim ready" "$WORK/sim.out" 2>/dev/null && break; sleep 0.1; done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_anon() { awk '/RssAnon/ {print $2}' "/proc/$1/status"; }
HZ=$(getconf CLK_TCK)

# essd
"$BIN/essd" --config "$WORK/site.toml" --log-level warning 2> "$WORK/essd.err" &
ESSD=$!
sleep 5   # warm-up: store files created, first polls done
kill -0 $ESSD 2>/dev/null || { echo "essd exited during warm-up:" >&2; tail -20 "$WORK/essd.err" >&2; exit 1; }
T0=$(ticks $ESSD); sleep "$SECONDS_RUN"; T1=$(ticks $ESSD)
ESSD_CPU=$(echo "scale=2; ($T1 - $T0) * 100 / $HZ / $SECONDS_RUN" | bc)
ESSD_RSS=$(rss_anon $ESSD)
"$BIN/essctl" devices --config "$WORK/site.toml" --json > "$WORK/devices.json"
read -r P50 P99 SCANS ERRORS < <(python3 - "$WORK/devices.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d = d.get("devices", d) if isinstance(d, dict) else d
p50 = max(x.get("start_lateness_p50_ms") or 0 for x in d)
p99 = max(x.get("start_lateness_p99_ms") or 0 for x in d)
print(p50, p99, sum(x["scans"] for x in d), sum(x["errors"] for x in d))
PY
)
kill -TERM $ESSD; wait $ESSD || true; ESSD=""

# reference: plain C libmodbus, same reads, same schedule
${REALTIME:+chrt -f "$REALTIME"} "$WORK/reference_poller" 127.0.0.1 "$PORT" "$DEVICES" "$REGISTERS" $((SECONDS_RUN + 15)) &
REF=$!
sleep 5
R0=$(ticks $REF); sleep "$SECONDS_RUN"; R1=$(ticks $REF)
REF_CPU=$(echo "scale=2; ($R1 - $R0) * 100 / $HZ / $SECONDS_RUN" | bc)
REF_RSS=$(rss_anon $REF)
kill $REF 2>/dev/null || true; wait $REF 2>/dev/null || true

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${REALTIME:-}" ]; then echo "scheduling: SCHED_FIFO $REALTIME (polling threads and the reference)"; else echo "scheduling: normal"; fi
echo "work: $DEVICES devices x $REGISTERS registers at 1 s for $SECONDS_RUN s ($((DEVICES * REGISTERS)) points/s)"
printf '%-28s %-14s %-14s %s\n' "measure" "essd" "C reference" "target"
printf '%-28s %-14s %-14s %s\n' "CPU (% of one core)" "$ESSD_CPU" "$REF_CPU" "essd <= 2"
printf '%-28s %-14s %-14s %s\n' "RssAnon (kB)" "$ESSD_RSS" "$REF_RSS" "essd <= 40960"
printf '%-28s %-14s %-14s %s\n' "poll-start lateness p50 ms" "$P50" "-" "worst device"
printf '%-28s %-14s %-14s %s\n' "poll-start lateness p99 ms" "$P99" "-" "<= 2"
echo "essd: $SCANS scans, $ERRORS errors; store: $(du -sh "$WORK/state" | cut -f1) on disk"
