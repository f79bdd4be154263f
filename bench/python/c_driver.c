/* C side of bench/python/bench.py: times the same operations through the C ABI directly.
 *
 *   c_driver parse   ITERATIONS KEY
 *   c_driver refresh ITERATIONS KEY HOST:PORT REFRESH_TOKEN
 *
 * Prints one line: wall-clock and process CPU nanoseconds per call. Exits non-zero on any failure. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "momento/auth.h"

static double clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}
static double now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
/* CPU time of the whole process (all threads): robust against other load on the machine. */
static double cpu_ns(void) { return clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

static int fail(const char *what, momento_error_t *err) {
  fprintf(stderr, "%s failed: %s\n", what, momento_error_message(err));
  momento_error_free(err);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s parse|refresh ITERATIONS KEY [HOST:PORT REFRESH_TOKEN]\n", argv[0]);
    return 2;
  }
  long iterations = strtol(argv[2], NULL, 10);
  const char *key = argv[3];
  momento_error_t *err = NULL;
  if (iterations <= 0) return 2;

  if (strcmp(argv[1], "parse") == 0) {
    double t0 = now_ns(), c0 = cpu_ns();
    for (long i = 0; i < iterations; ++i) {
      momento_credential_t *c = NULL;
      if (momento_credential_from_string(&c, key, NULL, &err) != MOMENTO_OK)
        return fail("parse", err);
      momento_credential_free(c);
    }
    printf("%.1f %.1f\n", (now_ns() - t0) / (double)iterations, (cpu_ns() - c0) / (double)iterations);
    return 0;
  }

  if (strcmp(argv[1], "refresh") == 0 && argc == 6) {
    momento_endpoint_override_t *o = NULL;
    momento_credential_t *c = NULL;
    momento_auth_client_t *client = NULL;
    if (momento_endpoint_override_single(&o, argv[4], 0, &err) != MOMENTO_OK) return fail("override", err);
    if (momento_credential_from_string(&c, key, o, &err) != MOMENTO_OK) return fail("credential", err);
    if (momento_auth_client_new(&client, c, NULL, &err) != MOMENTO_OK) return fail("client", err);
    /* One call outside the timing to open the connection, as the Python side does. */
    momento_token_t *t = NULL;
    if (momento_auth_client_refresh_api_key(&t, client, argv[5], &err) != MOMENTO_OK)
      return fail("refresh", err);
    momento_token_free(t);
    double t0 = now_ns(), c0 = cpu_ns();
    for (long i = 0; i < iterations; ++i) {
      t = NULL;
      if (momento_auth_client_refresh_api_key(&t, client, argv[5], &err) != MOMENTO_OK)
        return fail("refresh", err);
      momento_token_free(t);
    }
    printf("%.1f %.1f\n", (now_ns() - t0) / (double)iterations, (cpu_ns() - c0) / (double)iterations);
    momento_auth_client_free(client);
    momento_credential_free(c);
    momento_endpoint_override_free(o);
    return 0;
  }
  return 2;
}
