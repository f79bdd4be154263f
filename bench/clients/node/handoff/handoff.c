// The bare thread hand-off of an event-loop caller, without gRPC or the library: a thread that
// sleeps in poll() on one socket (as gRPC's poller waits on the connection) and answers each
// byte with one byte on a second socket (as the completion queue wakes the caller). One round
// trip is two cross-thread wake-ups. handoff.js times it from Node's event loop; built with
// -DHANDOFF_MAIN this file times it from a C thread waiting in poll() (bench/clients/node/RESULTS.md):
//   cc -O2 -shared -fPIC -o /tmp/libhandoff.so handoff.c -lpthread
//   cc -O2 -DHANDOFF_MAIN -o /tmp/handoff handoff.c -lpthread && /tmp/handoff 20000
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int thread_in, thread_out;

static void *echo(void *arg) {
  (void)arg;
  char b[64];
  for (;;) {
    struct pollfd p = {thread_in, POLLIN, 0};
    poll(&p, 1, -1);
    ssize_t n = recv(thread_in, b, sizeof b, MSG_DONTWAIT);
    if (n == 0) return NULL;
    if (n > 0) send(thread_out, b, 1, MSG_NOSIGNAL);
  }
}

// Starts the thread; fds[0] is the caller's end to write to, fds[1] the one to read from.
int handoff_start(int32_t *fds) {
  int a[2], b[2];
  const int type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
  if (socketpair(AF_UNIX, type, 0, a) != 0 || socketpair(AF_UNIX, type, 0, b) != 0) return -1;
  thread_in = a[1];
  thread_out = b[0];
  fds[0] = a[0];
  fds[1] = b[1];
  pthread_t t;
  if (pthread_create(&t, NULL, echo, NULL) != 0) return -1;
  return pthread_detach(t);
}

int handoff_kick(int fd) {
  const char c = 1;
  return (int)send(fd, &c, 1, MSG_NOSIGNAL);
}

#ifdef HANDOFF_MAIN
static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int by_value(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

int main(int argc, char **argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 20000;
  int32_t fds[2];
  double *lat = malloc(sizeof(double) * n);
  if (n <= 0 || lat == NULL || handoff_start(fds) != 0) return 1;
  char b[64];
  for (int i = 0; i < n; i++) {
    const double t0 = now_us();
    handoff_kick(fds[0]);
    struct pollfd p = {fds[1], POLLIN, 0};
    poll(&p, 1, -1);
    while (recv(fds[1], b, sizeof b, MSG_DONTWAIT) > 0) {
    }
    lat[i] = now_us() - t0;
  }
  qsort(lat, n, sizeof(double), by_value);
  printf("C thread in poll(): round trip p10 %.1f µs, p50 %.1f µs, p90 %.1f µs\n", lat[n / 10], lat[n / 2],
         lat[n * 9 / 10]);
  return 0;
}
#endif
