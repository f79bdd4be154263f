/* Calls an old name of auth.h: compiles as is, and warns as deprecated (tests/headers). */
#include <momento/auth.h>

const char *momento_header_deprecated_probe(void);
const char *momento_header_deprecated_probe(void) {
  return momento_credential_kind_name(MOMENTO_CREDENTIAL_LOCAL);
}
