// C trampolines for the library's callbacks: the exported Go functions cannot take const
// pointers, and a cgo file with //export may hold declarations only.
#include "_cgo_export.h"

void momento_go_refresh_cb(const momento_refresh_event_t *event, void *user_data) {
  goRefreshEvent((momento_refresh_event_t *)event, user_data);
}

void momento_go_watch_cb(const momento_watched_key_t *key, void *user_data) {
  goWatchedKey((momento_watched_key_t *)key, user_data);
}

void momento_go_log_cb(int32_t level, const char *message, void *user_data) {
  goLogMessage(level, (char *)message, user_data);
}

void momento_go_log_destroy(void *user_data) { goLogDestroy(user_data); }
