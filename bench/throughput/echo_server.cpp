// Baseline for the throughput benchmark: a bare gRPC echo service with the same synchronous
// server settings as momento-auth-server (thread quota, poller bounds), so that the ratio
// subject/echo isolates what the auth server adds on top of gRPC itself.
//
//   bench_echo_server [--listen HOST:PORT] [--threads N] [--data-dir DIR]
//
// Prints `listening on HOST:PORT` as its first stdout line, like momento-auth-server, and
// stops on SIGTERM/SIGINT. --data-dir is accepted and ignored (the launcher passes it).
#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "echo.grpc.pb.h"

namespace {

class EchoService final : public bench_echo::Echo::Service {
  grpc::Status Call(grpc::ServerContext*, const bench_echo::EchoMessage* req,
                    bench_echo::EchoMessage* resp) override {
    resp->set_payload(req->payload());
    return grpc::Status::OK;
  }
};

int usage(const char* msg) {
  std::fprintf(stderr, "bench_echo_server: %s\n", msg);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  int threads = 64;  // momento-auth-server's default
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage(("missing value after " + a).c_str());
    std::string v = argv[++i];
    if (a == "--listen") listen = v;
    else if (a == "--threads") threads = std::atoi(v.c_str());
    else if (a == "--data-dir") continue;
    else return usage(("unknown option " + a).c_str());
  }
  if (threads < 2) return usage("--threads must be at least 2");
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return usage("--listen must be HOST:PORT");

  // Block the stop signals before gRPC starts its threads; this thread waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  EchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  // Same settings as momento::server::AuthServer::start().
  grpc::ResourceQuota quota("bench-echo");
  quota.SetMaxThreads(threads);
  builder.SetResourceQuota(quota);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              std::max(2, threads / 2));
  auto server = builder.BuildAndStart();
  if (!server || port == 0) return usage(("cannot listen on " + listen).c_str());
  std::cout << "listening on " << listen.substr(0, colon) << ":" << port << std::endl;

  int sig = 0;
  sigwait(&stop, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  return 0;
}
