#!/bin/bash
# Runs inside the Debian 11 chroot (scripts/build-wheels): libcurl from Debian 12's source
# package (7.88.1 with Debian's security patches) into /opt/curl. Debian 11's libcurl is 7.74,
# older than the options core uses (CURLOPT_PROTOCOLS_STR 7.85, CURLOPT_AWS_SIGV4 7.75). Only
# HTTP and HTTPS over Debian 11's OpenSSL; auditwheel vendors the library into each wheel.
set -euo pipefail
dsc=$1
prefix=/opt/curl
[ -f "$prefix/.complete" ] && exit 0
work=/var/tmp/curl
rm -rf "$work" "$prefix"
mkdir -p "$work"
cd "$work"
dpkg-source --no-check -x "$dsc" src >/dev/null   # hashes were checked by apt on download
cd src
echo "libcurl: configure"
./configure --prefix="$prefix" --with-openssl --enable-shared --disable-static \
  --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet --disable-tftp \
  --disable-pop3 --disable-imap --disable-smtp --disable-gopher --disable-mqtt --disable-smb \
  --disable-manual --without-libpsl --without-brotli --without-zstd --without-libidn2 \
  --without-nghttp2 --without-librtmp --without-libssh2 >configure.log 2>&1 \
  || { tail -30 configure.log; exit 1; }
echo "libcurl: make -j${JOBS:-2}"
make -j"${JOBS:-2}" >make.log 2>&1 || { tail -40 make.log; exit 1; }
make install >install.log 2>&1 || { tail -40 install.log; exit 1; }
"$prefix/bin/curl-config" --version
touch "$prefix/.complete"
cd / && rm -rf "$work"
