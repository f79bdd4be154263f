// core's parse behind one exported function, in a shared object linked the way
// libmomento_auth.so is (core static and hidden inside): the baseline that differs from the
// C ABI path by the shim alone, not by where the linker placed core's code.
#include <cstddef>
#include <string_view>

#include "momento/auth/credential.hpp"

extern "C" __attribute__((visibility("default"))) int bench_core_parse(const char *key,
                                                                       size_t size) {
  momento::auth::Credential c = momento::auth::Credential::from_string(std::string_view(key, size));
  return c.raw_key().empty() ? 1 : 0;
}
