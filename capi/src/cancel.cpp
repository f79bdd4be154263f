// Cancel tokens: another thread cancels the calls a tied thread has in flight.
#include <memory>

#include "internal.hpp"

using namespace momento_capi;

namespace {
// The C handle the calling thread is tied to; core only knows the CancelToken inside it.
thread_local momento_cancel_token_t *t_bound = nullptr;
}  // namespace

extern "C" {

momento_status_t momento_cancel_token_new(momento_cancel_token_t **out, momento_error_t **err) {
  return guard(err, "momento_cancel_token_new", [&] {
    need_out(out, "out");
    *out = std::make_unique<momento_cancel_token>().release();
  });
}

void momento_cancel_token_free(momento_cancel_token_t *token) { delete token; }

momento_status_t momento_cancel_token_cancel(momento_cancel_token_t *token, momento_error_t **err) {
  return guard(err, "momento_cancel_token_cancel", [&] {
    need_handle(token, "token");
    token->value.cancel();
  });
}

momento_status_t momento_cancel_token_reset(momento_cancel_token_t *token, momento_error_t **err) {
  return guard(err, "momento_cancel_token_reset", [&] {
    need_handle(token, "token");
    token->value.reset();
  });
}

int32_t momento_cancel_token_is_cancelled(const momento_cancel_token_t *token) {
  return token && token->value.cancelled() ? 1 : 0;
}

momento_status_t momento_cancel_token_bind_thread(momento_cancel_token_t **previous,
                                                  momento_cancel_token_t *token,
                                                  momento_error_t **err) {
  return guard(err, "momento_cancel_token_bind_thread", [&] {
    // Nothing to validate beyond the pointers themselves: NULL is a valid token (untie) and a
    // valid `previous` (not wanted).
    ma::CancelToken::bind_thread(token ? &token->value : nullptr);
    if (previous) *previous = t_bound;
    t_bound = token;
  });
}

}  // extern "C"
