// auth.h and auth.hpp as strict C++17.
#include <momento/auth.h>
#include <momento/auth.hpp>

static_assert(sizeof(momento_status_t) == 4);
static_assert(MOMENTO_AUTH_ABI_VERSION == 1);

int momento_header_cxx17_probe();
int momento_header_cxx17_probe() {
  momento::Error e(MOMENTO_ERR_TIMEOUT, "x", 4, true);
  return e.retryable() ? 0 : 1;
}
