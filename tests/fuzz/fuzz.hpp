// Shared by the fuzz targets: the libFuzzer entry point and a reader that splits one input into
// the several arguments a call takes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fuzz {

// Reads an input front to back: small integers from single bytes, strings up to a separator
// byte (0xFF, never part of UTF-8, so seeds stay readable). Past the end everything is 0 / "".
class Input {
 public:
  Input(const uint8_t* data, size_t size)
      : s_(reinterpret_cast<const char*>(data), size) {}
  uint8_t byte() { return pos_ < s_.size() ? static_cast<uint8_t>(s_[pos_++]) : 0; }
  // The text up to the next separator (or the end), the separator consumed.
  std::string_view field() {
    size_t end = s_.find('\xFF', pos_);
    if (end == std::string_view::npos) end = s_.size();
    std::string_view out = s_.substr(pos_, end - pos_);
    pos_ = end < s_.size() ? end + 1 : end;
    return out;
  }
  std::string_view rest() {
    std::string_view out = s_.substr(pos_);
    pos_ = s_.size();
    return out;
  }
  template <class T>
  T number() {
    T v{};
    unsigned char* p = reinterpret_cast<unsigned char*>(&v);
    for (size_t i = 0; i < sizeof(T); ++i) p[i] = byte();
    return v;
  }
  bool empty() const { return pos_ >= s_.size(); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// An invariant broke: report it the way a sanitizer would, so both the fuzzer and the
// regression driver stop on it.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}
inline void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// True when an error message quotes the secret (long enough that a match is not chance).
inline bool echoes(std::string_view message, std::string_view secret) {
  return secret.size() >= 12 && message.find(secret) != std::string_view::npos;
}

}  // namespace fuzz
