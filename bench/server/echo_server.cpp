// Baseline for the server benchmark: a gRPC server whose one unary method, /bench.Echo/Echo,
// answers with the request bytes. It is built exactly as momento-auth-server builds its server
// (synchronous server, methods registered on raw byte buffers through RpcMethodHandler, a
// resource quota of --threads threads, MIN_POLLERS 1, MAX_POLLERS max(2, threads / 2)), so the
// difference between the two is the work done inside the handler.
//
// Usage: momento_bench_echo_server --listen HOST:PORT [--threads N] [--data-dir IGNORED]
// First stdout line: "listening on HOST:PORT". SIGTERM/SIGINT stop it.
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/support/method_handler.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

namespace {

class EchoService : public grpc::Service {
 public:
  EchoService() {
    AddMethod(new grpc::internal::RpcServiceMethod(
        "/bench.Echo/Echo", grpc::internal::RpcMethod::NORMAL_RPC,
        new grpc::internal::RpcMethodHandler<EchoService, grpc::ByteBuffer, grpc::ByteBuffer>(
            [](EchoService*, grpc::ServerContext*, const grpc::ByteBuffer* req,
               grpc::ByteBuffer* resp) {
              *resp = *req;  // shares the slices; no copy of the bytes
              return grpc::Status::OK;
            },
            this)));
  }
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr, "momento_bench_echo_server: %s\n"
               "usage: momento_bench_echo_server --listen HOST:PORT [--threads N]\n", msg);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  int threads = 64;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--listen") listen = value();
    else if (a == "--threads") threads = std::atoi(value().c_str());
    else if (a == "--data-dir") value();  // accepted so the test helper can start it
    else usage(("unknown argument " + a).c_str());
  }
  if (threads < 2) usage("--threads must be at least 2");
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) usage("--listen must be HOST:PORT");

  // Block the stop signals before gRPC starts threads; this thread waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  EchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  grpc::ResourceQuota quota("momento-bench-echo");
  quota.SetMaxThreads(threads);
  builder.SetResourceQuota(quota);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              std::max(2, threads / 2));
  auto server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::printf("listening on %s:%d\n", listen.substr(0, colon).c_str(), port);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&set, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server->Wait();
  return 0;
}
