// The readers of stored keys: token files (Download-JSON, docs/wire.md §11) parsed from text and
// read from a real file, the refresh journal, and the Secrets Manager GetSecretValue answer whose
// SecretString is a token file. A parsed token file writes back to JSON that parses to the same
// values; errors are momento::auth::Error and never quote the key or refresh token.
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz.hpp"
#include "momento/auth/credential.hpp"
#include "momento/auth/error.hpp"
#include "store/internal.hpp"

using namespace momento::auth;

namespace {

// The secrets a text carries, as far as a general JSON parser can tell. A message may name the
// file it read: a "secret" that is part of that path is no finding.
void check_not_echoed(std::string_view message, std::string_view text, std::string_view path = {}) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object() && j.contains("SecretString") && j["SecretString"].is_string())
    j = nlohmann::json::parse(j["SecretString"].get<std::string>(), nullptr, false);
  if (!j.is_object()) return;
  for (const char* k : {"authToken", "apiKey", "refreshToken"}) {
    if (j.contains(k) && j[k].is_string()) {
      const std::string& secret = j[k].get_ref<const std::string&>();
      if (!path.empty() && path.find(secret) != std::string_view::npos) continue;
      fuzz::check(!fuzz::echoes(message, secret), "an error message quotes a secret of the token file");
    }
  }
}

void check_round_trip(const Token& t) {
  Token back = parse_token_file_json(token_file_json(t));
  fuzz::check(back.api_key.reveal() == t.api_key.reveal() &&
                  back.refresh_token.reveal() == t.refresh_token.reveal() &&
                  back.valid_until == t.valid_until,
              "a token file does not read back as written");
}

// One scratch file per process, rewritten for each input.
const std::string& scratch_path() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    std::string p = std::string(dir && *dir ? dir : "/tmp") + "/momento-fuzz-XXXXXX";
    int fd = ::mkstemp(p.data());
    if (fd < 0) fuzz::fail("cannot create a scratch file");
    ::close(fd);
    std::atexit([] { ::unlink(scratch_path().c_str()); });
    return p;
  }();
  return path;
}

void write_scratch(std::string_view text) {
  FILE* f = std::fopen(scratch_path().c_str(), "wb");
  if (!f) fuzz::fail("cannot write the scratch file");
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  uint8_t mode = in.byte();
  std::string_view text = in.rest();
  try {
    switch (mode % 4) {
      case 0: check_round_trip(parse_token_file_json(text)); break;
      case 1: {
        StoreSnapshot s = aws::parse_secret_value(text, "fuzz/secret");
        check_round_trip(s.token);
        if (s.written_at_ms) fuzz::check(*s.written_at_ms >= 0, "a negative CreatedDate is taken as a write time");
        break;
      }
      case 2: {
        write_scratch(text);
        bool parsed = false;
        Token a;
        try {
          a = parse_token_file_json(text);
          parsed = true;
        } catch (const Error&) {
        }
        try {
          Token b = read_token_file(scratch_path());
          fuzz::check(parsed && b.api_key.reveal() == a.api_key.reveal(),
                      "reading the file and parsing its text disagree");
        } catch (const Error& e) {
          fuzz::check(!parsed, "a file whose text parses is refused");
          check_not_echoed(e.what(), text, scratch_path());
        }
        (void)Credential::from_file(scratch_path());
        break;
      }
      case 3:
        write_scratch(text);
        (void)detail::read_journal_file(scratch_path());
        break;
    }
  } catch (const Error& e) {
    check_not_echoed(e.what(), text, mode % 4 >= 2 ? std::string_view(scratch_path()) : std::string_view());
  }
  return 0;
}
