// Package momentoauth mints, refreshes, parses and keeps fresh Momento API keys over
// libmomento_auth.so.1, the library that C, Python, Node and Rust use too.
//
// Every rule (parsing, ranges, defaults, redaction, the refresh policy, event delivery) lives in
// the library; this package adapts types, errors, contexts and lifetimes. Handles have Close
// methods; finalizers free what was not closed, as a safety net only.
package momentoauth

/*
#cgo pkg-config: momento-auth
#include <stdlib.h>
#include "cstring.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"
)

// HeaderABIVersion is the ABI this package was compiled against (MOMENTO_AUTH_ABI_VERSION).
const HeaderABIVersion = int(C.MOMENTO_AUTH_ABI_VERSION)

var abiErr = func() error {
	if got := int(C.momento_abi_version()); got != HeaderABIVersion {
		return fmt.Errorf("momentoauth was built for libmomento_auth ABI %d, but the loaded library "+
			"(version %s) has ABI %d: rebuild against the installed library",
			HeaderABIVersion, C.GoString(C.momento_version_string()), got)
	}
	return nil
}()

// LibraryVersion is the loaded library's "MAJOR.MINOR.PATCH".
func LibraryVersion() string { return C.GoString(C.momento_version_string()) }

// CheckABI reports a mismatch between the loaded library's ABI and the one compiled against;
// every constructor returns the same error.
func CheckABI() error { return abiErr }

// ---- errors ----------------------------------------------------------------------------------

// Error is every failure of this package. Code is the canonical code ("PERMISSION_ERROR", ...);
// Retryable is the library's verdict; GrpcStatus is -1 when no RPC was made. Errors never contain
// a secret. errors.Is(err, ErrPermission) matches by code; a call cancelled through its context
// also matches context.Canceled or context.DeadlineExceeded.
type Error struct {
	Code       string
	Message    string
	Retryable  bool
	GrpcStatus int
	cause      error
	sentinel   bool
}

func (e *Error) Error() string {
	if e.sentinel {
		return "momentoauth: " + e.Code
	}
	return "momentoauth: " + e.Code + ": " + e.Message
}

// Is matches the sentinel of the same code (ErrPermission, ...).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.sentinel && t.Code == e.Code
}

func (e *Error) Unwrap() error { return e.cause }

func sentinel(status C.momento_status_t) *Error {
	return &Error{Code: C.GoString(C.momento_status_str(status)), sentinel: true}
}

// Sentinels for errors.Is, one per canonical code.
var (
	ErrInvalidArgument         = sentinel(C.MOMENTO_ERR_INVALID_ARGUMENT)
	ErrAuthentication          = sentinel(C.MOMENTO_ERR_AUTHENTICATION)
	ErrPermission              = sentinel(C.MOMENTO_ERR_PERMISSION)
	ErrNotFound                = sentinel(C.MOMENTO_ERR_NOT_FOUND)
	ErrAlreadyExists           = sentinel(C.MOMENTO_ERR_ALREADY_EXISTS)
	ErrLimitExceeded           = sentinel(C.MOMENTO_ERR_LIMIT_EXCEEDED)
	ErrFailedPrecondition      = sentinel(C.MOMENTO_ERR_FAILED_PRECONDITION)
	ErrCancelled               = sentinel(C.MOMENTO_ERR_CANCELLED)
	ErrTimeout                 = sentinel(C.MOMENTO_ERR_TIMEOUT)
	ErrServerUnavailable       = sentinel(C.MOMENTO_ERR_SERVER_UNAVAILABLE)
	ErrInternalServer          = sentinel(C.MOMENTO_ERR_INTERNAL_SERVER)
	ErrUnknownService          = sentinel(C.MOMENTO_ERR_UNKNOWN_SERVICE)
	ErrBadRequest              = sentinel(C.MOMENTO_ERR_BAD_REQUEST)
	ErrConnection              = sentinel(C.MOMENTO_ERR_CONNECTION)
	ErrClientResourceExhausted = sentinel(C.MOMENTO_ERR_CLIENT_RESOURCE_EXHAUSTED)
	ErrUnknown                 = sentinel(C.MOMENTO_ERR_UNKNOWN)
)

func takeError(e *C.momento_error_t) error {
	defer C.momento_error_free(e)
	return &Error{
		Code:       C.GoString(C.momento_status_str(C.momento_error_code(e))),
		Message:    C.GoString(C.momento_error_message(e)),
		Retryable:  C.momento_error_retryable(e) == 1,
		GrpcStatus: int(C.momento_error_grpc_status(e)),
	}
}

func invalid(format string, args ...any) error {
	return &Error{Code: ErrInvalidArgument.Code, Message: fmt.Sprintf(format, args...), GrpcStatus: -1}
}

func closedError(what string) error {
	return &Error{Code: ErrFailedPrecondition.Code, Message: what + " is closed", GrpcStatus: -1}
}

// check turns a status and its error object into a Go error.
func check(status C.momento_status_t, e *C.momento_error_t) error {
	if status == C.MOMENTO_OK {
		return nil
	}
	return takeError(e)
}

// cStringOK says whether s can cross as a C string: no NUL bytes, valid UTF-8.
func cStringOK(s, what string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return invalid("%s must not contain a NUL byte", what)
	}
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", what)
	}
	return nil
}

// cString copies s for C (C.free it).
func cString(s, what string) (*C.char, error) {
	if err := cStringOK(s, what); err != nil {
		return nil, err
	}
	return C.CString(s), nil
}

// cStrings converts several strings; free releases all of them.
type cStrings []*C.char

func (cs *cStrings) add(s, what string) (*C.char, error) {
	p, err := cString(s, what)
	if err == nil {
		*cs = append(*cs, p)
	}
	return p, err
}

func (cs *cStrings) optional(s, what string) (*C.char, error) {
	if s == "" {
		return nil, nil
	}
	return cs.add(s, what)
}

// free has a pointer receiver so that `defer cs.free()` frees what was added after the defer.
func (cs *cStrings) free() {
	for _, p := range *cs {
		C.free(unsafe.Pointer(p))
	}
	*cs = nil
}

func epochTime(s C.uint64_t) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(int64(s), 0)
}

// ---- options ---------------------------------------------------------------------------------

// Option configures a constructor; each documents the options it reads and ignores the others.
type Option func(*settings)

type settings struct {
	endpoint         string
	insecure         bool
	deadline         time.Duration
	refreshFraction  *float64
	jitterFraction   *float64
	backoffInitial   time.Duration
	backoffMax       time.Duration
	recheckInterval  time.Duration
	endpointVariable string
	caFile           string
	awsRegion        *string
	awsEndpoint      *string
	awsProfile       *string
}

// WithEndpoint sends every service to one "host:port" instead of the endpoints the key names.
func WithEndpoint(hostPort string) Option { return func(s *settings) { s.endpoint = hostPort } }

// WithInsecure uses plaintext to the WithEndpoint address (a local server).
func WithInsecure() Option { return func(s *settings) { s.insecure = true } }

// WithDeadline sets the per-call deadline of clients and refreshers (the library's default
// otherwise). A context deadline applies too.
func WithDeadline(d time.Duration) Option { return func(s *settings) { s.deadline = d } }

// WithCAFile trusts the PEM certificates in path (instead of the system's roots) for TLS, e.g. a
// local server's self-signed certificate (NewAuthClient, NewRefresher).
func WithCAFile(path string) Option { return func(s *settings) { s.caFile = path } }

// WithEndpointVariable names the variable holding the endpoint (CredentialFromEnvironment).
func WithEndpointVariable(name string) Option { return func(s *settings) { s.endpointVariable = name } }

// WithRefreshFraction, WithJitterFraction, WithBackoff and WithRecheckInterval set the refresh
// policy (NewRefresher); the library checks them and supplies the defaults of those not given.
func WithRefreshFraction(f float64) Option { return func(s *settings) { s.refreshFraction = &f } }

func WithJitterFraction(f float64) Option { return func(s *settings) { s.jitterFraction = &f } }

func WithBackoff(initial, max time.Duration) Option {
	return func(s *settings) { s.backoffInitial, s.backoffMax = initial, max }
}

func WithRecheckInterval(d time.Duration) Option { return func(s *settings) { s.recheckInterval = d } }

// WithAWSRegion, WithAWSEndpoint ("http://127.0.0.1:5000", say) and WithAWSProfile configure
// an "aws-sm:" store (OpenStore); the library checks them and has the defaults (the AWS_*
// variables and the shared config file).
func WithAWSRegion(region string) Option   { return func(s *settings) { s.awsRegion = &region } }
func WithAWSEndpoint(url string) Option    { return func(s *settings) { s.awsEndpoint = &url } }
func WithAWSProfile(profile string) Option { return func(s *settings) { s.awsProfile = &profile } }

func collect(opts []Option) settings {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	return s
}

// withOverride runs body with the endpoint override the settings ask for (nil when none).
func withOverride(s settings, body func(*C.momento_endpoint_override_t) error) error {
	if s.endpoint == "" {
		return body(nil)
	}
	ep, err := cString(s.endpoint, "endpoint")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(ep))
	secure := C.int32_t(1)
	if s.insecure {
		secure = 0
	}
	var o *C.momento_endpoint_override_t
	var e *C.momento_error_t
	if err := check(C.momento_endpoint_override_new_single(&o, ep, secure, &e), e); err != nil {
		return err
	}
	defer C.momento_endpoint_override_free(o)
	return body(o)
}

func withConfig(s settings, body func(*C.momento_client_config_t) error) error {
	var cfg *C.momento_client_config_t
	var e *C.momento_error_t
	if err := check(C.momento_client_config_new(&cfg, &e), e); err != nil {
		return err
	}
	defer C.momento_client_config_free(cfg)
	if s.deadline != 0 {
		if err := check(C.momento_client_config_set_deadline_ms(cfg, C.int64_t(s.deadline.Milliseconds()), &e), e); err != nil {
			return err
		}
	}
	if s.caFile != "" {
		ca, err := cString(s.caFile, "CA file")
		if err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(ca))
		if err := check(C.momento_client_config_set_ca_file(cfg, ca, &e), e); err != nil {
			return err
		}
	}
	return body(cfg)
}

// ---- credentials -----------------------------------------------------------------------------

// Credential is a parsed key with its endpoints. Immutable; safe for concurrent use.
type Credential struct {
	mu  sync.RWMutex
	ptr *C.momento_credential_t
}

func newCredential(p *C.momento_credential_t) *Credential {
	c := &Credential{ptr: p}
	runtime.SetFinalizer(c, (*Credential).Close)
	return c
}

func makeCredential(opts []Option, build func(**C.momento_credential_t, *C.momento_endpoint_override_t, **C.momento_error_t) C.momento_status_t) (*Credential, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	var out *C.momento_credential_t
	err := withOverride(collect(opts), func(o *C.momento_endpoint_override_t) error {
		var e *C.momento_error_t
		return check(build(&out, o, &e), e)
	})
	if err != nil {
		return nil, err
	}
	return newCredential(out), nil
}

// CredentialFromString parses a v1 envelope, a legacy JWT or a session token.
// Options: WithEndpoint, WithInsecure.
func CredentialFromString(key string, opts ...Option) (*Credential, error) {
	if err := cStringOK(key, "key"); err != nil {
		return nil, err
	}
	return makeCredential(opts, func(out **C.momento_credential_t, o *C.momento_endpoint_override_t, e **C.momento_error_t) C.momento_status_t {
		return C.momento_go_credential_from_string(out, key, o, e)
	})
}

// CredentialFromDisposableToken parses a disposable token.
func CredentialFromDisposableToken(token string, opts ...Option) (*Credential, error) {
	if err := cStringOK(token, "token"); err != nil {
		return nil, err
	}
	return makeCredential(opts, func(out **C.momento_credential_t, o *C.momento_endpoint_override_t, e **C.momento_error_t) C.momento_status_t {
		return C.momento_go_credential_from_disposable_token(out, token, o, e)
	})
}

// CredentialFromApiKeyV2 parses a v2 API key with its base endpoint.
func CredentialFromApiKeyV2(apiKey, endpoint string, opts ...Option) (*Credential, error) {
	if err := cStringOK(apiKey, "apiKey"); err != nil {
		return nil, err
	}
	if err := cStringOK(endpoint, "endpoint"); err != nil {
		return nil, err
	}
	return makeCredential(opts, func(out **C.momento_credential_t, o *C.momento_endpoint_override_t, e **C.momento_error_t) C.momento_status_t {
		return C.momento_go_credential_from_v2(out, apiKey, endpoint, o, e)
	})
}

// CredentialFromEnvironment reads the key from the variable keyVar ("" = the library's default)
// and, for v2 keys, the endpoint from WithEndpointVariable (the library's default otherwise).
func CredentialFromEnvironment(keyVar string, opts ...Option) (*Credential, error) {
	s := collect(opts)
	var cs cStrings
	defer cs.free()
	k, err := cs.optional(keyVar, "keyVar")
	if err != nil {
		return nil, err
	}
	ev, err := cs.optional(s.endpointVariable, "endpointVariable")
	if err != nil {
		return nil, err
	}
	return makeCredential(opts, func(out **C.momento_credential_t, o *C.momento_endpoint_override_t, e **C.momento_error_t) C.momento_status_t {
		return C.momento_credential_from_env(out, k, ev, o, e)
	})
}

// CredentialFromFile reads a token file in the Download-JSON shape.
func CredentialFromFile(path string, opts ...Option) (*Credential, error) {
	var cs cStrings
	defer cs.free()
	p, err := cs.add(path, "path")
	if err != nil {
		return nil, err
	}
	return makeCredential(opts, func(out **C.momento_credential_t, o *C.momento_endpoint_override_t, e **C.momento_error_t) C.momento_status_t {
		return C.momento_credential_from_file(out, p, o, e)
	})
}

// LocalCredential has no key: every endpoint is host:port, plaintext ("" and 0 = the library's
// defaults).
func LocalCredential(host string, port uint16) (*Credential, error) {
	var cs cStrings
	defer cs.free()
	h, err := cs.optional(host, "host")
	if err != nil {
		return nil, err
	}
	return makeCredential(nil, func(out **C.momento_credential_t, _ *C.momento_endpoint_override_t, e **C.momento_error_t) C.momento_status_t {
		return C.momento_credential_new_local(out, h, C.uint16_t(port), e)
	})
}

func (c *Credential) read(f func(*C.momento_credential_t) string) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return ""
	}
	return f(c.ptr)
}

// Kind is "v1_envelope", "v2_api_key", "legacy_jwt", "session_token" or "local".
func (c *Credential) Kind() string {
	return c.read(func(p *C.momento_credential_t) string {
		return C.GoString(C.momento_credential_kind_str(C.momento_credential_kind(p)))
	})
}

// BaseEndpoint is the key's base endpoint ("" for legacy, session and local credentials).
func (c *Credential) BaseEndpoint() string {
	return c.read(func(p *C.momento_credential_t) string { return C.GoString(C.momento_credential_base_endpoint(p)) })
}

// RefreshToken is the refresh token that came with a token file ("" when none). A secret.
func (c *Credential) RefreshToken() string {
	return c.read(func(p *C.momento_credential_t) string { return C.GoString(C.momento_credential_refresh_token(p)) })
}

// ExpiresAt is the key's expiry; known is false when the credential carries none, and a zero
// time with known true means it never expires.
func (c *Credential) ExpiresAt() (at time.Time, known bool, err error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return time.Time{}, false, closedError("Credential")
	}
	var state C.int32_t
	var epoch C.uint64_t
	var e *C.momento_error_t
	if err := check(C.momento_credential_expiry(&state, &epoch, c.ptr, &e), e); err != nil {
		return time.Time{}, false, err
	}
	return epochTime(epoch), state != C.MOMENTO_EXPIRY_UNKNOWN, nil
}

// String is the library's display form: kind, control endpoint and the key redacted.
func (c *Credential) String() string {
	s := c.read(func(p *C.momento_credential_t) string { return C.GoString(C.momento_credential_redacted(p)) })
	if s == "" {
		return "Credential(closed)"
	}
	return s
}

// Format shows String() for every verb, so no verb prints the key.
func (c *Credential) Format(f fmt.State, verb rune) { fmt.Fprintf(f, "Credential(%s)", c.String()) }

// Close frees the credential. Idempotent.
func (c *Credential) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr != nil {
		C.momento_credential_free(c.ptr)
		c.ptr = nil
		runtime.SetFinalizer(c, nil)
	}
}
