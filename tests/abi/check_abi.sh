#!/usr/bin/env bash
# The ABI gate: compares libmomento_auth.so.1 with the committed baseline (abidw XML) and fails
# on any change to what existed in the baseline: a removed or changed function, a changed type
# reachable from the public header. Added functions are compatible and only listed.
# Usage: check_abi.sh <library> <public-header-dir> <baseline.abi>
# To accept a deliberate change, see docs/abi-policy.md ("The ABI gate").
set -euo pipefail
lib=$1
headers=$2
baseline=$3

command -v abidiff >/dev/null || { echo "abidiff not found (abigail-tools; scripts/setup installs it)"; exit 1; }
rc=0
abidiff --exported-interfaces-only --no-added-syms --headers-dir2 "$headers" "$baseline" "$lib" || rc=$?
# abidiff's status is a bit field: 1 error, 2 usage error, 4 an ABI change, 8 an incompatible one.
if ((rc != 0)); then
  echo "FAIL: libmomento_auth.so.1 differs from the baseline $baseline (abidiff status $rc)."
  echo "If the change is deliberate and compatible, update the baseline (docs/abi-policy.md)."
  exit 1
fi
added=$(abidiff --exported-interfaces-only --headers-dir2 "$headers" "$baseline" "$lib" | grep -c "^  \[A\]" || true)
echo "ABI compatible with the baseline; functions added since: $added"
