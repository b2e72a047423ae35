#!/usr/bin/env bash
# Installs essd on a Debian gateway as a systemd service (docs/operations.md explains each step).
#
# usage: scripts/install.sh [--dry-run] [--no-start]
#   --dry-run   print the steps, change nothing
#   --no-start  install and enable, but do not (re)start essd now
#
# Run it from a checkout as a user who can build (Swift installed, scripts/setup-debian.sh demo done);
# the install steps use sudo unless run as root. Safe to rerun for an upgrade: an existing
# /etc/essd/essd.toml is never overwritten, and a configuration that fails `essd --check-config`
# stops the script before anything is enabled or restarted.
set -euo pipefail
cd "$(dirname "$0")/.."

dry_run=false
start=true
for arg in "$@"; do
    case "$arg" in
        --dry-run) dry_run=true ;;
        --no-start) start=false ;;
        -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option $arg (see --help)" >&2; exit 64 ;;
    esac
done

BIN_DIR=/usr/local/bin
CONF_DIR=/etc/essd
DOC_DIR=/usr/local/share/doc/essd
UNIT=/etc/systemd/system/essd.service
SYSUSERS=/etc/sysusers.d/essd.conf

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Runs a command, or only shows it with --dry-run.
run() {
    echo "+ $*"
    if ! $dry_run; then "$@"; fi
}
# The same, as root.
as_root() {
    echo "+ ${SUDO:+$SUDO }$*"
    if ! $dry_run; then $SUDO "$@"; fi
}
# Checks a configuration with an essd binary; stops the install if it is invalid (exit 78).
check_config() {
    local essd="$1" file="$2"
    echo "+ ${SUDO:+$SUDO }$essd --check-config $file"
    $dry_run && return 0
    if ! $SUDO "$essd" --check-config "$file"; then
        echo "install.sh: $file is invalid (see above); nothing was enabled or restarted." >&2
        echo "install.sh: fix it, check again with: essd --check-config $file, then rerun install.sh" >&2
        exit 78
    fi
}

echo "== 1. Build in release mode"
run swift build -c release --product essd
run swift build -c release --product essctl
bin="$(swift build -c release --show-bin-path)"

echo "== 2. Check an existing configuration with the new build, before changing anything"
if [ -f "$CONF_DIR/essd.toml" ]; then
    check_config "$bin/essd" "$CONF_DIR/essd.toml"
else
    echo "   (no $CONF_DIR/essd.toml yet: the example Config/essd.toml will be installed)"
fi

echo "== 3. System user and group essd (systemd-sysusers)"
as_root install -D -m 0644 systemd/essd.sysusers "$SYSUSERS"
if command -v systemd-sysusers >/dev/null; then
    as_root systemd-sysusers "$SYSUSERS"
else
    getent passwd essd >/dev/null ||
        as_root useradd --system --user-group --home-dir /var/lib/essd --no-create-home --shell /usr/sbin/nologin essd
fi

echo "== 4. Binaries to $BIN_DIR"
as_root install -m 0755 "$bin/essd" "$bin/essctl" "$BIN_DIR/"

echo "== 5. Configuration to $CONF_DIR (an existing essd.toml is kept)"
as_root install -d -m 0750 -o root -g essd "$CONF_DIR" "$CONF_DIR/profiles"
if [ -f "$CONF_DIR/essd.toml" ]; then
    echo "   keeping $CONF_DIR/essd.toml; the shipped example is $CONF_DIR/essd.toml.example"
    as_root install -m 0640 -o root -g essd Config/essd.toml "$CONF_DIR/essd.toml.example"
else
    as_root install -m 0640 -o root -g essd Config/essd.toml "$CONF_DIR/essd.toml"
fi
for profile in Config/profiles/*.toml; do
    target="$CONF_DIR/profiles/$(basename "$profile")"
    if [ -f "$target" ] && ! cmp -s "$profile" "$target"; then
        # A site may have edited a shipped profile: keep it, put the new one beside it.
        echo "   $target differs from the shipped one: keeping it, new one as $target.dist"
        as_root install -m 0640 -o root -g essd "$profile" "$target.dist"
    else
        as_root install -m 0640 -o root -g essd "$profile" "$target"
    fi
done
if ! $dry_run && ! grep -Eq '^[[:space:]]*state_directory[[:space:]]*=[[:space:]]*"/var/lib/essd"' "$CONF_DIR/essd.toml" 2>/dev/null; then
    echo "install.sh: warning: [store] state_directory in $CONF_DIR/essd.toml is not \"/var/lib/essd\";" >&2
    echo "install.sh: the unit's sandbox (ProtectSystem=strict) only lets essd write /var/lib/essd" >&2
fi

echo "== 6. Documentation to $DOC_DIR"
as_root install -D -m 0644 docs/operations.md "$DOC_DIR/operations.md"

echo "== 7. Unit to $UNIT"
as_root install -m 0644 systemd/essd.service "$UNIT"
as_root systemctl daemon-reload

echo "== 8. Check the installed configuration with the installed essd"
check_config "$BIN_DIR/essd" "$CONF_DIR/essd.toml"

echo "== 9. Enable (and start or restart) essd"
if ! $start; then
    as_root systemctl enable essd
elif ! $dry_run && systemctl is-active --quiet essd; then
    as_root systemctl enable essd
    as_root systemctl restart essd   # an upgrade: pick up the new binary
else
    as_root systemctl enable --now essd
fi

if ! $dry_run && $start; then
    echo "== Status"
    $SUDO systemctl --no-pager status essd || true
fi
echo "install.sh: done. Logs: journalctl -u essd -f    Reload config: systemctl reload essd"
echo "install.sh: allow the site's device network in a drop-in: systemctl edit essd (docs/operations.md)"
