// The server's secrets are wiped before their memory is released: the signing-key file as it is
// read and written, and the sealed answer a grace replay opens. See wipe_watch.hpp.
#include <catch2/catch.hpp>
#include <fstream>

#include "momento/auth/secret.hpp"
#include "registry.hpp"
#include "temp_dir.hpp"
#include "util/encoding.hpp"
#include "wipe_watch.hpp"

using namespace momento::server;
using momento::test::TempDir;

TEST_CASE("server: control: an ordinary string's bytes are seen when it is freed", "[hygiene][wipe]") {
  CHECK(control_hits() == 1);
}

TEST_CASE("server: the signing-key file leaves no copy of a key when read or rewritten", "[hygiene][wipe]") {
  TempDir dir;
  const std::string raw = "HygieneSigningKeyMarker0123456789abcdefgh";
  const std::string b64 = momento::auth::detail::base64url_encode(raw);
  const auto file = dir.path / "signing-keys.json";
  {
    std::ofstream f(file);
    f << "{\"keys\": [{\"kid\": \"0011223344556677\", \"secret\": \"" << b64 << "\", \"created\": 1}]}";
  }
  int hits;
  bool used = false;
  {
    Watch w{raw, b64};
    {
      KeyRing ring = KeyRing::open(file);
      used = ring.current_kid() == "0011223344556677";
      ring.rotate();  // reads the file again, then writes it with both keys
      used = used && ring.size() == 2;
    }
    hits = w.hits();
  }
  CHECK(used);
  CHECK(hits == 0);
}

TEST_CASE("server: a grace replay leaves no copy of the successor key or refresh token", "[hygiene][wipe]") {
  TempDir dir;
  Registry reg(dir.path, RegistryOptions{});
  permission_messages::Permissions su;
  su.set_super_user(permission_messages::SuperUser);
  Minted first = reg.mint(KeyClass::SuperUser, su, 600);
  REQUIRE_FALSE(first.refresh_token.empty());
  Minted next = reg.refresh_api_key(first.api_key, first.refresh_token);
  const std::string sig = next.api_key.substr(next.api_key.rfind('.') + 1);
  REQUIRE(sig.size() >= 16);
  int hits;
  bool same = false;
  {
    Watch w{sig, next.refresh_token};
    {
      // The same refresh token again, inside the grace window: the sealed answer is opened.
      Minted again = reg.refresh_api_key(first.api_key, first.refresh_token);
      same = again.api_key == next.api_key && again.refresh_token == next.refresh_token;
      momento::auth::wipe(again.api_key);  // the caller's copies are the caller's to wipe
      momento::auth::wipe(again.refresh_token);
    }
    hits = w.hits();
  }
  CHECK(same);
  CHECK(hits == 0);
}
