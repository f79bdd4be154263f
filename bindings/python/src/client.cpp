// momento_auth._native, part one: credentials, lifetimes, scopes, tokens and the auth client.
#include <pybind11/stl.h>

#include "native.hpp"

namespace momento_python {
namespace {

using CredentialPtr = std::shared_ptr<momento::Credential>;
using ScopePtr = std::shared_ptr<momento::Scope>;
using ExpiresInPtr = std::shared_ptr<momento::ExpiresIn>;
using TokenPtr = std::shared_ptr<momento::Token>;

// The credential parse(override) makes, with the override (endpoint, secure) asks for.
template <class F>
std::shared_ptr<momento::Credential> credential(const std::optional<std::string> &endpoint, bool secure, F parse) {
  auto o = make_override(endpoint, secure);
  return std::make_shared<momento::Credential>(parse(o ? &*o : nullptr));
}

py::tuple endpoint_tuple(const momento::Credential &c, momento::Service s) {
  momento::Endpoint e = c.endpoint(s);
  return py::make_tuple(e.host, e.port, e.secure);
}

// The auth client; close() drops this reference, calls under way keep their own.
class Client {
 public:
  Client(const CredentialPtr &credential, std::optional<int64_t> deadline_ms,
         const std::optional<std::string> &ca_file)
      : client_(std::make_shared<momento::AuthClient>(*credential, client_config(deadline_ms, ca_file))) {}

  // A call of the client, run here (the synchronous API; `interruptible`: whether Ctrl-C on the
  // main thread cancels it).
  template <class F>  // F: (momento::AuthClient &) -> momento::Token
  py::object run(bool interruptible, F fn) {
    return py::cast(std::make_shared<momento::Token>(blocking(interruptible, [&] { return fn(*acquire()); })));
  }
  // The same call as a Call that asyncio starts, in the library's asynchronous form.
  template <class F>  // F: (client, cancel token, completion, user data, error) -> status
  py::object start(F fn) {
    return py::cast(std::make_shared<Call>(
        nullptr, [c = acquire(), fn](momento_cancel_token_t *cancel, momento_token_fn done, void *ud) {
          momento::detail::call([&](momento_error_t **e) {
            return fn(const_cast<momento_auth_client_t *>(c->get()), cancel, done, ud, e);
          });
        }));
  }

  void close() {
    std::shared_ptr<momento::AuthClient> old;
    {
      std::lock_guard<std::mutex> lk(mu_);
      old.swap(client_);
    }
    py::gil_scoped_release nogil;  // tearing channels down can take a moment
    old.reset();
  }

  bool closed() {
    std::lock_guard<std::mutex> lk(mu_);
    return client_ == nullptr;
  }

  std::string redacted_credential() { return std::string(acquire()->credential().redacted()); }

 private:
  std::shared_ptr<momento::AuthClient> acquire() {
    std::lock_guard<std::mutex> lk(mu_);
    if (!client_) throw closed_error("AuthClient");
    return client_;
  }

  std::mutex mu_;
  std::shared_ptr<momento::AuthClient> client_;
};

}  // namespace

void add_client(py::module_ &m) {
  // ---- credentials ----
  py::class_<momento::Credential, std::shared_ptr<momento::Credential>>(m, "Credential")
      .def_static(
          "from_string",
          [](const py::str &s, std::optional<std::string> endpoint, bool secure) {
            return credential(endpoint, secure, [&](auto o) { return momento::Credential::from_string(text(s, "api_key"), o); });
          },
          py::arg("credential"), py::arg("endpoint") = py::none(), py::arg("secure") = true)
      .def_static(
          "from_disposable_token",
          [](const py::str &s, std::optional<std::string> endpoint, bool secure) {
            return credential(endpoint, secure, [&](auto o) {
              return momento::Credential::from_disposable_token(text(s, "auth_token"), o);
            });
          },
          py::arg("token"), py::arg("endpoint") = py::none(), py::arg("secure") = true)
      .def_static(
          "from_v2",
          [](const py::str &key, const std::string &base, std::optional<std::string> endpoint,
             bool secure) {
            return credential(endpoint, secure, [&](auto o) { return momento::Credential::from_v2(text(key, "api_key"), base, o); });
          },
          py::arg("api_key"), py::arg("base_endpoint"), py::arg("endpoint") = py::none(),
          py::arg("secure") = true)
      .def_static(
          "from_env",
          [](std::optional<std::string> key_var, std::optional<std::string> endpoint_var,
             std::optional<std::string> endpoint, bool secure) {
            return credential(endpoint, secure, [&](auto o) { return momento::Credential::from_env(key_var, endpoint_var, o); });
          },
          py::arg("key_var") = py::none(), py::arg("endpoint_var") = py::none(),
          py::arg("endpoint") = py::none(), py::arg("secure") = true)
      .def_static(
          "from_file",
          [](const std::string &path, std::optional<std::string> endpoint, bool secure) {
            return credential(endpoint, secure, [&](auto o) {
              py::gil_scoped_release nogil;  // file I/O
              return momento::Credential::from_file(path, o);
            });
          },
          py::arg("path"), py::arg("endpoint") = py::none(), py::arg("secure") = true)
      .def_static(
          "local",  // host None, port 0: the library's local address
          [](const std::optional<std::string> &host, uint16_t port) {
            momento_credential_t *raw = nullptr;
            momento::detail::call([&](momento_error_t **e) {
              return momento_credential_new_local(&raw, host ? host->c_str() : nullptr, port, e);
            });
            return std::make_shared<momento::Credential>(momento::Credential::adopt(raw));
          },
          py::arg("host"), py::arg("port"))
      .def_property_readonly("kind",
                             [](const momento::Credential &c) { return std::string(c.kind_name()); })
      .def_property_readonly(
          "control", [](const momento::Credential &c) {
            return endpoint_tuple(c, momento::Service::Control);
          })
      .def_property_readonly(
          "cache",
          [](const momento::Credential &c) { return endpoint_tuple(c, momento::Service::Cache); })
      .def_property_readonly(
          "token",
          [](const momento::Credential &c) { return endpoint_tuple(c, momento::Service::Token); })
      .def_property_readonly(
          "base_endpoint", [](const momento::Credential &c) { return std::string(c.base_endpoint()); })
      .def_property_readonly("endpoints_overridden", &momento::Credential::endpoints_overridden)
      .def("expiry",  // None: unknown; 0: never
           [](const momento::Credential &c) -> std::optional<uint64_t> {
             momento::Expiry e = c.expiry();
             if (e.state == momento::Expiry::State::Unknown) return std::nullopt;
             return e.state == momento::Expiry::State::At ? e.epoch_seconds : 0;
           })
      .def_property_readonly("redacted",
                             [](const momento::Credential &c) { return std::string(c.redacted()); })
      .def("refresh_token",
           [](const momento::Credential &c) { return std::string(c.refresh_token()); })
      .def("__repr__", [](const momento::Credential &c) {
        return "<Credential " + std::string(c.redacted()) + ">";
      });

  // ---- lifetimes ----
  py::class_<momento::ExpiresIn, std::shared_ptr<momento::ExpiresIn>>(m, "ExpiresIn")
      .def_static("never", &momento::ExpiresIn::never)
      .def_static("seconds", &momento::ExpiresIn::seconds)
      .def_static("minutes", &momento::ExpiresIn::minutes)
      .def_static("hours", &momento::ExpiresIn::hours)
      .def_static("days", &momento::ExpiresIn::days)
      .def_static("epoch", &momento::ExpiresIn::at_epoch)
      .def("does_expire", &momento::ExpiresIn::does_expire)
      .def("valid_for_seconds", &momento::ExpiresIn::valid_for_seconds);

  // ---- scopes ----
  // Role and selector values are the C enumerations; the Python layer maps its enums onto them.
  py::class_<momento::Scope, std::shared_ptr<momento::Scope>>(m, "Scope")
      .def(py::init([] { return std::make_shared<momento::Scope>(); }))
      .def_static("super_user", &momento::Scope::super_user)
      .def_static("all_data_read_write", &momento::Scope::all_data_read_write)
      .def_static("all_data_read_only", &momento::Scope::all_data_read_only)
      .def(
          "add_cache",
          [](momento::Scope &s, int role, std::optional<std::string> cache) {
            s.add_cache(static_cast<momento::CacheRole>(role), cache);
          },
          py::arg("role"), py::arg("cache"))
      .def(
          "add_topic",
          [](momento::Scope &s, int role, std::optional<std::string> cache, int select,
             std::optional<std::string> topic) {
            s.add_topic(static_cast<momento::TopicRole>(role), cache,
                        momento::Select{select, std::move(topic)});
          },
          py::arg("role"), py::arg("cache"), py::arg("select"), py::arg("topic"))
      .def(
          "add_function",
          [](momento::Scope &s, int role, std::optional<std::string> cache, int select,
             std::optional<std::string> function) {
            s.add_function(static_cast<momento::FunctionRole>(role), cache,
                           momento::Select{select, std::move(function)});
          },
          py::arg("role"), py::arg("cache"), py::arg("select"), py::arg("function"))
      .def(
          "add_cache_items",
          [](momento::Scope &s, int role, std::optional<std::string> cache, int select,
             std::optional<std::string> item) {  // bytes as they are, str as UTF-8
            s.add_cache_items(static_cast<momento::CacheRole>(role), cache,
                              momento::Items{select, item.value_or("")});
          },
          py::arg("role"), py::arg("cache"), py::arg("select"), py::arg("item"));
  m.attr("SELECT_ALL") = static_cast<int>(MOMENTO_SELECT_ALL);
  m.attr("SELECT_NAME") = static_cast<int>(MOMENTO_SELECT_NAME);
  m.attr("SELECT_PREFIX") = static_cast<int>(MOMENTO_SELECT_PREFIX);
  m.attr("ITEMS_ALL") = static_cast<int>(MOMENTO_ITEMS_ALL);
  m.attr("ITEMS_KEY") = static_cast<int>(MOMENTO_ITEMS_KEY);
  m.attr("ITEMS_KEY_PREFIX") = static_cast<int>(MOMENTO_ITEMS_KEY_PREFIX);
  // The roles by the names of the Python enums' members, in the C enumerations' order.
  using py::arg;
  m.attr("CACHE_ROLES") = py::dict(arg("PERMIT_NONE") = +MOMENTO_CACHE_PERMIT_NONE, arg("READ_WRITE") = +MOMENTO_CACHE_READ_WRITE,
                                   arg("READ_ONLY") = +MOMENTO_CACHE_READ_ONLY, arg("WRITE_ONLY") = +MOMENTO_CACHE_WRITE_ONLY);
  m.attr("TOPIC_ROLES") = py::dict(arg("PERMIT_NONE") = +MOMENTO_TOPIC_PERMIT_NONE, arg("PUBLISH_SUBSCRIBE") = +MOMENTO_TOPIC_PUBLISH_SUBSCRIBE,
                                   arg("SUBSCRIBE_ONLY") = +MOMENTO_TOPIC_SUBSCRIBE_ONLY, arg("PUBLISH_ONLY") = +MOMENTO_TOPIC_PUBLISH_ONLY);
  m.attr("FUNCTION_ROLES") = py::dict(arg("PERMIT_NONE") = +MOMENTO_FUNCTION_PERMIT_NONE, arg("INVOKE") = +MOMENTO_FUNCTION_INVOKE);

  // ---- results and the client ----
  py::class_<momento::Token, TokenPtr>(m, "Token", "A key with its refresh token and expiry.")
      .def_property_readonly("api_key", &momento::Token::api_key)
      .def_property_readonly("refresh_token", &momento::Token::refresh_token)
      .def_property_readonly("endpoint", &momento::Token::endpoint)
      .def_property_readonly("valid_until", &momento::Token::valid_until)
      .def("to_json",
           [](const momento::Token &t) {
             // Straight from the C ABI: momento_free wipes the text (it holds the secrets).
             char *raw = nullptr;
             momento::detail::call(
                 [&](momento_error_t **e) { return momento_token_to_json(&raw, t.get(), e); });
             momento::detail::Handle<char, momento_free> json(raw);
             return py::str(json.get());
           })
      .def(
          "write_file",
          [](const TokenPtr &t, const py::str &path) {
            std::string p = text(path, "path");
            py::gil_scoped_release nogil;  // file I/O and fsync
            t->write_file(p);
          },
          py::arg("path"));

  py::class_<Client>(m, "Client")
      .def(py::init<const CredentialPtr &, std::optional<int64_t>, const std::optional<std::string> &>(),
           py::arg("credential"), py::arg("deadline_ms"), py::arg("ca_file"))
      // join True or False: run now (whether Ctrl-C cancels it); None: a Call for asyncio.
      .def(
          "generate_api_key",
          [](Client &c, const ScopePtr &scope, const ExpiresInPtr &expires_in, std::optional<bool> join) {
            return join ? c.run(*join, [&](auto &a) { return a.generate_api_key(*scope, *expires_in); })
                        : c.start([scope, expires_in](auto *a, auto *cancel, auto done, void *ud, auto **e) {
                            return momento_auth_client_generate_api_key_async(
                                a, scope->get(), expires_in->get(), cancel, done, ud, e);
                          });
          },
          py::arg("scope"), py::arg("expires_in"), py::arg("join") = py::none())
      .def(
          "refresh_api_key",
          [](Client &c, const py::str &refresh_token, std::optional<bool> join) {
            std::string rt = text(refresh_token, "refresh_token");
            return join ? c.run(*join, [&](auto &a) { return a.refresh_api_key(rt); })
                        : c.start([rt](auto *a, auto *cancel, auto done, void *ud, auto **e) {
                            return momento_auth_client_refresh_api_key_async(a, rt.c_str(), cancel, done, ud, e);
                          });
          },
          py::arg("refresh_token"), py::arg("join") = py::none())
      .def(
          "generate_disposable_token",
          [](Client &c, const ScopePtr &scope, const ExpiresInPtr &expires_in,
             std::optional<std::string> token_id, std::optional<bool> join) {
            return join ? c.run(*join, [&](auto &a) { return a.generate_disposable_token(*scope, *expires_in, token_id); })
                        : c.start([scope, expires_in, token_id](auto *a, auto *cancel, auto done, void *ud, auto **e) {
                            return momento_auth_client_generate_disposable_token_async(
                                a, scope->get(), expires_in->get(), momento::detail::c_str_or_null(token_id),
                                cancel, done, ud, e);
                          });
          },
          py::arg("scope"), py::arg("expires_in"), py::arg("token_id"), py::arg("join") = py::none())
      .def("close", &Client::close)
      .def_property_readonly("closed", &Client::closed)
      .def("redacted_credential", &Client::redacted_credential);
}

}  // namespace momento_python
