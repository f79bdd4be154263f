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

// One library call running on a worker thread, tied to its own cancel token. The work runs
// without the GIL and must own (capture by value) everything it uses; it returns a function
// that makes the Python result, run later with the GIL held. Python either joins the call
// (the synchronous API: Ctrl-C cancels it through the token) or awaits it (asyncio: cancelling
// the task cancels the token).
class Call : public std::enable_shared_from_this<Call> {
 public:
  using Result = std::function<py::object()>;
  using Work = std::function<Result()>;

  void start();                         // hands the call to a worker (once)
  py::object join(bool interruptible);  // starts it if needed; waits without the GIL
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

// A call for Python to start: joined from the thread that asked for it (nothing runs in Python
// between starting the call and waiting for it, so a Ctrl-C meanwhile cancels it), or awaited.
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
