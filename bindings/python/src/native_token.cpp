// momento_auth._native.Token (see native.hpp).
#include "native.hpp"

#include <string>
#include <string_view>

namespace momento_python {
namespace {

struct TokenObject {
  PyObject_HEAD
  TokenPtr token;  // set by new_token_object before the object is seen
  PyObject *weakrefs;
};

PyTypeObject *g_token_type = nullptr;  // owned by the module, which outlives every instance

const momento::Token &get(PyObject *self) { return *reinterpret_cast<TokenObject *>(self)->token; }

PyObject *to_str(std::string_view s) {
  return PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
}

PyObject *token_api_key(PyObject *self, PyObject *) { return to_str(get(self).api_key()); }

PyObject *token_refresh_token(PyObject *self, PyObject *) {
  return to_str(get(self).refresh_token());
}

PyObject *token_endpoint(PyObject *self, PyObject *) { return to_str(get(self).endpoint()); }

PyObject *token_valid_until(PyObject *self, PyObject *) {
  return PyLong_FromUnsignedLongLong(get(self).valid_until());
}

PyObject *token_to_json(PyObject *self, PyObject *) {
  return guarded([&] {
    // Straight from the C ABI: momento_free wipes the text (it holds the key and refresh token).
    char *raw = nullptr;
    momento::detail::call(
        [&](momento_error_t **e) { return momento_token_to_json(&raw, get(self).get(), e); });
    momento::detail::Handle<char, momento_free> json(raw);
    return PyUnicode_FromString(json.get());
  });
}

PyObject *token_write_file(PyObject *self, PyObject *path) {
  Py_ssize_t size = 0;
  const char *p = PyUnicode_Check(path) ? PyUnicode_AsUTF8AndSize(path, &size) : nullptr;
  if (p == nullptr || std::char_traits<char>::length(p) != static_cast<size_t>(size)) {
    PyErr_Clear();
    raise_momento_error(momento::Error(MOMENTO_ERR_INVALID_ARGUMENT,
                                       "path must be a str without NUL characters", -1, false));
    return nullptr;
  }
  TokenPtr token = reinterpret_cast<TokenObject *>(self)->token;
  return guarded([&] {
    {
      // `path` stays referenced by the caller while the GIL is released (file I/O, fsync).
      py::gil_scoped_release nogil;
      token->write_file(p);
    }
    Py_RETURN_NONE;
  });
}

// Underscored: the public names, with their documentation, are the subclasses' (in Python).
PyMethodDef g_methods[] = {
    {"_api_key", token_api_key, METH_NOARGS, "The key (secret)."},
    {"_refresh_token", token_refresh_token, METH_NOARGS,
     "The refresh token (secret; may be \"\")."},
    {"_endpoint", token_endpoint, METH_NOARGS, "The base endpoint the service reported."},
    {"_valid_until", token_valid_until, METH_NOARGS, "Expiry in epoch seconds; 0 for never."},
    {"_to_json", token_to_json, METH_NOARGS, "The Download-JSON text (holds secrets)."},
    {"_write_file", token_write_file, METH_O, "Writes the Download-JSON file (mode 0600)."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot g_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void *>(dealloc_native<TokenObject>)},
    {Py_tp_methods, g_methods},
    {Py_tp_members, weakref_member<TokenObject>},
    {Py_tp_doc, const_cast<char *>("A minted key with its refresh token and expiry (internal).")},
    {0, nullptr},
};

}  // namespace

void add_token_type(py::module_ &m) {
  // Not garbage-collected: it holds no Python references (nor do the package's subclasses,
  // which add no slots).
  PyType_Spec spec{"momento_auth._native.Token", sizeof(TokenObject), 0,
                   Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, g_slots};
#ifdef Py_TPFLAGS_DISALLOW_INSTANTIATION
  spec.flags |= Py_TPFLAGS_DISALLOW_INSTANTIATION;
#endif
  auto type = py::reinterpret_steal<py::object>(PyType_FromSpec(&spec));
  if (!type) throw py::error_already_set();
  g_token_type = reinterpret_cast<PyTypeObject *>(type.ptr());
#ifndef Py_TPFLAGS_DISALLOW_INSTANTIATION
  g_token_type->tp_new = nullptr;  // before Python 3.10: Token() raises TypeError
#endif
  m.attr("Token") = type;
}

PyTypeObject *token_type(py::handle obj) {
  if (!obj || !PyType_Check(obj.ptr()) ||
      !PyType_IsSubtype(reinterpret_cast<PyTypeObject *>(obj.ptr()), g_token_type)) {
    throw py::type_error("expected Token or a subclass of it");
  }
  return reinterpret_cast<PyTypeObject *>(obj.ptr());
}

PyObject *new_token_object(PyTypeObject *type, TokenPtr token) noexcept {
  PyObject *o = type->tp_alloc(type, 0);  // zeroed
  if (o != nullptr) new (&reinterpret_cast<TokenObject *>(o)->token) TokenPtr(std::move(token));
  return o;
}

py::object wrap_token(PyTypeObject *type, TokenPtr token) {
  auto o = py::reinterpret_steal<py::object>(new_token_object(type, std::move(token)));
  if (!o) throw py::error_already_set();
  return o;
}

TokenPtr token_of(py::handle obj) {
  if (!obj) throw py::type_error("expected a Token");
  if (!PyObject_TypeCheck(obj.ptr(), g_token_type)) {
    throw py::type_error(std::string("expected a Token, got ") + Py_TYPE(obj.ptr())->tp_name);
  }
  return reinterpret_cast<TokenObject *>(obj.ptr())->token;
}

}  // namespace momento_python
