// momento_auth._native, part two: token stores, the refresher and the watcher, over
// momento/auth.hpp (registered from native.cpp's module init).
//
// Callbacks arrive on threads owned by libmomento_auth. Three rules keep them safe in Python:
//  - every call that can wait for such a thread (stop, unsubscribe, free) releases the GIL first,
//    since that thread may itself be waiting for the GIL to run a callback;
//  - a callback that raises is reported through sys.unraisablehook and never reaches the library;
//  - at interpreter exit (atexit, while Python is still whole) delivery is switched off and every
//    live refresher and watcher is closed, so no library thread asks for the GIL during
//    finalization. Python references held by the library are then left to the process exit.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

#include "momento/auth.hpp"

namespace py = pybind11;

namespace {

// Set at atexit: no more callbacks into Python.
std::atomic<bool> g_delivery_off{false};
// Set once the atexit cleanup has finished: Python references are no longer released.
std::atomic<bool> g_finalized{false};

// The refresher or watcher whose callback this thread is running (a library delivery thread).
thread_local const void *t_delivering_for = nullptr;

momento::Error closed_error(const char *what) {
  return momento::Error(MOMENTO_ERR_FAILED_PRECONDITION, std::string("the ") + what + " is closed",
                        -1, false);
}

momento::Error invalid(const std::string &message) {
  return momento::Error(MOMENTO_ERR_INVALID_ARGUMENT, message, -1, false);
}

// Runs `fn` without the GIL when this thread holds it (pybind11 calls hold it; destructors run
// from the library's threads may not).
template <class F>
void without_gil(F &&fn) {
  if (PyGILState_Check()) {
    py::gil_scoped_release nogil;
    fn();
  } else {
    fn();
  }
}

// Frees that must not run on the thread that asked for them (a callback closing its own
// refresher would join its own thread) run on a detached thread; atexit waits for them.
class DeferredFrees {
 public:
  static DeferredFrees &get() {
    static auto *d = new DeferredFrees();  // leaked: used until the very end
    return *d;
  }
  void run(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      ++pending_;
    }
    std::thread([this, fn = std::move(fn)]() mutable {
      fn();
      fn = nullptr;
      std::lock_guard<std::mutex> lk(mu_);
      --pending_;
      cv_.notify_all();
    }).detach();
  }
  // Bounded: a free waits at most for an RPC deadline.
  void wait(std::chrono::seconds max) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, max, [&] { return pending_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int pending_ = 0;
};

// Something atexit must close.
class Closable {
 public:
  virtual ~Closable() = default;
  virtual void close() = 0;
};

class Registry {
 public:
  static Registry &get() {
    static auto *r = new Registry();  // leaked: atexit and late destructors use it
    return *r;
  }
  void add(const std::shared_ptr<Closable> &c) {
    std::lock_guard<std::mutex> lk(mu_);
    // Drop entries whose objects are gone, so the list stays as long as the live set.
    items_.erase(std::remove_if(items_.begin(), items_.end(),
                                [](const std::weak_ptr<Closable> &w) { return w.expired(); }),
                 items_.end());
    items_.push_back(c);
  }
  std::vector<std::shared_ptr<Closable>> live() {
    std::lock_guard<std::mutex> lk(mu_);
    std::vector<std::shared_ptr<Closable>> out;
    for (auto &w : items_)
      if (auto s = w.lock()) out.push_back(std::move(s));
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<std::weak_ptr<Closable>> items_;
};

// A Python callable owned by the library (through a subscription). Released with the GIL taken,
// unless the interpreter is already past the point where that is allowed.
class PyCallback {
 public:
  PyCallback(py::object fn, py::object context)
      : fn_(fn.release().ptr()), context_(context.release().ptr()) {}
  PyCallback(const PyCallback &) = delete;
  PyCallback &operator=(const PyCallback &) = delete;
  ~PyCallback() {
    if (g_finalized.load() || !Py_IsInitialized()) return;  // process exit: let it go
    PyGILState_STATE st = PyGILState_Ensure();
    Py_XDECREF(fn_);
    Py_XDECREF(context_);
    PyGILState_Release(st);
  }

  // Called on a library thread. `make` builds the argument with the GIL held.
  template <class MakeArg>
  void deliver(const void *owner, MakeArg &&make) {
    if (g_delivery_off.load()) return;
    const void *outer = t_delivering_for;
    t_delivering_for = owner;
    {
      py::gil_scoped_acquire gil;
      if (!g_delivery_off.load()) {
        try {
          py::object arg = make();
          py::handle fn(fn_);
          fn(arg);
        } catch (py::error_already_set &e) {
          // Reported like an exception in __del__: sys.unraisablehook, then carry on.
          e.discard_as_unraisable(py::reinterpret_borrow<py::object>(context_));
        } catch (const std::exception &e) {
          PyErr_SetString(PyExc_RuntimeError, e.what());
          PyErr_WriteUnraisable(context_);
        }
      }
    }
    t_delivering_for = outer;
  }

 private:
  PyObject *fn_;
  PyObject *context_;
};

std::optional<momento::EndpointOverride> make_override(const std::optional<std::string> &endpoint,
                                                       bool secure) {
  if (!endpoint) return std::nullopt;
  return momento::EndpointOverride::single(*endpoint, secure);
}

// ---- stores ------------------------------------------------------------------------------------

using StorePtr = std::shared_ptr<momento::Store>;
using TokenPtr = std::shared_ptr<momento::Token>;
using CredentialPtr = std::shared_ptr<momento::Credential>;

StorePtr open_store(const std::string &spec, const std::optional<std::string> &region,
                    const std::optional<std::string> &endpoint_url,
                    const std::optional<std::string> &profile) {
  if (spec.empty()) throw invalid("the store specification must not be empty");
  momento::StoreOptions options;
  if (region) options.aws_region(region);
  if (endpoint_url) options.aws_endpoint(endpoint_url);
  if (profile) options.aws_profile(profile);
  return std::make_shared<momento::Store>(spec, &options);
}

TokenPtr store_load(const StorePtr &store) {
  StorePtr s = store;
  std::optional<momento::Token> t;
  {
    py::gil_scoped_release nogil;  // a file read or an HTTPS round trip
    t.emplace(s->load());
  }
  return std::make_shared<momento::Token>(std::move(*t));
}

void store_save(const StorePtr &store, const TokenPtr &token) {
  if (!token) throw invalid("token must not be None");
  StorePtr s = store;
  TokenPtr t = token;
  py::gil_scoped_release nogil;
  s->store(*t);
}

// ---- refresher ---------------------------------------------------------------------------------

using RefresherPtr = std::shared_ptr<momento::Refresher>;

struct RefresherSettings {
  std::optional<int64_t> deadline_ms;
  std::optional<std::string> ca_file;
  std::optional<std::string> endpoint;
  bool secure = true;
  std::optional<double> refresh_fraction;
  std::optional<double> jitter_fraction;
  std::optional<int64_t> backoff_initial_ms;
  std::optional<int64_t> backoff_max_ms;
  std::optional<int64_t> recheck_interval_ms;
};

class RefresherBox : public Closable {
 public:
  static std::shared_ptr<RefresherBox> create(const StorePtr &store, const RefresherSettings &s) {
    if (!store) throw invalid("store must not be None");
    momento::ClientConfig config;
    if (s.deadline_ms) config.deadline(std::chrono::milliseconds(*s.deadline_ms));
    if (s.ca_file) config.ca_file(*s.ca_file);
    auto o = make_override(s.endpoint, s.secure);
    momento::RefresherOptions options;
    // Each setter checks the pair (jitter < fraction) against the current other value, so
    // with both given the jitter is cleared first and the order of the defaults does not matter.
    if (s.refresh_fraction && s.jitter_fraction) options.jitter_fraction(0.0);
    if (s.refresh_fraction) options.refresh_fraction(*s.refresh_fraction);
    if (s.jitter_fraction) options.jitter_fraction(*s.jitter_fraction);
    if (s.backoff_initial_ms || s.backoff_max_ms) {
      const int64_t initial = s.backoff_initial_ms.value_or(1000);
      const int64_t max = s.backoff_max_ms.value_or(std::max<int64_t>(initial, 300000));
      options.backoff(std::chrono::milliseconds(initial), std::chrono::milliseconds(max));
    }
    if (s.recheck_interval_ms)
      options.recheck_interval(std::chrono::milliseconds(*s.recheck_interval_ms));
    auto box = std::shared_ptr<RefresherBox>(new RefresherBox());
    box->r_ = std::make_shared<momento::Refresher>(*store, &config, o ? &*o : nullptr, &options);
    box->store_description_ = std::string(store->describe());
    Registry::get().add(box);
    return box;
  }

  ~RefresherBox() override { release(); }

  void start() {
    RefresherPtr r = acquire();
    without_gil([&] { r->start(); });
    std::lock_guard<std::mutex> lk(mu_);
    running_ = true;
  }

  void stop() {
    if (t_delivering_for == this)
      throw momento::Error(MOMENTO_ERR_FAILED_PRECONDITION,
                           "stop() cannot be called from this Refresher's own callback; "
                           "call close() instead",
                           -1, false);
    RefresherPtr r = acquire();
    without_gil([&] { r->stop(); });
    std::lock_guard<std::mutex> lk(mu_);
    running_ = false;
  }

  std::optional<momento::RefreshEvent> run_once(bool force) {
    RefresherPtr held = acquire();
    py::gil_scoped_release nogil;  // store I/O and the refresh RPC
    // Declared after `nogil`, so destroyed before the GIL is taken back: if close() ran
    // meanwhile, the refresher is freed here (joining its threads) without the GIL.
    RefresherPtr r = std::move(held);
    if (force) return std::optional<momento::RefreshEvent>(r->refresh_now());
    return r->run_once(false);
  }

  uint64_t subscribe(py::object fn, py::object context) {
    if (g_delivery_off.load())
      throw momento::Error(MOMENTO_ERR_FAILED_PRECONDITION,
                           "the interpreter is shutting down: no new subscriptions", -1, false);
    RefresherPtr r = acquire();
    auto cb = std::make_shared<PyCallback>(std::move(fn), std::move(context));
    const void *owner = this;
    return r->subscribe([cb, owner](const momento::RefreshEvent &e) {
      cb->deliver(owner, [&] { return py::cast(e); });
    });
  }

  // False when the id is unknown (already ended, or the refresher is closed).
  bool unsubscribe(uint64_t id) {
    RefresherPtr r;
    {
      std::lock_guard<std::mutex> lk(mu_);
      r = r_;
    }
    if (!r) return false;
    bool found = true;
    without_gil([&] {
      try {
        r->unsubscribe(id);
      } catch (const momento::Error &e) {
        if (e.code() != MOMENTO_ERR_NOT_FOUND) throw;
        found = false;
      }
      r.reset();
    });
    return found;
  }

  void close() override { release(); }

  bool closed() {
    std::lock_guard<std::mutex> lk(mu_);
    return r_ == nullptr;
  }
  bool running() {
    std::lock_guard<std::mutex> lk(mu_);
    return r_ != nullptr && running_;
  }
  const std::string &store_description() const { return store_description_; }

 private:
  RefresherBox() = default;

  RefresherPtr acquire() {
    std::lock_guard<std::mutex> lk(mu_);
    if (!r_) throw closed_error("Refresher");
    return r_;
  }

  // Drops this box's reference; the refresher is freed (threads joined, subscriptions ended)
  // when no call holds it any more. From its own callback the free runs on another thread.
  void release() {
    RefresherPtr old;
    {
      std::lock_guard<std::mutex> lk(mu_);
      old.swap(r_);
      running_ = false;
    }
    if (!old) return;
    if (getpid() != pid_) {
      // A forked child: the library's threads stayed in the parent, and freeing would wait
      // for them forever. Leave the object to the process exit.
      new RefresherPtr(std::move(old));
      return;
    }
    if (t_delivering_for == this) {
      DeferredFrees::get().run([old = std::move(old)]() mutable { old.reset(); });
      return;
    }
    without_gil([&] { old.reset(); });
  }

  const pid_t pid_ = getpid();
  std::mutex mu_;
  RefresherPtr r_;
  bool running_ = false;
  std::string store_description_;
};

// ---- watcher -----------------------------------------------------------------------------------

using WatcherPtr = std::shared_ptr<momento::Watcher>;

// The key a watcher serves: no secret is reachable from it but the credential handle.
struct WatchedKeyInfo {
  std::string redacted_key;
  std::string fingerprint;
  uint64_t valid_until = 0;
};

class WatcherBox : public Closable {
 public:
  static std::shared_ptr<WatcherBox> create(const StorePtr &store, int64_t period_ms,
                                            const std::optional<std::string> &endpoint,
                                            bool secure) {
    if (!store) throw invalid("store must not be None");
    auto o = make_override(endpoint, secure);
    auto box = std::shared_ptr<WatcherBox>(new WatcherBox());
    StorePtr s = store;
    {
      py::gil_scoped_release nogil;  // the first read of the store
      box->w_ = std::make_shared<momento::Watcher>(*s, std::chrono::milliseconds(period_ms),
                                                   o ? &*o : nullptr);
    }
    Registry::get().add(box);
    return box;
  }

  ~WatcherBox() override { release(); }

  CredentialPtr current() {
    WatcherPtr w = acquire();
    return std::make_shared<momento::Credential>(w->current());
  }

  WatchedKeyInfo current_key() {
    WatcherPtr w = acquire();
    // One snapshot: the credential and the metadata of the same key.
    momento::WatchedKey k = w->current_key();
    WatchedKeyInfo info;
    info.redacted_key = momento_credential_redacted_key(k.credential().get());
    info.fingerprint = std::string(k.fingerprint());
    info.valid_until = k.valid_until();
    return info;
  }

  bool poll() {
    WatcherPtr held = acquire();
    py::gil_scoped_release nogil;  // a store read
    WatcherPtr w = std::move(held);  // freed, if closed meanwhile, without the GIL
    return w->poll();
  }

  void notify_unauthenticated() {
    WatcherPtr w = acquire();
    w->notify_unauthenticated();  // never blocks
  }

  uint64_t subscribe(py::object fn, py::object context) {
    if (g_delivery_off.load())
      throw momento::Error(MOMENTO_ERR_FAILED_PRECONDITION,
                           "the interpreter is shutting down: no new subscriptions", -1, false);
    WatcherPtr w = acquire();
    auto cb = std::make_shared<PyCallback>(std::move(fn), std::move(context));
    const void *owner = this;
    return w->subscribe([cb, owner](const momento::KeyChange &c) {
      cb->deliver(owner, [&] {
        WatchedKeyInfo info{c.redacted_key, c.fingerprint, c.valid_until};
        return py::cast(info);
      });
    });
  }

  bool unsubscribe(uint64_t id) {
    WatcherPtr w;
    {
      std::lock_guard<std::mutex> lk(mu_);
      w = w_;
    }
    if (!w) return false;
    bool found = true;
    without_gil([&] {
      try {
        w->unsubscribe(id);
      } catch (const momento::Error &e) {
        if (e.code() != MOMENTO_ERR_NOT_FOUND) throw;
        found = false;
      }
      w.reset();
    });
    return found;
  }

  void close() override { release(); }

  bool closed() {
    std::lock_guard<std::mutex> lk(mu_);
    return w_ == nullptr;
  }

 private:
  WatcherBox() = default;

  WatcherPtr acquire() {
    std::lock_guard<std::mutex> lk(mu_);
    if (!w_) throw closed_error("Watcher");
    return w_;
  }

  void release() {
    WatcherPtr old;
    {
      std::lock_guard<std::mutex> lk(mu_);
      old.swap(w_);
    }
    if (!old) return;
    if (getpid() != pid_) {  // a forked child: see RefresherBox::release
      new WatcherPtr(std::move(old));
      return;
    }
    if (t_delivering_for == this) {
      DeferredFrees::get().run([old = std::move(old)]() mutable { old.reset(); });
      return;
    }
    without_gil([&] { old.reset(); });
  }

  const pid_t pid_ = getpid();
  std::mutex mu_;
  WatcherPtr w_;
};

// atexit: stop delivery, close everything still open, wait for frees handed to other threads.
void at_exit() {
  g_delivery_off.store(true);
  for (auto &c : Registry::get().live()) c->close();
  {
    py::gil_scoped_release nogil;
    DeferredFrees::get().wait(std::chrono::seconds(30));
  }
  g_finalized.store(true);
}

}  // namespace

// Called once from native.cpp's module init.
void momento_python_register_refresh(py::module_ &m) {
  // ---- stores ----
  py::class_<momento::Store, StorePtr>(m, "Store")
      .def(py::init(&open_store), py::arg("spec"), py::arg("aws_region") = py::none(),
           py::arg("aws_endpoint") = py::none(), py::arg("aws_profile") = py::none())
      .def_property_readonly("description",
                             [](const momento::Store &s) { return std::string(s.describe()); })
      .def_property_readonly("writable", &momento::Store::writable)
      .def("load", &store_load)
      .def("store", &store_save, py::arg("token"));

  // ---- refresher ----
  py::class_<momento::RefreshEvent>(m, "RefreshEvent")
      .def_property_readonly("kind",
                             [](const momento::RefreshEvent &e) { return static_cast<int>(e.kind); })
      .def_property_readonly("kind_name",
                             [](const momento::RefreshEvent &e) {
                               const char *n = e.kind_name();
                               return std::string(n ? n : "");
                             })
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
      .def_readonly("next_attempt_ms", &momento::RefreshEvent::next_attempt_ms);
  m.attr("REFRESH_REFRESHED") = static_cast<int>(MOMENTO_REFRESH_REFRESHED);
  m.attr("REFRESH_ADOPTED") = static_cast<int>(MOMENTO_REFRESH_ADOPTED);
  m.attr("REFRESH_FAILED") = static_cast<int>(MOMENTO_REFRESH_FAILED);

  py::class_<RefresherBox, std::shared_ptr<RefresherBox>>(m, "Refresher")
      .def(py::init([](const StorePtr &store, std::optional<int64_t> deadline_ms,
                       std::optional<std::string> ca_file, std::optional<std::string> endpoint,
                       bool secure, std::optional<double> refresh_fraction,
                       std::optional<double> jitter_fraction,
                       std::optional<int64_t> backoff_initial_ms,
                       std::optional<int64_t> backoff_max_ms,
                       std::optional<int64_t> recheck_interval_ms) {
             RefresherSettings s;
             s.deadline_ms = deadline_ms;
             s.ca_file = std::move(ca_file);
             s.endpoint = std::move(endpoint);
             s.secure = secure;
             s.refresh_fraction = refresh_fraction;
             s.jitter_fraction = jitter_fraction;
             s.backoff_initial_ms = backoff_initial_ms;
             s.backoff_max_ms = backoff_max_ms;
             s.recheck_interval_ms = recheck_interval_ms;
             return RefresherBox::create(store, s);
           }),
           py::arg("store"), py::arg("deadline_ms") = py::none(), py::arg("ca_file") = py::none(),
           py::arg("endpoint") = py::none(), py::arg("secure") = true,
           py::arg("refresh_fraction") = py::none(), py::arg("jitter_fraction") = py::none(),
           py::arg("backoff_initial_ms") = py::none(), py::arg("backoff_max_ms") = py::none(),
           py::arg("recheck_interval_ms") = py::none())
      .def("start", &RefresherBox::start)
      .def("stop", &RefresherBox::stop)
      .def("run_once", &RefresherBox::run_once, py::arg("force") = false)
      .def("subscribe", &RefresherBox::subscribe, py::arg("fn"), py::arg("context"))
      .def("unsubscribe", &RefresherBox::unsubscribe, py::arg("id"))
      .def("close", &RefresherBox::close)
      .def_property_readonly("closed", &RefresherBox::closed)
      .def_property_readonly("running", &RefresherBox::running)
      .def_property_readonly("store_description", &RefresherBox::store_description);

  // ---- watcher ----
  py::class_<WatchedKeyInfo>(m, "WatchedKey")
      .def_readonly("redacted_key", &WatchedKeyInfo::redacted_key)
      .def_readonly("fingerprint", &WatchedKeyInfo::fingerprint)
      .def_readonly("valid_until", &WatchedKeyInfo::valid_until);

  py::class_<WatcherBox, std::shared_ptr<WatcherBox>>(m, "Watcher")
      .def(py::init(&WatcherBox::create), py::arg("store"), py::arg("period_ms"),
           py::arg("endpoint") = py::none(), py::arg("secure") = true)
      .def("current", &WatcherBox::current)
      .def("current_key", &WatcherBox::current_key)
      .def("poll", &WatcherBox::poll)
      .def("notify_unauthenticated", &WatcherBox::notify_unauthenticated)
      .def("subscribe", &WatcherBox::subscribe, py::arg("fn"), py::arg("context"))
      .def("unsubscribe", &WatcherBox::unsubscribe, py::arg("id"))
      .def("close", &WatcherBox::close)
      .def_property_readonly("closed", &WatcherBox::closed);

  py::module_::import("atexit").attr("register")(py::cpp_function(&at_exit));
}
