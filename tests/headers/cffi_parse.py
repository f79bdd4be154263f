# auth.h as an FFI generator sees it: cffi parses the preprocessed header and calls a few
# functions of the built library through it. Usage: cffi_parse.py <auth.h> <cc> <libmomento_auth.so.1>
import re, subprocess, sys
try:
    import cffi
except ImportError:
    print("cffi not installed; skipped")
    sys.exit(77)
hdr = open(sys.argv[1]).read()
# Bindings feed the header to cffi after the C preprocessor with MOMENTO_API defined away and
# the two standard includes removed (cffi knows the stdint/stddef types itself).
src = re.sub(r'#include <[a-z]+\.h>', '', hdr)
pre = subprocess.run([sys.argv[2], '-E', '-P', '-DMOMENTO_API=', '-'], input=src, text=True,
                     capture_output=True, check=True).stdout
ffi = cffi.FFI()
ffi.cdef(pre)
lib = ffi.dlopen(sys.argv[3])
assert lib.momento_abi_version() == 1
assert ffi.string(lib.momento_status_str(lib.MOMENTO_ERR_PERMISSION)) == b"PERMISSION_ERROR"
err = ffi.new("momento_error_t **")
out = ffi.new("momento_credential_t **")
st = lib.momento_credential_from_string(out, b"", ffi.NULL, err)
assert st == lib.MOMENTO_ERR_INVALID_ARGUMENT and out[0] == ffi.NULL and err[0] != ffi.NULL
lib.momento_error_free(err[0])
print("cffi: parsed", len([l for l in pre.splitlines() if l.strip()]), "lines; calls ok")
