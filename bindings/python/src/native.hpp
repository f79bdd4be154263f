// What the translation units of momento_auth._native share.
#pragma once

#include <pybind11/pybind11.h>

#include <structmember.h>  // PyMemberDef constants before Python 3.12

#include <cstddef>
#include <memory>

#include "momento/auth.hpp"

namespace momento_python {

namespace py = pybind11;

using TokenPtr = std::shared_ptr<const momento::Token>;

// Sets the Python exception for e: the MomentoError subclass named by its code.
void raise_momento_error(const momento::Error &e);

// Runs fn (returning a new reference) and turns C++ exceptions into Python ones.
template <class F>
PyObject *guarded(F &&fn) noexcept {
  try {
    return fn();
  } catch (const momento::Error &e) {
    raise_momento_error(e);
  } catch (py::error_already_set &e) {
    e.restore();
  } catch (const py::cast_error &e) {  // an argument of the wrong type
    PyErr_SetString(PyExc_TypeError, e.what());
  } catch (py::builtin_exception &e) {
    e.set_error();
  } catch (const std::exception &e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

// What the native types (Token, Client) share: a struct starting with PyObject_HEAD, with a
// `weakrefs` member; the C++ members are constructed in place after tp_alloc.
template <class T>
void dealloc_native(PyObject *self) {
  PyTypeObject *type = Py_TYPE(self);
  T *o = reinterpret_cast<T *>(self);
  if (o->weakrefs != nullptr) PyObject_ClearWeakRefs(self);
  o->~T();
  type->tp_free(self);
  Py_DECREF(type);  // instances of a heap type hold a reference to it (subclasses leave it here)
}

template <class T>
PyMemberDef weakref_member[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(T, weakrefs), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

// _native.Token: a minted key with its refresh token and expiry. A plain CPython type rather
// than a pybind11 class, and the base of the package's result classes (ApiKeyResult, ...), so a
// refresh returns one small object: a pybind11 instance (holder, registry entry) plus a Python
// wrapper around it cost a measurable share of a whole round trip. Neither it nor its
// subclasses can be instantiated from Python; the native layer makes them.
void add_token_type(py::module_ &m);
// Throws TypeError unless obj is Token or a subclass of it. Callers check a result type before
// the call that mints or reads the key, so that a wrong one cannot lose it.
PyTypeObject *token_type(py::handle obj);
// A new instance of `type` (from token_type) owning `token` (not null); nullptr with the Python
// error set on failure. wrap_token: the same for pybind11 code (throws).
PyObject *new_token_object(PyTypeObject *type, TokenPtr token) noexcept;
py::object wrap_token(PyTypeObject *type, TokenPtr token);
// The token held by obj; throws TypeError when obj is not a Token.
TokenPtr token_of(py::handle obj);

void add_refresh_types(py::module_ &m);  // stores, refresher, watcher (native_refresh.cpp)

}  // namespace momento_python
