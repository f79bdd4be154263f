// A JSON syntax check that copies nothing, run before nlohmann::json parses text that may hold a
// secret (secret_json.hpp): for malformed text nlohmann builds an error message that quotes the
// token it stopped in, in ordinary strings freed unwiped, even with exceptions off.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "encoding.hpp"
#include "secret_json.hpp"

namespace momento::auth::detail {
namespace {

class Syntax {
 public:
  // nlohmann's lexer takes a NUL byte for the end of the input (inside a string it is an error
  // either way): the text ends at the first one.
  explicit Syntax(std::string_view text)
      : p_(reinterpret_cast<const unsigned char*>(text.data())),
        end_(p_ + std::min(text.size(), text.find('\0'))) {}

  bool document() {
    // As nlohmann's lexer: a UTF-8 byte order mark may come first, whole.
    if (p_ < end_ && *p_ == 0xEF) {
      if (end_ - p_ < 3 || p_[1] != 0xBB || p_[2] != 0xBF) return false;
      p_ += 3;
    }
    enum class State { Value, Key, After } state = State::Value;
    std::vector<bool> open;  // one per enclosing container: true for an object
    for (;;) {
      space();
      switch (state) {
        case State::Value:
          if (p_ == end_) return false;
          if (*p_ == '{' || *p_ == '[') {
            const bool object = *p_++ == '{';
            space();
            if (p_ < end_ && *p_ == (object ? '}' : ']')) {
              ++p_;
              state = State::After;
            } else {
              open.push_back(object);
              state = object ? State::Key : State::Value;
            }
          } else {
            if (!scalar()) return false;
            state = State::After;
          }
          break;
        case State::Key:
          if (p_ == end_ || *p_ != '"' || !string()) return false;
          space();
          if (p_ == end_ || *p_++ != ':') return false;
          state = State::Value;
          break;
        case State::After:
          if (open.empty()) return p_ == end_;
          if (p_ == end_) return false;
          if (*p_ == ',') {
            ++p_;
            state = open.back() ? State::Key : State::Value;
          } else if (*p_ == (open.back() ? '}' : ']')) {
            ++p_;
            open.pop_back();
          } else {
            return false;
          }
          break;
      }
    }
  }

 private:
  void space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(reinterpret_cast<const char*>(p_), word.size()) != word)
      return false;
    p_ += word.size();
    return true;
  }

  bool digits() {
    const unsigned char* start = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ > start;
  }

  bool number() {
    const unsigned char* start = p_;
    if (*p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') ++p_;
    else if (!digits()) return false;
    if (p_ < end_ && *p_ == '.' && (++p_, !digits())) return false;
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    // nlohmann refuses a number beyond a double's range (1e999); a number is never a secret.
    const std::string text(reinterpret_cast<const char*>(start), static_cast<size_t>(p_ - start));
    return std::isfinite(std::strtod(text.c_str(), nullptr));
  }

  bool scalar() {
    switch (*p_) {
      case '"': return string();
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) && number();
    }
  }

  bool hex4(unsigned& v) {
    if (end_ - p_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
      const unsigned c = *p_;
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return false;
    }
    return true;
  }

  bool string() {
    ++p_;  // the opening quote
    while (p_ < end_) {
      const unsigned c = *p_++;
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (p_ == end_) return false;
        const unsigned e = *p_++;
        if (e == 'u') {
          unsigned u;
          if (!hex4(u) || (u >= 0xDC00 && u <= 0xDFFF)) return false;
          // A high surrogate must be followed by an escaped low one.
          if (u >= 0xD800 && u <= 0xDBFF &&
              (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u' || (p_ += 2, !hex4(u)) || u < 0xDC00 || u > 0xDFFF))
            return false;
        } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
          return false;
        }
      }
    }
    return false;
  }

  const unsigned char* p_;
  const unsigned char* end_;
};

}  // namespace

bool json_syntax_ok(std::string_view text) {
  // nlohmann takes well-formed UTF-8 only (outside strings no byte above 0x7F is JSON at all):
  // core's one UTF-8 rule, then the grammar.
  return is_valid_utf8(text.substr(0, text.find('\0'))) && Syntax(text).document();
}

}  // namespace momento::auth::detail
