#!/bin/sh
# Builds the npm tarball: the package with libmomento_auth.so.1 for this platform inside.
#   pack.sh LIBRARY OUTDIR    ->  OUTDIR/momento-auth-VERSION.tgz (the source tree is not touched)
set -eu
lib=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
stage="$out/stage"
rm -rf "$stage"
mkdir -p "$stage/prebuilds/linux-x64"
cp -R "$here/package.json" "$here/README.md" "$here/lib" "$stage/"
cp -L "$lib" "$stage/prebuilds/linux-x64/libmomento_auth.so.1"
# The library loads its libcurl module (AWS stores) from its own directory.
cp -L "$(dirname "$lib")/libmomento_auth_http.so.1" "$stage/prebuilds/linux-x64/"
# Debug information stays in the build tree; users get the code only.
strip --strip-debug "$stage/prebuilds/linux-x64/libmomento_auth.so.1" \
  "$stage/prebuilds/linux-x64/libmomento_auth_http.so.1"
cd "$stage"
npm pack --silent --pack-destination "$out" >/dev/null
ls "$out"/momento-auth-*.tgz
