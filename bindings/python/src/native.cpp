// momento_auth._native: the pybind11 layer between the pure-Python package and libmomento_auth.
//
// Built over momento/auth.hpp only, so Python exercises the same C ABI as every other binding.
// It stays thin: the Python package adds the idioms (datetime, dataclasses, exception classes).
//
// Lifetimes: every native object the Python side holds is a shared_ptr, and a blocking call
// captures shared_ptrs to everything it reads. A call that is abandoned (KeyboardInterrupt) or a
// client closed while another thread is inside a call therefore never frees memory in use: the
// C client is freed when its last call returns, as auth.h requires.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "native.hpp"

using namespace std::chrono_literals;

namespace momento_python {
namespace {

// Python callable (code_name, message, grpc_status, retryable) -> exception instance, installed by
// the package at import. Deliberately leaked: it must outlive every translator call.
PyObject *g_error_factory = nullptr;
// Ident of the thread that receives signals; calls made there stay interruptible.
unsigned long g_main_thread = 0;

}  // namespace

void raise_momento_error(const momento::Error &e) {
  if (g_error_factory == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return;
  }
  PyObject *exc = PyObject_CallFunction(g_error_factory, "ssiO", e.code_name(), e.what(),
                                        static_cast<int>(e.grpc_status()),
                                        e.retryable() ? Py_True : Py_False);
  if (exc == nullptr) return;  // the factory failed: its own exception is already set
  PyErr_SetObject(reinterpret_cast<PyObject *>(Py_TYPE(exc)), exc);
  Py_DECREF(exc);
}

namespace {

momento::Error closed_error() {
  return momento::Error(MOMENTO_ERR_FAILED_PRECONDITION, "the AuthClient is closed", -1, false);
}

// ---- blocking calls --------------------------------------------------------------------------

// Ctrl-C during a call made on the main thread. The call runs right here, GIL released, with
// the thread tied to a library cancel token (auth.h). From the first such call on, a C-level
// SIGINT handler sits in front of the previous one (CPython's): it writes the current call's
// number to a pipe (async-signal-safe) and then chains, so Python still sees the signal, during
// a call or between calls alike. It stays installed (each call checks with one query that it is
// still in front, and steps in again if Python code set another handler): installing and
// restoring it around every call cost two system calls per call. A long-lived watcher thread
// reads the pipe and cancels the token if that call is still running; the call returns CANCELLED
// at once, and PyErr_CheckSignals afterwards runs the Python handler (KeyboardInterrupt by
// default). The token stays cancelled until the call ends, so a signal that lands before the
// call has registered its RPC still cancels it.
class Interrupts {
 public:
  static Interrupts &get() {
    static bool registered = [] {
      // After fork() the child has no watcher and must not share the parent's pipe: start over
      // on the next call. Only async-signal-safe work here (the child may exec right away); the
      // old state is leaked on purpose (its mutex may have been held by the lost thread).
      pthread_atfork(nullptr, nullptr, [] {
        const int fd = g_wake_fd.exchange(-1);
        if (fd >= 0) close(fd);
        if (instance() != nullptr && instance()->wake_r_ >= 0) close(instance()->wake_r_);
        g_forked = true;
        // The forking thread is the child's only thread; CPython makes it the main thread too.
        g_main_thread = PyThread_get_thread_ident();
      });
      return true;
    }();
    (void)registered;
    if (instance() == nullptr || g_forked) {
      g_forked = false;
      instance() = new Interrupts();  // main thread, GIL held: no race
    }
    return *instance();
  }

  // Runs fn() on this (the main) thread without the GIL, interruptible by SIGINT.
  template <class R, class F>
  R run(F &fn) {
    if (depth_ > 0 || !start() || !in_front()) {
      // Nested (a Python signal handler calling in), or no way to watch: call directly.
      py::gil_scoped_release nogil;
      return fn();
    }
    ++depth_;
    {
      std::lock_guard<std::mutex> lk(mu_);
      g_call.store(++seq_, std::memory_order_relaxed);
      active_ = true;
    }
    auto finish = [&] {
      {
        std::lock_guard<std::mutex> lk(mu_);
        active_ = false;
        if (cancelled_) token_.reset();  // ready for the next call
        cancelled_ = false;
      }
      --depth_;
    };
    // A signal that came just before the handler was installed is raised now, before the call.
    if (PyErr_CheckSignals() != 0) {
      finish();
      throw py::error_already_set();
    }
    std::optional<R> result;
    std::exception_ptr error;
    {
      momento_cancel_token_t *outer = nullptr;
      momento_cancel_token_bind_thread(&outer, token_.get(), nullptr);
      py::gil_scoped_release nogil;
      try {
        result.emplace(fn());
      } catch (...) {
        error = std::current_exception();
      }
      momento_cancel_token_bind_thread(nullptr, outer, nullptr);
    }
    finish();
    // The Python handler's exception (KeyboardInterrupt) wins over the call's outcome; a handler
    // that does not raise leaves the call's own result or error (CANCELLED if it was cut short).
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (error) std::rethrow_exception(error);
    return std::move(*result);
  }

 private:
  static Interrupts *&instance() {
    static Interrupts *p = nullptr;
    return p;
  }

  // Starts the watcher once per process (and again in a forked child). Main thread, GIL held.
  bool start() {
    if (started_) return wake_w_ >= 0;
    started_ = true;
    int fds[2];
    if (pipe(fds) != 0) return false;  // pipe + fcntl rather than Linux's pipe2: portable
    for (int fd : fds) fcntl(fd, F_SETFD, FD_CLOEXEC);
    // The handler must never block; if the pipe is ever full the watcher has work pending anyway.
    fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);  // the watcher inherits a mask blocking signals
    try {
      std::thread([this, fd = fds[0]] { watch(fd); }).detach();
    } catch (...) {
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      close(fds[0]);
      close(fds[1]);
      return false;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    wake_r_ = fds[0];
    wake_w_ = fds[1];
    g_wake_fd.store(fds[1]);
    return true;
  }

  // Makes sure on_sigint is in front of the SIGINT disposition; false (nothing changed) when
  // that disposition is SIG_DFL or SIG_IGN, which have no Python handler to run. One query
  // while it stays in front; Python's signal.signal() replaces it, and then it steps in again.
  bool in_front() {
    static const struct sigaction ours = [] {
      struct sigaction a {};
      a.sa_sigaction = on_sigint;
      a.sa_flags = SA_SIGINFO | SA_ONSTACK;  // like CPython's: no SA_RESTART
      sigemptyset(&a.sa_mask);
      return a;
    }();
    struct sigaction current;
    if (sigaction(SIGINT, nullptr, &current) != 0) return false;
    if (is_ours(current)) return true;  // also when inherited from a parent before fork()
    if (!(current.sa_flags & SA_SIGINFO) &&
        (current.sa_handler == SIG_DFL || current.sa_handler == SIG_IGN)) {
      return false;
    }
    // on_sigint is not installed here, so it cannot be reading g_prev meanwhile.
    g_prev = current;
    return sigaction(SIGINT, &ours, nullptr) == 0;
  }

  static bool is_ours(const struct sigaction &a) {
    return (a.sa_flags & SA_SIGINFO) && a.sa_sigaction == on_sigint;
  }

  // Async-signal-safe: an atomic load, write(2), and the previous handler (CPython's is safe).
  static void on_sigint(int sig, siginfo_t *info, void *uctx) {
    const int saved = errno;
    const int fd = g_wake_fd.load(std::memory_order_relaxed);
    if (fd >= 0) {
      uint64_t call = g_call.load(std::memory_order_relaxed);
      ssize_t n = write(fd, &call, sizeof call);  // <= PIPE_BUF: atomic
      (void)n;
    }
    errno = saved;
    if (g_prev.sa_flags & SA_SIGINFO) {
      if (g_prev.sa_sigaction != nullptr) g_prev.sa_sigaction(sig, info, uctx);
    } else if (g_prev.sa_handler != SIG_DFL && g_prev.sa_handler != SIG_IGN) {
      g_prev.sa_handler(sig);
    }
  }

  void watch(int fd) {
    for (;;) {
      uint64_t call = 0;
      ssize_t n = read(fd, &call, sizeof call);
      if (n < 0 && errno == EINTR) continue;
      if (n != static_cast<ssize_t>(sizeof call)) return;  // closed (fork child) or broken
      std::lock_guard<std::mutex> lk(mu_);
      // Only the call that was running when the signal came; a late wake-up must not cancel
      // the next one.
      if (active_ && call == seq_) {
        try {
          token_.cancel();
          cancelled_ = true;
        } catch (...) {
        }
      }
    }
  }

  static inline std::atomic<int> g_wake_fd{-1};
  static inline bool g_forked = false;
  static inline std::atomic<uint64_t> g_call{0};
  static inline struct sigaction g_prev {};  // what on_sigint chains to; set before install

  momento::CancelToken token_;
  std::mutex mu_;  // seq_, active_, cancelled_, and reset/cancel of token_ as one step
  uint64_t seq_ = 0;
  bool active_ = false;
  bool cancelled_ = false;  // token_ was cancelled during the active call
  // Main thread only (GIL held):
  bool started_ = false;
  int depth_ = 0;
  int wake_r_ = -1, wake_w_ = -1;
};

// Runs `fn` on the calling thread without the GIL (so it must not touch Python objects; it
// returns before run_blocking does, so it may borrow from the caller). On the main thread of a
// client made with interruptible=True, Ctrl-C cancels the call (see Interrupts). Other threads
// never run Python signal handlers, so they call directly, as do interruptible=False clients
// (Ctrl-C then waits for the call to end).
template <class R, class F>
R run_blocking(bool interruptible, F fn) {
  if (!interruptible || PyThread_get_thread_ident() != g_main_thread) {
    py::gil_scoped_release nogil;
    return fn();
  }
  return Interrupts::get().run<R>(fn);
}

// ---- wrappers ------------------------------------------------------------------------------

using CredentialPtr = std::shared_ptr<momento::Credential>;
using ScopePtr = std::shared_ptr<momento::Scope>;
using ExpiresInPtr = std::shared_ptr<momento::ExpiresIn>;
using ClientPtr = std::shared_ptr<momento::AuthClient>;

std::optional<momento::EndpointOverride> make_override(const std::optional<std::string> &endpoint,
                                                       bool secure) {
  if (!endpoint) return std::nullopt;
  return momento::EndpointOverride::single(*endpoint, secure);
}

const momento::EndpointOverride *ptr(const std::optional<momento::EndpointOverride> &o) {
  return o ? &*o : nullptr;
}

py::tuple endpoint_tuple(const momento::Credential &c, momento::Service s) {
  momento::Endpoint e = c.endpoint(s);
  return py::make_tuple(e.host, e.port, e.secure);
}

std::string as_bytes_string(const py::object &o) {
  if (py::isinstance<py::bytes>(o)) return std::string(o.cast<py::bytes>());
  return o.cast<std::string>();  // str: UTF-8
}

// Holds the C client; close() drops this holder's reference, calls in flight keep theirs.
class Client {
 public:
  Client(const CredentialPtr &credential, std::optional<int64_t> deadline_ms,
         const std::optional<std::string> &ca_file, bool interruptible)
      : interruptible_(interruptible) {
    momento::ClientConfig config;
    if (deadline_ms) config.deadline(std::chrono::milliseconds(*deadline_ms));
    if (ca_file) config.ca_file(*ca_file);
    client_ = std::make_shared<momento::AuthClient>(*credential, config);
  }

  TokenPtr generate_api_key(const ScopePtr &scope, const ExpiresInPtr &expires_in) {
    ClientPtr c = acquire();
    return run_blocking<TokenPtr>(interruptible_, [c, scope, expires_in] {
      return std::make_shared<const momento::Token>(c->generate_api_key(*scope, *expires_in));
    });
  }

  // refresh_token: NUL-terminated UTF-8 that outlives the call.
  TokenPtr refresh_api_key(const char *refresh_token) {
    ClientPtr c = acquire();
    return run_blocking<TokenPtr>(interruptible_, [&c, refresh_token] {
      return std::make_shared<const momento::Token>(c->refresh_api_key(refresh_token));
    });
  }

  TokenPtr generate_disposable_token(const ScopePtr &scope, const ExpiresInPtr &expires_in,
                                     const std::optional<std::string> &token_id) {
    ClientPtr c = acquire();
    return run_blocking<TokenPtr>(interruptible_, [c, scope, expires_in, token_id] {
      return std::make_shared<const momento::Token>(
          c->generate_disposable_token(*scope, *expires_in, token_id));
    });
  }

  void close() {
    ClientPtr old;
    {
      std::lock_guard<std::mutex> lk(mu_);
      old.swap(client_);
    }
    // Tearing down channels can take a moment: let other threads run meanwhile.
    py::gil_scoped_release nogil;
    old.reset();
  }

  bool closed() {
    std::lock_guard<std::mutex> lk(mu_);
    return client_ == nullptr;
  }

  std::string redacted_credential() {
    ClientPtr c = acquire();
    return std::string(c->credential().redacted());
  }

 private:
  ClientPtr acquire() {
    std::lock_guard<std::mutex> lk(mu_);
    if (!client_) throw closed_error();
    return client_;
  }
  const bool interruptible_;
  std::mutex mu_;
  ClientPtr client_;
};

// ---- _native.Client, the base of AuthClient ------------------------------------------------
// A plain CPython type, like Token: AuthClient derives from it, so a method reaches the C++
// client straight from `self`, with no attribute lookup and no pybind11 cast. Its methods are
// underscored: AuthClient's public methods (in Python) check and convert the arguments.

struct ClientObject {
  PyObject_HEAD
  std::optional<Client> client;  // engaged once, by _open() (AuthClient.__init__)
  PyObject *weakrefs;
};

PyTypeObject *g_client_type = nullptr;  // owned by the module, which outlives every instance

Client &client_of(PyObject *self) {
  std::optional<Client> &c = reinterpret_cast<ClientObject *>(self)->client;
  if (!c) throw closed_error();  // never opened: as unusable as a closed one
  return *c;
}

// Positional arguments of a METH_VARARGS method, exactly n of them.
void expect_args(PyObject *args, Py_ssize_t n, const char *name) {
  if (PyTuple_GET_SIZE(args) != n) {
    throw py::type_error(std::string(name) + "() takes " + std::to_string(n) + " arguments");
  }
}

template <class T>
T arg(PyObject *args, Py_ssize_t i) {
  return py::handle(PyTuple_GET_ITEM(args, i)).cast<T>();
}

PyObject *client_new(PyTypeObject *type, PyObject *, PyObject *) {
  PyObject *o = type->tp_alloc(type, 0);
  if (o != nullptr) new (&reinterpret_cast<ClientObject *>(o)->client) std::optional<Client>();
  return o;
}

// _open(credential, deadline_ms, ca_file, interruptible)
PyObject *client_open(PyObject *self, PyObject *args) {
  return guarded([&] {
    expect_args(args, 4, "_open");
    std::optional<Client> &c = reinterpret_cast<ClientObject *>(self)->client;
    if (c) {
      throw momento::Error(MOMENTO_ERR_FAILED_PRECONDITION, "the AuthClient is already open", -1,
                           false);
    }
    c.emplace(arg<CredentialPtr>(args, 0), arg<std::optional<int64_t>>(args, 1),
              arg<std::optional<std::string>>(args, 2), arg<bool>(args, 3));
    Py_RETURN_NONE;
  });
}

// _generate_api_key(scope, expires_in, result_type)
PyObject *client_generate_api_key(PyObject *self, PyObject *args) {
  return guarded([&] {
    expect_args(args, 3, "_generate_api_key");
    PyTypeObject *type = token_type(PyTuple_GET_ITEM(args, 2));  // before a key is minted
    return new_token_object(
        type, client_of(self).generate_api_key(arg<ScopePtr>(args, 0), arg<ExpiresInPtr>(args, 1)));
  });
}

// _generate_disposable_token(scope, expires_in, token_id, result_type)
PyObject *client_generate_disposable_token(PyObject *self, PyObject *args) {
  return guarded([&] {
    expect_args(args, 4, "_generate_disposable_token");
    PyTypeObject *type = token_type(PyTuple_GET_ITEM(args, 3));  // before a token is minted
    return new_token_object(type, client_of(self).generate_disposable_token(
                                      arg<ScopePtr>(args, 0), arg<ExpiresInPtr>(args, 1),
                                      arg<std::optional<std::string>>(args, 2)));
  });
}

PyObject *client_close(PyObject *self, PyObject *) {
  return guarded([&] {
    std::optional<Client> &c = reinterpret_cast<ClientObject *>(self)->client;
    if (c) c->close();
    Py_RETURN_NONE;
  });
}

PyObject *client_closed(PyObject *self, PyObject *) {
  std::optional<Client> &c = reinterpret_cast<ClientObject *>(self)->client;
  return PyBool_FromLong(!c || c->closed());
}

PyObject *client_redacted_credential(PyObject *self, PyObject *) {
  return guarded([&] { return py::str(client_of(self).redacted_credential()).release().ptr(); });
}

PyMethodDef g_client_methods[] = {
    {"_open", client_open, METH_VARARGS,
     "Connects (lazily): (credential, deadline_ms, ca_file, interruptible)."},
    {"_generate_api_key", client_generate_api_key, METH_VARARGS,
     "(scope, expires_in, result_type)"},
    {"_generate_disposable_token", client_generate_disposable_token, METH_VARARGS,
     "(scope, expires_in, token_id, result_type)"},
    {"_close", client_close, METH_NOARGS, "Drops the connection; idempotent."},
    {"_closed", client_closed, METH_NOARGS, "True once closed (or never opened)."},
    {"_redacted_credential", client_redacted_credential, METH_NOARGS, "The credential, redacted."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot g_client_slots[] = {
    {Py_tp_new, reinterpret_cast<void *>(client_new)},
    // Calls in flight hold their own reference to the C client.
    {Py_tp_dealloc, reinterpret_cast<void *>(dealloc_native<ClientObject>)},
    {Py_tp_methods, g_client_methods},
    {Py_tp_members, weakref_member<ClientObject>},
    {Py_tp_doc, const_cast<char *>("Base of AuthClient: holds the C client (internal).")},
    {0, nullptr},
};

void add_client_type(py::module_ &m) {
  // Not garbage-collected: it holds no Python references.
  PyType_Spec spec{"momento_auth._native.Client", sizeof(ClientObject), 0,
                   Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, g_client_slots};
  auto type = py::reinterpret_steal<py::object>(PyType_FromSpec(&spec));
  if (!type) throw py::error_already_set();
  g_client_type = reinterpret_cast<PyTypeObject *>(type.ptr());
  m.attr("Client") = type;
}

// ---- AuthClient.refresh_api_key ----------------------------------------------------------
// The one call a fleet makes on a schedule, implemented as a method of the Python AuthClient
// class itself: no Python frame, no argument-conversion machinery, the C++ client found from
// `self`, and the result a single native object (ApiKeyResult derives from _native.Token). Each
// layer costs several times its hot-loop price, because after every network round trip the code
// and data it touches have gone cold (bench/python/RESULTS.md).

struct RefreshMethod {
  PyMethodDef def{};
  std::string doc;              // def.ml_doc points into it
  PyTypeObject *result_type{};  // ApiKeyResult
};
RefreshMethod *g_refresh = nullptr;  // set once at import; deliberately leaked like the factory

PyObject *raise_invalid_argument(const std::string &message) {
  raise_momento_error(momento::Error(MOMENTO_ERR_INVALID_ARGUMENT, message, -1, false));
  return nullptr;
}

// `self` is an AuthClient: the method descriptor checks that before the call.
PyObject *refresh_api_key_method(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                 PyObject *kwnames) {
  const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  const bool keyword_ok =
      nkw == 0 || PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "refresh_token") == 0;
  if (nargs + nkw != 1 || !keyword_ok) {
    PyErr_SetString(PyExc_TypeError, "refresh_api_key() takes one argument, refresh_token");
    return nullptr;
  }
  PyObject *rt = args[0];
  if (!PyUnicode_Check(rt)) {
    return raise_invalid_argument(std::string("refresh_token must be a str, got ") +
                                  Py_TYPE(rt)->tp_name);
  }
  Py_ssize_t size = 0;
  const char *utf8 = PyUnicode_AsUTF8AndSize(rt, &size);  // cached in the str: no copy
  if (utf8 == nullptr) {
    PyErr_Clear();  // the message would quote the text
    return raise_invalid_argument("refresh_token is not valid UTF-8 (it holds a lone surrogate)");
  }
  if (std::char_traits<char>::length(utf8) != static_cast<size_t>(size)) {
    return raise_invalid_argument("refresh_token must not contain NUL characters");
  }
  // The str stays referenced by the caller (and immutable) while the GIL is released.
  return guarded([&] {
    return new_token_object(g_refresh->result_type, client_of(self).refresh_api_key(utf8));
  });
}

void install_refresh_api_key(const py::type &client_type, const py::type &result_type,
                             const std::string &doc) {
  auto *type = reinterpret_cast<PyTypeObject *>(client_type.ptr());
  if (!PyType_IsSubtype(type, g_client_type)) throw py::type_error("expected a Client subclass");
  PyTypeObject *result = token_type(result_type);
  if (g_refresh == nullptr) {
    g_refresh = new RefreshMethod;
    // "--" after the signature line: inspect.signature() and help() show the parameters.
    g_refresh->doc = "refresh_api_key($self, /, refresh_token)\n--\n\n" + doc;
    g_refresh->def = {"refresh_api_key",
                      reinterpret_cast<PyCFunction>(
                          reinterpret_cast<void (*)()>(refresh_api_key_method)),
                      METH_FASTCALL | METH_KEYWORDS, g_refresh->doc.c_str()};
  }
  Py_INCREF(result);
  Py_XSETREF(g_refresh->result_type, result);  // a reload brings new classes
  py::object descr =
      py::reinterpret_steal<py::object>(PyDescr_NewMethod(type, &g_refresh->def));
  if (!descr) throw py::error_already_set();
  client_type.attr("refresh_api_key") = descr;
}

}  // namespace
}  // namespace momento_python

PYBIND11_MODULE(_native, m) {
  using namespace momento_python;
  m.doc() = "Native layer of momento_auth over libmomento_auth's C ABI (internal).";

  m.attr("HEADER_ABI_VERSION") = MOMENTO_AUTH_ABI_VERSION;
  m.attr("HEADER_VERSION") = MOMENTO_AUTH_VERSION_STRING;
  m.def("abi_version", &momento::abi_version, "ABI version of the loaded libmomento_auth.");
  m.def("library_version", [] { return std::string(momento::version_string()); },
        "Version string of the loaded libmomento_auth.");

  m.def(
      "set_error_factory",
      [](py::object factory) {
        Py_XDECREF(g_error_factory);
        g_error_factory = factory.release().ptr();
      },
      "Installs the callable that turns (code, message, grpc_status, retryable) into an "
      "exception.");
  m.def("install_refresh_api_key", &install_refresh_api_key, py::arg("client_type"),
        py::arg("result_type"), py::arg("doc"),
        "Makes a native refresh_api_key method of client_type returning result_type objects.");
  m.def(
      "set_main_thread", [](unsigned long ident) { g_main_thread = ident; },
      "Names the thread whose blocking calls stay interruptible by signals.");
  g_main_thread = PyThread_get_thread_ident();

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const momento::Error &e) {
      raise_momento_error(e);
    }
  });

  // ---- credentials ----
  py::class_<momento::Credential, std::shared_ptr<momento::Credential>>(m, "Credential")
      .def_static(
          "from_string",
          [](const std::string &s, std::optional<std::string> endpoint, bool secure) {
            auto o = make_override(endpoint, secure);
            return std::make_shared<momento::Credential>(
                momento::Credential::from_string(s, ptr(o)));
          },
          py::arg("credential"), py::arg("endpoint") = py::none(), py::arg("secure") = true)
      .def_static(
          "from_disposable_token",
          [](const std::string &s, std::optional<std::string> endpoint, bool secure) {
            auto o = make_override(endpoint, secure);
            return std::make_shared<momento::Credential>(
                momento::Credential::from_disposable_token(s, ptr(o)));
          },
          py::arg("token"), py::arg("endpoint") = py::none(), py::arg("secure") = true)
      .def_static(
          "from_v2",
          [](const std::string &key, const std::string &base, std::optional<std::string> endpoint,
             bool secure) {
            auto o = make_override(endpoint, secure);
            return std::make_shared<momento::Credential>(
                momento::Credential::from_v2(key, base, ptr(o)));
          },
          py::arg("api_key"), py::arg("base_endpoint"), py::arg("endpoint") = py::none(),
          py::arg("secure") = true)
      .def_static(
          "from_env",
          [](std::optional<std::string> key_var, std::optional<std::string> endpoint_var,
             std::optional<std::string> endpoint, bool secure) {
            auto o = make_override(endpoint, secure);
            return std::make_shared<momento::Credential>(
                momento::Credential::from_env(key_var, endpoint_var, ptr(o)));
          },
          py::arg("key_var") = py::none(), py::arg("endpoint_var") = py::none(),
          py::arg("endpoint") = py::none(), py::arg("secure") = true)
      .def_static(
          "from_file",
          [](const std::string &path, std::optional<std::string> endpoint, bool secure) {
            auto o = make_override(endpoint, secure);
            py::gil_scoped_release nogil;  // file I/O
            return std::make_shared<momento::Credential>(
                momento::Credential::from_file(path, ptr(o)));
          },
          py::arg("path"), py::arg("endpoint") = py::none(), py::arg("secure") = true)
      .def_static(
          "local",
          [](const std::string &host, uint16_t port) {
            return std::make_shared<momento::Credential>(momento::Credential::local(host, port));
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
      .def("expiry",
           [](const momento::Credential &c) {
             momento::Expiry e = c.expiry();
             return py::make_tuple(static_cast<int>(e.state), e.epoch_seconds);
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
      .def(py::init([](int unit, int64_t amount) {
             momento::ExpiresIn e = [&] {
               switch (unit) {
                 case MOMENTO_EXPIRES_NEVER:
                   return momento::ExpiresIn::never();
                 case MOMENTO_EXPIRES_SECONDS:
                   return momento::ExpiresIn::seconds(amount);
                 case MOMENTO_EXPIRES_MINUTES:
                   return momento::ExpiresIn::minutes(amount);
                 case MOMENTO_EXPIRES_HOURS:
                   return momento::ExpiresIn::hours(amount);
                 case MOMENTO_EXPIRES_DAYS:
                   return momento::ExpiresIn::days(amount);
                 case MOMENTO_EXPIRES_AT_EPOCH:
                   return momento::ExpiresIn::at_epoch(amount);
                 default:
                   throw momento::Error(MOMENTO_ERR_INVALID_ARGUMENT,
                                        "unknown lifetime unit " + std::to_string(unit), -1, false);
               }
             }();
             return std::make_shared<momento::ExpiresIn>(std::move(e));
           }),
           py::arg("unit"), py::arg("amount"))
      .def("does_expire", &momento::ExpiresIn::does_expire)
      .def("seconds", &momento::ExpiresIn::valid_for_seconds);
  m.attr("EXPIRES_NEVER") = static_cast<int>(MOMENTO_EXPIRES_NEVER);
  m.attr("EXPIRES_SECONDS") = static_cast<int>(MOMENTO_EXPIRES_SECONDS);
  m.attr("EXPIRES_MINUTES") = static_cast<int>(MOMENTO_EXPIRES_MINUTES);
  m.attr("EXPIRES_HOURS") = static_cast<int>(MOMENTO_EXPIRES_HOURS);
  m.attr("EXPIRES_DAYS") = static_cast<int>(MOMENTO_EXPIRES_DAYS);
  m.attr("EXPIRES_AT_EPOCH") = static_cast<int>(MOMENTO_EXPIRES_AT_EPOCH);

  // ---- scopes ----
  // Role and selector values are the C enumerations; the Python layer maps its enums onto them.
  py::class_<momento::Scope, std::shared_ptr<momento::Scope>>(m, "Scope")
      .def(py::init([] { return std::make_shared<momento::Scope>(); }))
      .def_static("predefined",
                  [](int which) {
                    switch (which) {
                      case MOMENTO_SCOPE_SUPER_USER:
                        return std::make_shared<momento::Scope>(momento::Scope::super_user());
                      case MOMENTO_SCOPE_ALL_DATA_READ_WRITE:
                        return std::make_shared<momento::Scope>(
                            momento::Scope::all_data_read_write());
                      case MOMENTO_SCOPE_ALL_DATA_READ_ONLY:
                        return std::make_shared<momento::Scope>(
                            momento::Scope::all_data_read_only());
                      default:
                        throw momento::Error(MOMENTO_ERR_INVALID_ARGUMENT,
                                             "unknown predefined scope " + std::to_string(which),
                                             -1, false);
                    }
                  })
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
             py::object item) {
            std::string bytes = item.is_none() ? std::string() : as_bytes_string(item);
            s.add_cache_items(static_cast<momento::CacheRole>(role), cache,
                              momento::Items{select, std::move(bytes)});
          },
          py::arg("role"), py::arg("cache"), py::arg("select"), py::arg("item"))
      .def("entry_count", &momento::Scope::entry_count)
      .def("validate", [](const momento::Scope &s, int use) {
        s.validate(static_cast<momento::ScopeUse>(use));
      });
  m.attr("SCOPE_SUPER_USER") = static_cast<int>(MOMENTO_SCOPE_SUPER_USER);
  m.attr("SCOPE_ALL_DATA_READ_WRITE") = static_cast<int>(MOMENTO_SCOPE_ALL_DATA_READ_WRITE);
  m.attr("SCOPE_ALL_DATA_READ_ONLY") = static_cast<int>(MOMENTO_SCOPE_ALL_DATA_READ_ONLY);
  m.attr("SELECT_ALL") = static_cast<int>(MOMENTO_SELECT_ALL);
  m.attr("SELECT_NAME") = static_cast<int>(MOMENTO_SELECT_NAME);
  m.attr("SELECT_PREFIX") = static_cast<int>(MOMENTO_SELECT_PREFIX);
  m.attr("ITEMS_ALL") = static_cast<int>(MOMENTO_ITEMS_ALL);
  m.attr("ITEMS_KEY") = static_cast<int>(MOMENTO_ITEMS_KEY);
  m.attr("ITEMS_KEY_PREFIX") = static_cast<int>(MOMENTO_ITEMS_KEY_PREFIX);
  m.attr("USE_API_KEY") = static_cast<int>(MOMENTO_SCOPE_USE_API_KEY);
  m.attr("USE_DISPOSABLE_TOKEN") = static_cast<int>(MOMENTO_SCOPE_USE_DISPOSABLE_TOKEN);

  // ---- results and the client: plain CPython types, bases of the package's classes ----
  add_token_type(m);
  add_client_type(m);

  add_refresh_types(m);
}
