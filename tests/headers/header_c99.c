/* auth.h alone, as strict C99: every declaration must be valid ISO C. */
#include <momento/auth.h>
#include <momento/auth.h> /* include guard */

/* Touch a few declarations so the compiler checks their types. */
static momento_status_t (*const generate)(momento_token_t **, momento_auth_client_t *,
                                          const momento_scope_t *, const momento_expires_in_t *,
                                          momento_error_t **) = momento_auth_client_generate_api_key;
static const int status_is_32_bit[sizeof(momento_status_t) == 4 ? 1 : -1] = {0};

int momento_header_c99_probe(void);
int momento_header_c99_probe(void) {
  return (generate != 0) + status_is_32_bit[0] + MOMENTO_AUTH_VERSION_NUMBER + MOMENTO_ERR_UNKNOWN;
}
