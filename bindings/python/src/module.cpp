// momento_auth._native: the pybind11 layer between the pure-Python package and libmomento_auth.
// Built over momento/auth.hpp only, so Python exercises the same C ABI as every other binding.
// It adapts and nothing more: the package adds the idioms, the library decides every rule.
#include <chrono>
#include <cstring>

#include "native.hpp"

namespace momento_python {

momento::Error invalid(const std::string &message) {
  return momento::Error(MOMENTO_ERR_INVALID_ARGUMENT, message, -1, false);
}

momento::Error closed_error(const char *what) {
  return momento::Error(MOMENTO_ERR_FAILED_PRECONDITION, std::string("the ") + what + " is closed",
                        -1, false);
}

momento::ClientConfig client_config(std::optional<int64_t> deadline_ms, const std::optional<std::string> &ca_file) {
  momento::ClientConfig config;
  if (deadline_ms) config.deadline(std::chrono::milliseconds(*deadline_ms));
  if (ca_file) config.ca_file(*ca_file);
  return config;
}

std::optional<momento::EndpointOverride> make_override(const std::optional<std::string> &endpoint,
                                                       bool secure) {
  if (!endpoint) return std::nullopt;
  return momento::EndpointOverride::single(*endpoint, secure);
}

std::string text(const py::str &s, const char *what) {
  Py_ssize_t size = 0;
  const char *utf8 = PyUnicode_AsUTF8AndSize(s.ptr(), &size);
  if (utf8 == nullptr) {
    PyErr_Clear();  // its message would quote the text
    throw invalid(std::string(what) + " is not valid UTF-8 (it holds a lone surrogate)");
  }
  if (std::strlen(utf8) != static_cast<size_t>(size))
    throw invalid(std::string(what) + " must not contain NUL characters");
  return std::string(utf8, static_cast<size_t>(size));
}

}  // namespace momento_python

PYBIND11_MODULE(_native, m) {
  using namespace momento_python;
  m.doc() = "Native layer of momento_auth over libmomento_auth's C ABI (internal).";
  m.attr("HEADER_ABI_VERSION") = MOMENTO_AUTH_ABI_VERSION;
  m.attr("HEADER_VERSION") = MOMENTO_AUTH_VERSION_STRING;
  m.def("abi_version", &momento::abi_version, "ABI version of the loaded libmomento_auth.");
  m.def("library_version", [] { return std::string(momento::version_string()); });
  m.def(
      "redact", [](const py::str &secret) { return momento::redact(text(secret, "secret")); },
      "The library's display form of a secret (first characters and a short hash).");

  // momento::Error becomes the package's exception for its code, made by the factory the
  // package installs: (code_name, message, grpc_status, retryable) -> exception.
  static py::object *factory = new py::object();  // leaked: outlives every translation
  m.def("set_error_factory", [](py::object f) { *factory = std::move(f); });
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const momento::Error &e) {
      if (!*factory) throw;
      py::object exc = (*factory)(e.code_name(), e.what(), static_cast<int>(e.grpc_status()),
                                  e.retryable());
      PyErr_SetObject(reinterpret_cast<PyObject *>(Py_TYPE(exc.ptr())), exc.ptr());
    }
  });

  add_call(m);
  add_client(m);
  add_refresh(m);

  // At exit, while Python is whole: no more callbacks, close what the library runs, cancel the
  // calls under way and wait (bounded) until no library thread can ask for the GIL.
  py::module_::import("atexit").attr("register")(py::cpp_function([] {
    set_python_exiting();
    end_refresh();
    end_calls();
  }));
}
