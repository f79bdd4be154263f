#!/usr/bin/env bash
# Rewrites the ABI baseline from a build (deliberate changes only; docs/abi-policy.md).
# Usage: tests/abi/update_baseline.sh [build-dir]   (default build/dev)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build/dev}
lib=$(find "$build/capi" -maxdepth 1 -name 'libmomento_auth.so.*.*' | head -n1)
[[ -n $lib ]] || { echo "no libmomento_auth.so in $build/capi: build first"; exit 1; }
abidw --no-corpus-path --no-comp-dir-path --exported-interfaces-only --drop-private-types \
  --headers-dir "$root/capi/include/momento" \
  --out-file "$root/tests/abi/libmomento_auth.abi" "$lib"
cp "$root/capi/include/momento/auth.h" "$root/tests/abi/baseline/include/momento/auth.h"
echo "baseline updated from $lib; commit tests/abi/ with the change that needed it"
