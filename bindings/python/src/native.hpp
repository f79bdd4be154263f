// What the translation units of momento_auth._native share. Each unit registers its own classes;
// none includes another's .cpp, and this header includes only pybind11 and momento/auth.hpp.
#pragma once

#include <pybind11/pybind11.h>

#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "momento/auth.hpp"

namespace momento_python {

namespace py = pybind11;

// ---- blocking calls (call.cpp) ----------------------------------------------------------------

// One library call, tied to its own cancel token. The work runs without the GIL and must own
// (capture by value) everything it uses; it returns a function that makes the Python result,
// run later with the GIL held. Python either joins the call (the synchronous API: it runs on the
// calling thread, and on the main thread Ctrl-C cancels it through the token) or starts and
// awaits it (asyncio: it runs on a worker thread; cancelling the task cancels the token).
class Call : public std::enable_shared_from_this<Call> {
 public:
  using Result = std::function<py::object()>;
  using Work = std::function<Result()>;

  void start();                         // hands the call to a worker (once)
  py::object join(bool interruptible);  // runs it here instead (once; see run_here)
  void on_done(py::object fn);          // fn() once done: from the worker, with the GIL
  void cancel();
  bool done();
  py::object result();  // the call's result or its exception; only once done

  Call(Work work) : work_(std::move(work)) {}
  void run();  // on a worker

 private:
  bool wait_for(std::optional<double> seconds);  // without the GIL

  Work work_;
  momento::CancelToken token_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;  // GIL held
  bool done_ = false;
  Result result_;
  std::exception_ptr error_;
  PyObject *on_done_ = nullptr;  // owned; released with the GIL
};

// Runs fn() on this thread without the GIL, tied to `token` (which interpreter exit cancels).
// With `interruptible`, on the main thread, Ctrl-C cancels it: Python's SIGINT handler then runs,
// and its exception (KeyboardInterrupt by default) replaces the call's CANCELLED error.
void run_here(momento::CancelToken &token, bool interruptible, void (*fn)(void *), void *arg);
template <class F>
void run_here(momento::CancelToken &token, bool interruptible, F &&fn) {  // F: void()
  run_here(token, interruptible, [](void *f) { (*static_cast<std::remove_reference_t<F> *>(f))(); }, &fn);
}

// A call for Python to join (run on the thread that asked for it) or to start and await.
template <class F>
std::shared_ptr<Call> make_call(F work) {
  return std::make_shared<Call>(Call::Work(std::move(work)));
}
// The same, started at once (for work the extension itself hands off).
template <class F>
std::shared_ptr<Call> start_call(F work) {
  auto call = make_call(std::move(work));
  call->start();
  return call;
}

// Runs fn without the GIL when this thread holds it (library threads may not).
template <class F>
void without_gil(F &&fn) {
  if (PyGILState_Check()) {
    py::gil_scoped_release nogil;
    fn();
  } else {
    fn();
  }
}

// Set at interpreter exit (atexit, first): no more calls into Python from library threads.
bool python_exiting();
void set_python_exiting();

momento::Error invalid(const std::string &message);
momento::Error closed_error(const char *what);
std::optional<momento::EndpointOverride> make_override(const std::optional<std::string> &endpoint,
                                                       bool secure);
// The UTF-8 text of s, which may be a secret: errors never quote it.
std::string text(const py::str &s, const char *what);

void add_call(py::module_ &m);     // call.cpp: Call
void end_calls();                  // call.cpp, at exit: cancels calls under way, waits for them
void end_refresh();                // refresh.cpp, at exit: closes refreshers and watchers
void add_client(py::module_ &m);   // client.cpp: Credential, ExpiresIn, Scope, Token, Client
void add_refresh(py::module_ &m);  // refresh.cpp: Store, Refresher, Watcher

}  // namespace momento_python
