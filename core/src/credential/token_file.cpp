// Token files in the console's Download-JSON shape (docs/wire.md §11).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>

#include "../util/encoding.hpp"
#include "../util/files.hpp"
#include "../util/secret_json.hpp"
#include "momento/auth/display.hpp"
#include "momento/auth/store.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/error.hpp"

namespace momento::auth {

namespace {

// Token files hold one key and a refresh token; anything much larger is not a token file.
constexpr size_t kMaxTokenFileSize = 64 * 1024;

using detail::OrderedSecretJson;

ExpiresAt parse_valid_until(const OrderedSecretJson& v) {
  if (v.is_null()) return ExpiresAt::never();
  if (v.is_number_unsigned()) return ExpiresAt::from_epoch(v.get<uint64_t>());
  if (v.is_number_integer()) {
    int64_t n = v.get<int64_t>();
    if (n < 0) throw_invalid("token file validUntil cannot be negative");
    return ExpiresAt::from_epoch(static_cast<uint64_t>(n));
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d < 0 || d != std::floor(d) || d >= 1.8446744073709552e19) {
      throw_invalid("token file validUntil must be a whole, non-negative number of seconds");
    }
    return ExpiresAt::from_epoch(static_cast<uint64_t>(d));
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const OrderedSecretJson::string_t&>();
    if (s.empty() || s.size() > 20) {
      throw_invalid("token file validUntil must be a decimal number of epoch seconds");
    }
    uint64_t n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') {
        throw_invalid("token file validUntil must be a decimal number of epoch seconds");
      }
      uint64_t digit = static_cast<uint64_t>(c - '0');
      if (n > (UINT64_MAX - digit) / 10) throw_invalid("token file validUntil is out of range");
      n = n * 10 + digit;
    }
    return ExpiresAt::from_epoch(n);
  }
  throw_invalid("token file validUntil must be a number or a decimal string");
}

// The text with each comma that comes right before a '}' or ']' (whitespace between) left out,
// outside strings: what hand-edited secrets carry and JSON does not allow.
detail::WipedString without_trailing_commas(std::string_view s) {
  detail::WipedString out;
  out.reserve(s.size());
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == ',') {
      const size_t next = s.find_first_not_of(" \t\r\n", i + 1);
      if (next != std::string_view::npos && (s[next] == '}' || s[next] == ']')) continue;
    }
    out += c;
  }
  return out;
}

// As detail::parse_secret_json, keeping the members' order; then once more without trailing
// commas.
OrderedSecretJson parse_lenient(std::string_view json) {
  auto parse = [](std::string_view text) {
    if (!detail::json_syntax_ok(text)) return OrderedSecretJson(OrderedSecretJson::value_t::discarded);
    const auto* p = reinterpret_cast<const detail::WipedChar*>(text.data());
    return OrderedSecretJson::parse(p, p + text.size(), nullptr, false);
  };
  OrderedSecretJson j = parse(json);
  if (!j.is_discarded()) return j;
  const detail::WipedString fixed = without_trailing_commas(json);
  return parse(fixed);
}

constexpr const char* kKeyMembers[] = {"authToken", "apiKey", "apiToken"};

}  // namespace

struct TokenJson::Doc {
  OrderedSecretJson json;
  const char* key_member;
  bool valid_until_number;
};

Token parse_token_file_json(std::string_view json, TokenJson* shape) {
  if (json.size() > kMaxTokenFileSize) throw_invalid("token file is too large");
  if (!detail::is_valid_utf8(json)) throw_invalid("token file is not valid UTF-8");
  // Every copy the parser makes is wiped when freed.
  OrderedSecretJson j = parse_lenient(json);
  if (j.is_discarded()) throw_invalid("token file is not valid JSON");
  if (!j.is_object()) throw_invalid("token file JSON is not an object");

  Token t;
  // "authToken" is what the console writes; the SDKs now call the same member "apiKey", and
  // some tools "apiToken".
  const char* member = nullptr;
  auto at = j.end();
  for (const char* m : kKeyMembers) {
    at = j.find(m);
    member = m;
    if (at != j.end() && !at->is_null()) break;
  }
  if (at == j.end() || at->is_null()) throw_invalid("token file has no authToken (or apiKey)");
  if (!at->is_string()) throw_invalid("token file authToken is not a string");
  const auto& key = at->get_ref<const OrderedSecretJson::string_t&>();
  if (key.empty()) throw_invalid("token file authToken is empty");
  t.api_key = Secret(std::string(key));

  auto rt = j.find("refreshToken");
  if (rt != j.end() && !rt->is_null()) {
    if (!rt->is_string()) throw_invalid("token file refreshToken is not a string");
    t.refresh_token = Secret(std::string(rt->get_ref<const OrderedSecretJson::string_t&>()));
  }

  auto vu = j.find("validUntil");
  const bool number = vu != j.end() && vu->is_number();
  if (vu != j.end()) t.valid_until = parse_valid_until(*vu);
  if (shape != nullptr)
    shape->doc_ = std::make_shared<const TokenJson::Doc>(TokenJson::Doc{std::move(j), member, number});
  return t;
}

std::string token_file_json(const Token& t, const TokenJson& shape) {
  if (t.api_key.empty()) throw_invalid("token file authToken cannot be empty");
  if (!detail::is_valid_utf8(t.api_key.reveal())) throw_invalid("token file authToken is not valid UTF-8");
  if (!detail::is_valid_utf8(t.refresh_token.reveal())) {
    throw_invalid("token file refreshToken is not valid UTF-8");
  }
  const TokenJson::Doc* doc = shape.doc_.get();
  OrderedSecretJson j = doc ? doc->json : OrderedSecretJson::object();
  j[doc ? doc->key_member : "authToken"] = t.api_key.reveal();
  j["refreshToken"] = t.refresh_token.reveal();
  const uint64_t valid_until = t.valid_until.epoch();  // 0 = never
  if (doc && doc->valid_until_number)
    j["validUntil"] = valid_until;
  else
    j["validUntil"] = std::to_string(valid_until);
  return std::string(j.dump());
}

Secret read_key_file_text(const std::string& path, std::string_view what) {
  const std::string name(what);
  if (path.empty()) throw_invalid(name + " path cannot be empty");
  try {
    return Secret(detail::read_regular_file(path, kMaxTokenFileSize, what));
  } catch (const Error& e) {
    // A file that is absent is a wrong argument, like any other unusable path.
    if (e.code() == ErrorCode::NotFound)
      throw_invalid(name + " " + shown_path(path) + " is missing (no such file)");
    throw;
  }
}

Token read_token_file(const std::string& path) {
  Secret content = read_key_file_text(path, "token file");
  try {
    return parse_token_file_json(content.reveal());
  } catch (const Error& e) {
    throw Error(e.code(), "token file " + shown_path(path) + ": " + e.what());
  }
}

void write_token_file(const std::string& path, const Token& t) {
  if (path.empty()) throw_invalid("token file path cannot be empty");
  std::string text = token_file_json(t);
  try {
    atomic_write_file(path, text, 0600);
  } catch (const Error& e) {
    wipe(text);
    // Every failure to write a token file is about the path the caller gave.
    if (e.code() == ErrorCode::NotFound) throw Error(ErrorCode::InvalidArgument, e.what());
    throw;
  } catch (...) {
    wipe(text);
    throw;
  }
  wipe(text);
}

std::string Token::base_endpoint() const {
  return endpoint.empty() ? base_endpoint_of_key(api_key.reveal()) : endpoint;
}

std::string base_endpoint_of_key(std::string_view auth_token) {
  try {
    return Credential::from_string(auth_token).base_endpoint();
  } catch (const Error&) {
    return "";  // not a key that names its endpoint
  }
}

}  // namespace momento::auth
