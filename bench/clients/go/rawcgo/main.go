// The floor for a Go refresh: the C ABI's blocking refresh called straight through cgo, with no
// binding around it (token freed in C, nothing copied), speaking the bench drivers' protocol.
// Y (nanoseconds) yields with runtime.Gosched at most that often before a call, as bindings/go
// does every 2 ms; unset, it never yields. KEEP=1 keeps
// every token until the end instead of freeing it. Used by ab.py, not by bench/run.
package main

/*
#cgo pkg-config: momento-auth
#include <stdlib.h>
#include <momento/auth.h>

static momento_auth_client_t *client_for(const char *key, const char *addr) {
  momento_endpoint_override_t *o = 0;
  momento_credential_t *c = 0;
  momento_auth_client_t *cl = 0;
  if (momento_endpoint_override_new_single(&o, addr, 0, 0) || momento_credential_from_string(&c, key, o, 0) ||
      momento_auth_client_new(&cl, c, 0, 0))
    abort();
  momento_endpoint_override_free(o);
  momento_credential_free(c);
  return cl;
}

static momento_token_t *refresh(momento_auth_client_t *cl, const char *rt, int keep) {
  momento_token_t *t = 0;
  momento_error_t *e = 0;
  if (momento_auth_client_refresh_api_key(&t, cl, rt, &e)) abort();
  if (!keep) {
    momento_token_free(t);
    t = 0;
  }
  return t;
}
*/
import "C"

import (
	"os"
	"runtime"
	"strconv"
	"time"

	"momento-auth/bench/driver"
)

func main() {
	req := driver.Read()
	cl := C.client_for(C.CString(req.RefreshEnvelope), C.CString(req.Address))
	rt := C.CString(req.RefreshToken)
	yield, _ := strconv.ParseInt(os.Getenv("Y"), 10, 64)
	keep := C.int(0)
	if os.Getenv("KEEP") == "1" {
		keep = 1
	}
	var kept []*C.momento_token_t
	last := time.Now()
	driver.Serve(req, "raw cgo", func() {
		if now := time.Now(); yield > 0 && now.Sub(last) >= time.Duration(yield) {
			last = now
			runtime.Gosched()
		}
		if t := C.refresh(cl, rt, keep); t != nil {
			kept = append(kept, t)
		}
	})
	for _, t := range kept {
		C.momento_token_free(t)
	}
}
