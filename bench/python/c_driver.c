/* C side of bench/python/bench.py, built as a CPython extension module (c_driver) linked to the
 * very libmomento_auth.so.1 the imported momento_auth package loaded, so the baseline shares the
 * process, threads and allocator with the Python side.
 *
 *   parse(n, key) -> (wall_ns, cpu_ns)           a C loop of n parses + frees
 *   open(key, "host:port") -> client             a plaintext client, kept for the whole run
 *   refresh(client, n, refresh_token) -> (w, c)  a C loop of n refresh round trips + frees
 *   refresh_once(client, refresh_token)          one refresh + free: the thinnest possible
 *                                                Python -> C ABI path, for a Python loop
 *
 * Times are nanoseconds per call, wall clock and process CPU (all threads). The GIL is released
 * around every C loop and every call. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <time.h>

#include "momento/auth.h"

static double clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static PyObject *fail(const char *what, momento_error_t *err) {
  PyErr_Format(PyExc_RuntimeError, "%s failed: %s", what, momento_error_message(err));
  momento_error_free(err);
  return NULL;
}

static momento_auth_client_t *client_of(PyObject *capsule) {
  return PyCapsule_GetPointer(capsule, "momento_auth_client_t");
}

static void client_free(PyObject *capsule) { momento_auth_client_free(client_of(capsule)); }

static PyObject *parse(PyObject *self, PyObject *args) {
  long n;
  const char *key;
  if (!PyArg_ParseTuple(args, "ls", &n, &key)) return NULL;
  momento_error_t *err = NULL;
  int failed = 0;
  double w0, c0, w, c;
  Py_BEGIN_ALLOW_THREADS
  w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  for (long i = 0; i < n && !failed; ++i) {
    momento_credential_t *cred = NULL;
    failed = momento_credential_from_string(&cred, key, NULL, &err) != MOMENTO_OK;
    momento_credential_free(cred);
  }
  w = clock_ns(CLOCK_MONOTONIC) - w0, c = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
  Py_END_ALLOW_THREADS
  if (failed) return fail("parse", err);
  return Py_BuildValue("(dd)", w / n, c / n);
}

static PyObject *open_client(PyObject *self, PyObject *args) {
  const char *key, *address;
  if (!PyArg_ParseTuple(args, "ss", &key, &address)) return NULL;
  momento_error_t *err = NULL;
  momento_endpoint_override_t *o = NULL;
  momento_credential_t *c = NULL;
  momento_auth_client_t *client = NULL;
  PyObject *result = NULL;
  if (momento_endpoint_override_new_single(&o, address, 0, &err) != MOMENTO_OK) {
    fail("override", err);
  } else if (momento_credential_from_string(&c, key, o, &err) != MOMENTO_OK) {
    fail("credential", err);
  } else if (momento_auth_client_new(&client, c, NULL, &err) != MOMENTO_OK) {
    fail("client", err);
  } else if (!(result = PyCapsule_New(client, "momento_auth_client_t", client_free))) {
    momento_auth_client_free(client);
  }
  momento_credential_free(c);
  momento_endpoint_override_free(o);
  return result;
}

/* Returns 0, or 1 with *err set. Called without the GIL. */
static int refresh_n(momento_auth_client_t *client, long n, const char *rt, momento_error_t **err) {
  for (long i = 0; i < n; ++i) {
    momento_token_t *t = NULL;
    if (momento_auth_client_refresh_api_key(&t, client, rt, err) != MOMENTO_OK) return 1;
    momento_token_free(t);
  }
  return 0;
}

static PyObject *refresh(PyObject *self, PyObject *args) {
  PyObject *capsule;
  long n;
  const char *rt;
  if (!PyArg_ParseTuple(args, "Ols", &capsule, &n, &rt)) return NULL;
  momento_auth_client_t *client = client_of(capsule);
  if (!client) return NULL;
  momento_error_t *err = NULL;
  int failed;
  double w0, c0, w, c;
  Py_BEGIN_ALLOW_THREADS
  w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  failed = refresh_n(client, n, rt, &err);
  w = clock_ns(CLOCK_MONOTONIC) - w0, c = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
  Py_END_ALLOW_THREADS
  if (failed) return fail("refresh", err);
  return Py_BuildValue("(dd)", w / n, c / n);
}

static PyObject *refresh_once(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  if (nargs != 2) return PyErr_Format(PyExc_TypeError, "refresh_once(client, refresh_token)");
  momento_auth_client_t *client = client_of(args[0]);
  const char *rt = client ? PyUnicode_AsUTF8(args[1]) : NULL;
  if (!rt) return NULL;
  momento_error_t *err = NULL;
  int failed;
  Py_BEGIN_ALLOW_THREADS
  failed = refresh_n(client, 1, rt, &err);
  Py_END_ALLOW_THREADS
  if (failed) return fail("refresh", err);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"parse", parse, METH_VARARGS, NULL},
    {"open", open_client, METH_VARARGS, NULL},
    {"refresh", refresh, METH_VARARGS, NULL},
    {"refresh_once", (PyCFunction)(void (*)(void))refresh_once, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "c_driver", NULL, -1, methods};

PyMODINIT_FUNC PyInit_c_driver(void) { return PyModule_Create(&module); }
