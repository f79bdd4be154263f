package momentoauth

/*
#include <stdlib.h>
#include <momento/auth.h>
*/
import "C"

import (
	"context"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// DataClient makes the cache service's control calls (create, delete, flush and list caches),
// its data calls (set, get, delete) and Ping: enough to validate a key and to exercise its scope,
// not a cache SDK. Safe for concurrent use; Close waits for the calls in flight, and calls after
// Close fail with ErrFailedPrecondition.
type DataClient struct {
	mu  sync.RWMutex
	ptr *C.momento_data_client_t
}

// NewDataClient copies the credential. Options: WithDeadline (every call; the library's
// defaults otherwise), WithCAFile.
func NewDataClient(cred *Credential, opts ...Option) (*DataClient, error) {
	var out *C.momento_data_client_t
	err := newClient(cred, opts, func(cp *C.momento_credential_t, cfg *C.momento_client_config_t, e **C.momento_error_t) C.momento_status_t {
		return C.momento_data_client_new(&out, cp, cfg, e)
	})
	if err != nil {
		return nil, err
	}
	c := &DataClient{ptr: out}
	runtime.SetFinalizer(c, (*DataClient).Close)
	return c, nil
}

// Close frees the client once the calls in flight have returned. Idempotent.
func (c *DataClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr != nil {
		C.momento_data_client_free(c.ptr)
		c.ptr = nil
		runtime.SetFinalizer(c, nil)
	}
	return nil
}

func (c *DataClient) call(ctx context.Context, f func(*C.momento_data_client_t, **C.momento_error_t) C.momento_status_t) error {
	return callHeld(&c.mu, &c.ptr, "DataClient", ctx, f)
}

// cacheCall makes a call that takes a cache name.
func (c *DataClient) cacheCall(ctx context.Context, cache string, f func(*C.momento_data_client_t, *C.char, **C.momento_error_t) C.momento_status_t) error {
	name, err := cString(cache, "cache name")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(name))
	return c.call(ctx, func(p *C.momento_data_client_t, e **C.momento_error_t) C.momento_status_t { return f(p, name, e) })
}

// CreateCache creates a cache (ErrAlreadyExists when it exists).
func (c *DataClient) CreateCache(ctx context.Context, cache string) error {
	return c.cacheCall(ctx, cache, func(p *C.momento_data_client_t, n *C.char, e **C.momento_error_t) C.momento_status_t {
		return C.momento_data_client_create_cache(p, n, e)
	})
}

// DeleteCache deletes a cache and everything in it (ErrNotFound when there is none).
func (c *DataClient) DeleteCache(ctx context.Context, cache string) error {
	return c.cacheCall(ctx, cache, func(p *C.momento_data_client_t, n *C.char, e **C.momento_error_t) C.momento_status_t {
		return C.momento_data_client_delete_cache(p, n, e)
	})
}

// FlushCache removes every item of a cache and keeps the cache (ErrNotFound when there is none).
func (c *DataClient) FlushCache(ctx context.Context, cache string) error {
	return c.cacheCall(ctx, cache, func(p *C.momento_data_client_t, n *C.char, e **C.momento_error_t) C.momento_status_t {
		return C.momento_data_client_flush_cache(p, n, e)
	})
}

// ListCaches is the names of all caches (a cheap way to validate a key).
func (c *DataClient) ListCaches(ctx context.Context) ([]string, error) {
	var list *C.momento_string_list_t
	err := c.call(ctx, func(p *C.momento_data_client_t, e **C.momento_error_t) C.momento_status_t {
		return C.momento_data_client_list_caches(&list, p, e)
	})
	if err != nil {
		return nil, err
	}
	defer C.momento_string_list_free(list)
	names := make([]string, int(C.momento_string_list_count(list)))
	for i := range names {
		names[i] = C.GoString(C.momento_string_list_get(list, C.size_t(i)))
	}
	return names, nil
}

// bytesArg is b for C (a pointer and a length): Go memory the call only reads, pinned for its
// duration by cgo's rules.
func bytesArg(b []byte) (unsafe.Pointer, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return unsafe.Pointer(&b[0]), C.size_t(len(b))
}

// Set stores value under key for ttl (the library checks the ttl).
func (c *DataClient) Set(ctx context.Context, cache string, key, value []byte, ttl time.Duration) error {
	k, kn := bytesArg(key)
	v, vn := bytesArg(value)
	return c.cacheCall(ctx, cache, func(p *C.momento_data_client_t, n *C.char, e **C.momento_error_t) C.momento_status_t {
		return C.momento_data_client_set(p, n, k, kn, v, vn, C.int64_t(ttl.Milliseconds()), e)
	})
}

// Get returns the value under key; found is false on a miss.
func (c *DataClient) Get(ctx context.Context, cache string, key []byte) (value []byte, found bool, err error) {
	k, kn := bytesArg(key)
	var hit C.int32_t
	var out *C.char
	var outLen C.size_t
	err = c.cacheCall(ctx, cache, func(p *C.momento_data_client_t, n *C.char, e **C.momento_error_t) C.momento_status_t {
		return C.momento_data_client_get(&hit, &out, &outLen, p, n, k, kn, e)
	})
	if err != nil || hit != 1 {
		return nil, false, err
	}
	defer C.momento_free(out)
	return C.GoBytes(unsafe.Pointer(out), C.int(outLen)), true, nil
}

// Delete removes the item under key; a missing item is not an error.
func (c *DataClient) Delete(ctx context.Context, cache string, key []byte) error {
	k, kn := bytesArg(key)
	return c.cacheCall(ctx, cache, func(p *C.momento_data_client_t, n *C.char, e **C.momento_error_t) C.momento_status_t {
		return C.momento_data_client_delete(p, n, k, kn, e)
	})
}

// Ping checks that the cache endpoint answers (no key needed).
func (c *DataClient) Ping(ctx context.Context) error {
	return c.call(ctx, func(p *C.momento_data_client_t, e **C.momento_error_t) C.momento_status_t {
		return C.momento_data_client_ping(p, e)
	})
}
