package momentoauth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"momento-auth/momentoauth"
)

func dataClient(t testing.TB, s *testServer, key string) *momentoauth.DataClient {
	t.Helper()
	c, err := momentoauth.NewDataClient(cred(t, s, key), momentoauth.WithDeadline(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wantHit(t *testing.T, c *momentoauth.DataClient, cache string, key, want []byte) {
	t.Helper()
	v, found, err := c.Get(context.Background(), cache, key)
	if err != nil || !found || !bytes.Equal(v, want) {
		t.Fatalf("get %q: %q %v %v, want %q", key, v, found, err, want)
	}
}

func wantMiss(t *testing.T, c *momentoauth.DataClient, cache string, key []byte) {
	t.Helper()
	v, found, err := c.Get(context.Background(), cache, key)
	if err != nil || found || v != nil {
		t.Fatalf("get %q: %q %v %v, want a miss", key, v, found, err)
	}
}

func TestDataClient(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	admin := dataClient(t, s, s.SuperKey)
	if err := admin.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"go-a", "go-b"} {
		if err := admin.CreateCache(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	err := admin.CreateCache(ctx, "go-a")
	wantCode(t, err, momentoauth.ErrAlreadyExists)
	if e := new(momentoauth.Error); !errors.As(err, &e) || e.GrpcStatus != 6 {
		t.Fatalf("ALREADY_EXISTS: %#v", err)
	}
	names, err := admin.ListCaches(ctx)
	if err != nil || !slices.Contains(names, "go-a") || !slices.Contains(names, "go-b") {
		t.Fatalf("list: %v %v", names, err)
	}

	// Binary keys and values survive, NUL bytes included; an empty value is a hit.
	key, val := []byte("k\x00x"), []byte("v\x00\xffw")
	if err := admin.Set(ctx, "go-a", key, val, time.Minute); err != nil {
		t.Fatal(err)
	}
	wantHit(t, admin, "go-a", key, val)
	wantMiss(t, admin, "go-a", []byte("k"))
	if err := admin.Set(ctx, "go-a", []byte("empty"), nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	wantHit(t, admin, "go-a", []byte("empty"), []byte{})
	if err := admin.Delete(ctx, "go-a", key); err != nil {
		t.Fatal(err)
	}
	wantMiss(t, admin, "go-a", key)
	if err := admin.FlushCache(ctx, "go-a"); err != nil {
		t.Fatal(err)
	}
	wantMiss(t, admin, "go-a", []byte("empty"))

	if err := admin.DeleteCache(ctx, "go-b"); err != nil {
		t.Fatal(err)
	}
	if names, _ := admin.ListCaches(ctx); slices.Contains(names, "go-b") {
		t.Fatalf("go-b still listed: %v", names)
	}
	wantCode(t, admin.DeleteCache(ctx, "go-b"), momentoauth.ErrNotFound)
	wantCode(t, admin.FlushCache(ctx, "go-b"), momentoauth.ErrNotFound)
	_, _, err = admin.Get(ctx, "go-b", []byte("k"))
	wantCode(t, err, momentoauth.ErrNotFound)

	// Bad input is refused before anything is sent, naming the argument.
	for _, err := range []error{
		admin.CreateCache(ctx, "bad\x00name"),
		admin.CreateCache(ctx, "bad\xffname"),
		admin.CreateCache(ctx, ""),
		admin.Set(ctx, "go-a", []byte("k"), []byte("v"), 0),
		admin.Set(ctx, "go-a", nil, []byte("v"), time.Minute),
	} {
		wantCode(t, err, momentoauth.ErrInvalidArgument)
	}
	_, err = admin.ListCaches(nil) //nolint:staticcheck // a nil context is refused
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	_, err = momentoauth.NewDataClient(nil)
	wantCode(t, err, momentoauth.ErrInvalidArgument)

	// A read-only key reads but neither writes nor manages caches; an unknown key is refused.
	auth := client(t, s, s.SuperKey)
	reader := dataClient(t, s, mint(t, auth, momentoauth.AllDataReadOnly).ApiKey)
	wantMiss(t, reader, "go-a", []byte("k"))
	err = reader.Set(ctx, "go-a", []byte("k"), []byte("v"), time.Second)
	wantCode(t, err, momentoauth.ErrPermission)
	wantCode(t, reader.DeleteCache(ctx, "go-a"), momentoauth.ErrPermission)
	// {"endpoint":"localhost","api_key":"not-a-key"} as a v1 envelope
	bogus := dataClient(t, s, "eyJlbmRwb2ludCI6ImxvY2FsaG9zdCIsImFwaV9rZXkiOiJub3QtYS1rZXkifQ==")
	_, err = bogus.ListCaches(ctx)
	wantCode(t, err, momentoauth.ErrAuthentication)
	if strings.Contains(err.Error(), "not-a-key") {
		t.Fatalf("the key is in the error: %v", err)
	}
	if err := bogus.Ping(ctx); err != nil { // Ping needs no key
		t.Fatal(err)
	}

	// Shared between goroutines; closed, it refuses calls.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			k := []byte{byte('a' + i)}
			if err := admin.Set(ctx, "go-a", k, k, time.Minute); err != nil {
				errs <- err
				return
			}
			if v, found, err := admin.Get(ctx, "go-a", k); err != nil || !found || !bytes.Equal(v, k) {
				errs <- errors.Join(err, errors.New("wrong value"))
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	admin.Close()
	admin.Close()
	wantCode(t, admin.Ping(ctx), momentoauth.ErrFailedPrecondition)
	_, err = admin.ListCaches(ctx)
	wantCode(t, err, momentoauth.ErrFailedPrecondition)
}

// A context ends a data call in flight through the library's cancel token.
func TestDataClientContext(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c, err := momentoauth.LocalCredential("127.0.0.1", uint16(silent.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	dc, err := momentoauth.NewDataClient(c, momentoauth.WithDeadline(60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = dc.ListCaches(ctx)
	if time.Since(start) > 30*time.Second {
		t.Fatal("the context deadline did not reach the call")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, momentoauth.ErrCancelled) {
		t.Fatalf("deadline: %v", err)
	}
}

// recorder is a slog.Handler that keeps the records at or above min.
type recorder struct {
	min     slog.Level
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.min }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler           { return r }
func (r *recorder) WithGroup(string) slog.Handler                { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.records)
}

// reentrant tries to replace the handler from inside the handler (refused by the library).
type reentrant struct {
	recorder
	once sync.Once
	err  error
}

func (r *reentrant) Handle(ctx context.Context, rec slog.Record) error {
	r.once.Do(func() { r.err = momentoauth.SetLogHandler(nil) })
	return r.recorder.Handle(ctx, rec)
}

func TestLogHandler(t *testing.T) {
	t.Cleanup(func() { _ = momentoauth.SetLogHandler(nil) })
	secret := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzb21lb25lIn0.c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ"
	debug := &recorder{min: slog.LevelDebug}
	if err := momentoauth.SetLogHandler(debug); err != nil {
		t.Fatal(err)
	}
	if c, err := momentoauth.CredentialFromString(secret); err == nil {
		c.Close()
	}
	_, _ = momentoauth.CredentialFromString("not a credential") // logged at debug level
	if debug.count() == 0 {
		t.Fatal("no log record")
	}
	debug.mu.Lock()
	for _, rec := range debug.records {
		if rec.Level < slog.LevelDebug || rec.Level > slog.LevelError || rec.Message == "" {
			t.Fatalf("record %v %q", rec.Level, rec.Message)
		}
		if strings.Contains(rec.Message, secret) || strings.Contains(rec.Message, "c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ") {
			t.Fatalf("a secret in the log: %q", rec.Message)
		}
	}
	debug.mu.Unlock()

	// Replaced by a handler that enables WARN and above only: the debug one hears nothing more,
	// and the new one receives no debug message.
	warn := &recorder{min: slog.LevelWarn}
	if err := momentoauth.SetLogHandler(warn); err != nil {
		t.Fatal(err)
	}
	before := debug.count()
	_, _ = momentoauth.CredentialFromString("not a credential")
	if debug.count() != before || warn.count() != 0 {
		t.Fatalf("after replacing: old %d -> %d, new %d", before, debug.count(), warn.count())
	}

	// The program's own slog handler works too, and removing stops the messages.
	var buf bytes.Buffer
	var bufMu sync.Mutex
	text := slog.NewTextHandler(lockedWriter{&buf, &bufMu}, &slog.HandlerOptions{Level: slog.LevelDebug})
	if err := momentoauth.SetLogHandler(text); err != nil {
		t.Fatal(err)
	}
	_, _ = momentoauth.CredentialFromString("not a credential")
	if err := momentoauth.SetLogHandler(nil); err != nil {
		t.Fatal(err)
	}
	bufMu.Lock()
	logged := buf.String()
	bufMu.Unlock()
	if !strings.Contains(logged, "level=DEBUG") {
		t.Fatalf("text handler output: %q", logged)
	}
	_, _ = momentoauth.CredentialFromString("not a credential")
	bufMu.Lock()
	if buf.String() != logged {
		t.Fatal("a message after the handler was removed")
	}
	bufMu.Unlock()

	// Replacing the handler from inside a handler is refused, not a deadlock.
	re := &reentrant{recorder: recorder{min: slog.LevelDebug}}
	if err := momentoauth.SetLogHandler(re); err != nil {
		t.Fatal(err)
	}
	_, _ = momentoauth.CredentialFromString("not a credential")
	wantCode(t, re.err, momentoauth.ErrFailedPrecondition)
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
