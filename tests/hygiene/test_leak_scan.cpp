// No secret in any log, error or display: the library's flows through the C ABI (parse, mint,
// refresh, replayed and wrong refresh tokens, disposable tokens, data calls with good and bad
// keys, a file store refreshed by the refresher) run against a real server with the library's
// log callback at DEBUG and the server logging every call (text and JSON). Everything printed is
// then searched for every key, envelope, refresh token and signing key the run produced.
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "momento/auth.h"
#include "server_process.hpp"

using momento::test::ServerProcess;

namespace {

struct Capture {
  std::mutex mu;
  std::string text;  // every message, error, display and event string seen
  void add(std::string_view s) {
    std::lock_guard<std::mutex> g(mu);
    text.append(s);
    text.push_back('\n');
  }
};
Capture g_capture;

void on_log(int32_t, const char* message, void*) { g_capture.add(message); }

struct Secrets {
  std::vector<std::string> all;
  void add(std::string_view s) {
    if (s.size() >= 16) all.emplace_back(s);
  }
};

// Records a failed call's message and frees the error; returns the status.
momento_status_t note(momento_status_t st, momento_error_t* e) {
  if (e) {
    g_capture.add(momento_error_message(e));
    momento_error_free(e);
  }
  return st;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void run_flows(ServerProcess& server, Secrets& secrets) {
  momento_error_t* e = nullptr;
  momento_endpoint_override_t* ovr = nullptr;
  REQUIRE(momento_endpoint_override_new_single(&ovr, server.address().c_str(), 0, nullptr) == MOMENTO_OK);
  const std::string boot = server.bootstrap_envelope();
  secrets.add(boot);
  secrets.add(server.bootstrap_raw_key());

  momento_credential_t* su = nullptr;
  REQUIRE(momento_credential_from_string(&su, boot.c_str(), ovr, nullptr) == MOMENTO_OK);
  g_capture.add(momento_credential_redacted(su));
  g_capture.add(momento_credential_redacted_key(su));
  momento_auth_client_t* client = nullptr;
  REQUIRE(momento_auth_client_new(&client, su, nullptr, nullptr) == MOMENTO_OK);

  momento_scope_t* scope = nullptr;
  REQUIRE(momento_scope_new_predefined(&scope, MOMENTO_SCOPE_ALL_DATA_READ_WRITE, nullptr) == MOMENTO_OK);
  momento_expires_in_t* hour = nullptr;
  REQUIRE(momento_expires_in_new(&hour, MOMENTO_EXPIRES_HOURS, 1, nullptr) == MOMENTO_OK);
  momento_token_t* tok = nullptr;
  REQUIRE(momento_auth_client_generate_api_key(&tok, client, scope, hour, nullptr) == MOMENTO_OK);
  const std::string key = momento_token_api_key(tok), refresh = momento_token_refresh_token(tok);
  secrets.add(key);
  secrets.add(refresh);
  char* json = nullptr;
  REQUIRE(momento_token_to_json(&json, tok, nullptr) == MOMENTO_OK);
  momento_free(json);

  // Refresh with the new key; then replay the consumed refresh token and use a wrong one.
  momento_credential_t* cred = nullptr;
  REQUIRE(momento_credential_from_string(&cred, key.c_str(), ovr, nullptr) == MOMENTO_OK);
  g_capture.add(momento_credential_redacted(cred));
  momento_auth_client_t* kc = nullptr;
  REQUIRE(momento_auth_client_new(&kc, cred, nullptr, nullptr) == MOMENTO_OK);
  momento_token_t* next = nullptr;
  REQUIRE(momento_auth_client_refresh_api_key(&next, kc, refresh.c_str(), nullptr) == MOMENTO_OK);
  secrets.add(momento_token_api_key(next));
  secrets.add(momento_token_refresh_token(next));
  momento_token_t* junk = nullptr;
  std::string wrong = refresh;
  wrong[wrong.size() / 2] = wrong[wrong.size() / 2] == 'A' ? 'B' : 'A';
  e = nullptr;
  CHECK(note(momento_auth_client_refresh_api_key(&junk, kc, wrong.c_str(), &e), e) != MOMENTO_OK);
  momento_token_free(junk);

  // A disposable token, and keys that do not work.
  momento_token_t* disp = nullptr;
  momento_expires_in_t* minute = nullptr;
  REQUIRE(momento_expires_in_new(&minute, MOMENTO_EXPIRES_MINUTES, 5, nullptr) == MOMENTO_OK);
  momento_scope_t* items = nullptr;
  REQUIRE(momento_scope_new(&items, nullptr) == MOMENTO_OK);
  REQUIRE(momento_scope_add_cache_items(items, MOMENTO_CACHE_READ_WRITE, "c", MOMENTO_ITEMS_KEY, "k", 1, nullptr) == MOMENTO_OK);
  e = nullptr;
  if (note(momento_auth_client_generate_disposable_token(&disp, client, items, minute, "hygiene", &e), e) == MOMENTO_OK)
    secrets.add(momento_token_api_key(disp));
  momento_token_free(disp);

  // Data calls: a valid key, a tampered one, a revoked-by-refresh-replay one.
  momento_data_client_t* data = nullptr;
  REQUIRE(momento_data_client_new(&data, su, nullptr, nullptr) == MOMENTO_OK);
  e = nullptr;
  note(momento_data_client_create_cache(data, "c", &e), e);
  e = nullptr;
  note(momento_data_client_set(data, "c", "k", 1, "v", 1, 60000, &e), e);
  momento_data_client_free(data);
  std::string tampered = key;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  secrets.add(tampered);
  for (const std::string& bad : {tampered, wrong, key + "x", std::string("not a key at all, but long")}) {
    momento_credential_t* bc = nullptr;
    e = nullptr;
    if (note(momento_credential_from_string(&bc, bad.c_str(), ovr, &e), e) != MOMENTO_OK) continue;
    momento_data_client_t* bd = nullptr;
    REQUIRE(momento_data_client_new(&bd, bc, nullptr, nullptr) == MOMENTO_OK);
    int32_t hit = 0;
    char* value = nullptr;
    size_t len = 0;
    e = nullptr;
    note(momento_data_client_get(&hit, &value, &len, bd, "c", "k", 1, &e), e);
    momento_free(value);
    momento_data_client_free(bd);
    momento_credential_free(bc);
  }

  // A file store refreshed by the refresher: its events carry only redacted keys.
  std::string file = server.data_dir() + "/hygiene-token.json";
  REQUIRE(momento_token_write_file(next, file.c_str(), nullptr) == MOMENTO_OK);
  momento_store_t* store = nullptr;
  REQUIRE(momento_store_new(&store, ("file:" + file).c_str(), nullptr, nullptr) == MOMENTO_OK);
  momento_refresher_t* r = nullptr;
  REQUIRE(momento_refresher_new(&r, store, nullptr, ovr, nullptr, nullptr) == MOMENTO_OK);
  for (int i = 0; i < 2; ++i) {
    momento_refresh_event_t* ev = nullptr;
    e = nullptr;
    if (note(momento_refresher_refresh_now(&ev, r, &e), e) == MOMENTO_OK && ev) {
      for (const char* s : {momento_refresh_event_error_message(ev), momento_refresh_event_redacted_key(ev),
                            momento_refresh_event_key_fingerprint(ev), momento_refresh_event_store(ev)})
        if (s) g_capture.add(s);
    }
    momento_refresh_event_free(ev);
  }
  auto stored = nlohmann::json::parse(read_file(file));
  secrets.add(stored.at("authToken").get<std::string>());
  secrets.add(stored.at("refreshToken").get<std::string>());
  momento_refresher_free(r);
  momento_store_free(store);

  momento_token_free(next);
  momento_auth_client_free(kc);
  momento_credential_free(cred);
  momento_token_free(tok);
  momento_scope_free(items);
  momento_scope_free(scope);
  momento_expires_in_free(minute);
  momento_expires_in_free(hour);
  momento_auth_client_free(client);
  momento_credential_free(su);
  momento_endpoint_override_free(ovr);

  for (auto& k : nlohmann::json::parse(read_file(server.data_dir() + "/signing-keys.json")).at("keys"))
    secrets.add(k.at("secret").get<std::string>());
}

}  // namespace

TEST_CASE("no key, refresh token or signing key in any log, error or display", "[hygiene][live]") {
  for (const char* format : {"text", "json"}) {
    g_capture.text.clear();
    REQUIRE(momento_log_set_callback(MOMENTO_LOG_DEBUG, on_log, nullptr, nullptr, nullptr) == MOMENTO_OK);
    Secrets secrets;
    {
      ServerProcess server(std::vector<std::string>{"--log-format", format});
      run_flows(server, secrets);
      server.stop();
      g_capture.add(server.log());
    }
    REQUIRE(momento_log_set_callback(MOMENTO_LOG_DEBUG, nullptr, nullptr, nullptr, nullptr) == MOMENTO_OK);
    INFO("server log format " << format << ", " << secrets.all.size() << " secrets, "
                              << g_capture.text.size() << " bytes of output searched");
    REQUIRE(secrets.all.size() >= 10);
    REQUIRE(g_capture.text.find("hygiene") != std::string::npos);  // the output was captured
    for (const auto& s : secrets.all) {
      // Every secret, and any 16-byte piece of it.
      for (size_t at = 0; at + 16 <= s.size(); at += 8) {
        auto piece = s.substr(at, 16);
        INFO("secret piece " << piece.substr(0, 4) << "...");
        CHECK(g_capture.text.find(piece) == std::string::npos);
      }
    }
  }
}
