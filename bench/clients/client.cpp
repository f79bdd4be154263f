// bench/run's driver for our C ABI (`c_abi`) and the C++ wrapper over it (`cpp`): one client,
// the call asked for, batches served as driver.hpp says. `c_queued` makes the same calls as a C
// event loop would (not a bench/run contender; go/ab.py takes it).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "driver.hpp"
#include "momento/auth.h"
#include "momento/auth.hpp"

namespace {

[[noreturn]] void fail(const char* what, momento_error_t* err) {
  std::fprintf(stderr, "%s: %s\n", what, err ? momento_error_message(err) : "?");
  std::exit(1);
}

#define CHECK(call, what) \
  do {                                                \
    momento_error_t* err_ = nullptr;                  \
    if ((call(&err_)) != MOMENTO_OK) fail(what, err_); \
  } while (0)

// `c_queued`: a C event loop's form of the same calls: each starts with its *_queued call, then
// the thread sleeps in poll() on the queue's socket until the outcome can be popped.
struct Queued {
  momento_completion_queue_t* queue = nullptr;
  int fd = -1;
  uint64_t next_id = 1;
  Queued() {
    CHECK([&](momento_error_t** e) { return momento_completion_queue_new(&queue, &fd, e); }, "queue");
  }
  ~Queued() {
    momento_completion_queue_free(queue);
    ::close(fd);
  }
  momento_status_t wait(uint64_t id, momento_token_t** t, momento_error_t** err) {
    for (;;) {
      uint64_t got = 0;
      if (momento_completion_queue_pop(queue, &got, t, err) == 1) {
        if (got != id) fail("queue", nullptr);
        return *err ? momento_error_code(*err) : MOMENTO_OK;
      }
      pollfd p{fd, POLLIN, 0};
      ::poll(&p, 1, -1);
      char buf[64];
      while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
      }
    }
  }
};

void run_c(const nlohmann::json& req, bool queued) {
  const std::string version = momento_version_string();
  const std::string call = req.at("call");
  const std::string addr = req.at("address");
  const std::string v1 = req.at("v1"), v2 = req.at("v2_key"), v2_ep = req.at("v2_endpoint");
  const std::string disposable = req.at("disposable");
  if (call == "parse_v1" || call == "parse_v2" || call == "parse_disposable") {
    bench::serve(req, version, [&] {
      momento_credential_t* c = nullptr;
      momento_error_t* err = nullptr;
      momento_status_t st =
          call == "parse_v1" ? momento_credential_from_string(&c, v1.c_str(), nullptr, &err)
          : call == "parse_v2"
              ? momento_credential_from_v2(&c, v2.c_str(), v2_ep.c_str(), nullptr, &err)
              : momento_credential_from_disposable_token(&c, disposable.c_str(), nullptr, &err);
      if (st != MOMENTO_OK) fail("parse", err);
      momento_credential_free(c);
    });
    return;
  }
  momento_endpoint_override_t* o = nullptr;
  CHECK([&](momento_error_t** e) { return momento_endpoint_override_new_single(&o, addr.c_str(), 0, e); },
        "override");
  const std::string key = call == "refresh" ? req.at("refresh_envelope") : req.at("super_envelope");
  momento_credential_t* cred = nullptr;
  CHECK([&](momento_error_t** e) { return momento_credential_from_string(&cred, key.c_str(), o, e); },
        "credential");
  momento_auth_client_t* client = nullptr;
  CHECK([&](momento_error_t** e) { return momento_auth_client_new(&client, cred, nullptr, e); },
        "client");
  momento_scope_t* scope = nullptr;
  momento_expires_in_t* exp = nullptr;
  if (call == "generate") {
    CHECK([&](momento_error_t** e) {
      return momento_scope_new_predefined(&scope, MOMENTO_SCOPE_ALL_DATA_READ_WRITE, e);
    }, "scope");
    CHECK([&](momento_error_t** e) { return momento_expires_in_new(&exp, MOMENTO_EXPIRES_HOURS, 1, e); },
          "expires");
  } else if (call == "disposable") {
    const std::string cache = req.at("cache");
    CHECK([&](momento_error_t** e) { return momento_scope_new(&scope, e); }, "scope");
    CHECK([&](momento_error_t** e) {
      return momento_scope_add_cache_items(scope, MOMENTO_CACHE_READ_WRITE, cache.c_str(),
                                           MOMENTO_ITEMS_KEY, "k", 1, e);
    }, "scope item");
    CHECK([&](momento_error_t** e) { return momento_expires_in_new(&exp, MOMENTO_EXPIRES_MINUTES, 5, e); },
          "expires");
  }
  const std::string rt = req.value("refresh_token", "");
  std::optional<Queued> q;
  if (queued) q.emplace();
  bench::serve(req, version, [&] {
    momento_token_t* t = nullptr;
    momento_error_t* err = nullptr;
    momento_status_t st;
    if (queued) {
      const uint64_t id = q->next_id++;
      st = call == "refresh"
               ? momento_auth_client_refresh_api_key_queued(client, rt.c_str(), nullptr, q->queue, id, &err)
           : call == "generate"
               ? momento_auth_client_generate_api_key_queued(client, scope, exp, nullptr, q->queue, id, &err)
               : momento_auth_client_generate_disposable_token_queued(client, scope, exp, nullptr, nullptr,
                                                                      q->queue, id, &err);
      if (st == MOMENTO_OK) st = q->wait(id, &t, &err);
    } else {
      st = call == "refresh" ? momento_auth_client_refresh_api_key(&t, client, rt.c_str(), &err)
           : call == "generate"
               ? momento_auth_client_generate_api_key(&t, client, scope, exp, &err)
               : momento_auth_client_generate_disposable_token(&t, client, scope, exp, nullptr, &err);
    }
    if (st != MOMENTO_OK) fail(call.c_str(), err);
    momento_token_free(t);
  });
  momento_scope_free(scope);
  momento_expires_in_free(exp);
  momento_auth_client_free(client);
  momento_credential_free(cred);
  momento_endpoint_override_free(o);
}

void run_cpp(const nlohmann::json& req) {
  const std::string version = std::string(momento::version_string());
  const std::string call = req.at("call");
  const std::string v1 = req.at("v1"), v2 = req.at("v2_key"), v2_ep = req.at("v2_endpoint");
  const std::string disposable = req.at("disposable");
  if (call == "parse_v1") return bench::serve(req, version, [&] { momento::Credential::from_string(v1); });
  if (call == "parse_v2") return bench::serve(req, version, [&] { momento::Credential::from_v2(v2, v2_ep); });
  if (call == "parse_disposable") {
    return bench::serve(req, version, [&] { momento::Credential::from_disposable_token(disposable); });
  }
  auto o = momento::EndpointOverride::single(req.at("address").get<std::string>());
  const std::string key = call == "refresh" ? req.at("refresh_envelope") : req.at("super_envelope");
  momento::AuthClient client(momento::Credential::from_string(key, &o));
  if (call == "refresh") {
    const std::string rt = req.at("refresh_token");
    return bench::serve(req, version, [&] { client.refresh_api_key(rt); });
  }
  if (call == "generate") {
    auto scope = momento::Scope::all_data_read_write();
    auto exp = momento::ExpiresIn::hours(1);
    return bench::serve(req, version, [&] { client.generate_api_key(scope, exp); });
  }
  momento::Scope scope;
  scope.add_cache_items(momento::CacheRole::ReadWrite, req.at("cache").get<std::string>(),
                        momento::Items::key("k"));
  auto exp = momento::ExpiresIn::minutes(5);
  return bench::serve(req, version, [&] { client.generate_disposable_token(scope, exp); });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s c_abi|c_queued|cpp (protocol: bench/clients/README.md)\n", argv[0]);
    return 2;
  }
  nlohmann::json req = bench::read_request();
  const std::string which = argv[1];
  if (which == "cpp") {
    run_cpp(req);
  } else {
    run_c(req, which == "c_queued");
  }
  return 0;
}
