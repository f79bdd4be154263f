#!/bin/bash
# cibuildwheel's before-all step of .github/workflows/wheels.yml (NOT RUN HERE: see that file):
# the C++ dependencies inside a manylinux_2_28 (AlmaLinux 8) or musllinux_1_2 (Alpine) image.
set -euxo pipefail
if command -v apk >/dev/null; then
  apk add --no-cache grpc-dev grpc-plugins protobuf-dev openssl-dev curl-dev sqlite-dev \
    nlohmann-json cli11 pugixml-dev pkgconf
  exit 0
fi
dnf install -y openssl-devel libcurl-devel sqlite-devel git
# gRPC (with its bundled Protobuf, Abseil, c-ares, RE2) from source, installed in /usr/local.
grpc_version=v1.66.2
git clone --depth 1 --recurse-submodules --shallow-submodules -b "$grpc_version" \
  https://github.com/grpc/grpc /tmp/grpc
cmake -S /tmp/grpc -B /tmp/grpc/build -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=Release \
  -DgRPC_INSTALL=ON -DgRPC_BUILD_TESTS=OFF -DgRPC_SSL_PROVIDER=package \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_INSTALL_PREFIX=/usr/local
cmake --build /tmp/grpc/build -j"$(nproc)" --target install
# Header-only libraries.
git clone --depth 1 -b v3.11.3 https://github.com/nlohmann/json /tmp/json
cmake -S /tmp/json -B /tmp/json/build -DJSON_BuildTests=OFF && cmake --build /tmp/json/build --target install
git clone --depth 1 -b v1.14 https://github.com/zeux/pugixml /tmp/pugixml
cmake -S /tmp/pugixml -B /tmp/pugixml/build -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF \
  && cmake --build /tmp/pugixml/build -j"$(nproc)" --target install
git clone --depth 1 -b v2.4.2 https://github.com/CLIUtils/CLI11 /tmp/cli11
cmake -S /tmp/cli11 -B /tmp/cli11/build -DCLI11_BUILD_TESTS=OFF -DCLI11_BUILD_EXAMPLES=OFF \
  && cmake --build /tmp/cli11/build --target install
