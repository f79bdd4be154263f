// The C ABI's credential handles are wiped before their memory is released (wipe_watch.hpp).
// A program of its own: it links libmomento_auth.so.1 alone, as C callers do.
#include <openssl/evp.h>

#include <catch2/catch.hpp>

#include "momento/auth.h"
#include "wipe_watch.hpp"

TEST_CASE("control (C ABI program): an ordinary string's bytes are seen when it is freed", "[hygiene][wipe]") {
  CHECK(control_hits() == 1);
}

TEST_CASE("the C ABI's credential handles wipe on free", "[hygiene][wipe]") {
  const std::string json = "{\"endpoint\":\"cache.example.com\",\"api_key\":\"" + kKey + "\"}";
  std::string envelope(4 * ((json.size() + 2) / 3) + 1, '\0');
  envelope.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(envelope.data()),
                                                      reinterpret_cast<const unsigned char*>(json.data()),
                                                      static_cast<int>(json.size()))));
  const std::string piece = envelope.substr(8, 40);  // the markers outlive the watch
  int hits;
  {
    Watch w{kSig, piece};
    momento_credential_t* c = nullptr;
    momento_status_t st = momento_credential_from_string(&c, envelope.c_str(), nullptr, nullptr);
    momento_credential_free(c);
    hits = st == MOMENTO_OK ? w.hits() : -1;
  }
  CHECK(hits == 0);
}

