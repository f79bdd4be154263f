package momentoauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"momento-auth/momentoauth"
)

func cred(t testing.TB, s *testServer, key string) *momentoauth.Credential {
	t.Helper()
	c, err := momentoauth.CredentialFromString(key, momentoauth.WithEndpoint(s.Addr), momentoauth.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func client(t testing.TB, s *testServer, key string) *momentoauth.AuthClient {
	t.Helper()
	c, err := momentoauth.NewAuthClient(cred(t, s, key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mint(t testing.TB, c *momentoauth.AuthClient, scope momentoauth.Scope) *momentoauth.ApiKeyResult {
	t.Helper()
	r, err := c.GenerateApiKey(context.Background(), scope, momentoauth.ExpiresInMinutes(30))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantCode(t testing.TB, err error, sentinel error) {
	t.Helper()
	var e *momentoauth.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *momentoauth.Error, got %v", err)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("want %v, got %v", sentinel, err)
	}
}

func TestABI(t *testing.T) {
	if err := momentoauth.CheckABI(); err != nil {
		t.Fatal(err)
	}
	if v := momentoauth.LibraryVersion(); strings.Count(v, ".") != 2 {
		t.Fatalf("version %q", v)
	}
}

// An aws-sm: store configured only through the options, against a local Secrets Manager (moto);
// ctest sets fixed test credentials and no AWS region, endpoint or config file.
func TestAWSStoreOptions(t *testing.T) {
	endpoint := startMoto(t)
	s := startServer(t)
	admin := client(t, s, s.SuperKey)
	region, ep := momentoauth.WithAWSRegion("us-east-1"), momentoauth.WithAWSEndpoint(endpoint)
	st, err := momentoauth.OpenStore("aws-sm:go-binding-test", region, ep)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	r := mint(t, admin, momentoauth.AllDataReadWrite)
	if err := st.Save(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Load(ctx); err != nil || got.ApiKey != r.ApiKey {
		t.Fatalf("load: %v", err)
	}
	// A named profile: its credentials, from a shared credentials file.
	creds := filepath.Join(t.TempDir(), "aws-credentials")
	if err := os.WriteFile(creds, []byte("[binding-test]\naws_access_key_id = AKIDMOTOTEST\naws_secret_access_key = motosecret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	named, err := momentoauth.OpenStore("aws-sm:go-binding-test", region, ep, momentoauth.WithAWSProfile("binding-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer named.Close()
	if got, err := named.Load(ctx); err != nil || got.ApiKey != r.ApiKey {
		t.Fatalf("load with a profile: %v", err)
	}
	if _, err := momentoauth.OpenStore("aws-sm:x", region, ep, momentoauth.WithAWSProfile("no-such-profile")); err == nil ||
		!strings.Contains(err.Error(), "no-such-profile") {
		t.Fatalf("missing profile: %v", err)
	}
	_, err = momentoauth.OpenStore("aws-sm:x", momentoauth.WithAWSEndpoint("ftp://127.0.0.1"))
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	if !strings.Contains(err.Error(), "endpoint_url") {
		t.Fatalf("bad endpoint: %v", err)
	}
	_, err = momentoauth.OpenStore("aws-sm:x", momentoauth.WithAWSRegion("us\x00east"))
	wantCode(t, err, momentoauth.ErrInvalidArgument)
}

// WithCAFile makes a server with a self-signed certificate trusted over TLS.
func TestCAFile(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	gen := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
		"-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Skipf("openssl cannot make a certificate: %v\n%s", err, out)
	}
	s := startServer(t, "--tls-cert", cert, "--tls-key", key)
	port := s.Addr[strings.LastIndexByte(s.Addr, ':')+1:]
	c, err := momentoauth.CredentialFromFile(filepath.Join(s.Dir, "bootstrap.json"), momentoauth.WithEndpoint("localhost:"+port))
	if err != nil {
		t.Fatal(err)
	}
	ac, err := momentoauth.NewAuthClient(c, momentoauth.WithCAFile(cert))
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	mint(t, ac, momentoauth.AllDataReadOnly)
	_, err = momentoauth.NewAuthClient(c, momentoauth.WithCAFile(filepath.Join(dir, "missing.pem")))
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	if !strings.Contains(err.Error(), "CA file cannot be read") {
		t.Fatalf("missing CA file: %v", err)
	}
}

// A library with every symbol but another ABI version (MOMENTO_ABI_STUB, built by
// tests/bindings) is refused: CheckABI and every constructor return one clear error. The stub
// is preloaded in a child process; having its soname, it stands in for libmomento_auth.so.1.
func TestWrongABIIsRefused(t *testing.T) {
	if os.Getenv("MOMENTO_WRONG_ABI_CHILD") == "1" {
		want := fmt.Sprintf("momentoauth was built for libmomento_auth ABI %d, but the loaded library (version %s.0.0) has ABI %s: "+
			"rebuild against the installed library", momentoauth.HeaderABIVersion, os.Getenv("MOMENTO_ABI_STUB_VERSION"),
			os.Getenv("MOMENTO_ABI_STUB_VERSION"))
		if err := momentoauth.CheckABI(); err == nil || err.Error() != want {
			t.Fatalf("CheckABI: %v\nwant: %s", err, want)
		}
		if _, err := momentoauth.CredentialFromString("anything"); err == nil || err.Error() != want {
			t.Fatalf("CredentialFromString: %v", err)
		}
		if _, err := momentoauth.LocalCredential("", 0); err == nil || err.Error() != want {
			t.Fatalf("LocalCredential: %v", err)
		}
		return
	}
	stub := os.Getenv("MOMENTO_ABI_STUB")
	if stub == "" {
		t.Skip("MOMENTO_ABI_STUB is not set (ctest sets it)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWrongABIIsRefused$", "-test.v")
	cmd.Env = append(os.Environ(), "MOMENTO_WRONG_ABI_CHILD=1", "LD_PRELOAD="+stub)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestWrongABIIsRefused") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func TestRoundTrip(t *testing.T) {
	s := startServer(t)
	admin := client(t, s, s.SuperKey)
	ctx := context.Background()
	r, err := admin.GenerateApiKey(ctx, momentoauth.AllDataReadWrite, momentoauth.ExpiresInMinutes(30))
	if err != nil {
		t.Fatal(err)
	}
	if r.ApiKey == "" || r.RefreshToken == "" {
		t.Fatal("empty key or refresh token")
	}
	if d := time.Until(r.ExpiresAt); d < 28*time.Minute || d > 31*time.Minute {
		t.Fatalf("expires in %v", d)
	}
	other := client(t, s, r.ApiKey)
	r2, err := other.RefreshApiKey(ctx, r.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if r2.ApiKey == r.ApiKey || r2.ExpiresAt.IsZero() {
		t.Fatal("refresh returned the same key or no expiry")
	}
	never, err := admin.GenerateApiKey(ctx, momentoauth.AllDataReadOnly, momentoauth.ExpiresNever())
	if err != nil {
		t.Fatal(err)
	}
	if never.RefreshToken != "" || !never.ExpiresAt.IsZero() {
		t.Fatal("a never-expiring key has a refresh token or an expiry")
	}
}

func TestScopes(t *testing.T) {
	s := startServer(t)
	admin := client(t, s, s.SuperKey)
	ctx := context.Background()
	fine := momentoauth.Permissions{
		momentoauth.CachePermission{Role: momentoauth.CacheReadOnly, Cache: momentoauth.CacheName("c1")},
		momentoauth.CachePermission{Role: momentoauth.CacheReadWrite, Cache: momentoauth.AllCaches},
		momentoauth.TopicPermission{Role: momentoauth.TopicPublishSubscribe, Cache: momentoauth.CacheName("c1"), Topic: momentoauth.TopicNamePrefix("news-")},
		momentoauth.FunctionPermission{Role: momentoauth.FunctionInvoke, Function: momentoauth.AllFunctions},
	}
	if _, err := admin.GenerateApiKey(ctx, fine, momentoauth.ExpiresInHours(1)); err != nil {
		t.Fatal(err)
	}
	items := momentoauth.Permissions{
		momentoauth.CacheItemPermission{Role: momentoauth.CacheReadWrite, Cache: momentoauth.CacheName("c1"), Item: momentoauth.ItemKey([]byte("k1"))},
		momentoauth.CacheItemPermission{Role: momentoauth.CacheReadOnly, Cache: momentoauth.CacheName("c1"), Item: momentoauth.ItemKeyPrefix([]byte{0, 1, 2})},
		momentoauth.CacheItemPermission{Role: momentoauth.CacheWriteOnly, Cache: momentoauth.CacheName("c2"), Item: momentoauth.AllItems},
	}
	tok, err := admin.GenerateDisposableToken(ctx, items, momentoauth.ExpiresInMinutes(5), "go-test")
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Fatal("disposable tokens have no refresh token")
	}
	dc, err := momentoauth.CredentialFromDisposableToken(tok.ApiKey, momentoauth.WithEndpoint(s.Addr), momentoauth.WithInsecure())
	if err != nil || dc.Kind() != "v1_envelope" {
		t.Fatalf("disposable credential: %v %v", dc, err)
	}
	// The library's rules, reported through the binding.
	_, err = admin.GenerateDisposableToken(ctx, items, momentoauth.ExpiresNever(), "")
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	_, err = admin.GenerateApiKey(ctx, momentoauth.Permissions{momentoauth.CachePermission{Role: momentoauth.CacheReadOnly, Cache: momentoauth.CacheName("")}}, momentoauth.ExpiresInMinutes(1))
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	var eleven momentoauth.Permissions
	for i := 0; i < 11; i++ {
		eleven = append(eleven, momentoauth.CachePermission{Role: momentoauth.CacheReadOnly, Cache: momentoauth.CacheName(fmt.Sprint("c", i))})
	}
	_, err = admin.GenerateApiKey(ctx, eleven, momentoauth.ExpiresInMinutes(1))
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	_, err = admin.GenerateApiKey(ctx, momentoauth.AllDataReadOnly, momentoauth.ExpiresInMinutes(-1))
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	_, err = admin.GenerateApiKey(ctx, nil, momentoauth.ExpiresInMinutes(1))
	wantCode(t, err, momentoauth.ErrInvalidArgument)
}

func TestCredentialsAndTokenFile(t *testing.T) {
	s := startServer(t)
	admin := client(t, s, s.SuperKey)
	r := mint(t, admin, momentoauth.AllDataReadWrite)
	file := filepath.Join(t.TempDir(), "token.json")
	if err := r.WriteFile(file); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	var f map[string]any
	b, _ := os.ReadFile(file)
	if err := json.Unmarshal(b, &f); err != nil || f["authToken"] != r.ApiKey || f["refreshToken"] != r.RefreshToken {
		t.Fatalf("token file %v", err)
	}
	js, err := r.DownloadJSON()
	if err != nil || !strings.Contains(js, r.RefreshToken) {
		t.Fatal("DownloadJSON")
	}
	// A result is a plain value: a copy gives the same text after the original is gone, and the
	// zero value is bad input, not a crash.
	cp := *r
	r = nil
	runtime.GC()
	if again, err := cp.DownloadJSON(); err != nil || again != js {
		t.Fatalf("DownloadJSON of a copy: %v", err)
	}
	var zero momentoauth.ApiKeyResult
	_, err = zero.DownloadJSON()
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	wantCode(t, zero.WriteFile(filepath.Join(t.TempDir(), "zero.json")), momentoauth.ErrInvalidArgument)
	r = &cp
	fc, err := momentoauth.CredentialFromFile(file, momentoauth.WithEndpoint(s.Addr), momentoauth.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	if fc.RefreshToken() != r.RefreshToken {
		t.Fatal("refresh token from the file")
	}
	at, known, err := fc.ExpiresAt()
	if err != nil || !known || !at.Equal(r.ExpiresAt) {
		t.Fatalf("expiry %v %v %v", at, known, err)
	}
	store, err := momentoauth.OpenStore("file:" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	loaded, err := store.Load(context.Background())
	if err != nil || loaded.ApiKey != r.ApiKey {
		t.Fatalf("store load: %v", err)
	}
	t.Setenv("GO_BINDING_TEST_KEY", s.SuperKey)
	ec, err := momentoauth.CredentialFromEnvironment("GO_BINDING_TEST_KEY", momentoauth.WithEndpoint(s.Addr), momentoauth.WithInsecure())
	if err != nil || ec.Kind() != "v1_envelope" {
		t.Fatalf("env credential: %v", err)
	}
	_, err = momentoauth.CredentialFromEnvironment("GO_BINDING_UNSET_VARIABLE")
	if err == nil || !strings.Contains(err.Error(), "GO_BINDING_UNSET_VARIABLE") {
		t.Fatalf("unset variable: %v", err)
	}
	_, err = momentoauth.CredentialFromApiKeyV2("not-a-v2-key", "example.com")
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	lc, err := momentoauth.LocalCredential("127.0.0.1", 9)
	if err != nil || lc.Kind() != "local" {
		t.Fatalf("local: %v", err)
	}
	_, err = momentoauth.CredentialFromFile(filepath.Join(t.TempDir(), "missing.json"))
	if err == nil {
		t.Fatal("missing file parsed")
	}
}

func TestRedaction(t *testing.T) {
	s := startServer(t)
	admin := client(t, s, s.SuperKey)
	r := mint(t, admin, momentoauth.AllDataReadWrite)
	c := cred(t, s, r.ApiKey)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for _, shown := range []string{fmt.Sprintf(verb, r), fmt.Sprintf(verb, c), fmt.Sprintf(verb, []any{r, c})} {
			if strings.Contains(shown, r.ApiKey) || strings.Contains(shown, r.RefreshToken) {
				t.Fatalf("%s shows a secret: %s", verb, shown)
			}
		}
	}
	if !strings.Contains(fmt.Sprint(r), momentoauth.Redact(r.ApiKey)) {
		t.Fatal("the redacted form is the library's")
	}
	secret := "this-is-a-secret-value-that-must-not-leak"
	_, err := momentoauth.CredentialFromString(secret)
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("error echoes the key: %v", err)
	}
}

func TestErrors(t *testing.T) {
	s := startServer(t)
	admin := client(t, s, s.SuperKey)
	ctx := context.Background()
	ro := mint(t, admin, momentoauth.AllDataReadOnly)
	_, err := client(t, s, ro.ApiKey).GenerateApiKey(ctx, momentoauth.AllDataReadWrite, momentoauth.ExpiresInMinutes(1))
	wantCode(t, err, momentoauth.ErrPermission)
	var e *momentoauth.Error
	if errors.As(err, &e); e.Code != "PERMISSION_ERROR" || e.Retryable || e.GrpcStatus != 7 {
		t.Fatalf("%+v", e)
	}
	if errors.Is(err, momentoauth.ErrAuthentication) {
		t.Fatal("matches another code")
	}
	rw := mint(t, admin, momentoauth.AllDataReadWrite)
	_, err = client(t, s, rw.ApiKey).RefreshApiKey(ctx, "not-the-refresh-token")
	if !errors.As(err, &e) || e.Code == "UNKNOWN_ERROR" {
		t.Fatalf("wrong refresh token: %v", err)
	}
	gone, err := momentoauth.CredentialFromString(s.SuperKey, momentoauth.WithEndpoint("127.0.0.1:1"), momentoauth.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	gc, err := momentoauth.NewAuthClient(gone, momentoauth.WithDeadline(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	_, err = gc.GenerateApiKey(ctx, momentoauth.AllDataReadWrite, momentoauth.ExpiresInMinutes(1))
	if !errors.As(err, &e) || !e.Retryable {
		t.Fatalf("unreachable server: %v", err)
	}
	// Every sentinel names its own canonical code.
	seen := map[string]bool{}
	for _, s := range []error{momentoauth.ErrInvalidArgument, momentoauth.ErrAuthentication, momentoauth.ErrPermission,
		momentoauth.ErrNotFound, momentoauth.ErrAlreadyExists, momentoauth.ErrLimitExceeded, momentoauth.ErrFailedPrecondition,
		momentoauth.ErrCancelled, momentoauth.ErrTimeout, momentoauth.ErrServerUnavailable, momentoauth.ErrInternalServer,
		momentoauth.ErrUnknownService, momentoauth.ErrBadRequest, momentoauth.ErrConnection,
		momentoauth.ErrClientResourceExhausted, momentoauth.ErrUnknown} {
		code := s.(*momentoauth.Error).Code
		if seen[code] || code == "UNRECOGNIZED_STATUS" {
			t.Fatalf("sentinel code %q", code)
		}
		seen[code] = true
	}
}

func TestBadInput(t *testing.T) {
	s := startServer(t)
	admin := client(t, s, s.SuperKey)
	_, err := momentoauth.CredentialFromString("abc\x00def")
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	if !strings.Contains(err.Error(), "key must not contain a NUL byte") {
		t.Fatal(err)
	}
	_, err = momentoauth.CredentialFromString("abc\xff")
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	_, err = momentoauth.CredentialFromString(strings.Repeat("A", 8<<20))
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	_, err = admin.RefreshApiKey(context.Background(), strings.Repeat("A", 8<<20))
	if err == nil {
		t.Fatal("huge refresh token accepted")
	}
	_, err = momentoauth.NewAuthClient(nil)
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	c := client(t, s, s.SuperKey)
	c.Close()
	c.Close()
	_, err = c.GenerateApiKey(context.Background(), momentoauth.AllDataReadOnly, momentoauth.ExpiresInMinutes(1))
	wantCode(t, err, momentoauth.ErrFailedPrecondition)
	//lint:ignore SA1012 a nil context is bad input
	_, err = admin.GenerateApiKey(nil, momentoauth.AllDataReadOnly, momentoauth.ExpiresInMinutes(1)) //nolint:staticcheck
	wantCode(t, err, momentoauth.ErrInvalidArgument)
	cr := cred(t, s, s.SuperKey)
	cr.Close()
	_, err = momentoauth.NewAuthClient(cr)
	wantCode(t, err, momentoauth.ErrFailedPrecondition)
	if fmt.Sprint(cr) != "Credential(Credential(closed))" {
		t.Fatal(fmt.Sprint(cr))
	}
}

func TestContextCancellation(t *testing.T) {
	s := startServer(t)
	admin := client(t, s, s.SuperKey)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := admin.GenerateApiKey(ctx, momentoauth.AllDataReadOnly, momentoauth.ExpiresInMinutes(1))
	wantCode(t, err, momentoauth.ErrCancelled)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("not context.Canceled: %v", err)
	}
	// A listener that never answers: the call would wait for its 60 s deadline; the context ends it.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	bh, err := momentoauth.CredentialFromString(s.SuperKey, momentoauth.WithEndpoint(silent.Addr().String()), momentoauth.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	slow, err := momentoauth.NewAuthClient(bh, momentoauth.WithDeadline(60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	dctx, dcancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer dcancel()
	start := time.Now()
	_, err = slow.GenerateApiKey(dctx, momentoauth.AllDataReadOnly, momentoauth.ExpiresInMinutes(1))
	if time.Since(start) > 30*time.Second {
		t.Fatal("the context deadline did not reach the call")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, momentoauth.ErrCancelled) {
		t.Fatalf("deadline: %v", err)
	}
	// The client stays usable after a cancelled call.
	mint(t, admin, momentoauth.AllDataReadOnly)
}

func TestConcurrentUse(t *testing.T) {
	s := startServer(t)
	admin := client(t, s, s.SuperKey)
	var wg sync.WaitGroup
	keys := make(chan string, 32)
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r, err := admin.GenerateApiKey(ctx, momentoauth.AllDataReadOnly, momentoauth.ExpiresInMinutes(5))
			if err != nil {
				errs <- err
				return
			}
			keys <- r.ApiKey
		}(i)
	}
	// Close waits for the calls in flight.
	wg.Wait()
	close(keys)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for k := range keys {
		seen[k] = true
	}
	if len(seen) != 32 {
		t.Fatalf("%d distinct keys", len(seen))
	}
	c := client(t, s, s.SuperKey)
	var wg2 sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			_, err := c.GenerateApiKey(context.Background(), momentoauth.AllDataReadOnly, momentoauth.ExpiresInMinutes(1))
			if err != nil && !errors.Is(err, momentoauth.ErrFailedPrecondition) {
				t.Error(err)
			}
		}()
	}
	c.Close()
	wg2.Wait()
}

func tokenStore(t *testing.T, s *testServer, admin *momentoauth.AuthClient) (*momentoauth.Store, string) {
	r := mint(t, admin, momentoauth.AllDataReadWrite)
	file := filepath.Join(t.TempDir(), "token.json")
	if err := r.WriteFile(file); err != nil {
		t.Fatal(err)
	}
	st, err := momentoauth.OpenStore("file:" + file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st, file
}

func TestWatcherPicksUpRefresh(t *testing.T) {
	s := startServer(t)
	admin := client(t, s, s.SuperKey)
	store, file := tokenStore(t, s, admin)
	ctx := context.Background()
	if p := momentoauth.DefaultWatcherPeriod(); p != 30*time.Second {
		t.Fatalf("the library's default watcher period is %v, want 30s", p)
	}
	w, err := momentoauth.NewWatcher(store, momentoauth.DefaultWatcherPeriod(), momentoauth.WithEndpoint(s.Addr), momentoauth.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	keys, stopKeys, err := w.Subscribe(4)
	if err != nil {
		t.Fatal(err)
	}
	defer stopKeys()
	r, err := momentoauth.NewRefresher(store, momentoauth.WithEndpoint(s.Addr), momentoauth.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// One pass: the first look adopts the stored key, which is not due; the next does nothing.
	if first, ran, err := r.RunOnce(ctx, false); err != nil || !ran || first.Kind != "adopted" {
		t.Fatalf("first pass: %+v %v %v", first, ran, err)
	}
	if _, ran, err := r.RunOnce(ctx, false); err != nil || ran {
		t.Fatalf("second pass: %v %v", ran, err)
	}
	if store.Kind() != "file" || store.Location() != file {
		t.Fatalf("store kind %q location %q", store.Kind(), store.Location())
	}
	events, stopEvents, err := r.Subscribe(4)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := w.Current()
	ev, err := r.RefreshNow(ctx)
	if err != nil || ev.Kind != "refreshed" || !ev.NextAttempt.IsZero() || ev.Replay {
		t.Fatalf("refresh: %+v %v", ev, err)
	}
	select {
	case got := <-events:
		if got.Kind != "refreshed" || got.KeyFingerprint != ev.KeyFingerprint {
			t.Fatalf("event %+v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no refresh event on the channel")
	}
	stopEvents()
	if _, open := <-events; open {
		t.Fatal("channel open after unsubscribe")
	}
	// The watcher may already have the new key from the file's directory event; Poll then
	// reports no change. The key must arrive either way (below).
	if _, err := w.Poll(ctx); err != nil {
		t.Fatalf("poll: %v", err)
	}
	select {
	case k := <-keys:
		if k.Fingerprint != ev.KeyFingerprint {
			t.Fatal("watched key differs from the refreshed one")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no key on the watcher's channel")
	}
	after, _ := w.Current()
	if after.String() == before.String() {
		t.Fatal("the watcher still serves the old key")
	}
	stored, err := momentoauth.CredentialFromFile(file)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := momentoauth.NewAuthClient(after)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.RefreshApiKey(ctx, stored.RefreshToken()); err != nil {
		t.Fatalf("the watched key does not work: %v", err)
	}
	// A failed refresh is an event, not an error.
	bad, err := momentoauth.NewRefresher(store, momentoauth.WithEndpoint("127.0.0.1:1"), momentoauth.WithInsecure(), momentoauth.WithDeadline(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	fev, err := bad.RefreshNow(ctx)
	if err != nil || fev.Kind != "failed" || fev.Err == nil || fev.ConsecutiveFailures != 1 || fev.NextAttempt.IsZero() || fev.Replay {
		t.Fatalf("failed refresh: %+v %v", fev, err)
	}
	_, err = momentoauth.NewRefresher(store, momentoauth.WithRefreshFraction(1.5))
	wantCode(t, err, momentoauth.ErrInvalidArgument)
}

func TestNothingAfterUnsubscribe(t *testing.T) {
	s := startServer(t)
	admin := client(t, s, s.SuperKey)
	store, _ := tokenStore(t, s, admin)
	ctx := context.Background()
	w, err := momentoauth.NewWatcher(store, 50*time.Millisecond, momentoauth.WithEndpoint(s.Addr), momentoauth.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	keys, _, err := w.Subscribe(0) // unbuffered: a reader that stops reading
	if err != nil {
		t.Fatal(err)
	}
	r, err := momentoauth.NewRefresher(store, momentoauth.WithEndpoint(s.Addr), momentoauth.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.RefreshNow(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-keys:
	case <-time.After(10 * time.Second):
		t.Fatal("the periodic re-read delivered nothing")
	}
	if _, err := r.RefreshNow(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the delivery thread now waits on the unread channel
	done := make(chan struct{})
	go func() { w.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung on a delivery nobody reads")
	}
	for range keys { // closed: drains what was sent before Close, then ends
	}
	if _, err := w.Poll(ctx); !errors.Is(err, momentoauth.ErrFailedPrecondition) {
		t.Fatalf("poll after close: %v", err)
	}
}

func rssKiB(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(line)[1])
			return n
		}
	}
	t.Skip("no VmRSS")
	return 0
}

func TestNoLeakOverBoundedLoop(t *testing.T) {
	s := startServer(t)
	round := func(n int) int {
		for i := 0; i < n; i++ {
			c, err := momentoauth.CredentialFromString(s.SuperKey, momentoauth.WithEndpoint(s.Addr), momentoauth.WithInsecure())
			if err != nil {
				t.Fatal(err)
			}
			ac, err := momentoauth.NewAuthClient(c)
			if err != nil {
				t.Fatal(err)
			}
			r, err := ac.GenerateApiKey(context.Background(), momentoauth.AllDataReadOnly, momentoauth.ExpiresInMinutes(1))
			if err != nil {
				t.Fatal(err)
			}
			_ = fmt.Sprint(r)
			_, _ = momentoauth.CredentialFromString("bad\x00")
			// Keys and refresh tokens cross as copies, on the stack when short, on the heap when long.
			_, _ = momentoauth.CredentialFromString(strings.Repeat("A", 4096))
			if _, err := ac.RefreshApiKey(context.Background(), strings.Repeat("r", 3000)); err == nil {
				t.Fatal("a made-up refresh token was accepted")
			}
			// A cancellable context (a cancel token per call), the data client, a log handler.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			dc, err := momentoauth.NewDataClient(c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dc.ListCaches(ctx); err != nil {
				t.Fatal(err)
			}
			if _, _, err := dc.Get(ctx, "no-such-cache", []byte("k")); !errors.Is(err, momentoauth.ErrNotFound) {
				t.Fatal(err)
			}
			cancel()
			if err := momentoauth.SetLogHandler(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})); err != nil {
				t.Fatal(err)
			}
			dc.Close()
			ac.Close()
			c.Close()
		}
		if err := momentoauth.SetLogHandler(nil); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
		return rssKiB(t)
	}
	if os.Getenv("MOMENTO_UNDER_ASAN") == "1" {
		// Built with -asan (ctest bindings.go_asan): LeakSanitizer checks at exit that every C
		// allocation was freed or is still referenced; RSS means nothing under ASan.
		round(40)
		return
	}
	round(150)
	base := round(150)
	end := round(600)
	if grew := end - base; grew > 12*1024 {
		t.Fatalf("RSS grew %d KiB over 600 rounds", grew)
	}
}

// The README's example module uses this package through a replace directive.
func TestReadmeExample(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	// The example writes momento_token.json into its working directory: build, then run elsewhere.
	bin := filepath.Join(dir, "example")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
	build.Dir = "example"
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := exec.Command(bin, filepath.Join(s.Dir, "bootstrap.json"), s.Addr)
	run.Dir = dir
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("example: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "minted ApiKeyResult(") || !strings.Contains(string(out), "refreshed, expires 20") {
		t.Fatalf("example output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "momento_token.json")); err != nil {
		t.Fatal(err)
	}
}
