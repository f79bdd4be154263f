// C ABI overhead on a refresh round trip, against calling core directly, side by side in one
// process: AuthClient::refresh_api_key vs momento_auth_client_refresh_api_key (+ token free)
// against a local momento-auth-server, in paired batches (paired.hpp).
//
// The refresh loop replays the same (key, refresh token) pair: the server answers a replay of
// the immediate predecessor within its grace window with the same result, so every iteration
// is the same full gRPC round trip and server work for both paths. The server is started with a
// long grace window so the whole run fits in it.
//
// Core and the shared library each carry the generated protobuf code of our .proto files, and
// both would register it in the one process-wide libprotobuf ("File already exists in
// database: permissionmessages.proto", then abort). So the library is loaded with
// dlmopen(LM_ID_NEWLM): it gets its own link-map namespace with its own libprotobuf/gRPC, and
// its functions are called through dlsym'ed pointers, the way FFI bindings call them.
//
// Usage: momento_bench_capi_refresh [refreshes_per_batch=100] [batches=101]
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "momento/auth.h"
#include "momento/auth/client.hpp"
#include "momento/auth/credential.hpp"
#include "paired.hpp"
#include "server_process.hpp"

namespace ma = momento::auth;
using Clock = std::chrono::steady_clock;

namespace {

// The C functions used, resolved from the separately loaded library.
struct Api {
  decltype(&momento_version_string) version_string;
  decltype(&momento_error_message) error_message;
  decltype(&momento_endpoint_override_single) override_single;
  decltype(&momento_endpoint_override_free) override_free;
  decltype(&momento_credential_from_string) credential_from_string;
  decltype(&momento_credential_free) credential_free;
  decltype(&momento_auth_client_new) client_new;
  decltype(&momento_auth_client_free) client_free;
  decltype(&momento_auth_client_refresh_api_key) refresh;
  decltype(&momento_token_api_key) token_api_key;
  decltype(&momento_token_free) token_free;
};
Api api;

template <class T>
void resolve(void *lib, T &fn, const char *name) {
  void *sym = dlsym(lib, name);
  if (sym == nullptr) {
    std::fprintf(stderr, "dlsym %s: %s\n", name, dlerror());
    std::exit(1);
  }
  fn = reinterpret_cast<T>(sym);
}

void load_library() {
  void *lib = dlmopen(LM_ID_NEWLM, MOMENTO_CAPI_LIB, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    std::fprintf(stderr, "dlmopen %s: %s\n", MOMENTO_CAPI_LIB, dlerror());
    std::exit(1);
  }
  resolve(lib, api.version_string, "momento_version_string");
  resolve(lib, api.error_message, "momento_error_message");
  resolve(lib, api.override_single, "momento_endpoint_override_single");
  resolve(lib, api.override_free, "momento_endpoint_override_free");
  resolve(lib, api.credential_from_string, "momento_credential_from_string");
  resolve(lib, api.credential_free, "momento_credential_free");
  resolve(lib, api.client_new, "momento_auth_client_new");
  resolve(lib, api.client_free, "momento_auth_client_free");
  resolve(lib, api.refresh, "momento_auth_client_refresh_api_key");
  resolve(lib, api.token_api_key, "momento_token_api_key");
  resolve(lib, api.token_free, "momento_token_free");
}

void die(const char *what, momento_error_t *err) {
  std::fprintf(stderr, "%s failed: %s\n", what, api.error_message(err));
  std::exit(1);
}

}  // namespace

int main(int argc, char **argv) {
  int refresh_n = argc > 1 ? std::atoi(argv[1]) : 100;
  int batches = argc > 2 ? std::atoi(argv[2]) : 101;
  if (refresh_n <= 0 || batches <= 0) return 2;
  load_library();

  momento::test::ServerProcess server(
      std::vector<std::string>{"--refresh-grace-seconds", "86400", "--log-format", "off"});
  ma::SingleEndpointOverride single{server.address(), false};
  std::string admin_key = server.bootstrap_envelope();

  // A key with a refresh token, minted through core.
  ma::AuthClient admin(ma::Credential::from_string(admin_key, single));
  ma::Token minted =
      admin.generate_api_key(ma::PermissionScope::all_data_read_write(), ma::ExpiresIn::hours(1));
  const std::string key = minted.api_key.reveal();
  const std::string refresh = minted.refresh_token.reveal();

  // ---- refresh round trip -----------------------------------------------------------------
  ma::AuthClient core_client(ma::Credential::from_string(key, single));
  momento_endpoint_override_t *ov = nullptr;
  momento_credential_t *cred = nullptr;
  momento_auth_client_t *capi_client = nullptr;
  momento_error_t *err = nullptr;
  if (api.override_single(&ov, server.address().c_str(), 0, &err) != MOMENTO_OK ||
      api.credential_from_string(&cred, key.c_str(), ov, &err) != MOMENTO_OK ||
      api.client_new(&capi_client, cred, nullptr, &err) != MOMENTO_OK)
    die("client setup", err);
  // First refresh rotates; every later call with the same token is a replay with the same answer.
  ma::Token first = core_client.refresh_api_key(refresh);
  auto refresh_core_op = [&] {
    ma::Token r = core_client.refresh_api_key(refresh);
    if (r.api_key.reveal() != first.api_key.reveal()) std::abort();
  };
  auto refresh_capi_op = [&] {
    momento_token_t *t = nullptr;
    if (api.refresh(&t, capi_client, refresh.c_str(), &err) != MOMENTO_OK) die("refresh", err);
    if (first.api_key.reveal() != api.token_api_key(t)) std::abort();
    api.token_free(t);
  };
  for (int i = 0; i < 20; ++i) {  // warm-up, channels up
    refresh_core_op();
    refresh_capi_op();
  }
  auto paired = momento::bench::run_paired(batches, refresh_n, refresh_core_op, refresh_capi_op);
  api.client_free(capi_client);
  api.credential_free(cred);
  api.override_free(ov);

  std::printf("libmomento_auth %s; %d paired batches of %d refreshes\n", api.version_string(),
              batches, refresh_n);
  momento::bench::report("refresh", paired);
  return 0;
}
