// Endpoint overrides and credentials.
#include <memory>

#include "internal.hpp"

using namespace momento_capi;

namespace {

std::optional<ma::EndpointOverride> override_of(const momento_endpoint_override_t *o) {
  if (o == nullptr) return std::nullopt;
  return o->value;
}

// An environment variable's name as the caller gave it (checked as any optional string);
// NULL stays NULL: core reads it as its default name.
const char *var_name(const char *name, const char *what) {
  (void)opt_str(name, what);
  return name;
}

momento_status_t make_credential(momento_credential_t **out, momento_error_t **err,
                                 const char *what, auto &&parse) {
  return guard(err, what, [&] {
    need_out(out, "out");
    auto handle = std::make_unique<momento_credential>(std::in_place, parse);
    if (log_enabled(MOMENTO_LOG_DEBUG))
      log(MOMENTO_LOG_DEBUG, std::string(what) + ": " + handle->redacted());
    *out = handle.release();
  });
}

momento_status_t make_override(momento_endpoint_override_t **out, momento_error_t **err,
                               const char *what, auto &&build) {
  return guard(err, what, [&] {
    need_out(out, "out");
    ma::EndpointOverride value = build();
    (void)ma::resolve_override(value);  // rejects bad hosts and ports now, not at first use
    *out = new momento_endpoint_override{std::move(value)};
  });
}

}  // namespace

extern "C" {

momento_status_t momento_endpoint_override_new_base(momento_endpoint_override_t **out,
                                                const char *base_endpoint,
                                                const char *endpoint_prefix, int32_t secure,
                                                momento_error_t **err) {
  return make_override(out, err, "momento_endpoint_override_new_base", [&] {
    ma::BaseEndpointOverride o;
    o.base_endpoint = std::string(need_str(base_endpoint, "base_endpoint", true));
    if (auto p = opt_str(endpoint_prefix, "endpoint_prefix")) o.endpoint_prefix = std::string(*p);
    o.secure = need_bool(secure, "secure");
    return ma::EndpointOverride(std::move(o));
  });
}

momento_status_t momento_endpoint_override_new_explicit(momento_endpoint_override_t **out,
                                                    const char *control, const char *cache,
                                                    const char *token, int32_t secure,
                                                    momento_error_t **err) {
  return make_override(out, err, "momento_endpoint_override_new_explicit", [&] {
    ma::ExplicitEndpointsOverride o;
    o.control = std::string(need_str(control, "control", true));
    o.cache = std::string(need_str(cache, "cache", true));
    o.token = std::string(need_str(token, "token", true));
    o.secure = need_bool(secure, "secure");
    return ma::EndpointOverride(std::move(o));
  });
}

momento_status_t momento_endpoint_override_new_single(momento_endpoint_override_t **out,
                                                  const char *host_port, int32_t secure,
                                                  momento_error_t **err) {
  return make_override(out, err, "momento_endpoint_override_new_single", [&] {
    ma::SingleEndpointOverride o;
    o.address = std::string(need_str(host_port, "host_port", true));
    o.secure = need_bool(secure, "secure");
    return ma::EndpointOverride(std::move(o));
  });
}

void momento_endpoint_override_free(momento_endpoint_override_t *override_) { delete override_; }

momento_status_t momento_credential_from_string(momento_credential_t **out, const char *credential,
                                                const momento_endpoint_override_t *override_,
                                                momento_error_t **err) {
  return make_credential(out, err, "momento_credential_from_string", [&] {
    return ma::Credential::from_string(need_cstr(credential, "credential"), override_of(override_));
  });
}

momento_status_t momento_credential_from_disposable_token(
    momento_credential_t **out, const char *token, const momento_endpoint_override_t *override_,
    momento_error_t **err) {
  return make_credential(out, err, "momento_credential_from_disposable_token", [&] {
    return ma::Credential::from_disposable_token(need_cstr(token, "token"), override_of(override_));
  });
}

momento_status_t momento_credential_from_v2(momento_credential_t **out, const char *api_key,
                                            const char *endpoint,
                                            const momento_endpoint_override_t *override_,
                                            momento_error_t **err) {
  return make_credential(out, err, "momento_credential_from_v2", [&] {
    return ma::Credential::from_v2(need_cstr(api_key, "api_key"), need_cstr(endpoint, "endpoint"),
                                   override_of(override_));
  });
}

momento_status_t momento_credential_from_env(momento_credential_t **out, const char *key_var,
                                             const char *endpoint_var,
                                             const momento_endpoint_override_t *override_,
                                             momento_error_t **err) {
  return make_credential(out, err, "momento_credential_from_env", [&] {
    return ma::Credential::from_environment(override_of(override_), var_name(key_var, "key_var"),
                                            var_name(endpoint_var, "endpoint_var"));
  });
}

momento_status_t momento_credential_from_key(momento_credential_t **out, const char *key,
                                             const char *endpoint_var,
                                             const momento_endpoint_override_t *override_,
                                             momento_error_t **err) {
  return make_credential(out, err, "momento_credential_from_key", [&] {
    return ma::Credential::from_key(need_cstr(key, "key"), override_of(override_),
                                    var_name(endpoint_var, "endpoint_var"));
  });
}

momento_status_t momento_credential_from_key_file(momento_credential_t **out, const char *path,
                                                  const char *endpoint_var,
                                                  const momento_endpoint_override_t *override_,
                                                  momento_error_t **err) {
  return make_credential(out, err, "momento_credential_from_key_file", [&] {
    return ma::Credential::from_key_file(std::string(need_str(path, "path", true)),
                                         override_of(override_), var_name(endpoint_var, "endpoint_var"));
  });
}

momento_status_t momento_credential_from_file(momento_credential_t **out, const char *path,
                                              const momento_endpoint_override_t *override_,
                                              momento_error_t **err) {
  return make_credential(out, err, "momento_credential_from_file", [&] {
    return ma::Credential::from_file(std::string(need_str(path, "path", true)),
                                     override_of(override_));
  });
}

momento_status_t momento_credential_new_local(momento_credential_t **out, const char *host,
                                          uint16_t port, momento_error_t **err) {
  return make_credential(out, err, "momento_credential_new_local", [&] {
    return ma::Credential::local(opt_str(host, "host").value_or(ma::kLocalHost),
                                 port == 0 ? ma::kLocalPort : port);
  });
}

void momento_credential_free(momento_credential_t *credential) { delete credential; }

int32_t momento_credential_kind(const momento_credential_t *credential) {
  if (credential == nullptr) return 0;
  return static_cast<int32_t>(credential->value.kind()) + 1;  // CredentialKind order + 1
}

const char *momento_credential_kind_str(int32_t kind) {
  if (kind < MOMENTO_CREDENTIAL_V1_ENVELOPE || kind > MOMENTO_CREDENTIAL_LOCAL) return nullptr;
  return ma::credential_kind_name(static_cast<ma::CredentialKind>(kind - 1));
}

momento_status_t momento_credential_endpoint(const char **host, uint16_t *port, int32_t *secure,
                                             const momento_credential_t *credential,
                                             int32_t service, momento_error_t **err) {
  return guard(err, "momento_credential_endpoint", [&] {
    need_out(host, "host");
    need_out(port, "port");
    need_out(secure, "secure");
    need_handle(credential, "credential");
    need_range(service, MOMENTO_SERVICE_CONTROL, MOMENTO_SERVICE_TOKEN, "service");
    const ma::Endpoints &eps = credential->value.endpoints();
    const ma::Endpoint &ep = service == MOMENTO_SERVICE_CONTROL ? eps.control
                             : service == MOMENTO_SERVICE_CACHE ? eps.cache
                                                                : eps.token;
    *host = ep.host.c_str();
    *port = ep.port;
    *secure = ep.secure ? 1 : 0;
  });
}

const char *momento_credential_base_endpoint(const momento_credential_t *credential) {
  return credential ? credential->value.base_endpoint().c_str() : "";
}

int32_t momento_credential_endpoints_overridden(const momento_credential_t *credential) {
  return credential && credential->value.endpoints_overridden() ? 1 : 0;
}

momento_status_t momento_credential_expiry(int32_t *state, uint64_t *epoch_seconds,
                                           const momento_credential_t *credential,
                                           momento_error_t **err) {
  return guard(err, "momento_credential_expiry", [&] {
    need_out(state, "state");
    need_out(epoch_seconds, "epoch_seconds");
    need_handle(credential, "credential");
    std::optional<ma::ExpiresAt> e = credential->value.expires_at();
    if (!e) {
      *state = MOMENTO_EXPIRY_UNKNOWN;
      *epoch_seconds = 0;
    } else {
      *state = e->does_expire() ? MOMENTO_EXPIRY_AT : MOMENTO_EXPIRY_NEVER;
      *epoch_seconds = e->epoch();
    }
  });
}

const char *momento_credential_redacted(const momento_credential_t *credential) {
  if (credential == nullptr) return "";
  try {
    return credential->redacted().c_str();
  } catch (...) {
    return "";  // out of memory: an empty display rather than a crash
  }
}

const char *momento_credential_redacted_key(const momento_credential_t *credential) {
  if (credential == nullptr) return "";
  try {
    return credential->redacted_key().c_str();
  } catch (...) {
    return "";
  }
}

momento_status_t momento_credential_with_override(momento_credential_t **out,
                                                  const momento_credential_t *credential,
                                                  const momento_endpoint_override_t *override_,
                                                  momento_error_t **err) {
  return make_credential(out, err, "momento_credential_with_override", [&] {
    need_handle(credential, "credential");
    need_handle(override_, "override_");
    return credential->value.with_override(override_->value);
  });
}

const char *momento_credential_refresh_token(const momento_credential_t *credential) {
  return credential ? credential->value.refresh_token().c_str() : "";
}

}  // extern "C"
