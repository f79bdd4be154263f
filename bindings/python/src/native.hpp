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

// Every blocking library call runs tied to a library cancel token, in one of two ways: on the
// calling thread without the GIL (run_here, the synchronous API; on the main thread Ctrl-C cancels
// it through the token), or on a worker thread as a Call that asyncio starts and awaits
// (cancelling the task cancels the token).

// Runs fn() on this thread without the GIL, tied to `token` (which interpreter exit cancels).
// With `interruptible`, on the main thread, Ctrl-C cancels it: Python's SIGINT handler then runs,
// and its exception (KeyboardInterrupt by default) replaces the call's CANCELLED error.
void run_here(momento::CancelToken &token, bool interruptible, void (*fn)(void *), void *arg);
template <class F>
void run_here(momento::CancelToken &token, bool interruptible, F &&fn) {  // F: void()
  run_here(token, interruptible, [](void *f) { (*static_cast<std::remove_reference_t<F> *>(f))(); }, &fn);
}

// fn() run here with this thread's cancel token (calls of one thread never overlap). fn runs
// without the GIL: what it takes (a reference to a library object) it drops there.
template <class F>
auto blocking(bool interruptible, F &&fn) {
  thread_local momento::CancelToken token;
  if (token.cancelled()) token.reset();  // nothing cancels it once its call has ended
  std::optional<decltype(fn())> value;
  run_here(token, interruptible, [&] { value.emplace(fn()); });
  return std::move(*value);
}

// A refresher or watcher callback waits here while a main-thread call that Ctrl-C cancelled has
// not yet taken the GIL back, so that its KeyboardInterrupt comes before any event of that call.
void await_interrupted_call();

// A library call as an object, for the package to join (run it here, as run_here does) or, for
// asyncio, to start as one of the library's asynchronous calls and await. Its result is a token
// or None.
class Call : public std::enable_shared_from_this<Call> {
 public:
  using TokenPtr = std::shared_ptr<momento::Token>;
  using Work = std::function<TokenPtr()>;  // the blocking call, run without the GIL
  // Starts the asynchronous call with (cancel token, completion, its user data); throws when it
  // did not start.
  using Launch = std::function<void(momento_cancel_token_t *, momento_token_fn, void *)>;

  explicit Call(Work work, Launch launch = nullptr)
      : work_(std::move(work)), launch_(std::move(launch)) {}
  void start();                         // launches it (once)
  py::object join(bool interruptible);  // runs the work here, or waits for the started call
  void on_done(py::object fn);          // fn() once done, from the completion thread with the GIL
  void cancel();
  bool done();
  py::object result();  // the call's result or its exception; only once done

 private:
  static void finish(momento_token_t *token, momento_error_t *error, void *self);

  Work work_;
  Launch launch_;
  momento::CancelToken token_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;  // GIL held
  bool done_ = false;
  TokenPtr result_;
  std::exception_ptr error_;
  PyObject *on_done_ = nullptr;  // owned; released with the GIL
};

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
momento::ClientConfig client_config(std::optional<int64_t> deadline_ms, const std::optional<std::string> &ca_file);
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
