// Momento's official Go SDK (github.com/momentohq/client-sdk-go, pinned in go.mod) as a client of
// momento-auth-server.
package interop

import (
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/momentohq/client-sdk-go/momento"
	"github.com/momentohq/client-sdk-go/responses"
	authResponses "github.com/momentohq/client-sdk-go/responses/auth"
	"github.com/momentohq/client-sdk-go/utils"

	"momento-auth/interop/sdkhelp"
)

type env struct {
	srv       *sdkhelp.Server
	superKey  string
	cacheName string
	super     momento.CacheClient
	superAuth momento.AuthClient
}

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), rand.Int63())
}

func setup(t *testing.T, serverArgs ...string) *env {
	t.Helper()
	bin := os.Getenv("MOMENTO_SERVER_BIN")
	if bin == "" {
		t.Fatal("MOMENTO_SERVER_BIN is not set (ctest sets it)")
	}
	srv, err := sdkhelp.StartServer(bin, serverArgs...)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(srv.Stop)
	e := &env{srv: srv, superKey: srv.Bootstrap.AuthToken, cacheName: uniqueName("go-cache")}
	e.super = cacheClient(t, e, e.superKey)
	e.superAuth = authClient(t, e, e.superKey)
	ctx, cancel := sdkhelp.Ctx()
	defer cancel()
	resp, err := e.super.CreateCache(ctx, &momento.CreateCacheRequest{CacheName: e.cacheName})
	if err != nil {
		t.Fatalf("CreateCache: %v", err)
	}
	if _, ok := resp.(*responses.CreateCacheSuccess); !ok {
		t.Fatalf("CreateCache: got %T", resp)
	}
	return e
}

func cacheClient(t *testing.T, e *env, credential string) momento.CacheClient {
	t.Helper()
	c, err := sdkhelp.CacheClient(credential, e.srv.Addr)
	if err != nil {
		t.Fatalf("cache client: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func authClient(t *testing.T, e *env, credential string) momento.AuthClient {
	t.Helper()
	c, err := sdkhelp.AuthClient(credential, e.srv.Addr)
	if err != nil {
		t.Fatalf("auth client: %v", err)
	}
	return c
}

// expectError checks that err is an SDK error with the canonical code, gRPC code and (optionally)
// a server details text.
func expectError(t *testing.T, what string, err error, canonical string, grpcCode int, detail string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: expected %s, got success", what, canonical)
	}
	info := sdkhelp.Inspect(err)
	if info.Canonical != canonical || info.GRPCCode != grpcCode {
		t.Fatalf("%s: expected %s (gRPC %d), got SDK code %q gRPC %d: %s", what, canonical, grpcCode, info.SDKCode, info.GRPCCode, info.Details)
	}
	if detail != "" && !strings.Contains(info.Details, detail) {
		t.Fatalf("%s: details %q do not contain %q", what, info.Details, detail)
	}
}

func expectDenied(t *testing.T, what string, err error) {
	t.Helper()
	expectError(t, what, err, "PERMISSION_ERROR", 7, "Insufficient permissions")
}

func expectUnauthenticated(t *testing.T, what string, err error) {
	t.Helper()
	expectError(t, what, err, "AUTHENTICATION_ERROR", 16, "")
}

func set(c momento.CacheClient, cache, key, value string) error {
	ctx, cancel := sdkhelp.Ctx()
	defer cancel()
	_, err := c.Set(ctx, &momento.SetRequest{CacheName: cache, Key: momento.String(key), Value: momento.String(value)})
	return err
}

func get(c momento.CacheClient, cache, key string) (responses.GetResponse, error) {
	ctx, cancel := sdkhelp.Ctx()
	defer cancel()
	return c.Get(ctx, &momento.GetRequest{CacheName: cache, Key: momento.String(key)})
}

func mustSetGet(t *testing.T, c momento.CacheClient, cache, key, value string) {
	t.Helper()
	if err := set(c, cache, key, value); err != nil {
		t.Fatalf("Set %s: %v", key, err)
	}
	resp, err := get(c, cache, key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	hit, ok := resp.(*responses.GetHit)
	if !ok || hit.ValueString() != value {
		t.Fatalf("Get %s: got %#v, want hit %q", key, resp, value)
	}
}

func generate(t *testing.T, a momento.AuthClient, scope momento.PermissionScope, expires utils.ExpiresIn) (*authSuccess, error) {
	t.Helper()
	ctx, cancel := sdkhelp.Ctx()
	defer cancel()
	resp, err := a.GenerateApiKey(ctx, &momento.GenerateApiKeyRequest{Scope: scope, ExpiresIn: expires})
	if err != nil {
		return nil, err
	}
	s, ok := resp.(*authResponses.GenerateApiKeySuccess)
	if !ok {
		t.Fatalf("GenerateApiKey: got %T", resp)
	}
	return &authSuccess{ApiKey: s.ApiKey, RefreshToken: s.RefreshToken, Endpoint: s.Endpoint, ExpiresAt: s.ExpiresAt}, nil
}

func mustGenerate(t *testing.T, a momento.AuthClient, scope momento.PermissionScope, expires utils.ExpiresIn) *authSuccess {
	t.Helper()
	s, err := generate(t, a, scope, expires)
	if err != nil {
		t.Fatalf("GenerateApiKey: %v", err)
	}
	return s
}

func refresh(t *testing.T, e *env, envelope, refreshToken string) (*authSuccess, error) {
	t.Helper()
	a := authClient(t, e, envelope)
	ctx, cancel := sdkhelp.Ctx()
	defer cancel()
	resp, err := a.RefreshApiKey(ctx, &momento.RefreshApiKeyRequest{RefreshToken: refreshToken})
	if err != nil {
		return nil, err
	}
	s, ok := resp.(*authResponses.RefreshApiKeySuccess)
	if !ok {
		t.Fatalf("RefreshApiKey: got %T", resp)
	}
	return &authSuccess{ApiKey: s.ApiKey, RefreshToken: s.RefreshToken, Endpoint: s.Endpoint, ExpiresAt: s.ExpiresAt}, nil
}

func disposable(a momento.AuthClient, scope momento.DisposableTokenScope, expires utils.ExpiresIn, tokenID *string) (*authResponses.GenerateDisposableTokenSuccess, error) {
	ctx, cancel := sdkhelp.Ctx()
	defer cancel()
	resp, err := a.GenerateDisposableToken(ctx, &momento.GenerateDisposableTokenRequest{
		Scope: scope, ExpiresIn: expires, Props: momento.DisposableTokenProps{TokenId: tokenID},
	})
	if err != nil {
		return nil, err
	}
	s, ok := resp.(*authResponses.GenerateDisposableTokenSuccess)
	if !ok {
		return nil, fmt.Errorf("GenerateDisposableToken: got %T", resp)
	}
	return s, nil
}

type authSuccess struct {
	ApiKey       string
	RefreshToken string
	Endpoint     string
	ExpiresAt    utils.ExpiresAt
}

func TestGoSDKCreateCacheAndData(t *testing.T) {
	e := setup(t)
	ctx, cancel := sdkhelp.Ctx()
	defer cancel()
	again, err := e.super.CreateCache(ctx, &momento.CreateCacheRequest{CacheName: e.cacheName})
	if err != nil {
		t.Fatalf("second CreateCache: %v", err)
	}
	if _, ok := again.(*responses.CreateCacheAlreadyExists); !ok {
		t.Fatalf("second CreateCache: got %T, want AlreadyExists", again)
	}
	mustSetGet(t, e.super, e.cacheName, "k", "v")
	if resp, err := get(e.super, e.cacheName, "missing"); err != nil {
		t.Fatalf("Get missing: %v", err)
	} else if _, ok := resp.(*responses.GetMiss); !ok {
		t.Fatalf("Get missing: got %T", resp)
	}
	_, err = get(e.super, uniqueName("no-such-cache"), "k")
	expectError(t, "Get on unknown cache", err, "NOT_FOUND_ERROR", 5, "")
}

func TestGoSDKGenerateApiKey(t *testing.T) {
	e := setup(t)
	before := time.Now().Unix()
	k := mustGenerate(t, e.superAuth, momento.AllDataReadWrite, utils.ExpiresInHours(1))
	endpoint, raw, err := sdkhelp.DecodeEnvelope(k.ApiKey)
	if err != nil || endpoint != k.Endpoint || raw == "" {
		t.Fatalf("GenerateApiKey returned no usable envelope: endpoint=%q err=%v", endpoint, err)
	}
	if k.RefreshToken == "" {
		t.Fatal("expiring key came without a refresh token")
	}
	if !k.ExpiresAt.DoesExpire() {
		t.Fatal("expiring key reported as never expiring")
	}
	if until := k.ExpiresAt.Epoch(); until < before+3600-5 || until > time.Now().Unix()+3600+5 {
		t.Fatalf("valid_until %d not about an hour from now", until)
	}
	c := cacheClient(t, e, k.ApiKey)
	mustSetGet(t, c, e.cacheName, "rw", "value")
	ctx, cancel := sdkhelp.Ctx()
	defer cancel()
	_, err = c.CreateCache(ctx, &momento.CreateCacheRequest{CacheName: uniqueName("denied")})
	expectDenied(t, "CreateCache with AllDataReadWrite key", err)

	never := mustGenerate(t, e.superAuth, momento.AllDataReadWrite, utils.ExpiresInNever())
	if never.ExpiresAt.DoesExpire() || never.RefreshToken != "" {
		t.Fatalf("never-expiring key: expires=%v refresh token set=%v", never.ExpiresAt.DoesExpire(), never.RefreshToken != "")
	}

	// Explicit keys cannot mint keys or tokens.
	rwAuth := authClient(t, e, k.ApiKey)
	_, err = generate(t, rwAuth, momento.AllDataReadWrite, utils.ExpiresInHours(1))
	expectDenied(t, "GenerateApiKey with AllDataReadWrite caller", err)
	_, err = disposable(rwAuth, momento.CacheKeyReadWrite(momento.CacheName{Name: e.cacheName}, momento.String("k")), utils.ExpiresInMinutes(5), nil)
	expectDenied(t, "GenerateDisposableToken with AllDataReadWrite caller", err)
}

func TestGoSDKReadOnlyKey(t *testing.T) {
	e := setup(t)
	k := mustGenerate(t, e.superAuth, momento.CacheReadOnly(momento.CacheName{Name: e.cacheName}), utils.ExpiresInHours(1))
	mustSetGet(t, e.super, e.cacheName, "ro", "v")
	c := cacheClient(t, e, k.ApiKey)
	resp, err := get(c, e.cacheName, "ro")
	if err != nil {
		t.Fatalf("Get with read-only key: %v", err)
	}
	if _, ok := resp.(*responses.GetHit); !ok {
		t.Fatalf("Get with read-only key: got %T", resp)
	}
	expectDenied(t, "Set with read-only key", set(c, e.cacheName, "ro", "x"))
}

func TestGoSDKRefreshApiKey(t *testing.T) {
	e := setup(t)
	k := mustGenerate(t, e.superAuth, momento.AllDataReadWrite, utils.ExpiresInHours(1))
	r, err := refresh(t, e, k.ApiKey, k.RefreshToken)
	if err != nil {
		t.Fatalf("RefreshApiKey: %v", err)
	}
	if r.RefreshToken == "" || r.RefreshToken == k.RefreshToken {
		t.Fatal("refresh did not rotate the refresh token")
	}
	if !r.ExpiresAt.DoesExpire() || r.ExpiresAt.Epoch() < k.ExpiresAt.Epoch() {
		t.Fatalf("refreshed expiry %d before original %d", r.ExpiresAt.Epoch(), k.ExpiresAt.Epoch())
	}
	// The Go SDK (as pinned) hands back the raw key from RefreshApiKey, not a v1 envelope as it
	// does for GenerateApiKey; wrap it with the returned endpoint to use it.
	newKey := r.ApiKey
	if !sdkhelp.IsEnvelope(newKey) {
		newKey = sdkhelp.Envelope(r.Endpoint, r.ApiKey)
	}
	if newKey == k.ApiKey {
		t.Fatal("refresh returned the same key")
	}
	mustSetGet(t, cacheClient(t, e, newKey), e.cacheName, "refreshed", "v1")
	mustSetGet(t, cacheClient(t, e, k.ApiKey), e.cacheName, "old", "v2")

	_, err = refresh(t, e, newKey, "wrong-refresh-token")
	expectUnauthenticated(t, "RefreshApiKey with a wrong refresh token", err)
	_, err = refresh(t, e, e.superKey, "anything")
	expectUnauthenticated(t, "RefreshApiKey of a never-expiring key", err)
	r2, err := refresh(t, e, newKey, r.RefreshToken)
	if err != nil {
		t.Fatalf("second RefreshApiKey: %v", err)
	}
	if r2.RefreshToken == r.RefreshToken {
		t.Fatal("second refresh did not rotate the refresh token")
	}
}

func TestGoSDKDisposableToken(t *testing.T) {
	e := setup(t)
	id := "go-token"
	before := time.Now().Unix()
	tok, err := disposable(e.superAuth, momento.CacheKeyReadWrite(momento.CacheName{Name: e.cacheName}, momento.String("dk")), utils.ExpiresInMinutes(10), &id)
	if err != nil {
		t.Fatalf("GenerateDisposableToken: %v", err)
	}
	if !sdkhelp.IsEnvelope(tok.ApiKey) {
		t.Fatal("disposable token is not a v1 envelope")
	}
	if tok.ValidUntil < uint64(before+600-5) || tok.ValidUntil > uint64(time.Now().Unix()+600+5) {
		t.Fatalf("valid_until %d not ten minutes from now", tok.ValidUntil)
	}
	c := cacheClient(t, e, tok.ApiKey)
	mustSetGet(t, c, e.cacheName, "dk", "dv")
	_, err = get(c, e.cacheName, "other")
	expectDenied(t, "Get outside the token's key", err)
	expectDenied(t, "Set outside the token's key", set(c, e.cacheName, "other", "x"))
	ctx, cancel := sdkhelp.Ctx()
	defer cancel()
	_, err = c.CreateCache(ctx, &momento.CreateCacheRequest{CacheName: uniqueName("denied")})
	expectDenied(t, "CreateCache with a disposable token", err)
	_, err = disposable(authClient(t, e, tok.ApiKey), momento.CacheKeyReadWrite(momento.CacheName{Name: e.cacheName}, momento.String("dk")), utils.ExpiresInMinutes(5), nil)
	expectDenied(t, "GenerateDisposableToken with a disposable caller", err)

	prefix, err := disposable(e.superAuth, momento.CacheKeyPrefixReadOnly(momento.AllCaches{}, momento.String("ro-")), utils.ExpiresInMinutes(10), nil)
	if err != nil {
		t.Fatalf("GenerateDisposableToken (prefix): %v", err)
	}
	mustSetGet(t, e.super, e.cacheName, "ro-1", "x")
	pc := cacheClient(t, e, prefix.ApiKey)
	if resp, err := get(pc, e.cacheName, "ro-1"); err != nil {
		t.Fatalf("Get under the prefix: %v", err)
	} else if _, ok := resp.(*responses.GetHit); !ok {
		t.Fatalf("Get under the prefix: got %T", resp)
	}
	expectDenied(t, "Set with a read-only prefix token", set(pc, e.cacheName, "ro-1", "y"))
}

func TestGoSDKAuthenticationErrors(t *testing.T) {
	e := setup(t)
	endpoint, raw, err := sdkhelp.DecodeEnvelope(e.superKey)
	if err != nil {
		t.Fatalf("bootstrap key is not an envelope: %v", err)
	}
	forged := sdkhelp.Envelope(endpoint, raw+"x")
	c := cacheClient(t, e, forged)
	_, err = get(c, e.cacheName, "k")
	expectUnauthenticated(t, "Get with an unknown key", err)
	expectUnauthenticated(t, "Set with an unknown key", set(c, e.cacheName, "k", "v"))
	ctx, cancel := sdkhelp.Ctx()
	defer cancel()
	_, err = c.CreateCache(ctx, &momento.CreateCacheRequest{CacheName: uniqueName("x")})
	expectUnauthenticated(t, "CreateCache with an unknown key", err)
	a := authClient(t, e, forged)
	_, err = generate(t, a, momento.AllDataReadWrite, utils.ExpiresInHours(1))
	expectUnauthenticated(t, "GenerateApiKey with an unknown key", err)
	_, err = disposable(a, momento.CacheKeyReadWrite(momento.AllCaches{}, momento.String("k")), utils.ExpiresInMinutes(5), nil)
	expectUnauthenticated(t, "GenerateDisposableToken with an unknown key", err)

	short := mustGenerate(t, e.superAuth, momento.AllDataReadWrite, utils.ExpiresInSeconds(2))
	sc := cacheClient(t, e, short.ApiKey)
	for i := 0; i < 40; i++ {
		if _, err = get(sc, e.cacheName, "k"); err != nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	expectUnauthenticated(t, "Get with an expired key", err)
	_, err = refresh(t, e, short.ApiKey, short.RefreshToken)
	expectUnauthenticated(t, "RefreshApiKey of an expired key", err)
}

func TestGoSDKPingAndListCaches(t *testing.T) {
	e := setup(t)
	ctx, cancel := sdkhelp.Ctx()
	defer cancel()
	if _, err := e.super.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	// Ping needs no valid credential.
	endpoint, raw, err := sdkhelp.DecodeEnvelope(e.superKey)
	if err != nil {
		t.Fatalf("bootstrap key is not an envelope: %v", err)
	}
	forged := cacheClient(t, e, sdkhelp.Envelope(endpoint, raw+"x"))
	if _, err := forged.Ping(ctx); err != nil {
		t.Fatalf("Ping with an unknown key: %v", err)
	}
	resp, err := e.super.ListCaches(ctx, &momento.ListCachesRequest{})
	if err != nil {
		t.Fatalf("ListCaches: %v", err)
	}
	list, ok := resp.(*responses.ListCachesSuccess)
	if !ok {
		t.Fatalf("ListCaches: got %T", resp)
	}
	found := false
	for _, c := range list.Caches() {
		found = found || c.Name() == e.cacheName
	}
	if !found {
		t.Fatalf("ListCaches does not list %q", e.cacheName)
	}
	_, err = forged.ListCaches(ctx, &momento.ListCachesRequest{})
	expectUnauthenticated(t, "ListCaches with an unknown key", err)
}

// With no grace window, reusing a consumed refresh token revokes the family: the reused token and
// the successor's refresh token both stop working (docs/wire.md section 9.2, RefreshApiToken step 4).
func TestGoSDKRefreshTokenReuseRevokesFamily(t *testing.T) {
	e := setup(t, "--refresh-grace-seconds", "0")
	k := mustGenerate(t, e.superAuth, momento.AllDataReadWrite, utils.ExpiresInHours(1))
	r, err := refresh(t, e, k.ApiKey, k.RefreshToken)
	if err != nil {
		t.Fatalf("RefreshApiKey: %v", err)
	}
	next := r.ApiKey
	if !sdkhelp.IsEnvelope(next) {
		next = sdkhelp.Envelope(r.Endpoint, r.ApiKey)
	}
	// The server keeps whole-second timestamps; step past the second of the refresh so the reuse
	// is outside even a zero-length window.
	time.Sleep(1100 * time.Millisecond)
	_, err = refresh(t, e, k.ApiKey, k.RefreshToken)
	expectUnauthenticated(t, "reuse of a consumed refresh token", err)
	_, err = refresh(t, e, next, r.RefreshToken)
	expectUnauthenticated(t, "refresh with the successor's token after the family was revoked", err)
}
