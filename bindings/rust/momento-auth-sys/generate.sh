#!/bin/sh
# Regenerates src/bindings.rs from momento/auth.h with bindgen (BINDGEN names the binary).
#   generate.sh [HEADER [OUT]]
# The deprecated C names (MOMENTO_DEPRECATED in the header) stay in the .so for C callers but
# are left out here: this crate is newer than every one of them, so it only offers the new names.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
header=${1:-$here/../../../capi/include/momento/auth.h}
out=${2:-$here/src/bindings.rs}
bindgen=${BINDGEN:-bindgen}
deprecated=$(sed -n 's/^MOMENTO_API MOMENTO_DEPRECATED [^(]*[ *]\(momento_[a-z0-9_]*\)(.*/\1/p' "$header" | paste -sd'|' -)
# Builtin headers (stddef.h) from GCC, so libclang needs no resource directory of its own.
"$bindgen" "$header" -o "$out" \
  --allowlist-function 'momento_.*' --allowlist-type 'momento_.*' --allowlist-var 'MOMENTO_.*' \
  ${deprecated:+--blocklist-function "($deprecated)"} \
  --default-enum-style moduleconsts --merge-extern-blocks --no-layout-tests --no-doc-comments \
  --rust-target 1.70 --rustfmt-configuration-file "$here/rustfmt.toml" \
  -- -I"$(gcc -print-file-name=include)"
