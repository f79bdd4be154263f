// The flat JSON objects inside credentials: the v1 envelope and the header and payload of a JWT.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace momento::auth::detail {

// A scratch buffer for decoded secrets: inline for the sizes real keys have, on the heap beyond,
// wiped (OPENSSL_cleanse) on destruction either way.
class WipedBuffer {
 public:
  WipedBuffer() = default;
  WipedBuffer(const WipedBuffer&) = delete;
  WipedBuffer& operator=(const WipedBuffer&) = delete;
  ~WipedBuffer();
  // Room for n bytes; earlier contents are not kept.
  char* reserve(size_t n);

 private:
  char inline_[1024];
  std::unique_ptr<char[]> heap_;
  size_t heap_size_ = 0;
  size_t used_ = 0;  // bytes handed out, wiped at the end
};

struct JsonMember {
  enum class Type { String, Number, Other };
  std::string_view name;
  Type type = Type::Other;
  std::string_view str;  // String: the value, unescaped
  // Number: the value truncated toward zero when it is at least 1 and below 1.8e19, else 0
  // (a JWT's `exp` rule, docs/wire.md §4.5).
  uint64_t positive = 0;
};

// The length of the longest prefix of `s` without '"', '\\' or control characters: the bytes a
// JSON string holds as they are. Eight bytes per step.
size_t json_plain_run(std::string_view s) noexcept;

// The members of one JSON object (surrounding JSON whitespace allowed), as nlohmann::json reads
// it. Objects whose members are strings without escapes or integers, each name once (every
// credential real services issue), are scanned in place: no allocation, views into the text,
// which must outlive this object. Any other text goes through nlohmann::json, which decides
// what is valid; its strings are then copied here and wiped on destruction.
class JsonObject {
 public:
  JsonObject() = default;
  JsonObject(const JsonObject&) = delete;
  JsonObject& operator=(const JsonObject&) = delete;
  ~JsonObject();

  // False when the text is not a JSON object. The text must be valid UTF-8 (both callers check
  // it first): the in-place scan does not look for bad UTF-8 inside strings.
  bool parse(std::string_view text);
  // The member of that name, or nullptr.
  const JsonMember* find(std::string_view name) const noexcept;
  // A member's value when it is a string, else nullptr.
  const std::string_view* string(std::string_view name) const noexcept;

 private:
  bool scan(std::string_view text) noexcept;
  bool parse_general(std::string_view text);

  static constexpr size_t kInline = 12;
  JsonMember inline_[kInline];
  size_t count_ = 0;
  std::vector<JsonMember> general_;  // members read by nlohmann::json
  std::vector<std::string> owned_;   // their names and strings; reserved up front, never moved
  bool is_general_ = false;
};

}  // namespace momento::auth::detail
