// The C ABI with random arguments: a sequence of calls chosen by the input, each with strings
// (or NULL), out-pointers (or NULL), error out-pointers (or NULL) and integers, doubles and enum
// values taken from the input. Every fallible call must return a status; MOMENTO_OK exactly when
// it produced its object, an error object with a message otherwise, and no message may quote a
// credential it was given. Calls that open connections or read files are left out.
#include <cmath>
#include <deque>
#include <string>

#include "fuzz.hpp"
#include "momento/auth.h"

namespace {

struct State {
  fuzz::Input& in;
  std::deque<std::string> strings;  // what c_str() points into, alive and in place for the sequence
  momento_credential_t* cred = nullptr;
  momento_endpoint_override_t* ovr = nullptr;
  momento_scope_t* scope = nullptr;
  momento_refresher_options_t* opts = nullptr;
  momento_client_config_t* config = nullptr;

  ~State() {
    momento_credential_free(cred);
    momento_endpoint_override_free(ovr);
    momento_scope_free(scope);
    momento_refresher_options_free(opts);
    momento_client_config_free(config);
  }

  // A string argument, NULL for one value of the leading byte.
  const char* str() {
    uint8_t tag = in.byte();
    std::string_view f = in.field();
    if (tag == 0xEE) return nullptr;
    return strings.emplace_back(f).c_str();
  }
  momento_error_t** err(momento_error_t** slot) { return (in.byte() & 1) ? slot : nullptr; }
};

// Checks the status/out/error contract of one call and frees its error. Takes the out and error
// slots by address: they are read here, after the call (argument evaluation order is unspecified).
template <class T>
void settle(momento_status_t st, T** out, momento_error_t** ep, const char* secret) {
  T* made = out ? *out : nullptr;
  momento_error_t* e = *ep;
  *ep = nullptr;
  if (st == MOMENTO_OK) {
    fuzz::check(e == nullptr, "an error object came with MOMENTO_OK");
    fuzz::check(!out || made != nullptr, "MOMENTO_OK without the object");
  } else {
    fuzz::check(made == nullptr, "an object came with a failure");
    fuzz::check(momento_status_str(st) != nullptr, "a status without a name");
    if (e) {
      fuzz::check(momento_error_code(e) == st, "the error object's code differs from the status");
      const char* msg = momento_error_message(e);
      fuzz::check(msg != nullptr, "an error without a message");
      if (secret) fuzz::check(!fuzz::echoes(msg, secret), "an error message quotes the credential");
      (void)momento_error_retryable(e);
      (void)momento_error_grpc_status(e);
    }
  }
  momento_error_free(e);
}
// For calls without an out-parameter.
inline int** no_out() { return nullptr; }

void replace(momento_credential_t*& slot, momento_credential_t* c) {
  if (!c) return;
  momento_credential_free(slot);
  slot = c;
}

void step(State& s) {
  fuzz::Input& in = s.in;
  momento_error_t* e = nullptr;
  momento_error_t** ep;
  switch (in.byte() % 16) {
    case 0: case 1: {  // from_string / from_disposable_token
      bool disposable = in.byte() & 1;
      const char* text = s.str();
      bool want_out = in.byte() & 1;
      momento_credential_t* c = nullptr;
      ep = s.err(&e);
      momento_status_t st = disposable
          ? momento_credential_from_disposable_token(want_out ? &c : nullptr, text, s.ovr, ep)
          : momento_credential_from_string(want_out ? &c : nullptr, text, s.ovr, ep);
      settle(st, want_out ? &c : nullptr, &e, text);
      replace(s.cred, c);
      break;
    }
    case 2: {
      const char* key = s.str();
      const char* endpoint = s.str();
      momento_credential_t* c = nullptr;
      ep = s.err(&e);
      settle(momento_credential_from_v2(&c, key, endpoint, s.ovr, ep), &c, &e, key);
      replace(s.cred, c);
      break;
    }
    case 3: {
      const char* host = s.str();
      uint16_t port = in.number<uint16_t>();
      momento_credential_t* c = nullptr;
      ep = s.err(&e);
      settle(momento_credential_new_local(&c, host, port, ep), &c, &e, nullptr);
      replace(s.cred, c);
      break;
    }
    case 4: {  // an endpoint override of each kind
      uint8_t kind = in.byte() % 3;
      int32_t secure = in.number<int32_t>();
      const char* a = s.str();
      const char* b = s.str();
      const char* c3 = s.str();
      momento_endpoint_override_t* o = nullptr;
      ep = s.err(&e);
      momento_status_t st =
          kind == 0   ? momento_endpoint_override_new_base(&o, a, b, secure, ep)
          : kind == 1 ? momento_endpoint_override_new_explicit(&o, a, b, c3, secure, ep)
                      : momento_endpoint_override_new_single(&o, a, secure, ep);
      settle(st, &o, &e, nullptr);
      if (o) {
        momento_endpoint_override_free(s.ovr);
        s.ovr = o;
      } else if (in.byte() & 1) {
        momento_endpoint_override_free(s.ovr);
        s.ovr = nullptr;
      }
      break;
    }
    case 5: {  // every accessor of the current credential (which may be NULL)
      const momento_credential_t* c = s.cred;
      (void)momento_credential_kind(c);
      (void)momento_credential_kind_str(in.number<int32_t>());
      const char* host = nullptr;
      uint16_t port = 0;
      int32_t secure = 0;
      ep = s.err(&e);
      settle(momento_credential_endpoint(&host, &port, &secure, c, in.number<int32_t>(), ep), no_out(), &e, nullptr);
      (void)momento_credential_base_endpoint(c);
      (void)momento_credential_endpoints_overridden(c);
      int32_t state = 0;
      uint64_t epoch = 0;
      e = nullptr;
      ep = s.err(&e);
      settle(momento_credential_expiry(&state, &epoch, c, ep), no_out(), &e, nullptr);
      (void)momento_credential_redacted(c);
      (void)momento_credential_redacted_key(c);
      (void)momento_credential_refresh_token(c);
      momento_credential_t* w = nullptr;
      e = nullptr;
      ep = s.err(&e);
      settle(momento_credential_with_override(&w, c, s.ovr, ep), &w, &e, nullptr);
      momento_credential_free(w);
      break;
    }
    case 6: {
      momento_expires_in_t* x = nullptr;
      int32_t unit = in.number<int32_t>();
      int64_t amount = in.number<int64_t>();
      ep = s.err(&e);
      settle(momento_expires_in_new(&x, unit, amount, ep), &x, &e, nullptr);
      (void)momento_expires_in_does_expire(x);
      (void)momento_expires_in_seconds(x);
      momento_expires_in_free(x);
      break;
    }
    case 7: {  // a new scope, empty or predefined
      momento_scope_t* sc = nullptr;
      bool predefined = in.byte() & 1;
      int32_t which = in.number<int32_t>();
      ep = s.err(&e);
      settle(predefined ? momento_scope_new_predefined(&sc, which, ep) : momento_scope_new(&sc, ep), &sc, &e, nullptr);
      if (sc) {
        momento_scope_free(s.scope);
        s.scope = sc;
      }
      break;
    }
    case 8: {  // add an entry of each kind to the current scope (which may be NULL)
      uint8_t kind = in.byte() % 4;
      int32_t role = in.number<int32_t>();
      int32_t select = in.number<int32_t>();
      const char* cache = s.str();
      const char* name = s.str();
      ep = s.err(&e);
      momento_status_t st;
      switch (kind) {
        case 0: st = momento_scope_add_cache(s.scope, role, cache, ep); break;
        case 1: st = momento_scope_add_topic(s.scope, role, cache, select, name, ep); break;
        case 2: st = momento_scope_add_function(s.scope, role, cache, select, name, ep); break;
        default: {
          size_t len = name ? std::string_view(name).size() : in.byte();
          st = momento_scope_add_cache_items(s.scope, role, cache, select, name, len, ep);
        }
      }
      settle(st, no_out(), &e, nullptr);
      (void)momento_scope_entry_count(s.scope);
      break;
    }
    case 9: {
      ep = s.err(&e);
      settle(momento_scope_validate(s.scope, in.number<int32_t>(), ep), no_out(), &e, nullptr);
      break;
    }
    case 10: {
      char* out = nullptr;
      const char* secret = s.str();
      bool want_out = in.byte() & 1;
      ep = s.err(&e);
      settle(momento_redact(want_out ? &out : nullptr, secret, ep), want_out ? &out : nullptr, &e, secret);
      if (out && secret) fuzz::check(!fuzz::echoes(out, secret), "momento_redact shows the secret");
      momento_free(out);
      break;
    }
    case 11: {  // refresher options: any double (NaN, infinities) or integer
      if (!s.opts) {
        ep = s.err(&e);
        settle(momento_refresher_options_new(&s.opts, ep), &s.opts, &e, nullptr);
        break;
      }
      uint8_t which = in.byte() % 7;
      double d = in.number<double>();
      int64_t a = in.number<int64_t>(), b = in.number<int64_t>();
      ep = s.err(&e);
      momento_status_t st;
      switch (which) {
        case 0: st = momento_refresher_options_set_refresh_fraction(s.opts, d, ep); break;
        case 1: st = momento_refresher_options_set_jitter_fraction(s.opts, d, ep); break;
        case 2: st = momento_refresher_options_set_backoff_ms(s.opts, a, b, ep); break;
        case 3: st = momento_refresher_options_set_backoff_initial_ms(s.opts, a, ep); break;
        case 4: st = momento_refresher_options_set_backoff_max_ms(s.opts, a, ep); break;
        case 5: st = momento_refresher_options_set_recheck_interval_ms(s.opts, a, ep); break;
        default: st = momento_refresher_options_validate(s.opts, ep);
      }
      settle(st, no_out(), &e, nullptr);
      double f = momento_refresher_options_refresh_fraction(s.opts);
      double j = momento_refresher_options_jitter_fraction(s.opts);
      fuzz::check(std::isfinite(f) && std::isfinite(j), "a refresh policy holds a non-finite fraction");
      (void)momento_refresher_options_backoff_initial_ms(s.opts);
      (void)momento_refresher_options_backoff_max_ms(s.opts);
      (void)momento_refresher_options_recheck_interval_ms(s.opts);
      break;
    }
    case 12: {
      int32_t kind = 0;
      char* location = nullptr;
      const char* spec = s.str();
      ep = s.err(&e);
      settle(momento_store_spec_parse(&kind, &location, spec, ep), &location, &e, nullptr);
      (void)momento_store_kind_str(in.number<int32_t>());
      momento_free(location);
      break;
    }
    case 13: {  // client configuration (the CA file is left out: it names a file to read)
      if (!s.config) {
        ep = s.err(&e);
        settle(momento_client_config_new(&s.config, ep), &s.config, &e, nullptr);
        break;
      }
      bool deadline = in.byte() & 1;
      int64_t ms = in.number<int64_t>();
      int32_t bytes = in.number<int32_t>();
      ep = s.err(&e);
      settle(deadline ? momento_client_config_set_deadline_ms(s.config, ms, ep)
                      : momento_client_config_set_max_message_bytes(s.config, bytes, ep), no_out(), &e, nullptr);
      break;
    }
    case 14: {  // accessors that take anything, NULL included
      (void)momento_status_str(static_cast<momento_status_t>(in.number<int32_t>()));
      (void)momento_error_code(nullptr);
      (void)momento_error_message(nullptr);
      (void)momento_error_retryable(nullptr);
      (void)momento_refresh_event_kind_str(in.number<int32_t>());
      momento_error_free(nullptr);
      momento_free(nullptr);
      break;
    }
    default: {  // frees in any order
      momento_credential_free(s.cred);
      s.cred = nullptr;
      if (in.byte() & 1) {
        momento_scope_free(s.scope);
        s.scope = nullptr;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  State s{in, {}};
  for (int i = 0; i < 64 && !in.empty(); ++i) step(s);
  return 0;
}
