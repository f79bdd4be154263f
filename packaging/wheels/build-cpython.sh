#!/bin/bash
# Runs inside the Debian 11 chroot (scripts/build-wheels): builds CPython X.Y from an upstream
# source tarball into /opt/python/X.Y, as the manylinux images do for the versions their base
# distribution does not package. Kept between runs: skipped when the prefix is complete.
set -euo pipefail
ver=$1 tarball=$2
prefix=/opt/python/$ver
[ -f "$prefix/.complete" ] && exit 0
work=/var/tmp/cpython-$ver
rm -rf "$work" "$prefix"
mkdir -p "$work"
tar -xf "$tarball" -C "$work" --strip-components=1
cd "$work"
step() { echo "cpython $ver: $*"; }
# No PGO/LTO (--enable-optimizations): the interpreter only builds and tests wheels here, and
# PGO runs the whole regression suite. A static libpython, as in the manylinux images.
step "configure"
./configure --prefix="$prefix" --with-ensurepip=install >configure.log 2>&1 \
  || { tail -30 configure.log; exit 1; }
step "make -j${JOBS:-2} (log: $work/make.log)"
make -j"${JOBS:-2}" >make.log 2>&1 || { tail -40 make.log; exit 1; }
step "make altinstall"
make altinstall >install.log 2>&1 || { tail -40 install.log; exit 1; }
# The modules pip, venv and the checks need: a missing one means a missing -dev package.
"$prefix/bin/python$ver" -c 'import ssl, sqlite3, ctypes, zlib, lzma, bz2, venv, ensurepip'
"$prefix/bin/python$ver" -c 'import ssl, sys; print("cpython", sys.version.split()[0], ssl.OPENSSL_VERSION)'
touch "$prefix/.complete"
cd / && rm -rf "$work"
