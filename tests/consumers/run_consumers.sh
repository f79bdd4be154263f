#!/usr/bin/env bash
# Installs libmomento_auth into a temporary prefix, builds three pure C consumers against the
# installed tree (pkg-config, find_package, dlopen), starts a local server and runs them.
# Usage: run_consumers.sh <build-dir> <server-binary> <source-dir> [valgrind]
# With "valgrind" as the 4th argument the pkg-config consumer also runs under valgrind.
# MOMENTO_CONSUMER_HEADERS=<dir> builds the consumers with <dir>/momento/auth.h instead of the
# installed header (the ABI gate: an older header against this library).
set -euo pipefail

build_dir=$1
server_bin=$2
src=$3
mode=${4:-}
cc=${CC:-cc}

work=$(mktemp -d "${TMPDIR:-/tmp}/momento-consumers-XXXXXX")
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

prefix=$work/prefix
echo "== install into $prefix"
cmake --install "$build_dir" --prefix "$prefix" --component capi >/dev/null

libdir=$(dirname "$(find "$prefix" -name 'libmomento_auth.so.1' | head -n1)")
[[ -L $libdir/libmomento_auth.so.1 ]] || { echo "FAIL: libmomento_auth.so.1 is not a symlink"; exit 1; }
[[ -L $libdir/libmomento_auth.so ]] || { echo "FAIL: libmomento_auth.so link missing"; exit 1; }
[[ -f $prefix/include/momento/auth.h && -f $prefix/include/momento/auth.hpp ]] ||
  { echo "FAIL: headers not installed"; exit 1; }
soname=$(readelf -d "$libdir/libmomento_auth.so.1" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[[ $soname == libmomento_auth.so.1 ]] || { echo "FAIL: SONAME is '$soname'"; exit 1; }

pc_dir=$libdir/pkgconfig
export PKG_CONFIG_PATH=$pc_dir
if pkg-config --libs --cflags --static momento-auth | grep -Eiq 'grpc|protobuf|absl'; then
  echo "FAIL: momento-auth.pc exposes gRPC/protobuf"; exit 1
fi
flags=(-std=c99 -Wall -Wextra -pedantic -Werror)
if [[ -n ${MOMENTO_CONSUMER_HEADERS:-} ]]; then
  flags+=(-I"$MOMENTO_CONSUMER_HEADERS")
  export CFLAGS="-I$MOMENTO_CONSUMER_HEADERS"  # the find_package build
  echo "== headers from $MOMENTO_CONSUMER_HEADERS"
fi

echo "== build with pkg-config ($(pkg-config --modversion momento-auth))"
# shellcheck disable=SC2046
"$cc" "${flags[@]}" $(pkg-config --cflags momento-auth) "$src/tests/consumers/consumer.c" \
  -o "$work/consumer_pc" $(pkg-config --libs momento-auth) -Wl,-rpath,"$libdir"
# The consumer links our library alone: no gRPC in its own dependency list.
if readelf -d "$work/consumer_pc" | grep -Eq 'NEEDED.*(grpc|protobuf|absl)'; then
  echo "FAIL: consumer links gRPC directly"; exit 1
fi

echo "== build with find_package"
cmake -S "$src/tests/consumers/project" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_BUILD_RPATH="$libdir" >/dev/null
cmake --build "$work/cmake-build" >/dev/null

echo "== build the dlopen consumer"
# shellcheck disable=SC2046
"$cc" "${flags[@]}" $(pkg-config --cflags momento-auth) "$src/tests/consumers/dlopen_consumer.c" \
  -o "$work/consumer_dl" -ldl

echo "== start the server"
mkdir -p "$work/data" "$work/out"
"$server_bin" --listen 127.0.0.1:0 --data-dir "$work/data" --bootstrap "$work/bootstrap.json" \
  --log-format off >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
addr=
for _ in $(seq 1 200); do  # bounded: 20 s
  line=$(head -n1 "$work/server.out" 2>/dev/null || true)
  if [[ $line == "listening on "* ]]; then addr=${line#listening on }; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n $addr ]] || { echo "FAIL: server did not start"; cat "$work/server.err"; exit 1; }
echo "server at $addr"

echo "== run (pkg-config build)"
"$work/consumer_pc" "$work/bootstrap.json" "$addr" "$work/out"
[[ -f $work/out/momento_token.info.json ]] || { echo "FAIL: token file missing"; exit 1; }
perm=$(stat -c %a "$work/out/momento_token.info.json")
[[ $perm == 600 ]] || { echo "FAIL: token file mode $perm"; exit 1; }

echo "== run (find_package build)"
"$work/cmake-build/consumer_cmake" "$work/bootstrap.json" "$addr" "$work/out"

echo "== run (dlopen)"
LD_LIBRARY_PATH=$libdir "$work/consumer_dl" "$work/bootstrap.json" "$addr"

if [[ $mode == valgrind ]]; then
  echo "== valgrind (pkg-config build)"
  # gRPC keeps process-lifetime singletons: "still reachable" is not a leak; definite and
  # indirect losses and memory errors are.
  valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect \
    "$work/consumer_pc" "$work/bootstrap.json" "$addr" "$work/out"
fi
echo "consumers: ok"
