// momento_auth._native, part two: token stores, the refresher and the watcher, over
// momento/auth.hpp (registered from native.cpp's module init).
//
// Callbacks arrive on threads owned by libmomento_auth. These rules keep them safe in Python:
//  - nothing that can wait for such a thread (stop, unsubscribe, free, dropping what may be the
//    last reference) runs with the GIL, since that thread may be waiting for the GIL to run a
//    callback;
//  - a callback that raises is reported through sys.unraisablehook and never reaches the library;
//  - at interpreter exit (atexit, while Python is still whole) delivery is switched off, every
//    live refresher and watcher is closed, and deliveries under way and background work are
//    waited for, so no library thread asks for the GIL during finalization. Python references
//    still held by the library after that are left to the process exit.
// Blocking calls release the GIL; on the main thread they stay interruptible by Ctrl-C.
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
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "native.hpp"

namespace momento_python {
namespace {

// Set at atexit: no more callbacks into Python.
std::atomic<bool> g_delivery_off{false};
// Set once the atexit cleanup has finished: Python references are no longer released.
std::atomic<bool> g_finalized{false};
// Library threads inside a delivery (from before the first check of g_delivery_off until the
// callback has returned): atexit waits for them, so none is left asking for the GIL later.
std::atomic<int> g_in_delivery{0};

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

// A reference to a library refresher or watcher held by a call. It is dropped without the GIL:
// if close() ran meanwhile it may be the last one, and freeing joins library threads that may
// be waiting for the GIL to run a callback.
template <class T>
class Ref {
 public:
  explicit Ref(std::shared_ptr<T> p) : p_(std::move(p)) {}
  Ref(const Ref &) = delete;
  Ref &operator=(const Ref &) = delete;
  ~Ref() {
    if (p_) without_gil([&] { p_.reset(); });
  }
  T *operator->() const { return p_.get(); }
  // Hands the reference to a blocking call, which drops it on its own thread.
  std::shared_ptr<T> take() { return std::move(p_); }

 private:
  std::shared_ptr<T> p_;
};

// One T per process, never freed (used until the very end). A forked child gets a fresh one on
// first use: the parent's threads, counts and objects do not exist there, and the old mutex may
// have been held at the fork.
template <class T>
T &per_process() {
  static std::atomic<T *> current{new T()};
  T *t = current.load();
  while (t->pid != getpid()) {
    T *fresh = new T();
    if (current.compare_exchange_strong(t, fresh)) return *fresh;
    delete fresh;  // another thread replaced it first; `t` now holds that one
  }
  return *t;
}

// Work handed to other threads (a free that must not run on the thread asking for it, a call
// abandoned by Ctrl-C). Counted, so that atexit can wait for it while Python is still whole.
class Background {
 public:
  static Background &get() { return per_process<Background>(); }
  void run(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      ++pending_;
    }
    // Signals stay with the threads that handle them.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    try {
      std::thread([this, fn = std::move(fn)]() mutable {
        fn();
        fn = nullptr;  // captures (library objects) go before the count does
        std::lock_guard<std::mutex> lk(mu_);
        --pending_;
        cv_.notify_all();
      }).detach();
    } catch (...) {
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      std::lock_guard<std::mutex> lk(mu_);
      --pending_;
      throw;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  // Bounded: each piece of work ends within an RPC deadline.
  void wait(std::chrono::seconds max) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, max, [&] { return pending_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int pending_ = 0;

 public:
  const pid_t pid = getpid();
};

// Ident of the thread that handles signals (the main thread when the module was loaded).
unsigned long g_signal_thread = 0;

// Runs fn() (which must own everything it uses) without the GIL. On the signal-handling thread
// it runs on a background thread while this one waits in short slices, so Ctrl-C raises
// KeyboardInterrupt at once; the abandoned call finishes on its own (a refresh still stores its
// result), bounded by its deadline. Other threads call directly.
template <class R, class F>
R blocking(F fn) {
  if (PyThread_get_thread_ident() != g_signal_thread) {
    py::gil_scoped_release nogil;
    F call = std::move(fn);  // its captures are released before the GIL is taken back
    return call();
  }
  struct Job {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::optional<R> result;
    std::exception_ptr error;
  };
  auto job = std::make_shared<Job>();
  {
    py::gil_scoped_release nogil;
    Background::get().run([job, fn = std::move(fn)]() mutable {
      std::optional<R> r;
      std::exception_ptr ep;
      try {
        r.emplace(fn());
      } catch (...) {
        ep = std::current_exception();
      }
      std::lock_guard<std::mutex> lk(job->mu);
      job->result = std::move(r);
      job->error = ep;
      job->done = true;
      job->cv.notify_all();
    });
  }
  for (;;) {
    bool done = false;
    {
      py::gil_scoped_release nogil;
      std::unique_lock<std::mutex> lk(job->mu);
      done = job->cv.wait_for(lk, std::chrono::milliseconds(50), [&] { return job->done; });
    }
    if (done) break;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }
  if (job->error) std::rethrow_exception(job->error);
  return std::move(*job->result);
}

// Something atexit must close.
class Closable {
 public:
  virtual ~Closable() = default;
  virtual void close() = 0;
};

class Registry {
 public:
  static Registry &get() { return per_process<Registry>(); }
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

 public:
  const pid_t pid = getpid();
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
    ++g_in_delivery;
    struct Leave {
      ~Leave() { --g_in_delivery; }
    } leave;
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

py::object store_load(const StorePtr &store, py::handle result_type) {
  PyTypeObject *type = token_type(result_type);  // before the read, not after it
  StorePtr s = store;
  // A file read or an HTTPS round trip.
  return wrap_token(type, blocking<TokenPtr>([s] {
                      return std::make_shared<const momento::Token>(s->load());
                    }));
}

void store_save(const StorePtr &store, py::handle token) {
  if (token.is_none()) throw invalid("token must not be None");
  StorePtr s = store;
  TokenPtr t = token_of(token);
  blocking<bool>([s, t] {
    s->store(*t);
    return true;
  });
}

// What a Refresher and a Watcher box share: the library object, kept alive by calls in flight
// past close(); freed without the GIL (or on another thread when closed from its own callback);
// subscriptions whose callbacks run with the GIL.
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
    std::shared_ptr<T> p;
    {
      std::lock_guard<std::mutex> lk(mu_);
      p = p_;
    }
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

  // `to_python` turns the library's event into the Python object handed to `fn`.
  template <class Event, class ToPython>
  uint64_t subscribe_with(py::object fn, py::object context, ToPython to_python) {
    if (g_delivery_off.load())
      throw momento::Error(MOMENTO_ERR_FAILED_PRECONDITION,
                           "the interpreter is shutting down: no new subscriptions", -1, false);
    auto p = acquire();
    auto cb = std::make_shared<PyCallback>(std::move(fn), std::move(context));
    const void *owner = this;
    return p->subscribe([cb, owner, to_python](const Event &e) {
      cb->deliver(owner, [&] { return to_python(e); });
    });
  }

  Ref<T> acquire() {
    std::lock_guard<std::mutex> lk(mu_);
    if (!p_) throw closed_error(name_);
    return Ref<T>(p_);
  }

  // Drops this box's reference; the object is freed (threads joined, subscriptions ended) when
  // no call holds it any more.
  void release() {
    std::shared_ptr<T> old;
    {
      std::lock_guard<std::mutex> lk(mu_);
      old.swap(p_);
    }
    if (!old) return;
    if (getpid() != pid_) {
      // A forked child: the library's threads stayed in the parent, and freeing would wait
      // for them forever. Leave the object to the process exit.
      new std::shared_ptr<T>(std::move(old));
      return;
    }
    if (t_delivering_for == static_cast<const void *>(this)) {
      Background::get().run([old = std::move(old)]() mutable { old.reset(); });
      return;
    }
    without_gil([&] { old.reset(); });
  }

  const char *const name_;
  const pid_t pid_ = getpid();
  std::mutex mu_;
  std::shared_ptr<T> p_;
};

// ---- refresher ---------------------------------------------------------------------------------


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

class RefresherBox : public Box<momento::Refresher> {
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
    box->p_ = std::make_shared<momento::Refresher>(*store, &config, o ? &*o : nullptr, &options);
    box->store_description_ = std::string(store->describe());
    Registry::get().add(box);
    return box;
  }

  void start() {
    auto r = acquire();
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
    auto r = acquire();
    without_gil([&] { r->stop(); });
    std::lock_guard<std::mutex> lk(mu_);
    running_ = false;
  }

  std::optional<momento::RefreshEvent> run_once(bool force) {
    // Store I/O and the refresh RPC. The call owns a reference: if close() runs meanwhile, the
    // refresher is freed (joining its threads) when the call ends, on a thread without the GIL.
    auto r = acquire();
    using Result = std::optional<momento::RefreshEvent>;
    return blocking<Result>([r = r.take(), force]() mutable {
      Result ev = force ? Result(r->refresh_now()) : r->run_once(false);
      r.reset();
      return ev;
    });
  }

  uint64_t subscribe(py::object fn, py::object context) {
    return subscribe_with<momento::RefreshEvent>(
        std::move(fn), std::move(context),
        [](const momento::RefreshEvent &e) { return py::cast(e); });
  }

  bool running() {
    std::lock_guard<std::mutex> lk(mu_);
    return p_ != nullptr && running_;
  }
  const std::string &store_description() const { return store_description_; }

 private:
  RefresherBox() : Box("Refresher") {}

  bool running_ = false;
  std::string store_description_;
};

// ---- watcher -----------------------------------------------------------------------------------


// The key a watcher serves: no secret is reachable from it but the credential handle.
struct WatchedKeyInfo {
  std::string redacted_key;
  std::string fingerprint;
  uint64_t valid_until = 0;
};

class WatcherBox : public Box<momento::Watcher> {
 public:
  static std::shared_ptr<WatcherBox> create(const StorePtr &store, int64_t period_ms,
                                            const std::optional<std::string> &endpoint,
                                            bool secure) {
    if (!store) throw invalid("store must not be None");
    auto o = make_override(endpoint, secure);
    auto box = std::shared_ptr<WatcherBox>(new WatcherBox());
    StorePtr s = store;
    auto ov = std::make_shared<std::optional<momento::EndpointOverride>>(std::move(o));
    // The first read of the store.
    box->p_ = blocking<std::shared_ptr<momento::Watcher>>([s, ov, period_ms] {
      return std::make_shared<momento::Watcher>(*s, std::chrono::milliseconds(period_ms),
                                                *ov ? &**ov : nullptr);
    });
    Registry::get().add(box);
    return box;
  }

  CredentialPtr current() {
    auto w = acquire();
    return std::make_shared<momento::Credential>(w->current());
  }

  WatchedKeyInfo current_key() {
    auto w = acquire();
    // One snapshot: the credential and the metadata of the same key.
    momento::WatchedKey k = w->current_key();
    WatchedKeyInfo info;
    info.redacted_key = momento_credential_redacted_key(k.credential().get());
    info.fingerprint = std::string(k.fingerprint());
    info.valid_until = k.valid_until();
    return info;
  }

  bool poll() {
    auto w = acquire();
    return blocking<bool>([w = w.take()]() mutable {  // a store read
      bool changed = w->poll();
      w.reset();  // freed here, without the GIL, if closed meanwhile
      return changed;
    });
  }

  void notify_unauthenticated() {
    auto w = acquire();
    w->notify_unauthenticated();  // never blocks
  }

  uint64_t subscribe(py::object fn, py::object context) {
    return subscribe_with<momento::KeyChange>(
        std::move(fn), std::move(context), [](const momento::KeyChange &c) {
          return py::cast(WatchedKeyInfo{c.redacted_key, c.fingerprint, c.valid_until});
        });
  }

 private:
  WatcherBox() : Box("Watcher") {}
};

// atexit: stop delivery, close everything still open, then wait (without the GIL, bounded)
// for callbacks already under way and for work on background threads.
void at_exit() {
  g_delivery_off.store(true);
  for (auto &c : Registry::get().live()) c->close();
  {
    py::gil_scoped_release nogil;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (g_in_delivery.load() > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    Background::get().wait(std::chrono::seconds(30));
  }
  g_finalized.store(true);
}

}  // namespace

// Called once from native.cpp's module init.
void add_refresh_types(py::module_ &m) {
  // ---- stores ----
  py::class_<momento::Store, StorePtr>(m, "Store")
      .def(py::init(&open_store), py::arg("spec"), py::arg("aws_region") = py::none(),
           py::arg("aws_endpoint") = py::none(), py::arg("aws_profile") = py::none())
      .def_property_readonly("description",
                             [](const momento::Store &s) { return std::string(s.describe()); })
      .def_property_readonly("writable", &momento::Store::writable)
      .def("load", &store_load, py::arg("result_type"))
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
      .def_readonly("next_attempt_ms", &momento::RefreshEvent::next_attempt_ms)
      .def_readonly("replay", &momento::RefreshEvent::replay)
      .def_readonly("retryable", &momento::RefreshEvent::retryable);
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

  // Deliveries under way in the parent are not under way in a forked child.
  pthread_atfork(nullptr, nullptr, [] { g_in_delivery.store(0); });
  py::object main = py::module_::import("threading").attr("main_thread")();
  g_signal_thread = main.attr("ident").cast<unsigned long>();
  py::module_::import("atexit").attr("register")(py::cpp_function(&at_exit));
}

}  // namespace momento_python
