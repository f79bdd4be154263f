// momento_auth._native.Token (see native.hpp).
#include <string>
#include <string_view>

#include "native.hpp"

namespace momento_python {
namespace {

struct TokenObject {
  PyObject_HEAD
  TokenPtr token;  // null only in an object Python code forced into being
};

PyTypeObject *g_token_type = nullptr;  // owned by the module, which outlives every instance

const momento::Token *get(PyObject *self) {
  const TokenPtr &t = reinterpret_cast<TokenObject *>(self)->token;
  if (!t) PyErr_SetString(PyExc_ValueError, "this Token holds no key");
  return t.get();
}

PyObject *to_str(std::string_view s) {
  return PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
}

void token_dealloc(PyObject *self) {
  PyTypeObject *type = Py_TYPE(self);
  reinterpret_cast<TokenObject *>(self)->token.~TokenPtr();
  type->tp_free(self);
  Py_DECREF(type);  // instances of a heap type hold a reference to it
}

PyObject *token_api_key(PyObject *self, PyObject *) {
  const momento::Token *t = get(self);
  return t ? to_str(t->api_key()) : nullptr;
}

PyObject *token_refresh_token(PyObject *self, PyObject *) {
  const momento::Token *t = get(self);
  return t ? to_str(t->refresh_token()) : nullptr;
}

PyObject *token_to_json(PyObject *self, PyObject *) {
  const momento::Token *t = get(self);
  if (!t) return nullptr;
  try {
    // Straight from the C ABI: momento_free wipes the text (it holds the key and refresh token).
    char *raw = nullptr;
    momento::detail::call(
        [&](momento_error_t **e) { return momento_token_to_json(&raw, t->get(), e); });
    momento::detail::Handle<char, momento_free> json(raw);
    return PyUnicode_FromString(json.get());
  } catch (const momento::Error &e) {
    raise_momento_error(e);
    return nullptr;
  }
}

PyObject *token_write_file(PyObject *self, PyObject *path) {
  const momento::Token *t = get(self);
  if (!t) return nullptr;
  Py_ssize_t size = 0;
  const char *p = PyUnicode_Check(path) ? PyUnicode_AsUTF8AndSize(path, &size) : nullptr;
  if (p == nullptr || std::char_traits<char>::length(p) != static_cast<size_t>(size)) {
    PyErr_Clear();
    raise_momento_error(momento::Error(MOMENTO_ERR_INVALID_ARGUMENT,
                                       "path must be a str without NUL characters", -1, false));
    return nullptr;
  }
  try {
    // The path str stays referenced by the caller while the GIL is released (file I/O, fsync).
    py::gil_scoped_release nogil;
    t->write_file(p);
  } catch (const momento::Error &e) {
    raise_momento_error(e);
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyObject *token_endpoint(PyObject *self, void *) {
  const momento::Token *t = get(self);
  return t ? to_str(t->endpoint()) : nullptr;
}

PyObject *token_valid_until(PyObject *self, void *) {
  const momento::Token *t = get(self);
  return t ? PyLong_FromUnsignedLongLong(t->valid_until()) : nullptr;
}

PyMethodDef g_methods[] = {
    {"api_key", token_api_key, METH_NOARGS, "The key (secret)."},
    {"refresh_token", token_refresh_token, METH_NOARGS, "The refresh token (secret; may be \"\")."},
    {"to_json", token_to_json, METH_NOARGS, "The Download-JSON text (holds secrets)."},
    {"write_file", token_write_file, METH_O, "Writes the Download-JSON file (mode 0600)."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef g_getset[] = {
    {"endpoint", token_endpoint, nullptr, "The base endpoint the service reported.", nullptr},
    {"valid_until", token_valid_until, nullptr, "Expiry in epoch seconds; 0 for never.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot g_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void *>(token_dealloc)},
    {Py_tp_methods, g_methods},
    {Py_tp_getset, g_getset},
    {Py_tp_doc, const_cast<char *>("A minted key with its refresh token and expiry (internal).")},
    {0, nullptr},
};

}  // namespace

void add_token_type(py::module_ &m) {
  PyType_Spec spec{"momento_auth._native.Token", sizeof(TokenObject), 0, Py_TPFLAGS_DEFAULT,
                   g_slots};
#ifdef Py_TPFLAGS_DISALLOW_INSTANTIATION
  spec.flags |= Py_TPFLAGS_DISALLOW_INSTANTIATION;
#endif
  auto type = py::reinterpret_steal<py::object>(PyType_FromSpec(&spec));
  if (!type) throw py::error_already_set();
  g_token_type = reinterpret_cast<PyTypeObject *>(type.ptr());
#ifndef Py_TPFLAGS_DISALLOW_INSTANTIATION
  g_token_type->tp_new = nullptr;  // Python 3.9: Token() raises TypeError
#endif
  m.attr("Token") = type;
}

PyObject *new_token_object(TokenPtr token) noexcept {
  PyObject *o = g_token_type->tp_alloc(g_token_type, 0);
  if (o != nullptr) new (&reinterpret_cast<TokenObject *>(o)->token) TokenPtr(std::move(token));
  return o;
}

py::object wrap_token(TokenPtr token) {
  auto o = py::reinterpret_steal<py::object>(new_token_object(std::move(token)));
  if (!o) throw py::error_already_set();
  return o;
}

TokenPtr token_of(py::handle obj) {
  if (!obj || Py_TYPE(obj.ptr()) != g_token_type ||
      !reinterpret_cast<TokenObject *>(obj.ptr())->token) {
    throw py::type_error(std::string("expected a Token, got ") + Py_TYPE(obj.ptr())->tp_name);
  }
  return reinterpret_cast<TokenObject *>(obj.ptr())->token;
}

}  // namespace momento_python
