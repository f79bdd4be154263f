// Helpers shared by the core test files.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "momento/auth/error.hpp"

namespace core_test {

// Runs fn, requires it to throw Error(InvalidArgument) and returns the message.
// When `secret` is non-empty the message must not contain it.
inline std::string expect_invalid(const std::function<void()>& fn, const std::string& secret = {}) {
  try {
    fn();
  } catch (const momento::auth::Error& e) {
    CHECK(e.code() == momento::auth::ErrorCode::InvalidArgument);
    CHECK(std::string(momento::auth::error_code_name(e.code())) == "INVALID_ARGUMENT_ERROR");
    std::string msg = e.what();
    CHECK_FALSE(msg.empty());
    if (!secret.empty()) {
      INFO("message: " << msg);
      CHECK(msg.find(secret) == std::string::npos);
    }
    return msg;
  } catch (const std::exception& e) {
    FAIL("expected momento::auth::Error, got std::exception: " << e.what());
  }
  FAIL("expected an InvalidArgument error, nothing was thrown");
  return {};
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

inline const nlohmann::json& vectors() {
  static const nlohmann::json doc = [] {
    std::ifstream in(std::string(MOMENTO_SPEC_DIR) + "/vectors.json");
    if (!in) throw std::runtime_error("cannot open vectors.json in " MOMENTO_SPEC_DIR);
    return nlohmann::json::parse(in);
  }();
  return doc;
}

inline const nlohmann::json& vector_by_id(const std::string& id) {
  for (const auto& v : vectors().at("vectors")) {
    if (v.at("id") == id) return v;
  }
  throw std::runtime_error("no vector " + id);
}

inline std::string to_hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

inline std::string from_hex(const std::string& hex) {
  REQUIRE(hex.size() % 2 == 0);
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

}  // namespace core_test
