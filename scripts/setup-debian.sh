#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages one purpose needs, and only those not installed yet (an
# installed package is never upgraded), saying which before it does (as root, or with sudo):
#   scripts/setup-debian.sh demo    libmodbus-dev pkg-config: build and run essd, essctl, ess-sim
#                                   (what scripts/demo.sh needs)
#   scripts/setup-debian.sh test    demo's, and socat mbpoll python3 python3-venv (test peers),
#                                   prometheus (promtool checks the metrics), systemd
#                                   (systemd-analyze checks the unit), libfaketime (steps a real
#                                   essd's clock): what scripts/test.sh needs
#   scripts/setup-debian.sh bench   demo's, and librrd-dev (the store benchmark's reference)
#   scripts/setup-debian.sh all     every one of them
set -euo pipefail
purpose=${1:-all}
demo=(libmodbus-dev pkg-config)
test=(socat mbpoll python3 python3-venv prometheus systemd libfaketime)
bench=(librrd-dev)
case "$purpose" in
    demo) wanted=("${demo[@]}") ;;
    test) wanted=("${demo[@]}" "${test[@]}") ;;
    bench) wanted=("${demo[@]}" "${bench[@]}") ;;
    all) wanted=("${demo[@]}" "${test[@]}" "${bench[@]}") ;;
    *) echo "setup-debian.sh: unknown purpose '$purpose' (demo, test, bench or all)" >&2; exit 64 ;;
esac
missing=()
for package in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup-debian.sh: everything for '$purpose' is installed"
    exit 0
fi
echo "setup-debian.sh: installing for '$purpose': ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
