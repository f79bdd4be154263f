#!/usr/bin/env bash
# Builds the throughput benchmark (RelWithDebInfo, -j2) and runs the whole comparison:
# bare gRPC echo vs momento-auth-server (Get, RefreshApiToken, GenerateApiToken), interleaved.
#   bench/throughput/run.sh [bench_throughput options, e.g. --seconds 4 --rounds 3]
# Output is also kept in build/throughput/throughput-last.txt.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build="$repo/build/throughput"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMOMENTO_AUTH_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_throughput >/dev/null
out="$build/throughput-last.txt"
{
  echo "command: bench/throughput/run.sh $*"
  echo "commit: $(git -C "$repo" rev-parse --short HEAD)"
  echo "before: $(uptime)"
  echo "data dir filesystem: $(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2}')"
  rc=0
  "$build/bench/throughput/bench_throughput" "$@" || rc=$?
  echo "after: $(uptime)"
  exit $rc
} 2>&1 | tee "$out"
