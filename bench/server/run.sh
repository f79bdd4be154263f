#!/usr/bin/env bash
# Builds and runs the server throughput benchmark: momento-auth-server against a bare
# gRPC echo server, paired phases, then RefreshApiToken again with --sync-full.
# Usage: bench/server/run.sh [extra momento_bench_server options, e.g. --seconds 2 --rounds 1]
# Not part of ctest: the figures depend on the machine and its load.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/bench}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target momento_bench_server
bin=$build/bench/server/momento_bench_server

# Other processes on the machine distort the figures (the "others" column shows how much).
# Wait, bounded by QUIET_WAIT seconds (default 300), for a 2 s window with under 10% CPU busy.
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }
deadline=$(( $(date +%s) + ${QUIET_WAIT:-300} ))
while :; do
  read -r b1 i1 < <(busy); sleep 2; read -r b2 i2 < <(busy)
  pct=$(( 100 * (b2 - b1) / (b2 - b1 + i2 - i1 + 1) ))
  if [ "$pct" -lt 10 ]; then echo "== machine quiet (${pct}% busy over 2 s)"; break; fi
  if [ "$(date +%s)" -ge "$deadline" ]; then echo "== machine still ${pct}% busy; running anyway"; break; fi
done

echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPUs, $(uname -r)"
echo "== processes using CPU before the run:"
ps -eo pcpu,comm --sort=-pcpu | head -6
echo
echo "== default durability (WAL, synchronous=NORMAL)"
"$bin" "$@"
echo
echo "== --sync-full (fsync every commit), refresh and generate only"
"$bin" --workloads refresh,generate --rounds 2 --server-arg --sync-full "$@"
