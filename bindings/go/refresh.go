package momentoauth

/*
#include <stdlib.h>
#include <stdint.h>
#include <momento/auth.h>

void momento_go_refresh_cb(const momento_refresh_event_t *event, void *user_data);
void momento_go_watch_cb(const momento_watched_key_t *key, void *user_data);
*/
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"
)

// ---- stores ----------------------------------------------------------------------------------

// Store is where a fleet keeps its current key: "file:PATH", "aws-sm:SECRET-ID" or
// "env:VARIABLE" (the library parses the spec). Safe for concurrent use.
type Store struct {
	mu  sync.RWMutex
	ptr *C.momento_store_t
}

// OpenStore opens a store (nothing is read yet). Options: WithAWSRegion, WithAWSEndpoint and
// WithAWSProfile for "aws-sm:" stores (the library's defaults otherwise).
func OpenStore(spec string, opts ...Option) (*Store, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	set := collect(opts)
	var cs cStrings
	defer cs.free()
	sp, err := cs.add(spec, "spec")
	if err != nil {
		return nil, err
	}
	var options *C.momento_store_options_t
	if set.awsRegion != nil || set.awsEndpoint != nil || set.awsProfile != nil {
		var e *C.momento_error_t
		if err := check(C.momento_store_options_new(&options, &e), e); err != nil {
			return nil, err
		}
		defer C.momento_store_options_free(options)
		for _, o := range []struct {
			value *string
			what  string
			set   func(*C.char, **C.momento_error_t) C.momento_status_t
		}{
			{set.awsRegion, "AWS region", func(v *C.char, e **C.momento_error_t) C.momento_status_t {
				return C.momento_store_options_set_aws_region(options, v, e)
			}},
			{set.awsEndpoint, "AWS endpoint", func(v *C.char, e **C.momento_error_t) C.momento_status_t {
				return C.momento_store_options_set_aws_endpoint(options, v, e)
			}},
			{set.awsProfile, "AWS profile", func(v *C.char, e **C.momento_error_t) C.momento_status_t {
				return C.momento_store_options_set_aws_profile(options, v, e)
			}},
		} {
			if o.value == nil {
				continue
			}
			v, err := cs.add(*o.value, o.what)
			if err != nil {
				return nil, err
			}
			if err := check(o.set(v, &e), e); err != nil {
				return nil, err
			}
		}
	}
	var out *C.momento_store_t
	var e *C.momento_error_t
	if err := check(C.momento_store_new(&out, sp, options, &e), e); err != nil {
		return nil, err
	}
	st := &Store{ptr: out}
	runtime.SetFinalizer(st, (*Store).Close)
	return st, nil
}

func (s *Store) use(f func(*C.momento_store_t) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ptr == nil {
		return closedError("Store")
	}
	return f(s.ptr)
}

// Kind is "file", "aws-sm" or "env"; Location the path, secret id or variable the spec names.
func (s *Store) Kind() string {
	var k string
	_ = s.use(func(p *C.momento_store_t) error {
		k = C.GoString(C.momento_store_kind_str(C.momento_store_kind(p)))
		return nil
	})
	return k
}

func (s *Store) Location() string {
	var l string
	_ = s.use(func(p *C.momento_store_t) error { l = C.GoString(C.momento_store_location(p)); return nil })
	return l
}

// Description is e.g. "file:/etc/momento/token.json" (never a secret).
func (s *Store) Description() string {
	var d string
	_ = s.use(func(p *C.momento_store_t) error { d = C.GoString(C.momento_store_describe(p)); return nil })
	return d
}

func (s *Store) String() string { return "Store(" + s.Description() + ")" }

// Writable is true when Save is allowed.
func (s *Store) Writable() bool {
	w := false
	_ = s.use(func(p *C.momento_store_t) error { w = C.momento_store_writable(p) == 1; return nil })
	return w
}

// Load reads the stored key (ErrNotFound when the store holds nothing yet).
func (s *Store) Load(ctx context.Context) (*ApiKeyResult, error) {
	var out *C.momento_token_t
	err := s.use(func(p *C.momento_store_t) error {
		return withContext(ctx, func(e **C.momento_error_t) C.momento_status_t { return C.momento_store_load(&out, p, e) })
	})
	if err != nil {
		return nil, err
	}
	return takeResult(out), nil
}

// Save replaces the stored key atomically.
func (s *Store) Save(ctx context.Context, r *ApiKeyResult) error {
	return r.withToken(func(t *C.momento_token_t) error {
		return s.use(func(p *C.momento_store_t) error {
			return withContext(ctx, func(e **C.momento_error_t) C.momento_status_t { return C.momento_store_save(p, t, e) })
		})
	})
}

// Close frees the store (refreshers and watchers keep their own reference). Idempotent.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr != nil {
		C.momento_store_free(s.ptr)
		s.ptr = nil
		runtime.SetFinalizer(s, nil)
	}
}

// ---- subscriptions: library thread -> Go channel ---------------------------------------------

// subscription forwards events from the library's delivery thread to a channel. The send gives
// up once unsubscribe has begun, so the library's unsubscribe (which waits for a running
// callback) never waits on a reader that stopped reading.
type subscription[T any] struct {
	ch       chan T
	done     chan struct{}
	handle   cgo.Handle
	userData unsafe.Pointer // C memory holding the handle (a void * for the library)
	id       C.uint64_t
	once     sync.Once
}

func newSubscription[T any](buffer int) *subscription[T] {
	s := &subscription[T]{ch: make(chan T, buffer), done: make(chan struct{})}
	s.handle = cgo.NewHandle(s)
	s.userData = C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0))))
	*(*C.uintptr_t)(s.userData) = C.uintptr_t(s.handle)
	return s
}

func (s *subscription[T]) deliver(v T) {
	select {
	case <-s.done:
		return
	default:
	}
	select {
	case s.ch <- v:
	case <-s.done:
	}
}

// end stops deliveries: unsubscribe runs the library's unsubscribe; afterwards nothing is sent
// and the channel is closed.
func (s *subscription[T]) end(unsubscribe func(C.uint64_t)) {
	s.once.Do(func() {
		close(s.done)
		unsubscribe(s.id)
		s.handle.Delete()
		C.free(s.userData)
		close(s.ch)
	})
}

func handleOf(userData unsafe.Pointer) cgo.Handle { return cgo.Handle(*(*C.uintptr_t)(userData)) }

// subscriptionList holds an object's live subscriptions so that Close can end them.
type subscriptionList[T any] struct {
	mu   sync.Mutex
	subs []*subscription[T]
}

// subscribe makes a subscription; register is the library's subscribe call, unregister its
// unsubscribe.
func (l *subscriptionList[T]) subscribe(buffer int, register func(id *C.uint64_t, userData unsafe.Pointer) error, unregister func(C.uint64_t)) (<-chan T, func(), error) {
	sub := newSubscription[T](buffer)
	if err := register(&sub.id, sub.userData); err != nil {
		sub.end(func(C.uint64_t) {})
		return nil, nil, err
	}
	l.mu.Lock()
	l.subs = append(l.subs, sub)
	l.mu.Unlock()
	return sub.ch, func() { sub.end(unregister) }, nil
}

// endAll ends every subscription (before the object is freed).
func (l *subscriptionList[T]) endAll(unregister func(C.uint64_t)) {
	l.mu.Lock()
	subs := l.subs
	l.subs = nil
	l.mu.Unlock()
	for _, s := range subs {
		s.end(unregister)
	}
}

// ---- refresher -------------------------------------------------------------------------------

// RefreshEvent tells what a refresher did. It carries no secret.
type RefreshEvent struct {
	Kind                string // "refreshed", "adopted" or "failed"
	Store               string
	ExpiresAt           time.Time // zero: never
	RedactedKey         string
	KeyFingerprint      string
	Err                 error // failures only: an *Error
	ConsecutiveFailures int
	// NextAttempt is when the refresher tries again after a failure (zero: not planned).
	NextAttempt time.Time
	// Replay: the pass repeated a refresh whose answer was lost. A failure with Replay and
	// ErrFailedPrecondition means the server's replay window has passed (docs/refresh.md).
	Replay bool
}

func newRefreshEvent(ev *C.momento_refresh_event_t) RefreshEvent {
	r := RefreshEvent{
		Kind:           C.GoString(C.momento_refresh_event_kind_str(C.momento_refresh_event_kind(ev))),
		Store:          C.GoString(C.momento_refresh_event_store(ev)),
		ExpiresAt:      epochTime(C.momento_refresh_event_valid_until(ev)),
		RedactedKey:    C.GoString(C.momento_refresh_event_redacted_key(ev)),
		KeyFingerprint: C.GoString(C.momento_refresh_event_key_fingerprint(ev)),
		Replay:         C.momento_refresh_event_replay(ev) == 1,
	}
	if ms := int64(C.momento_refresh_event_next_attempt_ms(ev)); ms != 0 {
		r.NextAttempt = time.UnixMilli(ms)
	}
	if C.momento_refresh_event_kind(ev) == C.MOMENTO_REFRESH_FAILED {
		r.Err = &Error{
			Code:       C.GoString(C.momento_status_str(C.momento_refresh_event_error_code(ev))),
			Message:    C.GoString(C.momento_refresh_event_error_message(ev)),
			Retryable:  C.momento_refresh_event_retryable(ev) == 1,
			GrpcStatus: -1,
		}
		r.ConsecutiveFailures = int(C.momento_refresh_event_consecutive_failures(ev))
	}
	return r
}

//export goRefreshEvent
func goRefreshEvent(ev *C.momento_refresh_event_t, userData unsafe.Pointer) {
	handleOf(userData).Value().(*subscription[RefreshEvent]).deliver(newRefreshEvent(ev))
}

// Refresher keeps one store's key fresh on a library thread. Safe for concurrent use.
type Refresher struct {
	mu   sync.RWMutex
	ptr  *C.momento_refresher_t
	subs subscriptionList[RefreshEvent]
}

// NewRefresher does not start the thread (Start does). Options: WithEndpoint, WithInsecure,
// WithDeadline, WithCAFile, WithRefreshFraction, WithJitterFraction, WithBackoff, WithRecheckInterval; the
// library supplies the defaults of those not given and checks the whole policy.
func NewRefresher(store *Store, opts ...Option) (*Refresher, error) {
	if store == nil {
		return nil, invalid("store is nil")
	}
	s := collect(opts)
	var o *C.momento_refresher_options_t
	var e *C.momento_error_t
	if err := check(C.momento_refresher_options_new(&o, &e), e); err != nil {
		return nil, err
	}
	defer C.momento_refresher_options_free(o)
	var err error
	set := func(f func() C.momento_status_t) {
		if err == nil {
			err = check(f(), e)
		}
	}
	if s.refreshFraction != nil {
		set(func() C.momento_status_t {
			return C.momento_refresher_options_set_refresh_fraction(o, C.double(*s.refreshFraction), &e)
		})
	}
	if s.jitterFraction != nil {
		set(func() C.momento_status_t {
			return C.momento_refresher_options_set_jitter_fraction(o, C.double(*s.jitterFraction), &e)
		})
	}
	if s.backoffInitial != 0 || s.backoffMax != 0 {
		set(func() C.momento_status_t {
			return C.momento_refresher_options_set_backoff_ms(o, C.int64_t(s.backoffInitial.Milliseconds()), C.int64_t(s.backoffMax.Milliseconds()), &e)
		})
	}
	if s.recheckInterval != 0 {
		set(func() C.momento_status_t {
			return C.momento_refresher_options_set_recheck_interval_ms(o, C.int64_t(s.recheckInterval.Milliseconds()), &e)
		})
	}
	if err != nil {
		return nil, err
	}
	var out *C.momento_refresher_t
	err = store.use(func(sp *C.momento_store_t) error {
		return withConfig(s, func(cfg *C.momento_client_config_t) error {
			return withOverride(s, func(ov *C.momento_endpoint_override_t) error {
				return check(C.momento_refresher_new(&out, sp, cfg, ov, o, &e), e)
			})
		})
	})
	if err != nil {
		return nil, err
	}
	r := &Refresher{ptr: out}
	runtime.SetFinalizer(r, (*Refresher).Close)
	return r, nil
}

func (r *Refresher) use(f func(*C.momento_refresher_t) error) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.ptr == nil {
		return closedError("Refresher")
	}
	return f(r.ptr)
}

// Start starts the background thread (idempotent).
func (r *Refresher) Start() error {
	return r.use(func(p *C.momento_refresher_t) error {
		var e *C.momento_error_t
		return check(C.momento_refresher_start(p, &e), e)
	})
}

// Stop stops the background thread and waits for it (idempotent).
func (r *Refresher) Stop() error {
	return r.use(func(p *C.momento_refresher_t) error {
		var e *C.momento_error_t
		return check(C.momento_refresher_stop(p, &e), e)
	})
}

// RefreshNow refreshes on the calling goroutine (a key a peer already rotated is adopted
// instead) and returns the event of the pass; a failed refresh is an event, not an error.
func (r *Refresher) RefreshNow(ctx context.Context) (RefreshEvent, error) {
	var ev *C.momento_refresh_event_t
	err := r.use(func(p *C.momento_refresher_t) error {
		return withContext(ctx, func(e **C.momento_error_t) C.momento_status_t { return C.momento_refresher_refresh_now(&ev, p, e) })
	})
	if err != nil {
		return RefreshEvent{}, err
	}
	defer C.momento_refresh_event_free(ev)
	return newRefreshEvent(ev), nil
}

// RunOnce makes one pass of the refresher's loop on the calling goroutine: a refresh when due
// (or when force is set), else nothing (ran false).
func (r *Refresher) RunOnce(ctx context.Context, force bool) (ev RefreshEvent, ran bool, err error) {
	var out *C.momento_refresh_event_t
	f := C.int32_t(0)
	if force {
		f = 1
	}
	err = r.use(func(p *C.momento_refresher_t) error {
		return withContext(ctx, func(e **C.momento_error_t) C.momento_status_t { return C.momento_refresher_run_once(&out, p, f, e) })
	})
	if err != nil || out == nil {
		return RefreshEvent{}, false, err
	}
	defer C.momento_refresh_event_free(out)
	return newRefreshEvent(out), true, nil
}

// Subscribe returns a channel of events in order (buffer: its capacity) and a function that
// ends the subscription: once it returns nothing more is sent and the channel is closed.
// Read the channel: a full channel holds the library's delivery thread.
func (r *Refresher) Subscribe(buffer int) (<-chan RefreshEvent, func(), error) {
	return r.subs.subscribe(buffer, func(id *C.uint64_t, ud unsafe.Pointer) error {
		return r.use(func(p *C.momento_refresher_t) error {
			var e *C.momento_error_t
			return check(C.momento_refresher_subscribe(id, p, C.momento_refresh_fn(C.momento_go_refresh_cb), ud, nil, &e), e)
		})
	}, r.unsubscribe)
}

func (r *Refresher) unsubscribe(id C.uint64_t) {
	_ = r.use(func(p *C.momento_refresher_t) error {
		C.momento_refresher_unsubscribe(p, id, nil)
		return nil
	})
}

// Close ends every subscription, stops the thread and frees the refresher. Idempotent.
func (r *Refresher) Close() {
	r.subs.endAll(r.unsubscribe)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ptr != nil {
		C.momento_refresher_free(r.ptr)
		r.ptr = nil
		runtime.SetFinalizer(r, nil)
	}
}

// ---- watcher ---------------------------------------------------------------------------------

// WatchedKey is a key a watcher swapped in, without the secret.
type WatchedKey struct {
	Fingerprint string
	ExpiresAt   time.Time // zero: never
}

//export goWatchedKey
func goWatchedKey(k *C.momento_watched_key_t, userData unsafe.Pointer) {
	handleOf(userData).Value().(*subscription[WatchedKey]).deliver(WatchedKey{
		Fingerprint: C.GoString(C.momento_watched_key_fingerprint(k)),
		ExpiresAt:   epochTime(C.momento_watched_key_valid_until(k)),
	})
}

// Watcher is an application's view of a store: it re-reads it every period on a library thread
// and swaps a new key in. Safe for concurrent use.
type Watcher struct {
	mu   sync.RWMutex
	ptr  *C.momento_watcher_t
	subs subscriptionList[WatchedKey]
}

// DefaultWatcherPeriod is the library's default re-read period for NewWatcher.
func DefaultWatcherPeriod() time.Duration {
	return time.Duration(C.momento_watcher_default_period_ms()) * time.Millisecond
}

// NewWatcher reads the store once (it must hold a key) and starts following it.
// Options: WithEndpoint, WithInsecure.
func NewWatcher(store *Store, period time.Duration, opts ...Option) (*Watcher, error) {
	if store == nil {
		return nil, invalid("store is nil")
	}
	var out *C.momento_watcher_t
	err := store.use(func(sp *C.momento_store_t) error {
		return withOverride(collect(opts), func(ov *C.momento_endpoint_override_t) error {
			var e *C.momento_error_t
			return check(C.momento_watcher_new(&out, sp, C.int64_t(period.Milliseconds()), ov, &e), e)
		})
	})
	if err != nil {
		return nil, err
	}
	w := &Watcher{ptr: out}
	runtime.SetFinalizer(w, (*Watcher).Close)
	return w, nil
}

func (w *Watcher) use(f func(*C.momento_watcher_t) error) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.ptr == nil {
		return closedError("Watcher")
	}
	return f(w.ptr)
}

// Current is the credential in service now: a snapshot a later swap leaves unchanged.
func (w *Watcher) Current() (*Credential, error) {
	var out *C.momento_credential_t
	err := w.use(func(p *C.momento_watcher_t) error {
		var e *C.momento_error_t
		return check(C.momento_watcher_current_credential(&out, p, &e), e)
	})
	if err != nil {
		return nil, err
	}
	return newCredential(out), nil
}

// Poll re-reads the store now; true when a new key was swapped in.
func (w *Watcher) Poll(ctx context.Context) (bool, error) {
	var changed C.int32_t
	err := w.use(func(p *C.momento_watcher_t) error {
		return withContext(ctx, func(e **C.momento_error_t) C.momento_status_t { return C.momento_watcher_poll(&changed, p, e) })
	})
	return changed == 1, err
}

// NotifyUnauthenticated asks for an early re-read after an ErrAuthentication. Never blocks.
func (w *Watcher) NotifyUnauthenticated() error {
	return w.use(func(p *C.momento_watcher_t) error {
		var e *C.momento_error_t
		return check(C.momento_watcher_notify_unauthenticated(p, &e), e)
	})
}

// Subscribe returns a channel of the keys swapped in from now on and a function that ends the
// subscription (see Refresher.Subscribe).
func (w *Watcher) Subscribe(buffer int) (<-chan WatchedKey, func(), error) {
	return w.subs.subscribe(buffer, func(id *C.uint64_t, ud unsafe.Pointer) error {
		return w.use(func(p *C.momento_watcher_t) error {
			var e *C.momento_error_t
			return check(C.momento_watcher_subscribe(id, p, C.momento_watch_fn(C.momento_go_watch_cb), ud, nil, &e), e)
		})
	}, w.unsubscribe)
}

func (w *Watcher) unsubscribe(id C.uint64_t) {
	_ = w.use(func(p *C.momento_watcher_t) error {
		C.momento_watcher_unsubscribe(p, id, nil)
		return nil
	})
}

// Close ends every subscription, stops the thread and frees the watcher. Idempotent.
func (w *Watcher) Close() {
	w.subs.endAll(w.unsubscribe)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ptr != nil {
		C.momento_watcher_free(w.ptr)
		w.ptr = nil
		runtime.SetFinalizer(w, nil)
	}
}
