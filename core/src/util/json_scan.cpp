#include "json_scan.hpp"

#include <openssl/crypto.h>

#include <array>
#include <cmath>
#include <cstring>


#include "momento/auth/secret.hpp"
#include "secret_json.hpp"

namespace momento::auth::detail {

WipedBuffer::~WipedBuffer() {
  if (used_ == 0) return;
  if (heap_) {
    OPENSSL_cleanse(heap_.get(), heap_size_);
  } else {
    OPENSSL_cleanse(inline_, used_);
  }
}

char* WipedBuffer::reserve(size_t n) {
  if (n <= sizeof inline_ && !heap_) {
    if (n > used_) used_ = n;
    return inline_;
  }
  if (n > heap_size_) {
    if (heap_) OPENSSL_cleanse(heap_.get(), heap_size_);
    if (used_ > 0 && !heap_) OPENSSL_cleanse(inline_, used_);
    heap_ = std::make_unique<char[]>(n);
    heap_size_ = n;
  }
  used_ = heap_size_;
  return heap_.get();
}

namespace {

bool is_json_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Characters that end a run of plain string bytes: a quote, a backslash, or a control
// character (which JSON does not allow unescaped).
constexpr auto kStringStop = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = t['\\'] = true;
  return t;
}();

}  // namespace

size_t json_plain_run(std::string_view s) noexcept {
  const char* p = s.data();
  const char* end = p + s.size();
  // Eight bytes at a time while none of them is a stop character (SWAR: a byte is zero after
  // the XOR, or below 0x20), then byte by byte to the exact one.
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
    uint64_t hit = ((q - kOnes) & ~q) | ((b - kOnes) & ~b) | ((w - kOnes * 0x20) & ~w);
    if (hit & kHigh) break;
    p += 8;
  }
  while (p < end && !kStringStop[static_cast<unsigned char>(*p)]) ++p;
  return static_cast<size_t>(p - s.data());
}

JsonObject::~JsonObject() {
  for (auto& s : owned_) wipe(s);
}

bool JsonObject::parse(std::string_view text) {
  count_ = 0;
  if (scan(text)) return true;
  count_ = 0;
  return parse_general(text);
}

// The fast subset: {"name":"string without escapes" | integer, ...}. False means "not in the
// subset", never "invalid": the general parser decides those.
bool JsonObject::scan(std::string_view text) noexcept {
  const char* p = text.data();
  const char* end = p + text.size();
  auto skip_ws = [&] {
    while (p < end && is_json_space(*p)) ++p;
  };
  // A string without escapes or control characters; p is at the opening quote.
  auto string = [&](std::string_view* out) {
    const char* start = ++p;
    p += json_plain_run(std::string_view(p, static_cast<size_t>(end - p)));
    if (p == end || *p != '"') return false;
    *out = std::string_view(start, static_cast<size_t>(p - start));
    ++p;
    return true;
  };
  skip_ws();
  if (p == end || *p != '{') return false;
  ++p;
  skip_ws();
  if (p < end && *p == '}') {
    ++p;
  } else {
    for (;;) {
      if (p == end || *p != '"' || count_ == kInline) return false;
      JsonMember& m = inline_[count_];
      m = JsonMember{};
      if (!string(&m.name)) return false;
      for (size_t i = 0; i < count_; ++i) {
        if (inline_[i].name == m.name) return false;  // duplicates: the general parser's rule
      }
      skip_ws();
      if (p == end || *p != ':') return false;
      ++p;
      skip_ws();
      if (p == end) return false;
      if (*p == '"') {
        m.type = JsonMember::Type::String;
        if (!string(&m.str)) return false;
      } else {
        // -?(0|[1-9][0-9]*), at most 19 digits so it fits; fractions and exponents go the
        // general way.
        bool negative = *p == '-';
        if (negative) ++p;
        const char* digits = p;
        uint64_t v = 0;
        while (p < end && *p >= '0' && *p <= '9') v = v * 10 + static_cast<uint64_t>(*p++ - '0');
        size_t n = static_cast<size_t>(p - digits);
        if (n == 0 || n > 19 || (n > 1 && *digits == '0')) return false;
        m.type = JsonMember::Type::Number;
        m.positive = (!negative && v >= 1 && v < 18000000000000000000ULL) ? v : 0;
      }
      ++count_;
      skip_ws();
      if (p == end) return false;
      if (*p == '}') {
        ++p;
        break;
      }
      if (*p != ',') return false;
      ++p;
      skip_ws();
    }
  }
  skip_ws();
  return p == end;
}

bool JsonObject::parse_general(std::string_view text) {
  SecretJson j = parse_secret_json(text);  // its strings hold secrets
  if (!j.is_object()) return false;
  is_general_ = true;
  owned_.reserve(2 * j.size());  // views point into these strings: they must never move
  general_.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    JsonMember m;
    m.name = owned_.emplace_back(it.key());
    const SecretJson& v = it.value();
    if (v.is_string()) {
      m.type = JsonMember::Type::String;
      m.str = owned_.emplace_back(v.get_ref<const SecretJson::string_t&>());
    } else if (v.is_number()) {
      m.type = JsonMember::Type::Number;
      if (v.is_number_unsigned()) {
        m.positive = v.get<uint64_t>();
      } else if (v.is_number_integer()) {
        int64_t x = v.get<int64_t>();
        m.positive = x > 0 ? static_cast<uint64_t>(x) : 0;
      } else {
        double x = v.get<double>();
        m.positive = std::isfinite(x) && x >= 1.0 && x < 1.8e19 ? static_cast<uint64_t>(x) : 0;
      }
    }
    general_.push_back(m);
  }
  return true;
}

const JsonMember* JsonObject::find(std::string_view name) const noexcept {
  const JsonMember* b = is_general_ ? general_.data() : inline_;
  size_t n = is_general_ ? general_.size() : count_;
  for (size_t i = 0; i < n; ++i) {
    if (b[i].name == name) return &b[i];
  }
  return nullptr;
}

const std::string_view* JsonObject::string(std::string_view name) const noexcept {
  const JsonMember* m = find(name);
  return m && m->type == JsonMember::Type::String ? &m->str : nullptr;
}

}  // namespace momento::auth::detail
