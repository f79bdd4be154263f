/* C side of bench/python/bench.py: times the same operations through the C ABI directly.
 *
 *   c_driver parse   ITERATIONS KEY
 *   c_driver refresh ITERATIONS KEY HOST:PORT REFRESH_TOKEN
 *
 * Prints one line: wall-clock and process CPU nanoseconds per call. Exits non-zero on any failure.
 * Built with -DC_DRIVER_LIBRARY it is a shared object instead, whose c_driver_run() the benchmark
 * calls through ctypes once per round: the same C loop, inside the Python process. */
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

/* address and refresh_token are used by "refresh" only. Writes nanoseconds per call to
 * wall and cpu; returns 0, or non-zero on any failure. */
int c_driver_run(const char *op, long iterations, const char *key, const char *address,
                 const char *refresh_token, double *wall, double *cpu) {
  momento_error_t *err = NULL;
  if (iterations <= 0) return 2;

  if (strcmp(op, "parse") == 0) {
    double t0 = now_ns(), c0 = cpu_ns();
    for (long i = 0; i < iterations; ++i) {
      momento_credential_t *c = NULL;
      if (momento_credential_from_string(&c, key, NULL, &err) != MOMENTO_OK)
        return fail("parse", err);
      momento_credential_free(c);
    }
    *wall = (now_ns() - t0) / (double)iterations;
    *cpu = (cpu_ns() - c0) / (double)iterations;
    return 0;
  }

  if (strcmp(op, "refresh") == 0 && address && refresh_token) {
    momento_endpoint_override_t *o = NULL;
    momento_credential_t *c = NULL;
    momento_auth_client_t *client = NULL;
    if (momento_endpoint_override_single(&o, address, 0, &err) != MOMENTO_OK) return fail("override", err);
    if (momento_credential_from_string(&c, key, o, &err) != MOMENTO_OK) return fail("credential", err);
    if (momento_auth_client_new(&client, c, NULL, &err) != MOMENTO_OK) return fail("client", err);
    /* One call outside the timing to open the connection, as the Python side does. */
    momento_token_t *t = NULL;
    if (momento_auth_client_refresh_api_key(&t, client, refresh_token, &err) != MOMENTO_OK)
      return fail("refresh", err);
    momento_token_free(t);
    double t0 = now_ns(), c0 = cpu_ns();
    for (long i = 0; i < iterations; ++i) {
      t = NULL;
      if (momento_auth_client_refresh_api_key(&t, client, refresh_token, &err) != MOMENTO_OK)
        return fail("refresh", err);
      momento_token_free(t);
    }
    *wall = (now_ns() - t0) / (double)iterations;
    *cpu = (cpu_ns() - c0) / (double)iterations;
    momento_auth_client_free(client);
    momento_credential_free(c);
    momento_endpoint_override_free(o);
    return 0;
  }
  return 2;
}

#ifndef C_DRIVER_LIBRARY
int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s parse|refresh ITERATIONS KEY [HOST:PORT REFRESH_TOKEN]\n", argv[0]);
    return 2;
  }
  double wall = 0, cpu = 0;
  int rc = c_driver_run(argv[1], strtol(argv[2], NULL, 10), argv[3], argc > 4 ? argv[4] : NULL,
                        argc > 5 ? argv[5] : NULL, &wall, &cpu);
  if (rc == 0) printf("%.1f %.1f\n", wall, cpu);
  return rc;
}
#endif
