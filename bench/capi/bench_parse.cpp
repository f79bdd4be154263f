// C ABI overhead on a parse, side by side in one process, on a v1 envelope minted by a local
// momento-auth-server: momento_credential_from_string + momento_credential_free (the library,
// linked normally) against momento::auth::Credential::from_string
//   - in a shared object built the way the library is (core_parse_lib.cpp): the two paths run
//     the same machine code for core and differ by the shim alone;
//   - linked into this program: what a C++ user of core would run.
// Where the linker places core's code moves a parse by a few hundred nanoseconds either way, so
// the exact measure of the shim's work is its instruction count: `count` mode runs each path in
// a named loop for callgrind (count_parse.sh), timing mode prints paired timings.
//
// Linking core into the program works because a parse needs none of the generated protobuf
// code: only core's credential code leaves its static archive, so the process holds one copy
// of our .proto descriptors (the library's). All paths share the process's allocator.
//
// Usage: momento_bench_capi_parse [parses_per_batch=5000] [batches=101] [count]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "momento/auth.h"
#include "momento/auth.hpp"
#include "momento/auth/credential.hpp"
#include "paired.hpp"
#include "server_process.hpp"

extern "C" int bench_core_parse(const char *key, size_t size);  // core_parse_lib.cpp

namespace {

std::string key;

void core_program_parse() {
  momento::auth::Credential c = momento::auth::Credential::from_string(key);
  if (c.raw_key().empty()) std::abort();
}
void core_so_parse() {
  if (bench_core_parse(key.c_str(), key.size()) != 0) std::abort();
}
void capi_parse() {
  momento_credential_t *c = nullptr;
  momento_error_t *err = nullptr;
  if (momento_credential_from_string(&c, key.c_str(), nullptr, &err) != MOMENTO_OK) {
    std::fprintf(stderr, "parse failed: %s\n", momento_error_message(err));
    std::exit(1);
  }
  momento_credential_free(c);
}

}  // namespace

// Loops under fixed names, so callgrind reports each path's instructions (count_parse.sh).
extern "C" __attribute__((noinline)) void count_core_program(int n) {
  for (int i = 0; i < n; ++i) core_program_parse();
}
extern "C" __attribute__((noinline)) void count_core_so(int n) {
  for (int i = 0; i < n; ++i) core_so_parse();
}
extern "C" __attribute__((noinline)) void count_capi(int n) {
  for (int i = 0; i < n; ++i) capi_parse();
}

int main(int argc, char **argv) {
  int ops = argc > 1 ? std::atoi(argv[1]) : 5000;
  int batches = argc > 2 ? std::atoi(argv[2]) : 101;
  bool count = argc > 3 && std::strcmp(argv[3], "count") == 0;
  if (ops <= 0 || batches <= 0) return 2;

  // An expiring AllDataReadWrite key, minted through the library itself.
  {
    momento::test::ServerProcess server(std::vector<std::string>{"--log-format", "off"});
    auto single = momento::EndpointOverride::single(server.address());
    momento::AuthClient admin(momento::Credential::from_string(server.bootstrap_envelope(), &single));
    key = std::string(admin.generate_api_key(momento::Scope::all_data_read_write(),
                                             momento::ExpiresIn::hours(1))
                          .api_key());
  }
  for (int i = 0; i < 2000; ++i) {  // warm-up
    core_program_parse();
    core_so_parse();
    capi_parse();
  }
  std::printf("libmomento_auth %s; %zu-byte v1 envelope\n", momento_version_string(), key.size());
  if (count) {
    count_core_program(ops);
    count_core_so(ops);
    count_capi(ops);
    return 0;
  }
  auto vs_so = momento::bench::run_paired(batches, ops, core_so_parse, capi_parse);
  auto vs_program = momento::bench::run_paired(batches, ops, core_program_parse, capi_parse);
  std::printf("%d paired batches of %d parses\n", batches, ops);
  std::printf("against core in a shared object built like the library (the shim's cost):\n");
  momento::bench::report("parse", vs_so);
  std::printf("against core linked into this program:\n");
  momento::bench::report("parse", vs_program);
  return 0;
}
