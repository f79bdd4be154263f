#!/usr/bin/env bash
# Instructions per parse of each path of momento_bench_capi_parse, counted by callgrind: exact
# and independent of code placement, caches and machine load.
# Usage: bench/capi/count_parse.sh [build dir, default build/dev] [parses, default 2000]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/dev}
n=${2:-2000}
cmake --build "$build" -j2 --target momento_bench_capi_parse >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" \
  "$build/bench/capi/momento_bench_capi_parse" "$n" 1 count 2>/dev/null | head -1
callgrind_annotate --inclusive=yes "$out" | tr -d , | awk -v n="$n" '
  /:count_core_program / { prog = $1 / n } /:count_core_so / { so = $1 / n } /:count_capi / { capi = $1 / n }
  END {
    printf "instructions per parse: core in the program %.0f, core in a shared object %.0f, C ABI %.0f\n", prog, so, capi
    printf "C ABI adds %+.0f instructions (%+.2f%%) over the shared object, %+.0f over the program\n", capi - so, 100 * (capi - so) / so, capi - prog
  }'
