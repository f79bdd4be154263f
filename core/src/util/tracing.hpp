// gRPC's own tracing (GRPC_TRACE, GRPC_VERBOSITY=debug) writes call metadata, API keys and refresh
// tokens included, to stderr. The server and the CLI warn at start when it is on. Header-only: the
// CLI is built on the C ABI and does not link core.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "encoding.hpp"

namespace momento::auth::detail {

// GRPC_TRACE is a comma-separated list of tracers; "-name" turns one off.
inline bool grpc_trace_list_enabled(std::string_view v) {
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = trim_ascii_whitespace(v.substr(0, comma));
    if (!item.empty() && item[0] != '-' && item != "none") return true;
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return false;
}

// A one-line warning naming the variables that turn tracing on; nullopt when it is off.
inline std::optional<std::string> grpc_tracing_warning() {
  std::string on;
  if (const char* t = std::getenv("GRPC_TRACE"); t && grpc_trace_list_enabled(t)) on = "GRPC_TRACE";
  if (const char* v = std::getenv("GRPC_VERBOSITY")) {
    std::string_view level = trim_ascii_whitespace(v);
    std::string lower;
    for (char c : level) lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
    if (lower == "debug") on += on.empty() ? "GRPC_VERBOSITY=debug" : " and GRPC_VERBOSITY=debug";
  }
  if (on.empty()) return std::nullopt;
  return "warning: gRPC tracing is on (" + on +
         "); its output can contain API keys and refresh tokens";
}

}  // namespace momento::auth::detail
