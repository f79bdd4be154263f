// momento-auth-server: every service on one port (docs/wire.md §1.2, §12).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "log.hpp"
#include "momento/auth/credential.hpp"
#include "registry.hpp"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace momento::server {

struct ServerOptions {
  // Where local credentials point by default.
  std::string listen = std::string(auth::kLocalHost) + ":" + std::to_string(auth::kLocalPort);
  std::filesystem::path data_dir;
  std::optional<std::filesystem::path> bootstrap;
  RegistryOptions registry;
  std::string tls_cert;  // PEM files; both or neither
  std::string tls_key;
  int threads = 64;                 // upper bound of the handler thread pool
  LogFormat log_format = LogFormat::Text;
  size_t list_page_size = 0;        // ListCaches page size; 0 = everything in one page
  int max_message_bytes = 8 * 1024 * 1024;
  bool enable_faults = false;       // honour fault-injection metadata (faults.hpp); tests only
};

class Handlers;

class AuthServer {
 public:
  explicit AuthServer(ServerOptions opts);
  ~AuthServer();
  AuthServer(const AuthServer&) = delete;
  AuthServer& operator=(const AuthServer&) = delete;

  // Binds and starts serving; returns the bound "host:port". Throws on failure.
  std::string start();
  void shutdown();  // graceful, bounded
  void wait();

  Registry& registry();
  Logger& logger();
  const std::string& bootstrap_key_id() const { return bootstrap_key_id_; }

 private:
  ServerOptions opts_;
  std::unique_ptr<Logger> logger_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Handlers> service_;
  std::vector<std::unique_ptr<grpc::Service>> rpcs_;  // the generated services over service_
  std::unique_ptr<grpc::Server> server_;
  std::string bootstrap_key_id_;
};

}  // namespace momento::server
