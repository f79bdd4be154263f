#!/bin/sh
# systemd-analyze verify over packaging/systemd with ExecStart pointed at the momento-auth this
# tree built: no error and no warning; systemd-analyze security scores each service. A copy with a misspelt directive must be reported, so a
# verify that checks nothing cannot pass.   usage: check_systemd_units.sh UNIT_DIR CLI_BINARY
set -eu
units=$1 cli=$2
command -v systemd-analyze >/dev/null 2>&1 || { echo "systemd-analyze not found: run scripts/setup"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$units"/*.service "$units"/*.timer; do
  sed "s|/usr/bin/momento-auth|$cli|g" "$f" > "$work/$(basename "$f")"
done
cd "$work"
if ! out=$(systemd-analyze verify --man=no ./*.service ./*.timer 2>&1) || [ -n "$out" ]; then
  printf '%s\n' "$out"
  echo "systemd-analyze verify reported problems in $units"
  exit 1
fi
# The hardening, as systemd scores it: an exposure level of 2.0 at most ("OK"; 10 is "UNSAFE").
for u in ./*.service; do
  if ! systemd-analyze security --offline=true --threshold=20 "$u" >/dev/null 2>&1; then
    systemd-analyze security --offline=true "$u" 2>&1 | tail -1
    echo "$u is less hardened than expected"
    exit 1
  fi
done
mkdir broken
sed 's/^ProtectSystem=/ProtectSystm=/' momento-auth-keep-fresh.service > broken/momento-auth-keep-fresh.service
if ! systemd-analyze verify --man=no broken/momento-auth-keep-fresh.service 2>&1 | grep -q ProtectSystm; then
  echo "systemd-analyze verify did not report a misspelt directive: it is not checking"
  exit 1
fi
echo "$(ls ./*.service ./*.timer | wc -l) units verified, services hardened (exposure <= 2.0); a broken copy is reported"
