#!/bin/sh
# Regenerates src/bindings.rs from momento/auth.h with bindgen (BINDGEN names the binary).
#   generate.sh [HEADER [OUT]]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
header=${1:-$here/../../../capi/include/momento/auth.h}
out=${2:-$here/src/bindings.rs}
bindgen=${BINDGEN:-bindgen}
# Builtin headers (stddef.h) from GCC, so libclang needs no resource directory of its own.
"$bindgen" "$header" -o "$out" \
  --allowlist-function 'momento_.*' --allowlist-type 'momento_.*' --allowlist-var 'MOMENTO_.*' \
  --default-enum-style moduleconsts --no-layout-tests --no-doc-comments --rust-target 1.70 \
  -- -I"$(gcc -print-file-name=include)"
