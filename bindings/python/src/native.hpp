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

// _native.Token, the holder of a minted key behind every result object. A plain CPython type
// rather than a pybind11 class: a refresh creates one per call, and a pybind11 instance (holder,
// registry entry) cost a measurable share of a whole round trip. Python code cannot create one.
void add_token_type(py::module_ &m);
// A new Token object owning `token` (not null); nullptr with the Python error set on failure.
PyObject *new_token_object(TokenPtr token) noexcept;
py::object wrap_token(TokenPtr token);
// The token held by obj; throws TypeError when obj is not a Token.
TokenPtr token_of(py::handle obj);

void add_refresh_types(py::module_ &m);  // stores, refresher, watcher (native_refresh.cpp)

}  // namespace momento_python
