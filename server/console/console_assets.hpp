// The console's page, embedded in the binary at build time (embed.cmake): it works offline.
#pragma once

#include <cstddef>
#include <string_view>

namespace momento::server {

struct ConsoleAsset {
  const char* path;  // "/console.js"
  const char* type;  // Content-Type
  const unsigned char* data;
  size_t size;
};

const ConsoleAsset* find_console_asset(std::string_view path);

}  // namespace momento::server
