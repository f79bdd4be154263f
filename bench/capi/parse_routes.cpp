// The routes to a fast parse, measured piece by piece on one v1 envelope minted by a local
// momento-auth-server (bench/capi/RESULTS.md, "Parse routes"): base64 into a new string or into
// a buffer; the decoded JSON through nlohmann::json, simdjson (Debian libsimdjson-dev, when
// installed) or core's in-place scanner; the inner JWT's expiry the old way (two nlohmann
// documents) or the new one; then the whole parse in core and through the C ABI.
// Usage: momento_bench_parse_routes [parses_per_batch=20000] [batches=21]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#ifdef MOMENTO_HAVE_SIMDJSON
#include <simdjson.h>
#endif

#include "momento/auth.h"
#include "momento/auth.hpp"
#include "momento/auth/credential.hpp"
#include "server_process.hpp"
#include "util/encoding.hpp"
#include "util/json_scan.hpp"
#include "util/jwt.hpp"

namespace {

volatile size_t sink;

template <class F>
void route(const char* name, int ops, int batches, F&& f) {
  for (int i = 0; i < ops / 10; ++i) f();
  std::vector<double> v;
  for (int b = 0; b < batches; ++b) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < ops; ++i) f();
    v.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / ops);
  }
  std::sort(v.begin(), v.end());
  std::printf("%-58s %9.1f ns  (batches: min %.1f, max %.1f)\n", name, v[v.size() / 2], v.front(), v.back());
}

}  // namespace

int main(int argc, char** argv) {
  namespace d = momento::auth::detail;
  int ops = argc > 1 ? std::atoi(argv[1]) : 20000;
  int batches = argc > 2 ? std::atoi(argv[2]) : 21;
  std::string key;
  {
    momento::test::ServerProcess server(std::vector<std::string>{"--log-format", "off"});
    auto single = momento::EndpointOverride::single(server.address());
    momento::AuthClient admin(momento::Credential::from_string(server.bootstrap_envelope(), &single));
    key = std::string(admin.generate_api_key(momento::Scope::all_data_read_write(),
                                             momento::ExpiresIn::hours(1)).api_key());
  }
  const std::string decoded = *d::base64_decode(key);
  const std::string inner = nlohmann::json::parse(decoded).at("api_key").get<std::string>();
  std::printf("%zu-byte v1 envelope, %zu-byte decoded JSON, %zu-byte inner JWT; median of %d batches of %d\n",
              key.size(), decoded.size(), inner.size(), batches, ops);

  route("base64: strict check + decode into a new string", ops, batches,
        [&] { sink = d::base64_decode(key)->size(); });
  route("base64: strict check + decode into a stack buffer", ops, batches, [&] {
    d::WipedBuffer buf;
    sink = *d::base64_decode_into(key, buf.reserve(d::base64_decoded_bound(key.size())));
  });
  route("UTF-8 check of the decoded JSON", ops, batches, [&] { sink = d::is_valid_utf8(decoded); });
  route("JSON: nlohmann::json::parse + 2 members", ops, batches, [&] {
    auto j = nlohmann::json::parse(decoded, nullptr, false);
    sink = j["endpoint"].get_ref<const std::string&>().size() + j["api_key"].get_ref<const std::string&>().size();
  });
#ifdef MOMENTO_HAVE_SIMDJSON
  {
    simdjson::dom::parser parser;  // reused: its buffers keep the last document (a secret)
    route("JSON: simdjson DOM (parser reused) + 2 members", ops, batches, [&] {
      simdjson::dom::element doc = parser.parse(decoded);
      sink = std::string_view(doc["endpoint"]).size() + std::string_view(doc["api_key"]).size();
    });
    route("JSON: simdjson DOM, a new parser per call + 2 members", ops, batches, [&] {
      simdjson::dom::parser fresh;
      simdjson::dom::element doc = fresh.parse(decoded);
      sink = std::string_view(doc["endpoint"]).size() + std::string_view(doc["api_key"]).size();
    });
    simdjson::ondemand::parser od;
    simdjson::padded_string padded(decoded);
    route("JSON: simdjson On-Demand (parser reused, padded input) + 2 members", ops, batches, [&] {
      auto doc = od.iterate(padded);
      std::string_view e = doc["endpoint"], a = doc["api_key"];
      sink = e.size() + a.size();
    });
  }
#else
  std::printf("%-58s (libsimdjson-dev not installed)\n", "JSON: simdjson");
#endif
  route("JSON: core's in-place scanner (JsonObject) + 2 members", ops, batches, [&] {
    d::JsonObject o;
    o.parse(decoded);
    sink = o.string("endpoint")->size() + o.string("api_key")->size();
  });
  route("inner JWT exp: two nlohmann documents (before)", ops, batches, [&] {
    auto j = d::decode_jwt_unverified(inner);
    sink = j->payload.value("exp", 0);
  });
  route("inner JWT exp: in place (jwt_exp, now only when asked)", ops, batches,
        [&] { sink = *d::jwt_exp(inner); });
  route("endpoints: derive_endpoints(base)", ops, batches, [&] {
    sink = momento::auth::derive_endpoints("cell-4-us-west-2-1.prod.a.momentohq.com").token.host.size();
  });
  route("whole parse: core Credential::from_string", ops, batches,
        [&] { sink = momento::auth::Credential::from_string(key).raw_key().size(); });
  route("whole parse: C ABI from_string + free", ops, batches, [&] {
    momento_credential_t* c = nullptr;
    if (momento_credential_from_string(&c, key.c_str(), nullptr, nullptr) != MOMENTO_OK) std::abort();
    momento_credential_free(c);
  });
  route("expires_at() on a parsed credential (decodes the inner JWT)", ops, batches, [&] {
    static const auto cred = momento::auth::Credential::from_string(key);
    sink = cred.expires_at()->epoch();
  });
  return 0;
}
