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

// True when an error message quotes the secret. Only secrets shaped like keys count: at least 12
// bytes, a digit, no space. Otherwise the fuzzer soon learns to pass a piece of the fixed message
// text itself ("it is neither a base64 v1 envelope nor a JWT") as the credential.
inline bool echoes(std::string_view message, std::string_view secret) {
  if (secret.size() < 12 || secret.find(' ') != std::string_view::npos ||
      secret.find_first_of("0123456789") == std::string_view::npos)
    return false;
  return message.find(secret) != std::string_view::npos;
}

}  // namespace fuzz
