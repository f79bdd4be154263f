package momentoauth

/*
#include <stdlib.h>
#include "cstring.h"
*/
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// ---- lifetimes -------------------------------------------------------------------------------

// ExpiresIn is a key's lifetime; the library checks it when a call uses it.
type ExpiresIn struct {
	unit   C.int32_t
	amount int64
}

func ExpiresNever() ExpiresIn             { return ExpiresIn{C.MOMENTO_EXPIRES_NEVER, 0} }
func ExpiresInSeconds(n int64) ExpiresIn  { return ExpiresIn{C.MOMENTO_EXPIRES_SECONDS, n} }
func ExpiresInMinutes(n int64) ExpiresIn  { return ExpiresIn{C.MOMENTO_EXPIRES_MINUTES, n} }
func ExpiresInHours(n int64) ExpiresIn    { return ExpiresIn{C.MOMENTO_EXPIRES_HOURS, n} }
func ExpiresInDays(n int64) ExpiresIn     { return ExpiresIn{C.MOMENTO_EXPIRES_DAYS, n} }
func ExpiresAtTime(t time.Time) ExpiresIn { return ExpiresIn{C.MOMENTO_EXPIRES_AT_EPOCH, t.Unix()} }

func (x ExpiresIn) native() (*C.momento_expires_in_t, error) {
	var out *C.momento_expires_in_t
	var e *C.momento_error_t
	if err := check(C.momento_expires_in_new(&out, x.unit, C.int64_t(x.amount), &e), e); err != nil {
		return nil, err
	}
	return out, nil
}

// ---- scopes ----------------------------------------------------------------------------------

// Scope is what a key or disposable token may do: AllDataReadWrite, AllDataReadOnly, SuperUser
// or Permissions. The library checks it before anything is sent.
type Scope interface {
	native() (*C.momento_scope_t, error)
}

type predefined C.int32_t

func (p predefined) native() (*C.momento_scope_t, error) {
	var out *C.momento_scope_t
	var e *C.momento_error_t
	if err := check(C.momento_scope_new_predefined(&out, C.int32_t(p), &e), e); err != nil {
		return nil, err
	}
	return out, nil
}

var (
	AllDataReadWrite Scope = predefined(C.MOMENTO_SCOPE_ALL_DATA_READ_WRITE)
	AllDataReadOnly  Scope = predefined(C.MOMENTO_SCOPE_ALL_DATA_READ_ONLY)
	SuperUser        Scope = predefined(C.MOMENTO_SCOPE_SUPER_USER)
)

type CacheRole int32
type TopicRole int32
type FunctionRole int32

const (
	CachePermitNone CacheRole = C.MOMENTO_CACHE_PERMIT_NONE
	CacheReadWrite  CacheRole = C.MOMENTO_CACHE_READ_WRITE
	CacheReadOnly   CacheRole = C.MOMENTO_CACHE_READ_ONLY
	CacheWriteOnly  CacheRole = C.MOMENTO_CACHE_WRITE_ONLY

	TopicPermitNone       TopicRole = C.MOMENTO_TOPIC_PERMIT_NONE
	TopicPublishSubscribe TopicRole = C.MOMENTO_TOPIC_PUBLISH_SUBSCRIBE
	TopicSubscribeOnly    TopicRole = C.MOMENTO_TOPIC_SUBSCRIBE_ONLY
	TopicPublishOnly      TopicRole = C.MOMENTO_TOPIC_PUBLISH_ONLY

	FunctionPermitNone FunctionRole = C.MOMENTO_FUNCTION_PERMIT_NONE
	FunctionInvoke     FunctionRole = C.MOMENTO_FUNCTION_INVOKE
)

// CacheSelector picks a cache; the zero value (AllCaches) means every cache.
type CacheSelector struct{ name *string }

var AllCaches = CacheSelector{}

func CacheName(name string) CacheSelector { return CacheSelector{&name} }

// NameSelector picks a topic or function: all (the zero value), a name or a name prefix.
type NameSelector struct {
	sel  C.int32_t
	name string
}

var (
	AllTopics    = NameSelector{}
	AllFunctions = NameSelector{}
)

func TopicName(n string) NameSelector          { return NameSelector{C.MOMENTO_SELECT_NAME, n} }
func TopicNamePrefix(p string) NameSelector    { return NameSelector{C.MOMENTO_SELECT_PREFIX, p} }
func FunctionName(n string) NameSelector       { return NameSelector{C.MOMENTO_SELECT_NAME, n} }
func FunctionNamePrefix(p string) NameSelector { return NameSelector{C.MOMENTO_SELECT_PREFIX, p} }

// ItemSelector restricts a cache permission to items (disposable tokens only).
type ItemSelector struct {
	sel C.int32_t
	key []byte
}

var AllItems = ItemSelector{sel: C.MOMENTO_ITEMS_ALL}

func ItemKey(key []byte) ItemSelector     { return ItemSelector{C.MOMENTO_ITEMS_KEY, key} }
func ItemKeyPrefix(p []byte) ItemSelector { return ItemSelector{C.MOMENTO_ITEMS_KEY_PREFIX, p} }

// Permission is one entry of Permissions.
type Permission interface {
	add(s *C.momento_scope_t, cs *cStrings) error
}

type CachePermission struct {
	Role  CacheRole
	Cache CacheSelector
}

type TopicPermission struct {
	Role  TopicRole
	Cache CacheSelector
	Topic NameSelector
}

type FunctionPermission struct {
	Role     FunctionRole
	Cache    CacheSelector
	Function NameSelector
}

type CacheItemPermission struct {
	Role  CacheRole
	Cache CacheSelector
	Item  ItemSelector
}

func (c CacheSelector) native(cs *cStrings) (*C.char, error) {
	if c.name == nil {
		return nil, nil
	}
	return cs.add(*c.name, "cache name")
}

func (n NameSelector) native(cs *cStrings, what string) (*C.char, error) {
	if n.sel == C.MOMENTO_SELECT_ALL {
		return nil, nil
	}
	return cs.add(n.name, what)
}

func (p CachePermission) add(s *C.momento_scope_t, cs *cStrings) error {
	cache, err := p.Cache.native(cs)
	if err != nil {
		return err
	}
	var e *C.momento_error_t
	return check(C.momento_scope_add_cache(s, C.int32_t(p.Role), cache, &e), e)
}

func (p TopicPermission) add(s *C.momento_scope_t, cs *cStrings) error {
	cache, err := p.Cache.native(cs)
	if err != nil {
		return err
	}
	topic, err := p.Topic.native(cs, "topic")
	if err != nil {
		return err
	}
	var e *C.momento_error_t
	return check(C.momento_scope_add_topic(s, C.int32_t(p.Role), cache, p.Topic.sel, topic, &e), e)
}

func (p FunctionPermission) add(s *C.momento_scope_t, cs *cStrings) error {
	cache, err := p.Cache.native(cs)
	if err != nil {
		return err
	}
	fn, err := p.Function.native(cs, "function")
	if err != nil {
		return err
	}
	var e *C.momento_error_t
	return check(C.momento_scope_add_function(s, C.int32_t(p.Role), cache, p.Function.sel, fn, &e), e)
}

func (p CacheItemPermission) add(s *C.momento_scope_t, cs *cStrings) error {
	cache, err := p.Cache.native(cs)
	if err != nil {
		return err
	}
	var key unsafe.Pointer
	if len(p.Item.key) > 0 {
		key = C.CBytes(p.Item.key)
		defer C.free(key)
	}
	var e *C.momento_error_t
	return check(C.momento_scope_add_cache_items(s, C.int32_t(p.Role), cache, p.Item.sel, key,
		C.size_t(len(p.Item.key)), &e), e)
}

// Permissions is a fine-grained scope.
type Permissions []Permission

func (ps Permissions) native() (*C.momento_scope_t, error) {
	var out *C.momento_scope_t
	var e *C.momento_error_t
	if err := check(C.momento_scope_new(&out, &e), e); err != nil {
		return nil, err
	}
	var cs cStrings
	defer cs.free()
	for i, p := range ps {
		if p == nil {
			C.momento_scope_free(out)
			return nil, invalid("permission %d is nil", i)
		}
		if err := p.add(out, &cs); err != nil {
			C.momento_scope_free(out)
			return nil, err
		}
	}
	return out, nil
}

// ---- tokens ----------------------------------------------------------------------------------

// ApiKeyResult is a minted or refreshed key (or a disposable token). ApiKey and RefreshToken are
// secrets; every fmt verb prints the result redacted. A plain value: it holds no library handle
// (DownloadJSON, WriteFile and Store.Save hand its fields back to the library).
type ApiKeyResult struct {
	ApiKey       string
	RefreshToken string // "" for never-expiring keys and disposable tokens
	Endpoint     string
	ExpiresAt    time.Time // zero: never expires
}

// takeResult copies a library token into Go strings and frees it at once: no finalizer per
// call, and the library's copy of the secrets is wiped now rather than after a GC cycle.
func takeResult(p *C.momento_token_t) *ApiKeyResult {
	var t C.momento_go_token_parts
	C.momento_go_token_read(p, &t)
	r := &ApiKeyResult{
		ApiKey:       C.GoStringN(t.api_key, C.int(t.api_key_n)),
		RefreshToken: C.GoStringN(t.refresh_token, C.int(t.refresh_token_n)),
		Endpoint:     C.GoStringN(t.endpoint, C.int(t.endpoint_n)),
		ExpiresAt:    epochTime(t.valid_until),
	}
	C.momento_token_free(p)
	return r
}

// withToken runs f with a library token made from the result's key, refresh token and expiry.
func (r *ApiKeyResult) withToken(f func(*C.momento_token_t) error) error {
	if r == nil {
		return invalid("result is nil")
	}
	if err := cStringOK(r.ApiKey, "ApiKey"); err != nil {
		return err
	}
	if err := cStringOK(r.RefreshToken, "RefreshToken"); err != nil {
		return err
	}
	var until C.uint64_t
	if !r.ExpiresAt.IsZero() {
		until = C.uint64_t(r.ExpiresAt.Unix())
	}
	var t *C.momento_token_t
	var e *C.momento_error_t
	if err := check(C.momento_go_token_new(&t, r.ApiKey, r.RefreshToken, until, &e), e); err != nil {
		return err
	}
	defer C.momento_token_free(t)
	return f(t)
}

// Redact is the library's display form of a secret: a few characters and a short hash.
func Redact(secret string) string {
	s, err := cString(secret, "secret")
	if err != nil {
		return "<invalid>"
	}
	defer C.free(unsafe.Pointer(s))
	var out *C.char
	var e *C.momento_error_t
	if check(C.momento_redact(&out, s, &e), e) != nil {
		return "<invalid>"
	}
	defer C.momento_free(out)
	return C.GoString(out)
}

func (r *ApiKeyResult) String() string {
	exp := "never"
	if !r.ExpiresAt.IsZero() {
		exp = r.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("ApiKeyResult(%s, expiresAt=%s)", Redact(r.ApiKey), exp)
}

// Format prints String() for every verb (%v, %+v, %#v, %s, %q), so no verb prints a secret.
func (r *ApiKeyResult) Format(f fmt.State, verb rune) { fmt.Fprint(f, r.String()) }

// DownloadJSON is the token file's text {"authToken","refreshToken","validUntil"} (secrets).
func (r *ApiKeyResult) DownloadJSON() (string, error) {
	var text string
	err := r.withToken(func(t *C.momento_token_t) error {
		var out *C.char
		var e *C.momento_error_t
		if err := check(C.momento_token_to_json(&out, t, &e), e); err != nil {
			return err
		}
		defer C.momento_free(out)
		text = C.GoString(out)
		return nil
	})
	return text, err
}

// WriteFile writes the token file atomically with mode 0600.
func (r *ApiKeyResult) WriteFile(path string) error {
	p, err := cString(path, "path")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(p))
	return r.withToken(func(t *C.momento_token_t) error {
		var e *C.momento_error_t
		return check(C.momento_token_write_file(t, p, &e), e)
	})
}

// ---- auth client -----------------------------------------------------------------------------

// AuthClient mints and refreshes keys. Safe for concurrent use; Close waits for the calls in
// flight, and calls after Close fail with ErrFailedPrecondition.
type AuthClient struct {
	mu  sync.RWMutex
	ptr *C.momento_auth_client_t
}

// NewAuthClient copies the credential. Options: WithDeadline, WithCAFile.
func NewAuthClient(cred *Credential, opts ...Option) (*AuthClient, error) {
	var out *C.momento_auth_client_t
	err := newClient(cred, opts, func(cp *C.momento_credential_t, cfg *C.momento_client_config_t, e **C.momento_error_t) C.momento_status_t {
		return C.momento_auth_client_new(&out, cp, cfg, e)
	})
	if err != nil {
		return nil, err
	}
	c := &AuthClient{ptr: out}
	runtime.SetFinalizer(c, (*AuthClient).Close)
	return c, nil
}

// newClient runs a client constructor with the credential held open and the options' config.
func newClient(cred *Credential, opts []Option, build func(*C.momento_credential_t, *C.momento_client_config_t, **C.momento_error_t) C.momento_status_t) error {
	if abiErr != nil {
		return abiErr
	}
	if cred == nil {
		return invalid("credential is nil")
	}
	cred.mu.RLock()
	defer cred.mu.RUnlock()
	if cred.ptr == nil {
		return closedError("Credential")
	}
	return withConfig(collect(opts), func(cfg *C.momento_client_config_t) error {
		var e *C.momento_error_t
		return check(build(cred.ptr, cfg, &e), e)
	})
}

// Close frees the client once the calls in flight have returned. Idempotent.
func (c *AuthClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr != nil {
		C.momento_auth_client_free(c.ptr)
		c.ptr = nil
		runtime.SetFinalizer(c, nil)
	}
	return nil
}

func (c *AuthClient) call(ctx context.Context, f func(*C.momento_auth_client_t, **C.momento_error_t) C.momento_status_t) error {
	return callHeld(&c.mu, &c.ptr, "AuthClient", ctx, f)
}

// callHeld runs one blocking call with a client held open (its read lock; Close takes the write
// lock), tied to ctx: cancelling ctx (or its deadline passing) cancels the RPC in flight through
// the library's cancel token.
func callHeld[P comparable](mu *sync.RWMutex, ptr *P, what string, ctx context.Context, f func(P, **C.momento_error_t) C.momento_status_t) error {
	mu.RLock()
	defer mu.RUnlock()
	p := *ptr
	var closed P
	if p == closed {
		return closedError(what)
	}
	return withContext(ctx, func(e **C.momento_error_t) C.momento_status_t { return f(p, e) })
}

// withContext binds a cancel token to this OS thread for the call when ctx can be cancelled.
func withContext(ctx context.Context, f func(**C.momento_error_t) C.momento_status_t) error {
	if ctx == nil {
		return invalid("context is nil")
	}
	if err := ctx.Err(); err != nil {
		return &Error{Code: ErrCancelled.Code, Message: "the context ended before the call", GrpcStatus: -1, cause: err}
	}
	yieldNowAndThen()
	var e *C.momento_error_t
	if ctx.Done() == nil {
		return check(f(&e), e)
	}
	var token *C.momento_cancel_token_t
	if err := check(C.momento_cancel_token_new(&token, &e), e); err != nil {
		return err
	}
	defer C.momento_cancel_token_free(token)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var prev *C.momento_cancel_token_t
	if err := check(C.momento_cancel_token_bind_thread(&prev, token, &e), e); err != nil {
		return err
	}
	// No goroutine per call: the context runs the cancel only if it ends during the call.
	cancelled := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		C.momento_cancel_token_cancel(token, nil)
		close(cancelled)
	})
	status := f(&e)
	if !stop() {
		<-cancelled // the token is freed only after cancel has returned
	}
	C.momento_cancel_token_bind_thread(nil, prev, nil)
	err := check(status, e)
	if me, ok := err.(*Error); ok && me.Code == ErrCancelled.Code {
		me.cause = ctx.Err()
	}
	return err
}

// The Go runtime's sysmon takes a P away from a goroutine inside a cgo call on each of its
// 20 µs ticks once that P has run no other goroutine for 10 ms (it is "running too long", and
// a goroutine in C cannot be preempted), whether or not other work waits. A goroutine making
// blocking calls back to back is never rescheduled, so after 10 ms every call would pay for the
// hand-off: sysmon polling every 20 µs, a thread started for the P, and the P taken back on the
// way out (about +25 µs of CPU per refresh here; bench/clients/go/RESULTS.md). Yielding at
// most every yieldEvery before a call resets that clock. The clock is the P's, as sysmon's is:
// a sync.Pool keeps one per P (a process-wide clock let one of two goroutines calling at once
// go without yielding, which cost as much as never yielding). A clock lost to a GC or moved to
// another P only makes one early yield.
const yieldEvery = 2 * time.Millisecond

var (
	clockStart  = time.Now()
	yieldClocks = sync.Pool{New: func() any { return new(time.Duration) }} // since clockStart
)

func yieldNowAndThen() {
	last := yieldClocks.Get().(*time.Duration)
	now := time.Since(clockStart)
	due := now-*last >= yieldEvery
	if due {
		*last = now
	}
	yieldClocks.Put(last)
	if due {
		runtime.Gosched()
	}
}

type mintFn func(**C.momento_token_t, *C.momento_auth_client_t, *C.momento_scope_t, *C.momento_expires_in_t, **C.momento_error_t) C.momento_status_t

func (c *AuthClient) mint(ctx context.Context, scope Scope, exp ExpiresIn, f mintFn) (*ApiKeyResult, error) {
	if scope == nil {
		return nil, invalid("scope is nil")
	}
	s, err := scope.native()
	if err != nil {
		return nil, err
	}
	defer C.momento_scope_free(s)
	x, err := exp.native()
	if err != nil {
		return nil, err
	}
	defer C.momento_expires_in_free(x)
	var out *C.momento_token_t
	err = c.call(ctx, func(p *C.momento_auth_client_t, e **C.momento_error_t) C.momento_status_t {
		return f(&out, p, s, x, e)
	})
	if err != nil {
		return nil, err
	}
	return takeResult(out), nil
}

// GenerateApiKey mints a key with scope and lifetime.
func (c *AuthClient) GenerateApiKey(ctx context.Context, scope Scope, exp ExpiresIn) (*ApiKeyResult, error) {
	return c.mint(ctx, scope, exp, func(out **C.momento_token_t, p *C.momento_auth_client_t, s *C.momento_scope_t, x *C.momento_expires_in_t, e **C.momento_error_t) C.momento_status_t {
		return C.momento_auth_client_generate_api_key(out, p, s, x, e)
	})
}

// GenerateDisposableToken mints a disposable token (tokenID "" = none).
func (c *AuthClient) GenerateDisposableToken(ctx context.Context, scope Scope, exp ExpiresIn, tokenID string) (*ApiKeyResult, error) {
	var cs cStrings
	defer cs.free()
	id, err := cs.optional(tokenID, "tokenID")
	if err != nil {
		return nil, err
	}
	return c.mint(ctx, scope, exp, func(out **C.momento_token_t, p *C.momento_auth_client_t, s *C.momento_scope_t, x *C.momento_expires_in_t, e **C.momento_error_t) C.momento_status_t {
		return C.momento_auth_client_generate_disposable_token(out, p, s, x, id, e)
	})
}

// RefreshApiKey exchanges the client's own key and its refresh token for a new key.
func (c *AuthClient) RefreshApiKey(ctx context.Context, refreshToken string) (*ApiKeyResult, error) {
	if err := cStringOK(refreshToken, "refreshToken"); err != nil {
		return nil, err
	}
	var out *C.momento_token_t
	err := c.call(ctx, func(p *C.momento_auth_client_t, e **C.momento_error_t) C.momento_status_t {
		return C.momento_go_refresh_api_key(&out, p, refreshToken, e)
	})
	if err != nil {
		return nil, err
	}
	return takeResult(out), nil
}
