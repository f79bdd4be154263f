// bench/run's limit: the same RPCs from a bare grpc++ stub over core's generated protobuf code,
// with nothing around them (no credential parsing, no error translation, no wiping). Requests
// are built once; the envelope's inner key is passed in by bench/run.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>

#include "auth.grpc.pb.h"
#include "driver.hpp"
#include "token.grpc.pb.h"

namespace pm = permission_messages;

int main() {
  nlohmann::json req = bench::read_request();
  const std::string call = req.at("call");
  auto channel = grpc::CreateChannel(req.at("address").get<std::string>(),
                                     grpc::InsecureChannelCredentials());
  auto auth = ::auth::Auth::NewStub(channel);
  auto token = ::token::Token::NewStub(channel);
  const std::string super_key = req.at("super_key"), refresh_key = req.at("refresh_key");
  auto fail = [&](const grpc::Status& st) {
    std::fprintf(stderr, "%s: %s\n", call.c_str(), st.error_message().c_str());
    std::exit(1);
  };

  ::auth::_RefreshApiTokenRequest refresh;
  refresh.set_api_key(refresh_key);
  refresh.set_refresh_token(req.value("refresh_token", ""));

  ::auth::_GenerateApiTokenRequest generate;
  generate.set_auth_token(super_key);
  generate.mutable_expires()->set_valid_for_seconds(3600);
  auto* perms = generate.mutable_permissions()->mutable_explicit_()->mutable_permissions();
  auto* cache = perms->Add()->mutable_cache_permissions();
  cache->set_role(pm::CacheReadWrite);
  cache->mutable_all_caches();
  cache->mutable_all_items();
  auto* topic = perms->Add()->mutable_topic_permissions();
  topic->set_role(pm::TopicReadWrite);
  topic->mutable_all_caches();
  topic->mutable_all_topics();

  ::token::_GenerateDisposableTokenRequest disposable;
  disposable.set_auth_token(super_key);
  disposable.mutable_expires()->set_valid_for_seconds(300);
  auto* item = disposable.mutable_permissions()->mutable_explicit_()->add_permissions()
                   ->mutable_cache_permissions();
  item->set_role(pm::CacheReadWrite);
  item->mutable_cache_selector()->set_cache_name(req.at("cache").get<std::string>());
  item->mutable_item_selector()->set_key("k");

  bench::serve(req, "grpc++ " + grpc::Version(), [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    grpc::Status st;
    if (call == "refresh") {
      ctx.AddMetadata("authorization", refresh_key);
      ::auth::_RefreshApiTokenResponse resp;
      st = auth->RefreshApiToken(&ctx, refresh, &resp);
    } else if (call == "generate") {
      ctx.AddMetadata("authorization", super_key);
      ::auth::_GenerateApiTokenResponse resp;
      st = auth->GenerateApiToken(&ctx, generate, &resp);
    } else {
      ctx.AddMetadata("authorization", super_key);
      ::token::_GenerateDisposableTokenResponse resp;
      st = token->GenerateDisposableToken(&ctx, disposable, &resp);
    }
    if (!st.ok()) fail(st);
  });
  return 0;
}
