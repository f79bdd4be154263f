// nlohmann::json for text that holds secrets (token files, envelopes, Secrets Manager answers):
// every byte the parser or the values copy to the heap is wiped before it is freed.
#pragma once

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

namespace momento::auth::detail {

template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <class U>
  constexpr WipingAllocator(const WipingAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    OPENSSL_cleanse(p, n * sizeof(T));
    ::operator delete(p);
  }
  template <class U>
  bool operator==(const WipingAllocator<U>&) const noexcept { return true; }
};

using WipedString = std::basic_string<char, std::char_traits<char>, WipingAllocator<char>>;

// Strings (the lexer's token buffer, keys, values), objects, arrays and dump()'s output all
// allocate through WipingAllocator.
using SecretJson = nlohmann::basic_json<std::map, std::vector, WipedString, bool, std::int64_t,
                                        std::uint64_t, double, WipingAllocator>;
using OrderedSecretJson = nlohmann::basic_json<nlohmann::ordered_map, std::vector, WipedString, bool,
                                               std::int64_t, std::uint64_t, double, WipingAllocator>;

// The lexer also keeps the raw text of each token in a std::vector<char_type>, beyond
// basic_json's allocator. Read as WipedChar, whose std::allocator (below) wipes, that vector is
// wiped too.
enum class WipedChar : unsigned char {};

}  // namespace momento::auth::detail

template <>
struct std::allocator<momento::auth::detail::WipedChar>
    : momento::auth::detail::WipingAllocator<momento::auth::detail::WipedChar> {
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using propagate_on_container_move_assignment = std::true_type;
  using is_always_equal = std::true_type;
  allocator() = default;
  template <class U>
  constexpr allocator(const allocator<U>&) noexcept {}
};

namespace momento::auth::detail {

// True when the text is one JSON value as nlohmann::json reads it (RFC 8259, well-formed UTF-8,
// an optional byte order mark), checked in place, copying nothing (json_syntax.cpp). For
// malformed text nlohmann builds an error message quoting the token it stopped in, in ordinary
// strings freed unwiped, even with exceptions off: it is only ever given text that passed this.
bool json_syntax_ok(std::string_view text);

// The text as a JSON value, or a discarded value when it is not JSON. Callers name the problem
// themselves; nothing of nlohmann's error text (which quotes the input) reaches them.
inline SecretJson parse_secret_json(std::string_view text) {
  if (!json_syntax_ok(text)) return SecretJson(SecretJson::value_t::discarded);
  const auto* p = reinterpret_cast<const WipedChar*>(text.data());
  return SecretJson::parse(p, p + text.size(), nullptr, false);
}

inline bool is_json(std::string_view text) { return json_syntax_ok(text); }

}  // namespace momento::auth::detail
