// Blocking calls, each tied to a library cancel token (auth.h), which Ctrl-C cancels for a
// synchronous call of the main thread: a synchronous call runs on the calling thread without the
// GIL (run_here); an awaited one is one of the library's asynchronous calls (Call::start).
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

#include <semaphore.h>
#include <signal.h>
#include <unistd.h>

#include "native.hpp"

namespace momento_python {
namespace {

std::atomic<bool> g_exiting{false};

// The tokens of calls under way, so that interpreter exit can cancel them and wait until none
// is left to take the GIL. A token is listed from before its call starts until it has ended.
struct Running {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<momento::CancelToken *> tokens;  // a handful: no allocation per call
};
Running &running() {
  static auto *r = new Running();  // used until the very end: never destroyed
  return *r;
}
void track(momento::CancelToken *token) {
  std::lock_guard<std::mutex> lk(running().mu);
  running().tokens.push_back(token);
}
void untrack(momento::CancelToken *token) {
  std::lock_guard<std::mutex> lk(running().mu);
  auto &v = running().tokens;
  v.erase(std::find(v.begin(), v.end(), token));
  running().cv.notify_all();
}

// Ctrl-C during a synchronous call of the main thread. A SIGINT handler chained in front of
// whatever handler is installed (Python's) wakes a helper thread, which cancels the token of the
// main thread's call under way (cancelling is not async-signal-safe). One helper per process,
// started with the first such call; a forked child starts its own.
class Interrupts {
 public:
  // This process's helper, with the handler put back in front if something replaced it; none
  // when SIGINT is ignored or has its default action (then there is nothing to cancel for).
  static Interrupts *get() {
    static const int registered = pthread_atfork(nullptr, nullptr, [] {
      // A forked child: the thread that forked is its main thread, and it has no helper.
      g_forks.fetch_add(1);
      g_helper.store(nullptr);
    });
    (void)registered;
    thread_local unsigned seen_forks = ~0u;
    thread_local bool main_thread = false;
    if (const unsigned forks = g_forks.load(); forks != seen_forks) {  // no syscall per call
      seen_forks = forks;
      main_thread = gettid() == getpid();
    }
    if (!main_thread || !in_front()) return nullptr;
    Interrupts *i = g_helper.load();
    if (i == nullptr) {
      i = new Interrupts();  // never destroyed: the signal handler may read it at any time
      g_helper.store(i);
    }
    return i;
  }

  // The main thread's call under way while it lives (a signal handler may run a nested call).
  class Current {
   public:
    Current(Interrupts *i, momento::CancelToken *token) : i_(i) {
      std::lock_guard<std::mutex> lk(i_->mu_);
      previous_ = std::exchange(i_->token_, token);
      i_->call_.fetch_add(1);
    }
    ~Current() {  // with the GIL
      {
        std::lock_guard<std::mutex> lk(i_->mu_);
        i_->token_ = previous_;
        i_->call_.fetch_add(1);
        i_->cancelled_ = false;
      }
      i_->unwound_.notify_all();
    }

   private:
    Interrupts *i_;
    momento::CancelToken *previous_;
  };

 private:
  Interrupts() {
    sem_init(&wake_, 0, 0);
    std::thread([this] { loop(); }).detach();
  }

  void loop() {
    sigset_t all;  // signals stay with the threads that handle them (Python's main thread)
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    for (;;) {
      while (sem_wait(&wake_) != 0) {
      }
      std::lock_guard<std::mutex> lk(mu_);
      // Only the call that was under way when the signal came.
      if (token_ != nullptr && requested_.load() == call_.load()) {
        cancelled_ = true;
        try {
          token_->cancel();
        } catch (...) {
        }
      }
    }
  }

  static void on_sigint(int sig, siginfo_t *info, void *context) {
    const int saved = errno;
    if (Interrupts *i = g_helper.load()) {
      i->requested_.store(i->call_.load());
      sem_post(&i->wake_);
    }
    errno = saved;
    if (g_next.sa_flags & SA_SIGINFO) {
      g_next.sa_sigaction(sig, info, context);
    } else if (g_next.sa_handler != SIG_IGN && g_next.sa_handler != SIG_DFL) {
      g_next.sa_handler(sig);
    }
  }

  // One sigaction query per call: Python's signal.signal() replaces the handler.
  static bool in_front() {
    struct sigaction now {};
    sigaction(SIGINT, nullptr, &now);
    if (now.sa_flags & SA_SIGINFO) {
      if (now.sa_sigaction == on_sigint) return true;
    } else if (now.sa_handler == SIG_IGN || now.sa_handler == SIG_DFL) {
      return false;
    }
    g_next = now;  // ours is not installed: no handler of ours reads it meanwhile
    struct sigaction ours = now;
    ours.sa_sigaction = on_sigint;
    ours.sa_flags = (now.sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
    return sigaction(SIGINT, &ours, nullptr) == 0;
  }

  // The cancelled call's events are posted before it returns, and a delivery thread would win
  // the GIL against the main thread, running callbacks before its KeyboardInterrupt. They wait
  // until the main thread holds the GIL again (its switch interval then lets the exception reach
  // the caller first). Bounded: the cancelled call may be freeing a refresher whose delivery
  // thread waits here.
  void await_unwound() {
    std::unique_lock<std::mutex> lk(mu_);
    unwound_.wait_for(lk, std::chrono::seconds(1), [&] { return !cancelled_; });
  }

  static inline std::atomic<Interrupts *> g_helper{nullptr};  // read by the signal handler
  static inline std::atomic<unsigned> g_forks{0};
  static inline struct sigaction g_next {};                    // the handler ours passes on to

  sem_t wake_;
  std::mutex mu_;
  momento::CancelToken *token_ = nullptr;  // of the main thread's call under way
  bool cancelled_ = false;                 // by Ctrl-C, and the GIL not yet taken back
  std::condition_variable unwound_;
  std::atomic<uint64_t> call_{0}, requested_{0};

  friend void momento_python::await_interrupted_call();
};

// Calls fn() with the GIL; an exception it raises goes to sys.unraisablehook. Drops fn.
void call_python(PyObject *fn) {
  if (g_exiting.load()) return;  // leaked: the interpreter is going away
  py::gil_scoped_acquire gil;
  py::handle callable(fn);
  try {
    callable();
  } catch (py::error_already_set &e) {
    e.discard_as_unraisable(py::reinterpret_borrow<py::object>(callable));
  }
  Py_DECREF(fn);
}

}  // namespace

void run_here(momento::CancelToken &token, bool interruptible, void (*fn)(void *), void *arg) {
  Interrupts *interrupts = interruptible ? Interrupts::get() : nullptr;  // main thread only
  std::optional<Interrupts::Current> current;
  if (interrupts != nullptr) {
    current.emplace(interrupts, &token);
    // A Ctrl-C that came just before: its handler runs now, and nothing starts if it raises.
    // One that comes later cancels the call.
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }
  try {
    py::gil_scoped_release nogil;
    track(&token);
    struct Untrack {
      momento::CancelToken *t;
      ~Untrack() { untrack(t); }
    } untrack_at_end{&token};
    momento::CancelToken::Binding bound(&token);
    fn(arg);
  } catch (...) {
    current.reset();
    // A call that Ctrl-C cancelled: Python's SIGINT handler runs now (KeyboardInterrupt by
    // default); one that does not raise leaves the call's own error (CANCELLED).
    if (interrupts != nullptr && PyErr_CheckSignals() != 0) throw py::error_already_set();
    throw;
  }
}

void await_interrupted_call() {
  Interrupts *i = Interrupts::g_helper.load();
  if (i != nullptr) i->await_unwound();
}

bool python_exiting() { return g_exiting.load(); }
void set_python_exiting() { g_exiting.store(true); }

void Call::start() {
  if (!launch_ || std::exchange(started_, true))
    throw momento::Error(MOMENTO_ERR_FAILED_PRECONDITION, "the call has already started", -1, false);
  track(&token_);
  auto *self = new std::shared_ptr<Call>(shared_from_this());  // for finish()
  try {
    std::exchange(launch_, nullptr)(token_.get(), &Call::finish, self);
  } catch (...) {  // not started: finish() will not run
    delete self;
    untrack(&token_);
    throw;
  }
}

// On the library's completion thread: the outcome of a started call, and its owner's callback.
void Call::finish(momento_token_t *token, momento_error_t *error, void *self) {
  std::unique_ptr<std::shared_ptr<Call>> owner(static_cast<std::shared_ptr<Call> *>(self));
  Call &c = **owner;
  PyObject *fn;
  {
    std::lock_guard<std::mutex> lk(c.mu_);
    try {  // the library's error becomes a momento::Error, as a blocking call throws it
      if (error != nullptr)
        momento::detail::call([&](momento_error_t **e) { return momento_error_code(*e = error); });
      c.result_ = std::make_shared<momento::Token>(token);
    } catch (...) {
      c.error_ = std::current_exception();
    }
    c.done_ = true;
    fn = std::exchange(c.on_done_, nullptr);
  }
  c.cv_.notify_all();
  if (fn != nullptr) call_python(fn);
  untrack(&c.token_);
}

bool Call::done() {
  std::lock_guard<std::mutex> lk(mu_);
  return done_;
}

void Call::cancel() { token_.cancel(); }

py::object Call::join(bool interruptible) {
  if (work_ && !std::exchange(started_, true)) {
    TokenPtr result;
    run_here(token_, interruptible, [&] { result = std::exchange(work_, nullptr)(); });
    return py::cast(result);
  }
  if (!started_) start();
  {
    py::gil_scoped_release nogil;
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return done_; });
  }
  return result();
}

void Call::on_done(py::object fn) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!done_) {
      Py_XDECREF(std::exchange(on_done_, fn.release().ptr()));
      return;
    }
  }
  fn();
}

py::object Call::result() {
  std::lock_guard<std::mutex> lk(mu_);
  if (!done_) throw momento::Error(MOMENTO_ERR_FAILED_PRECONDITION, "the call is not done", -1, false);
  if (error_) std::rethrow_exception(error_);
  return py::cast(result_);
}

void end_calls() {
  py::gil_scoped_release nogil;
  std::unique_lock<std::mutex> lk(running().mu);
  for (momento::CancelToken *t : running().tokens) {
    try {
      t->cancel();
    } catch (...) {
    }
  }
  // Bounded: a cancelled call returns promptly; other work ends within its deadline.
  running().cv.wait_for(lk, std::chrono::seconds(30), [] { return running().tokens.empty(); });
}

void add_call(py::module_ &m) {
  py::class_<Call, std::shared_ptr<Call>>(m, "Call", "A library call under way (internal).")
      .def("start", &Call::start)
      .def("join", &Call::join, py::arg("interruptible") = true)
      .def("on_done", &Call::on_done, py::arg("fn"))
      .def("cancel", &Call::cancel)
      .def_property_readonly("done", &Call::done)
      .def("result", &Call::result);
}

}  // namespace momento_python
