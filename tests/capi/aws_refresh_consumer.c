/* A C99 program that keeps an AWS Secrets Manager secret fresh and watches it, through the C
 * ABI only (it links libmomento_auth.so.1 and nothing else of ours). Driven by
 * test_capi_aws_store.cpp against a local moto server and momento-auth-server, and run under
 * valgrind there when valgrind is available.
 *
 *   aws_refresh_consumer SPEC SERVER-ADDRESS AWS-ENDPOINT REFRESH-FRACTION
 *
 * Opens the store twice (one handle for the refresher, one for the watcher), makes plain passes
 * (no force) until the refresher reports a refresh, waits until the watcher's subscriber sees the
 * new key, lists caches with the watched credential and prints one line:
 *   refreshed <event fingerprint> <watched fingerprint> <valid-until> <redacted key>
 * Exit status: 0 success, 2 usage, 3 a library call failed, 4 the rotation was not seen. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "momento/auth.h"

struct seen {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char fingerprint[80];
  int changes;
  int destroyed;
};

static void on_key(const momento_watched_key_t *key, void *user_data) {
  struct seen *s = (struct seen *)user_data;
  pthread_mutex_lock(&s->mu);
  snprintf(s->fingerprint, sizeof s->fingerprint, "%s", momento_watched_key_fingerprint(key));
  s->changes++;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static void on_destroy(void *user_data) {
  struct seen *s = (struct seen *)user_data;
  pthread_mutex_lock(&s->mu);
  s->destroyed++;
  pthread_mutex_unlock(&s->mu);
}

static int refresh_events;
static pthread_mutex_t refresh_mu = PTHREAD_MUTEX_INITIALIZER;
static void on_refresh(const momento_refresh_event_t *event, void *user_data) {
  (void)event;
  (void)user_data;
  pthread_mutex_lock(&refresh_mu);
  refresh_events++;
  pthread_mutex_unlock(&refresh_mu);
}

static int failed(const char *what, momento_error_t *err) {
  fprintf(stderr, "%s: %s: %s\n", what, momento_status_str(momento_error_code(err)),
          momento_error_message(err));
  momento_error_free(err);
  return 3;
}

static void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int main(int argc, char **argv) {
  momento_error_t *err = NULL;
  momento_store_options_t *so = NULL;
  momento_store_t *refresh_store = NULL, *watch_store = NULL;
  momento_endpoint_override_t *ov = NULL;
  momento_client_config_t *cfg = NULL;
  momento_refresher_options_t *ro = NULL;
  momento_refresher_t *refresher = NULL;
  momento_watcher_t *watcher = NULL;
  momento_refresh_event_t *event = NULL;
  momento_token_t *token = NULL;
  momento_credential_t *cred = NULL;
  momento_data_client_t *data = NULL;
  momento_string_list_t *caches = NULL;
  struct seen seen;
  uint64_t watch_id = 0, refresh_id = 0;
  char first_fp[80] = "", event_fp[80] = "";
  int rc = 3, i;

  if (argc != 5) {
    fprintf(stderr, "usage: %s SPEC SERVER-ADDRESS AWS-ENDPOINT REFRESH-FRACTION\n", argv[0]);
    return 2;
  }
  memset(&seen, 0, sizeof seen);
  pthread_mutex_init(&seen.mu, NULL);
  pthread_cond_init(&seen.cv, NULL);

  if (momento_store_options_new(&so, &err) != MOMENTO_OK ||
      momento_store_options_set_aws_region(so, "us-east-1", &err) != MOMENTO_OK ||
      momento_store_options_set_aws_endpoint(so, argv[3], &err) != MOMENTO_OK ||
      momento_store_new(&refresh_store, argv[1], so, &err) != MOMENTO_OK ||
      momento_store_new(&watch_store, argv[1], so, &err) != MOMENTO_OK) {
    rc = failed("open the store", err);
    goto done;
  }
  if (!momento_store_writable(refresh_store)) {
    fprintf(stderr, "store %s is not writable\n", momento_store_describe(refresh_store));
    goto done;
  }
  /* What the store holds now: a key that expires, with a refresh token. */
  if (momento_store_load(&token, refresh_store, &err) != MOMENTO_OK) {
    rc = failed("load", err);
    goto done;
  }
  if (momento_token_valid_until(token) == 0 || momento_token_refresh_token(token)[0] == '\0') {
    fprintf(stderr, "the stored key does not expire or has no refresh token\n");
    goto done;
  }

  if (momento_endpoint_override_new_single(&ov, argv[2], 0, &err) != MOMENTO_OK ||
      momento_client_config_new(&cfg, &err) != MOMENTO_OK ||
      momento_client_config_set_deadline_ms(cfg, 10000, &err) != MOMENTO_OK) {
    rc = failed("client settings", err);
    goto done;
  }

  if (momento_watcher_new(&watcher, watch_store, 100, ov, &err) != MOMENTO_OK) {
    rc = failed("watcher", err);
    goto done;
  }
  {
    momento_watched_key_t *k = NULL;
    if (momento_watcher_current_key(&k, watcher, &err) != MOMENTO_OK) {
      rc = failed("current key", err);
      goto done;
    }
    snprintf(first_fp, sizeof first_fp, "%s", momento_watched_key_fingerprint(k));
    momento_watched_key_free(k);
  }
  if (momento_watcher_subscribe(&watch_id, watcher, on_key, &seen, on_destroy, &err) != MOMENTO_OK) {
    rc = failed("watcher subscribe", err);
    goto done;
  }

  if (momento_refresher_options_new(&ro, &err) != MOMENTO_OK ||
      momento_refresher_options_set_jitter_fraction(ro, 0.0, &err) != MOMENTO_OK ||
      momento_refresher_options_set_refresh_fraction(ro, atof(argv[4]), &err) != MOMENTO_OK ||
      momento_refresher_new(&refresher, refresh_store, cfg, ov, ro, &err) != MOMENTO_OK ||
      momento_refresher_subscribe(&refresh_id, refresher, on_refresh, NULL, NULL, &err) != MOMENTO_OK) {
    rc = failed("refresher", err);
    goto done;
  }
  /* Plain passes, as a scheduled job makes them; bounded. */
  for (i = 0; i < 120; ++i) {
    momento_refresh_event_free(event);
    event = NULL;
    if (momento_refresher_run_once(&event, refresher, 0, &err) != MOMENTO_OK) {
      rc = failed("run_once", err);
      goto done;
    }
    if (event && momento_refresh_event_kind(event) != MOMENTO_REFRESH_ADOPTED) break;
    sleep_ms(250);
  }
  if (!event || momento_refresh_event_kind(event) != MOMENTO_REFRESH_REFRESHED) {
    fprintf(stderr, "no refresh: %s %s\n",
            event ? momento_refresh_event_kind_str(momento_refresh_event_kind(event)) : "(not due)",
            momento_refresh_event_error_message(event));
    rc = 4;
    goto done;
  }
  snprintf(event_fp, sizeof event_fp, "%s", momento_refresh_event_key_fingerprint(event));

  /* The watcher's subscriber sees the new key (bounded wait). */
  {
    struct timespec until;
    int waited = 0;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&seen.mu);
    while (strcmp(seen.fingerprint, event_fp) != 0 && waited != ETIMEDOUT)
      waited = pthread_cond_timedwait(&seen.cv, &seen.mu, &until);
    pthread_mutex_unlock(&seen.mu);
    if (waited == ETIMEDOUT) {
      fprintf(stderr, "the watcher did not see the new key\n");
      rc = 4;
      goto done;
    }
  }
  if (strcmp(event_fp, first_fp) == 0) {
    fprintf(stderr, "the fingerprint did not change\n");
    rc = 4;
    goto done;
  }

  /* The watched credential works. */
  if (momento_watcher_current_credential(&cred, watcher, &err) != MOMENTO_OK ||
      momento_data_client_new(&data, cred, cfg, &err) != MOMENTO_OK ||
      momento_data_client_list_caches(&caches, data, &err) != MOMENTO_OK) {
    rc = failed("list caches with the watched key", err);
    goto done;
  }
  if (momento_watcher_unsubscribe(watcher, watch_id, &err) != MOMENTO_OK) {
    rc = failed("unsubscribe", err);
    goto done;
  }
  pthread_mutex_lock(&seen.mu);
  i = seen.destroyed;
  pthread_mutex_unlock(&seen.mu);
  if (i != 1) {
    fprintf(stderr, "destroy notifier ran %d times\n", i);
    goto done;
  }

  printf("refreshed %s %s %llu %s\n", event_fp, seen.fingerprint,
         (unsigned long long)momento_refresh_event_valid_until(event),
         momento_credential_redacted_key(cred));
  rc = 0;

done:
  momento_string_list_free(caches);
  momento_data_client_free(data);
  momento_credential_free(cred);
  momento_refresh_event_free(event);
  momento_refresher_free(refresher);
  momento_refresher_options_free(ro);
  momento_watcher_free(watcher);
  momento_client_config_free(cfg);
  momento_endpoint_override_free(ov);
  momento_token_free(token);
  momento_store_free(watch_store);
  momento_store_free(refresh_store);
  momento_store_options_free(so);
  pthread_cond_destroy(&seen.cv);
  pthread_mutex_destroy(&seen.mu);
  if (rc == 0) {
    pthread_mutex_lock(&refresh_mu);
    i = refresh_events;
    pthread_mutex_unlock(&refresh_mu);
    /* momento_refresher_free joined the delivery thread: every event has arrived. */
    if (i < 1) {
      fprintf(stderr, "the refresher's subscriber saw no event\n");
      rc = 4;
    }
  }
  return rc;
}
