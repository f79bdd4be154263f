#include "recording_server.hpp"

#include <stdexcept>

namespace momento::testing {

using grpc::ServerContext;
using grpc::Status;

class RecordingServer::AuthImpl final : public ::auth::Auth::Service {
 public:
  explicit AuthImpl(RecordingServer& s) : s_(s) {}
  Status GenerateApiToken(ServerContext* ctx, const ::auth::_GenerateApiTokenRequest* req,
                          ::auth::_GenerateApiTokenResponse* resp) override {
    Status st = s_.record(ctx, "GenerateApiToken", *req);
    if (st.ok()) {
      resp->set_api_key(s_.api_key);
      resp->set_refresh_token(s_.refresh_token);
      resp->set_endpoint(s_.endpoint);
      resp->set_valid_until(s_.valid_until);
    }
    return st;
  }
  Status RefreshApiToken(ServerContext* ctx, const ::auth::_RefreshApiTokenRequest* req,
                         ::auth::_RefreshApiTokenResponse* resp) override {
    Status st = s_.record(ctx, "RefreshApiToken", *req);
    if (st.ok()) {
      resp->set_api_key(s_.api_key);
      resp->set_refresh_token(s_.refresh_token);
      resp->set_endpoint(s_.endpoint);
      resp->set_valid_until(s_.valid_until);
    }
    return st;
  }

 private:
  RecordingServer& s_;
};

class RecordingServer::TokenImpl final : public ::token::Token::Service {
 public:
  explicit TokenImpl(RecordingServer& s) : s_(s) {}
  Status GenerateDisposableToken(ServerContext* ctx,
                                 const ::token::_GenerateDisposableTokenRequest* req,
                                 ::token::_GenerateDisposableTokenResponse* resp) override {
    Status st = s_.record(ctx, "GenerateDisposableToken", *req);
    if (st.ok()) {
      resp->set_api_key(s_.api_key);
      resp->set_endpoint(s_.endpoint);
      resp->set_valid_until(s_.valid_until);
    }
    return st;
  }

 private:
  RecordingServer& s_;
};

class RecordingServer::ControlImpl final : public ::control_client::ScsControl::Service {
 public:
  explicit ControlImpl(RecordingServer& s) : s_(s) {}
  Status CreateCache(ServerContext* ctx, const ::control_client::_CreateCacheRequest* req,
                     ::control_client::_CreateCacheResponse*) override {
    return s_.record(ctx, "CreateCache", *req);
  }
  Status ListCaches(ServerContext* ctx, const ::control_client::_ListCachesRequest* req,
                    ::control_client::_ListCachesResponse* resp) override {
    Status st = s_.record(ctx, "ListCaches", *req);
    if (st.ok()) {
      resp->add_cache()->set_cache_name("alpha");
      resp->add_cache()->set_cache_name("beta");
    }
    return st;
  }

 private:
  RecordingServer& s_;
};

class RecordingServer::ScsImpl final : public ::cache_client::Scs::Service {
 public:
  explicit ScsImpl(RecordingServer& s) : s_(s) {}
  Status Get(ServerContext* ctx, const ::cache_client::_GetRequest* req,
             ::cache_client::_GetResponse* resp) override {
    Status st = s_.record(ctx, "Get", *req);
    if (st.ok()) {
      if (s_.cache_value.empty()) {
        resp->set_result(::cache_client::Miss);
      } else {
        resp->set_result(::cache_client::Hit);
        resp->set_cache_body(s_.cache_value);
      }
    }
    return st;
  }
  Status Set(ServerContext* ctx, const ::cache_client::_SetRequest* req,
             ::cache_client::_SetResponse* resp) override {
    Status st = s_.record(ctx, "Set", *req);
    if (st.ok()) resp->set_result(::cache_client::Ok);
    return st;
  }
  Status Delete(ServerContext* ctx, const ::cache_client::_DeleteRequest* req,
                ::cache_client::_DeleteResponse*) override {
    return s_.record(ctx, "Delete", *req);
  }

 private:
  RecordingServer& s_;
};

class RecordingServer::PingImpl final : public ::cache_client::Ping::Service {
 public:
  explicit PingImpl(RecordingServer& s) : s_(s) {}
  Status Ping(ServerContext* ctx, const ::cache_client::_PingRequest* req,
              ::cache_client::_PingResponse*) override {
    return s_.record(ctx, "Ping", *req);
  }

 private:
  RecordingServer& s_;
};

RecordingServer::RecordingServer()
    : auth_(std::make_unique<AuthImpl>(*this)),
      token_(std::make_unique<TokenImpl>(*this)),
      control_(std::make_unique<ControlImpl>(*this)),
      scs_(std::make_unique<ScsImpl>(*this)),
      ping_(std::make_unique<PingImpl>(*this)) {
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  b.RegisterService(auth_.get());
  b.RegisterService(token_.get());
  b.RegisterService(control_.get());
  b.RegisterService(scs_.get());
  b.RegisterService(ping_.get());
  server_ = b.BuildAndStart();
  if (!server_ || port_ == 0) throw std::runtime_error("recording server failed to start");
}

RecordingServer::~RecordingServer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

void RecordingServer::fail_next(grpc::Status status, int times) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < times; ++i) scripted_.push_back(status);
}

void RecordingServer::hang_next(int times) {
  std::lock_guard<std::mutex> lock(mu_);
  hang_ += times;
}

std::vector<RecordedCall> RecordingServer::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

size_t RecordingServer::call_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_.size();
}

grpc::Status RecordingServer::record(grpc::ServerContext* ctx, const std::string& method,
                                     const google::protobuf::Message& req) {
  RecordedCall call;
  call.method = method;
  for (const auto& [k, v] : ctx->client_metadata())
    call.metadata.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
  call.body = req.SerializeAsString();

  std::unique_lock<std::mutex> lock(mu_);
  calls_.push_back(std::move(call));
  if (hang_ > 0) {
    --hang_;
    // Wait for the client to give up; bounded so a broken client cannot wedge the test.
    for (int i = 0; i < 500 && !stopping_ && !ctx->IsCancelled(); ++i)
      cv_.wait_for(lock, std::chrono::milliseconds(20));
    return grpc::Status(grpc::StatusCode::CANCELLED, "hung until the client gave up");
  }
  if (!scripted_.empty()) {
    grpc::Status st = scripted_.front();
    scripted_.pop_front();
    return st;
  }
  return grpc::Status::OK;
}

}  // namespace momento::testing
