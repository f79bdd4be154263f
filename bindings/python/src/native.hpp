// What the translation units of momento_auth._native share.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>

#include "momento/auth.hpp"

namespace momento_python {

namespace py = pybind11;

using TokenPtr = std::shared_ptr<const momento::Token>;

// Sets the Python exception for e: the MomentoError subclass named by its code.
void raise_momento_error(const momento::Error &e);

// _native.Token: a minted key with its refresh token and expiry. A plain CPython type rather
// than a pybind11 class, and the base of the package's result classes (ApiKeyResult, ...), so a
// refresh returns one small object: a pybind11 instance (holder, registry entry) plus a Python
// wrapper around it cost a measurable share of a whole round trip. Neither it nor its
// subclasses can be instantiated from Python; the native layer makes them.
void add_token_type(py::module_ &m);
// A new instance of `type` (Token or a subclass) owning `token` (not null); nullptr with the
// Python error set on failure.
PyObject *new_token_object(PyTypeObject *type, TokenPtr token) noexcept;
py::object wrap_token(py::handle type, TokenPtr token);  // checks that type is a Token type
// The token held by obj; throws TypeError when obj is not a Token.
TokenPtr token_of(py::handle obj);
// Throws TypeError unless obj is Token or a subclass of it.
PyTypeObject *token_type(py::handle obj);

void add_refresh_types(py::module_ &m);  // stores, refresher, watcher (native_refresh.cpp)

}  // namespace momento_python
