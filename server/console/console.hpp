// The web console: the token page of Momento's console, served over HTTP/1.1 beside the gRPC
// port (docs/console.md). Every rule (authentication, validation, who may mint what) is the
// registry's; this unit only translates between the browser and the registry.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace momento::server {

class Registry;
class Logger;

struct ConsoleRegion {
  std::string provider;  // "aws", "gcp", or "local" when the server names no cloud
  std::string region;    // "us-west-2"
  std::string endpoint;  // the advertised base endpoint keys minted for it carry
};

struct ConsoleOptions {
  std::string listen;         // HOST:PORT; port 0 picks a free one
  bool allow_remote = false;  // a non-loopback HOST needs this and TLS
  std::string tls_cert;       // PEM files (the server's own); both or neither
  std::string tls_key;
  std::vector<ConsoleRegion> regions;
  int session_seconds = 3600;  // lifetime of a sign-in (cookie and console session key)
};

class Console {
 public:
  // Checks the options (loopback, TLS); throws std::invalid_argument naming the problem.
  Console(Registry& reg, Logger& log, ConsoleOptions opts);
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  // Binds and starts serving on a thread of its own. Returns the sign-in link,
  // "http://HOST:PORT/#code=ONE-TIME-CODE", whose code works once.
  std::string start();
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace momento::server
