// Channels, request metadata and status mapping shared by the gRPC clients.
#include "rpc.hpp"

#include <fstream>
#include <sstream>
#include <thread>

#include "momento/auth/client.hpp"
#include "momento/auth/display.hpp"
#include "momento/auth/version.hpp"
#include "../util/limits.hpp"

namespace momento::auth::detail {

std::string read_ca_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_invalid("CA file cannot be read: " + shown_path(path));
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string pem = buf.str();
  if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    throw_invalid("CA file " + shown_path(path) + " contains no PEM certificate");
  return pem;
}

std::string grpc_target(const Endpoint& e) {
  const bool v6 = e.host.find(':') != std::string::npos && e.host.front() != '[';
  return (v6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

std::shared_ptr<grpc::Channel> ChannelCache::get(const Endpoint& e) {
  if (e.host.empty()) throw_invalid("endpoint host is empty");
  const std::string target = grpc_target(e);
  const std::string key = (e.secure ? "tls|" : "plain|") + target;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = channels_.find(key);
  if (it != channels_.end()) return it->second;

  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (e.secure) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options_.ca_pem;  // empty: system roots
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options_.max_message_bytes);
  args.SetMaxSendMessageSize(options_.max_message_bytes);
  // Each client object owns its connections, so closing one client never disturbs another.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(target, creds, args);
  channels_.emplace(key, channel);
  return channel;
}

std::string agent_header(std::string_view client) {
  return "cpp:" + std::string(client) + ":" + library_version();
}

std::string runtime_version_header() {
#if defined(__clang__)
  const char* compiler = "clang";
#elif defined(__GNUC__)
  const char* compiler = "gcc";
#else
  const char* compiler = "cxx";
#endif
#ifdef __VERSION__
  // __VERSION__ is e.g. "12.2.0" (GCC) or "Debian Clang 14.0.6"; keep the first dotted number.
  std::string_view v = __VERSION__;
  size_t start = v.find_first_of("0123456789");
  std::string digits;
  if (start != std::string_view::npos) {
    size_t end = v.find_first_not_of("0123456789.", start);
    digits = std::string(v.substr(start, end == std::string_view::npos ? v.size() - start : end - start));
  }
  if (digits.empty()) digits = "unknown";
#else
  std::string digits = "unknown";
#endif
  return std::string("cpp:") + compiler + "-" + digits;
}

void prepare_context(grpc::ClientContext& ctx, std::chrono::system_clock::time_point deadline,
                     const std::string& raw_key) {
  ctx.set_deadline(deadline);
  ctx.AddMetadata("authorization", raw_key);
}

void throw_status(const grpc::Status& status, std::string_view what, const Endpoint& endpoint,
                  bool not_sent) {
  const int code = static_cast<int>(status.error_code());
  const ErrorCode ec = error_code_from_grpc(code);
  std::string msg(what);
  switch (ec) {
    case ErrorCode::Timeout:
      msg += ": no answer from " + endpoint.address() + " within the deadline";
      break;
    case ErrorCode::ServerUnavailable:
      msg += ": server " + endpoint.address() + (endpoint.secure ? " (TLS)" : " (plaintext)") +
             " is unavailable";
      if (not_sent) msg += " (could not connect; the request was not sent)";
      break;
    default:
      msg += " failed";
      break;
  }
  if (!status.error_message().empty()) msg += ": " + status.error_message();
  throw Error(ec, std::move(msg), code, not_sent);
}

grpc::CompletionQueue& async_queue() {
  static grpc::CompletionQueue* queue = [] {
    auto* q = new grpc::CompletionQueue();  // never deleted: see rpc.hpp
    std::thread([q] {
      void* tag = nullptr;
      bool ok = false;
      // A unary call's Finish always comes back with ok == true; its outcome is its status.
      while (q->Next(&tag, &ok)) {
        taken_from_queue(static_cast<AsyncTag*>(tag));
        static_cast<AsyncTag*>(tag)->complete();
      }
    }).detach();
    return q;
  }();
  return *queue;
}

}  // namespace momento::auth::detail

namespace momento::auth {

void check_deadline(std::chrono::milliseconds deadline, std::string_view name) {
  if (deadline.count() <= 0) throw_invalid(std::string(name) + " must be positive");
  if (deadline > detail::kOneDay)
    throw_invalid(std::string(name) + " must be at most one day (86400000 ms)");
}

void check_max_message_bytes(int64_t bytes, std::string_view name) {
  if (bytes <= 0) throw_invalid(std::string(name) + " must be positive");
}

void check_ca_file(const std::string& path) {
  if (!path.empty() && !std::ifstream(path).good())
    throw_invalid("CA file cannot be read: " + shown_path(path));
}

}  // namespace momento::auth
