// momento_auth._native, part two: token stores, the refresher and the watcher.
//
// Callbacks arrive on threads owned by libmomento_auth. Nothing that can wait for such a thread
// (stop, unsubscribe, free) runs with the GIL, since that thread may be waiting for the GIL to
// run a callback. At interpreter exit every live refresher and watcher is closed and deliveries
// under way are waited for, so no library thread asks for the GIL during finalization.
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <unistd.h>

#include "native.hpp"

namespace momento_python {
namespace {

using StorePtr = std::shared_ptr<momento::Store>;
using TokenPtr = std::shared_ptr<momento::Token>;

// Library threads inside a delivery: exit waits for them.
std::atomic<int> g_in_delivery{0};
// The refresher or watcher whose callback this (library) thread is running.
thread_local const void *t_delivering_for = nullptr;

class Closable {
 public:
  virtual ~Closable() = default;
  virtual void close() = 0;
};

// Live refreshers and watchers, for interpreter exit.
struct Registry {
  std::mutex mu;
  std::vector<std::weak_ptr<Closable>> items;
  void add(const std::shared_ptr<Closable> &c) {
    std::lock_guard<std::mutex> lk(mu);
    items.erase(std::remove_if(items.begin(), items.end(), [](auto &w) { return w.expired(); }),
                items.end());
    items.push_back(c);
  }
};
Registry &registry() {
  static auto *r = new Registry();  // used until the very end
  return *r;
}

// A Python callable owned by a subscription; released with the GIL unless Python is exiting.
class PyCallback {
 public:
  PyCallback(py::object fn, py::object context) : fn_(fn.release()), context_(context.release()) {}
  ~PyCallback() {
    if (python_exiting() || !Py_IsInitialized()) return;  // process exit: let them go
    py::gil_scoped_acquire gil;
    fn_.dec_ref();
    context_.dec_ref();
  }

  template <class MakeArg>
  void deliver(const void *owner, MakeArg &&make) {
    ++g_in_delivery;
    struct Leave {
      ~Leave() { --g_in_delivery; }
    } leave;
    if (python_exiting()) return;
    const void *outer = std::exchange(t_delivering_for, owner);
    {
      py::gil_scoped_acquire gil;
      try {
        if (!python_exiting()) fn_(make());
      } catch (py::error_already_set &e) {
        e.discard_as_unraisable(py::reinterpret_borrow<py::object>(context_));  // like an exception in __del__
      }
    }
    t_delivering_for = outer;
  }

 private:
  py::handle fn_, context_;
};

// A refresher or watcher: the library object, kept alive by calls under way past close(),
// freed without the GIL (on a worker when closed from its own callback).
template <class T>
class Box : public Closable {
 public:
  ~Box() override { release(); }
  void close() override { release(); }

  bool closed() {
    std::lock_guard<std::mutex> lk(mu_);
    return p_ == nullptr;
  }

  // False when the id is unknown (already ended, or the box is closed).
  bool unsubscribe(uint64_t id) {
    std::shared_ptr<T> p = peek();
    if (!p) return false;
    bool found = true;
    without_gil([&] {
      try {
        p->unsubscribe(id);
      } catch (const momento::Error &e) {
        if (e.code() != MOMENTO_ERR_NOT_FOUND) throw;
        found = false;
      }
      p.reset();
    });
    return found;
  }

 protected:
  explicit Box(const char *name) : name_(name) {}

  template <class Event, class ToPython>
  uint64_t subscribe_with(py::object fn, py::object context, ToPython to_python) {
    if (python_exiting()) throw closed_error("interpreter");
    auto cb = std::make_shared<PyCallback>(std::move(fn), std::move(context));
    const void *owner = this;
    return acquire()->subscribe(
        [cb, owner, to_python](const Event &e) { cb->deliver(owner, [&] { return to_python(e); }); });
  }

  std::shared_ptr<T> peek() {
    std::lock_guard<std::mutex> lk(mu_);
    return p_;
  }
  std::shared_ptr<T> acquire() {
    auto p = peek();
    if (!p) throw closed_error(name_);
    return p;
  }

  void release() {
    std::shared_ptr<T> old;
    {
      std::lock_guard<std::mutex> lk(mu_);
      old.swap(p_);
    }
    if (!old) return;
    if (getpid() != pid_) {
      // A forked child: the library's threads stayed in the parent and freeing would wait for
      // them forever. Leave the object to the process exit.
      new std::shared_ptr<T>(std::move(old));
    } else if (t_delivering_for == static_cast<const void *>(this)) {
      // Freeing joins the thread running this callback: do it on a worker.
      start_call([old = std::move(old)]() mutable -> Call::Result {
        old.reset();
        return [] { return py::none(); };
      });
    } else {
      without_gil([&] { old.reset(); });
    }
  }

  const char *const name_;
  const pid_t pid_ = getpid();
  std::mutex mu_;
  std::shared_ptr<T> p_;
};

// Starts fn() -> R as a call; the worker drops what fn captured.
template <class F>
std::shared_ptr<Call> value_call(F fn) {
  return make_call([fn = std::move(fn)]() -> Call::Result {
    auto value = std::make_shared<decltype(fn())>(fn());
    return [value] { return py::cast(std::move(*value)); };
  });
}

class RefresherBox : public Box<momento::Refresher> {
 public:
  static std::shared_ptr<RefresherBox> create(
      const StorePtr &store, std::optional<int64_t> deadline_ms,
      const std::optional<std::string> &ca_file, const std::optional<std::string> &endpoint,
      bool secure, std::optional<double> refresh_fraction, std::optional<double> jitter_fraction,
      std::optional<int64_t> backoff_initial_ms, std::optional<int64_t> backoff_max_ms,
      std::optional<int64_t> recheck_interval_ms) {
    momento::ClientConfig config;
    if (deadline_ms) config.deadline(std::chrono::milliseconds(*deadline_ms));
    if (ca_file) config.ca_file(*ca_file);
    auto o = make_override(endpoint, secure);
    // Only what the caller gave: the library keeps the defaults and checks the whole policy.
    momento::RefresherOptions options;
    if (refresh_fraction) options.refresh_fraction(*refresh_fraction);
    if (jitter_fraction) options.jitter_fraction(*jitter_fraction);
    if (backoff_initial_ms) options.backoff_initial(std::chrono::milliseconds(*backoff_initial_ms));
    if (backoff_max_ms) options.backoff_max(std::chrono::milliseconds(*backoff_max_ms));
    if (recheck_interval_ms) options.recheck_interval(std::chrono::milliseconds(*recheck_interval_ms));
    auto box = std::shared_ptr<RefresherBox>(new RefresherBox());
    box->p_ = std::make_shared<momento::Refresher>(*store, &config, o ? &*o : nullptr, &options);
    box->store_description_ = std::string(store->describe());
    registry().add(box);
    return box;
  }

  void start() {
    auto r = acquire();
    without_gil([&] { r->start(); });
    std::lock_guard<std::mutex> lk(mu_);
    running_ = true;
  }

  void stop() {
    auto r = acquire();
    without_gil([&] { r->stop(); });
    std::lock_guard<std::mutex> lk(mu_);
    running_ = false;
  }

  // Store I/O and the refresh RPC. The call owns a reference: if close() runs meanwhile, the
  // refresher is freed when the call ends, on the worker.
  std::shared_ptr<Call> run_once(bool force) {
    return value_call([r = acquire(), force] { return r->run_once(force); });
  }

  uint64_t subscribe(py::object fn, py::object context) {
    return subscribe_with<momento::RefreshEvent>(
        std::move(fn), std::move(context), [](const momento::RefreshEvent &e) { return py::cast(e); });
  }

  bool running() {
    std::lock_guard<std::mutex> lk(mu_);
    return p_ != nullptr && running_;
  }
  std::string store_description_;

 private:
  RefresherBox() : Box("Refresher") {}
  bool running_ = false;
};

// The key a watcher serves: no secret is reachable from it but the credential handle.
struct WatchedKeyInfo {
  std::string redacted_key;
  std::string fingerprint;
  uint64_t valid_until = 0;
};

class WatcherBox : public Box<momento::Watcher> {
 public:
  // The first read of the store is a blocking call.
  // period_ms None: the library's default.
  static std::shared_ptr<Call> open(const StorePtr &store, std::optional<int64_t> period_ms,
                                    const std::optional<std::string> &endpoint, bool secure) {
    auto o = std::make_shared<std::optional<momento::EndpointOverride>>(make_override(endpoint, secure));
    const auto period = period_ms ? std::chrono::milliseconds(*period_ms) : momento::Watcher::default_period();
    return make_call([store, o, period]() -> Call::Result {
      auto box = std::shared_ptr<WatcherBox>(new WatcherBox());
      box->p_ = std::make_shared<momento::Watcher>(*store, period, *o ? &**o : nullptr);
      registry().add(box);
      return [box] { return py::cast(box); };
    });
  }

  std::shared_ptr<momento::Credential> current() {
    return std::make_shared<momento::Credential>(acquire()->current());
  }

  WatchedKeyInfo current_key() {
    momento::WatchedKey k = acquire()->current_key();  // one snapshot: key and metadata
    return {std::string(k.credential().redacted_key()), std::string(k.fingerprint()),
            k.valid_until()};
  }

  std::shared_ptr<Call> poll() {
    return value_call([w = acquire()] { return w->poll(); });
  }

  void notify_unauthenticated() { acquire()->notify_unauthenticated(); }  // never blocks

  uint64_t subscribe(py::object fn, py::object context) {
    return subscribe_with<momento::KeyChange>(
        std::move(fn), std::move(context), [](const momento::KeyChange &c) {
          return py::cast(WatchedKeyInfo{c.redacted_key, c.fingerprint, c.valid_until});
        });
  }

 private:
  WatcherBox() : Box("Watcher") {}
};

}  // namespace

void end_refresh() {
  std::vector<std::shared_ptr<Closable>> live;
  {
    std::lock_guard<std::mutex> lk(registry().mu);
    for (auto &w : registry().items)
      if (auto s = w.lock()) live.push_back(std::move(s));
  }
  for (auto &c : live) c->close();
  live.clear();
  py::gil_scoped_release nogil;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (g_in_delivery.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

void add_refresh(py::module_ &m) {
  py::class_<momento::Store, StorePtr>(m, "Store")
      .def(py::init([](const std::string &spec, const std::optional<std::string> &region,
                       const std::optional<std::string> &endpoint_url,
                       const std::optional<std::string> &profile) {
             momento::StoreOptions options;
             if (region) options.aws_region(region);
             if (endpoint_url) options.aws_endpoint(endpoint_url);
             if (profile) options.aws_profile(profile);
             return std::make_shared<momento::Store>(spec, &options);
           }),
           py::arg("spec"), py::arg("aws_region") = py::none(), py::arg("aws_endpoint") = py::none(),
           py::arg("aws_profile") = py::none())
      .def_property_readonly("description",
                             [](const momento::Store &s) { return std::string(s.describe()); })
      .def_property_readonly("writable", &momento::Store::writable)
      .def_property_readonly("kind", &momento::Store::kind)
      .def("load",  // a file read or an HTTPS round trip
           [](const StorePtr &s) {
             return value_call([s] { return std::make_shared<momento::Token>(s->load()); });
           })
      .def(
          "store",
          [](const StorePtr &s, const TokenPtr &t) {
            if (!t) throw invalid("token must not be None");
            return make_call([s, t]() -> Call::Result {
              s->store(*t);
              return [] { return py::none(); };
            });
          },
          py::arg("token"));

  py::class_<momento::RefreshEvent>(m, "RefreshEvent")
      .def_property_readonly("kind", [](const momento::RefreshEvent &e) { return static_cast<int>(e.kind); })
      .def_property_readonly("error_code",
                             [](const momento::RefreshEvent &e) -> std::optional<std::string> {
                               if (e.error_code == MOMENTO_OK) return std::nullopt;
                               return std::string(momento_status_str(e.error_code));
                             })
      .def_readonly("error_message", &momento::RefreshEvent::error_message)
      .def_readonly("valid_until", &momento::RefreshEvent::valid_until)
      .def_readonly("redacted_key", &momento::RefreshEvent::key)
      .def_readonly("key_fingerprint", &momento::RefreshEvent::key_fingerprint)
      .def_readonly("store", &momento::RefreshEvent::store)
      .def_readonly("consecutive_failures", &momento::RefreshEvent::consecutive_failures)
      .def_readonly("next_attempt_ms", &momento::RefreshEvent::next_attempt_ms)
      .def_readonly("replay", &momento::RefreshEvent::replay)
      .def_readonly("retryable", &momento::RefreshEvent::retryable);
  m.attr("STORE_FILE") = static_cast<int>(MOMENTO_STORE_FILE);
  m.attr("STORE_AWS_SECRETS_MANAGER") = static_cast<int>(MOMENTO_STORE_AWS_SECRETS_MANAGER);
  m.attr("STORE_ENV") = static_cast<int>(MOMENTO_STORE_ENV);
  m.attr("STORE_EXEC") = static_cast<int>(MOMENTO_STORE_EXEC);
  m.attr("REFRESH_REFRESHED") = static_cast<int>(MOMENTO_REFRESH_REFRESHED);
  m.attr("REFRESH_ADOPTED") = static_cast<int>(MOMENTO_REFRESH_ADOPTED);
  m.attr("REFRESH_FAILED") = static_cast<int>(MOMENTO_REFRESH_FAILED);

  py::class_<RefresherBox, std::shared_ptr<RefresherBox>>(m, "Refresher")
      .def(py::init(&RefresherBox::create), py::arg("store"), py::arg("deadline_ms"),
           py::arg("ca_file"), py::arg("endpoint"), py::arg("secure"), py::arg("refresh_fraction"),
           py::arg("jitter_fraction"), py::arg("backoff_initial_ms"), py::arg("backoff_max_ms"),
           py::arg("recheck_interval_ms"))
      .def("start", &RefresherBox::start)
      .def("stop", &RefresherBox::stop)
      .def("run_once", &RefresherBox::run_once, py::arg("force"))
      .def("subscribe", &RefresherBox::subscribe, py::arg("fn"), py::arg("context"))
      .def("unsubscribe", &RefresherBox::unsubscribe, py::arg("id"))
      .def("close", &RefresherBox::close)
      .def_property_readonly("closed", &RefresherBox::closed)
      .def_property_readonly("running", &RefresherBox::running)
      .def_readonly("store_description", &RefresherBox::store_description_);

  py::class_<WatchedKeyInfo>(m, "WatchedKey")
      .def_readonly("redacted_key", &WatchedKeyInfo::redacted_key)
      .def_readonly("fingerprint", &WatchedKeyInfo::fingerprint)
      .def_readonly("valid_until", &WatchedKeyInfo::valid_until);

  py::class_<WatcherBox, std::shared_ptr<WatcherBox>>(m, "Watcher")
      .def_static("open", &WatcherBox::open, py::arg("store"), py::arg("period_ms"),
                  py::arg("endpoint"), py::arg("secure"))
      .def("current", &WatcherBox::current)
      .def("current_key", &WatcherBox::current_key)
      .def("poll", &WatcherBox::poll)
      .def("notify_unauthenticated", &WatcherBox::notify_unauthenticated)
      .def("subscribe", &WatcherBox::subscribe, py::arg("fn"), py::arg("context"))
      .def("unsubscribe", &WatcherBox::unsubscribe, py::arg("id"))
      .def("close", &WatcherBox::close)
      .def_property_readonly("closed", &WatcherBox::closed);

  // Core's rules for the Secrets Manager rotation function (aws_rotation.py).
  using JsonHandle = momento::detail::Handle<momento_token_json_t, momento_token_json_free>;
  struct TokenJson {
    JsonHandle h;
  };
  py::class_<TokenJson>(m, "TokenJson")
      .def_static("parse",  // -> (TokenJson, Token)
                  [](const py::str &secret) {
                    std::string s = text(secret, "text");
                    momento_token_json_t *json = nullptr;
                    momento_token_t *token = nullptr;
                    momento::detail::call(
                        [&](momento_error_t **e) { return momento_token_json_parse(&json, &token, s.c_str(), e); });
                    return py::make_tuple(TokenJson{JsonHandle(json)}, std::make_shared<momento::Token>(token));
                  })
      .def("render", [](const TokenJson &json, const TokenPtr &t) {
        char *raw = nullptr;
        momento::detail::call(
            [&](momento_error_t **e) { return momento_token_json_render(&raw, json.h.get(), t->get(), e); });
        return py::str(momento::detail::Handle<char, momento_free>(raw).get());
      });
  m.def("failure_is_definite", [](const std::string &code) {
    for (momento_status_t st = -1; std::string(momento_status_str(st)) != "UNRECOGNIZED_STATUS"; --st)
      if (code == momento_status_str(st)) return momento_status_definite(st) != 0;
    return false;
  });
  m.def("replay_delay_ms", [](int32_t failures, int64_t started_ms, int64_t now_ms) -> std::optional<int64_t> {
    int64_t ms = 0;
    momento::detail::call([&](momento_error_t **e) {
      return momento_refresher_options_replay_delay_ms(&ms, nullptr, failures, started_ms, now_ms, e);
    });
    return ms < 0 ? std::nullopt : std::optional<int64_t>(ms);
  });

  // Deliveries under way in the parent are not under way in a forked child.
  pthread_atfork(nullptr, nullptr, [] { g_in_delivery.store(0); });
}

}  // namespace momento_python
