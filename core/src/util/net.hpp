// Host names: which ones are this machine's loopback. Header-only: the CLI, built on the C ABI,
// uses it without linking core.
#pragma once

#include <string_view>

namespace momento::auth::detail {

// localhost, ::1 (bracketed or not) or a dotted quad in 127.0.0.0/8. Literal, no name lookup:
// "127.0.0.1.example.com" and "localhost.evil" are not loopback.
constexpr bool is_loopback_host(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost" || host == "::1") return true;
  if (host.substr(0, 4) != "127.") return false;
  int parts = 0;
  for (size_t i = 0;; ++parts) {
    size_t j = host.find('.', i);
    if (j == std::string_view::npos) j = host.size();
    if (j == i || j - i > 3) return false;
    int value = 0;
    for (size_t k = i; k < j; ++k) {
      if (host[k] < '0' || host[k] > '9') return false;
      value = value * 10 + (host[k] - '0');
    }
    if (value > 255) return false;
    if (j == host.size()) return parts + 1 == 4;
    i = j + 1;
  }
}

}  // namespace momento::auth::detail
