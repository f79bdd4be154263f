// The server's decoding of what callers send: permission messages (GenerateApiToken,
// GenerateDisposableToken, stored keys) with their validation and the authorization check that
// uses them, and API keys (JWTs) checked against a real key ring. Two kinds of JWT input: raw
// tokens, and header/payload pairs signed here so the fuzzer reaches the claim checks behind the
// signature ("$kid" in such a header stands for the ring's key id).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "authz.hpp"
#include "crypto.hpp"
#include "fuzz.hpp"
#include "jwt.hpp"
#include "permissionmessages.pb.h"

using namespace momento::server;
namespace pm = permission_messages;

namespace {

constexpr Operation kOps[] = {Operation::GenerateSuperUser, Operation::GenerateExplicit,
                              Operation::GenerateDisposable, Operation::CreateCache,
                              Operation::DeleteCache, Operation::FlushCache, Operation::ListCaches,
                              Operation::Read, Operation::Write, Operation::ManageKeys};
constexpr KeyClass kClasses[] = {KeyClass::SuperUser, KeyClass::Explicit, KeyClass::Disposable,
                                 KeyClass::Session, KeyClass::Legacy, KeyClass::V2};

void check_permissions(fuzz::Input& in) {
  std::string_view cache = in.field();
  std::string_view key = in.field();
  std::string_view bytes = in.rest();
  pm::Permissions p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  auto api = validate_permissions(p, ScopeUse::ApiKey);
  auto disposable = validate_permissions(p, ScopeUse::DisposableToken);
  // Nothing valid for an API key holds super-user rights once it is a disposable token.
  if (!disposable) fuzz::check(!p.has_super_user(), "a disposable token may be a super user");
  for (KeyClass cls : kClasses) {
    Caller c{cls, &p, false};
    for (Operation op : kOps) {
      bool ok = allowed(c, op, cache, key);
      // Data access by an explicit or disposable key needs a cache permission entry.
      if (ok && (op == Operation::Read || op == Operation::Write) &&
          (cls == KeyClass::Explicit || cls == KeyClass::Disposable)) {
        bool any = false;
        if (p.has_explicit_())
          for (const auto& e : p.explicit_().permissions()) any = any || e.has_cache_permissions();
        fuzz::check(any, "data access granted without a cache permission");
      }
      if (op == Operation::GenerateSuperUser)
        fuzz::check(!ok || cls == KeyClass::Session, "a non-session key may mint super users");
    }
  }
  (void)api;
}

KeyRing& ring() {
  static KeyRing* r = [] {
    const char* dir = std::getenv("TMPDIR");
    std::string d = std::string(dir && *dir ? dir : "/tmp") + "/momento-fuzz-ring-XXXXXX";
    if (!::mkdtemp(d.data())) fuzz::fail("cannot create a scratch directory");
    static std::string file = d + "/signing-keys.json";
    static std::string dirname = d;
    auto* ring = new KeyRing(KeyRing::open(file));
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(dirname, ec);
    });
    return ring;
  }();
  return *r;
}

void check_jwt(fuzz::Input& in, bool sign) {
  int64_t now = in.number<int64_t>();
  std::string token;
  if (sign) {
    // "$kid" in the header stands for the ring's current key id, which is random.
    std::string kid;
    (void)ring().sign("", &kid);
    std::string header(in.field());
    for (size_t at; (at = header.find("$kid")) != std::string::npos;) header.replace(at, 4, kid);
    std::string input = base64url_encode(header) + "." + base64url_encode(in.rest());
    token = input + "." + base64url_encode(ring().sign(input, nullptr));
  } else {
    token = std::string(in.rest());
  }
  Claims c;
  JwtCheck r = verify_jwt(ring(), token, now, &c);
  (void)jwt_check_name(r);
  if (r == JwtCheck::Ok) fuzz::check(c.exp == 0 || now < c.exp, "an expired key is accepted");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  switch (in.byte() % 3) {
    case 0: check_permissions(in); break;
    case 1: check_jwt(in, false); break;
    case 2: check_jwt(in, true); break;
  }
  return 0;
}
