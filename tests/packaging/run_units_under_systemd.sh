#!/usr/bin/env bash
# Runs the units in packaging/systemd under a real systemd. This machine's systemd is not PID 1
# (systemd-run finds no manager to talk to), so systemd-nspawn boots one: in a private mount
# namespace, an overlay of this machine's own root (read-only below, tmpfs above) becomes the
# container's root, with a network of its own. Inside it: momento-auth-server runs as a
# transient unit (systemd-run), the keep-fresh service keeps a short-lived key fresh against it
# and stops cleanly, the --once service succeeds and the timer is scheduled. Needs root and
# systemd-nspawn (package systemd-container).
#   usage: run_units_under_systemd.sh UNIT_DIR CLI SERVER REFRESH_TOOL
# Exit 77 (skipped) when nspawn cannot boot a container here.
set -euo pipefail
units=$(cd "$1" && pwd); cli=$(realpath "$2"); server=$(realpath "$3"); tool=$(realpath "$4")
[ "$(id -u)" -eq 0 ] || { echo "needs root (systemd-nspawn)"; exit 77; }
command -v systemd-nspawn >/dev/null || { echo "systemd-nspawn not found: run scripts/setup"; exit 77; }

work=$(mktemp -d /tmp/momento-units.XXXXXX)
machine="momento-units-$$"
port=47811  # on the container's own loopback: nothing else listens there
nspawn_pid=""
pid1=""
cleanup() {
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    # unshare and bash exec'd: this is nspawn, which asks the container's systemd to power off
    # on SIGTERM. The mounts go with its namespace.
    kill -TERM "$nspawn_pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn_pid" 2>/dev/null || true
    wait "$nspawn_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
in_container() { nsenter -t "$pid1" -m -u -i -n -p -- "$@"; }
fail() {
  echo "FAILED: $*"
  tail -20 "$work/console.log"
  [ -z "$pid1" ] || in_container journalctl --no-pager -n 40 -o cat 2>/dev/null || true
  exit 1
}

# The container's root: an overlay of / (this tree's binaries and the system's libraries are where
# they are here), with the units exactly as shipped, the CLI this tree built as
# /usr/bin/momento-auth and the settings file. nspawn keeps state in /run/systemd/nspawn and
# refuses to clean it up on a disk-backed /run: a tmpfs there too. This machine's own services
# stay off in the container.
cat >"$work/boot.sh" <<'BOOT'
set -eu
work=$1 units=$2 cli=$3 port=$4 machine=$5
mkdir -p /run/systemd/nspawn && mount -t tmpfs -o mode=755 tmpfs /run/systemd/nspawn
mkdir -p "$work/ovl" "$work/root" && mount -t tmpfs -o mode=755 tmpfs "$work/ovl"
mkdir "$work/ovl/upper" "$work/ovl/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/ovl/upper,workdir=$work/ovl/work" "$work/root"
r=$work/root
cp "$units"/*.service "$units"/*.timer "$r/etc/systemd/system/"
ln -sf "$cli" "$r/usr/bin/momento-auth"
printf '%s\n' 'MOMENTO_AUTH_STORE=file:/var/lib/momento-auth/token.json' \
  "MOMENTO_AUTH_KEEP_FRESH_OPTIONS=--endpoint 127.0.0.1:$port --insecure --refresh-fraction 0.25" \
  >"$r/etc/default/momento-auth"
for u in postgresql.service apt-daily.timer apt-daily-upgrade.timer man-db.timer dpkg-db-backup.timer \
         e2scrub_all.timer fstrim.timer getty@tty1.service; do
  ln -sf /dev/null "$r/etc/systemd/system/$u"
done
exec systemd-nspawn -D "$r" --private-network --register=no --keep-unit --machine="$machine" --quiet \
  -b -- systemd.firstboot=off
BOOT
unshare -m --propagation private bash "$work/boot.sh" "$work" "$units" "$cli" "$port" "$machine" \
  >"$work/console.log" 2>&1 </dev/null &
nspawn_pid=$!

# The container's PID 1: the systemd whose parent is that nspawn.
for _ in $(seq 1 300); do
  pid1=$(pgrep -P "$nspawn_pid" -x systemd 2>/dev/null | head -1 || true)
  [ -n "$pid1" ] && break
  kill -0 "$nspawn_pid" 2>/dev/null || { echo "systemd-nspawn could not boot a container here:"; tail -5 "$work/console.log"; exit 77; }
  sleep 0.1
done
[ -n "$pid1" ] || { echo "no systemd came up in the container:"; tail -5 "$work/console.log"; exit 77; }
state=""
for _ in $(seq 1 600); do
  state=$(in_container systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 0.1
done
case "$state" in running|degraded) ;; *) fail "the container's systemd did not finish booting ($state)" ;; esac
echo "systemd $(in_container systemctl --version | head -1 | cut -d' ' -f2) is PID 1 in the container ($state)"

# The auth server as a transient unit, and a 40 s key (refreshed at a quarter of its life) in the
# service's state directory.
in_container systemd-run --quiet --unit=momento-auth-test-server -p StateDirectory=momento-auth-test-server \
  "$server" --listen "127.0.0.1:$port" --data-dir /var/lib/momento-auth-test-server \
  --bootstrap /var/lib/momento-auth-test-server/bootstrap.json --log-format off
for _ in $(seq 1 600); do in_container test -s /var/lib/momento-auth-test-server/bootstrap.json && break; sleep 0.1; done
in_container mkdir -p -m 700 /var/lib/private/momento-auth
in_container "$tool" mint --store file:/var/lib/private/momento-auth/token.json --server "127.0.0.1:$port" \
  --bootstrap /var/lib/momento-auth-test-server/bootstrap.json --expires-in 40 >/dev/null \
  || fail "could not mint a key at the server in the container"
first=$(in_container sha256sum /var/lib/private/momento-auth/token.json | cut -d' ' -f1)
key=$(in_container python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["authToken"])' \
  /var/lib/private/momento-auth/token.json)

in_container systemctl start momento-auth-keep-fresh.service
# The adopted key, then a refresh at ~10 s of its 40 s life: both as JSON lines in the journal.
for _ in $(seq 1 600); do
  in_container journalctl --no-pager -u momento-auth-keep-fresh.service -o cat | grep -q '"event":"refreshed"' && break
  sleep 0.1
done
log=$(in_container journalctl --no-pager -u momento-auth-keep-fresh.service -o cat)
echo "$log" | grep -q '"event":"adopted"' || fail "no adopted event: $log"
echo "$log" | grep -q '"event":"refreshed"' || fail "no refresh within 60 s: $log"
now=$(in_container sha256sum /var/lib/private/momento-auth/token.json | cut -d' ' -f1)
[ "$now" != "$first" ] || fail "the key file was not replaced"
owner=$(in_container stat -c '%U %a' /var/lib/private/momento-auth/token.json)
case "$owner" in "momento-auth-keep-fresh 600") ;; *) fail "token file owner/mode is '$owner', not the service's dynamic user's 600" ;; esac
! echo "$log" | grep -qF "$key" || fail "the key appears in the journal"
in_container systemctl stop momento-auth-keep-fresh.service
result=$(in_container systemctl show -p Result --value momento-auth-keep-fresh.service)
[ "$result" = success ] || fail "keep-fresh.service stopped with Result=$result"
echo "keep-fresh.service: adopted, refreshed, key file replaced (owner $owner), stopped cleanly"

in_container systemctl start momento-auth-keep-fresh-once.service
result=$(in_container systemctl show -p Result --value momento-auth-keep-fresh-once.service)
[ "$result" = success ] || fail "keep-fresh-once.service: Result=$result"
in_container journalctl --no-pager -u momento-auth-keep-fresh-once.service -o cat | grep -q '"event":"current"' \
  || fail "keep-fresh-once.service logged no event"
in_container systemctl start momento-auth-keep-fresh-once.timer
next=$(in_container systemctl show -p NextElapseUSecRealtime --value momento-auth-keep-fresh-once.timer)
[ -n "$next" ] || fail "the timer is not scheduled"
echo "keep-fresh-once.service: success; timer scheduled for $next"
