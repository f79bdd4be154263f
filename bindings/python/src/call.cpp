// Blocking calls: each runs on a worker thread, tied to its own library cancel token (auth.h).
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <thread>
#include <unordered_set>

#include <signal.h>
#include <unistd.h>

#include "native.hpp"

namespace momento_python {
namespace {

std::atomic<bool> g_exiting{false};

// Calls under way, so that interpreter exit can cancel them and wait until none is left to
// take the GIL. Entries are removed by the worker, which owns the call meanwhile.
struct Running {
  std::mutex mu;
  std::condition_variable cv;
  std::unordered_set<Call *> calls;
};
Running &running() {
  static auto *r = new Running();  // used until the very end: never destroyed
  return *r;
}

// Worker threads, reused: a call costs a wake-up rather than a thread start. Idle ones end
// after a while. A forked child has none of its parent's threads and starts afresh.
class Workers {
 public:
  static Workers &get() {
    static std::atomic<Workers *> current{new Workers()};
    Workers *w = current.load();
    while (w->pid_ != getpid()) {
      auto *fresh = new Workers();  // the old one is left: its mutex may be held forever
      if (current.compare_exchange_strong(w, fresh)) return *fresh;
      delete fresh;
    }
    return *w;
  }

  void submit(std::shared_ptr<Call> call) {
    std::unique_lock<std::mutex> lk(mu_);
    queue_.push_back(std::move(call));
    if (queue_.size() <= idle_) {
      lk.unlock();
      cv_.notify_one();
      return;
    }
    // Signals stay with the threads that handle them (Python's main thread).
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    try {
      std::thread([this] { loop(); }).detach();
    } catch (...) {
      queue_.pop_back();
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      throw;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      while (!queue_.empty()) {
        std::shared_ptr<Call> call = std::move(queue_.front());
        queue_.pop_front();
        lk.unlock();
        call->run();
        call.reset();
        lk.lock();
      }
      ++idle_;
      bool work = cv_.wait_for(lk, std::chrono::seconds(30), [&] { return !queue_.empty(); });
      --idle_;
      if (!work) return;
    }
  }

  const pid_t pid_ = getpid();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Call>> queue_;
  size_t idle_ = 0;
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

bool python_exiting() { return g_exiting.load(); }
void set_python_exiting() { g_exiting.store(true); }

void Call::start() {
  if (std::exchange(started_, true)) return;
  {
    std::lock_guard<std::mutex> lk(running().mu);
    running().calls.insert(this);
  }
  try {
    Workers::get().submit(shared_from_this());
  } catch (...) {
    std::lock_guard<std::mutex> lk(running().mu);
    running().calls.erase(this);
    throw;
  }
}

void Call::run() {
  Result result;
  std::exception_ptr error;
  try {
    momento::CancelToken::Binding bound(&token_);
    result = work_();
  } catch (...) {
    error = std::current_exception();
  }
  work_ = nullptr;  // what it captured goes here, without the GIL
  PyObject *fn;
  {
    std::lock_guard<std::mutex> lk(mu_);
    result_ = std::move(result);
    error_ = error;
    done_ = true;
    fn = std::exchange(on_done_, nullptr);
  }
  cv_.notify_all();
  if (fn != nullptr) call_python(fn);
  std::lock_guard<std::mutex> lk(running().mu);
  running().calls.erase(this);
  running().cv.notify_all();
}

bool Call::wait_for(std::optional<double> seconds) {
  py::gil_scoped_release nogil;
  std::unique_lock<std::mutex> lk(mu_);
  if (!seconds) {
    cv_.wait(lk, [&] { return done_; });
    return true;
  }
  return cv_.wait_for(lk, std::chrono::duration<double>(*seconds), [&] { return done_; });
}

bool Call::done() {
  std::lock_guard<std::mutex> lk(mu_);
  return done_;
}

void Call::cancel() { token_.cancel(); }

py::object Call::join(bool interruptible) {
  start();
  if (!interruptible) {
    wait_for(std::nullopt);  // signal handlers run once the call is over
    return result();
  }
  // Python runs signal handlers on the main thread only, between bytecodes: look every 50 ms.
  // A pending SIGINT first cancels the call, then runs Python's handler (KeyboardInterrupt by
  // default). A handler that raises ends the wait at once (the cancelled call finishes on its
  // worker, which owns all it uses); one that does not leaves the call's own outcome (CANCELLED).
  while (!wait_for(0.05)) {
    const bool sigint = PyOS_InterruptOccurred() != 0;  // takes the pending SIGINT
    if (sigint) {
      cancel();
      PyErr_SetInterrupt();  // gives it back to Python's handler
    }
    if (PyErr_CheckSignals() != 0) {  // a handler raised: the call ends with it
      cancel();
      throw py::error_already_set();
    }
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
  return result_();
}

void end_calls() {
  py::gil_scoped_release nogil;
  std::unique_lock<std::mutex> lk(running().mu);
  for (Call *c : running().calls) {
    try {
      c->cancel();
    } catch (...) {
    }
  }
  // Bounded: a cancelled call returns promptly; other work ends within its deadline.
  running().cv.wait_for(lk, std::chrono::seconds(30), [] { return running().calls.empty(); });
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
