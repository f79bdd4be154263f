// An in-process gRPC server on 127.0.0.1 that records what clients send and answers with
// scripted statuses. Used to check the client side of the wire contract (headers, body fields,
// retries, error mapping) independently of momento-auth-server.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auth.grpc.pb.h"
#include "cacheclient.grpc.pb.h"
#include "cacheping.grpc.pb.h"
#include "controlclient.grpc.pb.h"
#include "token.grpc.pb.h"

namespace momento::testing {

// One received call: method name, request metadata and the serialized request body.
struct RecordedCall {
  std::string method;
  std::multimap<std::string, std::string> metadata;
  std::string body;  // serialized request

  bool has(const std::string& key) const { return metadata.count(key) > 0; }
  std::string get(const std::string& key) const {
    auto it = metadata.find(key);
    return it == metadata.end() ? std::string() : it->second;
  }
};

class RecordingServer {
 public:
  RecordingServer();
  ~RecordingServer();

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

  // Queues statuses for the next calls (any method); OK = answer with the canned response.
  void fail_next(grpc::Status status, int times = 1);
  // Makes the next calls block until the client's deadline passes (or the server stops).
  void hang_next(int times = 1);

  std::vector<RecordedCall> calls() const;
  size_t call_count() const;

  // Canned answers.
  std::string api_key = "raw-key-from-server";
  std::string refresh_token = "refresh-from-server";
  std::string endpoint = "advertised.example";
  uint64_t valid_until = 1900000000;
  std::string cache_value = "value";  // Get answers Hit with this unless empty (Miss)

  // Records the call and returns the scripted status (after hanging, if scripted).
  grpc::Status record(grpc::ServerContext* ctx, const std::string& method,
                      const google::protobuf::Message& req);

 private:
  class AuthImpl;
  class TokenImpl;
  class ControlImpl;
  class ScsImpl;
  class PingImpl;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<RecordedCall> calls_;
  std::deque<grpc::Status> scripted_;
  int hang_ = 0;

  std::unique_ptr<AuthImpl> auth_;
  std::unique_ptr<TokenImpl> token_;
  std::unique_ptr<ControlImpl> control_;
  std::unique_ptr<ScsImpl> scs_;
  std::unique_ptr<PingImpl> ping_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace momento::testing
