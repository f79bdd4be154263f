// sdktool performs one call through Momento's Go SDK against a momento-auth-server and prints the
// outcome as one JSON object, so the cross-SDK tests can mix SDKs. Errors are reported in the JSON
// (exit 0); only bad usage exits non-zero.
//
//	sdktool OP --addr HOST:PORT --key-file FILE [--cache C] [--item K] [--value V] [--scope S] [--ttl N|never]
//
// OP: generate | refresh | disposable | create-cache | set | get.
// The key file is a token file ({"authToken","refreshToken","validUntil"}); generate and refresh
// print one in the same shape.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/momentohq/client-sdk-go/momento"
	"github.com/momentohq/client-sdk-go/responses"
	authResponses "github.com/momentohq/client-sdk-go/responses/auth"
	"github.com/momentohq/client-sdk-go/utils"

	"momento-auth/interop/sdkhelp"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sdktool OP --addr HOST:PORT --key-file FILE ...")
		os.Exit(2)
	}
	op := os.Args[1]
	fs := flag.NewFlagSet(op, flag.ExitOnError)
	addr := fs.String("addr", "", "server HOST:PORT")
	keyFile := fs.String("key-file", "", "token file with the caller's key")
	cache := fs.String("cache", "", "cache name")
	item := fs.String("item", "", "item key")
	value := fs.String("value", "", "item value")
	scope := fs.String("scope", "all-data-rw", "all-data-rw | cache-ro:NAME | cache-rw:NAME")
	ttl := fs.String("ttl", "3600", "lifetime in seconds, or never")
	_ = fs.Parse(os.Args[2:])
	if *addr == "" || *keyFile == "" {
		fmt.Fprintln(os.Stderr, "--addr and --key-file are required")
		os.Exit(2)
	}
	raw, err := os.ReadFile(*keyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var key sdkhelp.TokenFile
	if err := json.Unmarshal(raw, &key); err != nil {
		fmt.Fprintln(os.Stderr, "key file is not a token file:", err)
		os.Exit(2)
	}
	out, err := run(op, *addr, key, *cache, *item, *value, *scope, *ttl)
	if err != nil {
		info := sdkhelp.Inspect(err)
		out = map[string]any{"error": info.Canonical, "grpc": info.GRPCCode, "details": info.Details}
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

func expiresIn(ttl string) (utils.ExpiresIn, error) {
	if ttl == "never" {
		return utils.ExpiresInNever(), nil
	}
	n, err := strconv.ParseInt(ttl, 10, 64)
	if err != nil {
		return utils.ExpiresIn{}, fmt.Errorf("bad --ttl %q", ttl)
	}
	return utils.ExpiresInSeconds(n), nil
}

func permissionScope(s string) (momento.PermissionScope, error) {
	switch {
	case s == "all-data-rw":
		return momento.AllDataReadWrite, nil
	case strings.HasPrefix(s, "cache-ro:"):
		return momento.CacheReadOnly(momento.CacheName{Name: strings.TrimPrefix(s, "cache-ro:")}), nil
	case strings.HasPrefix(s, "cache-rw:"):
		return momento.CacheReadWrite(momento.CacheName{Name: strings.TrimPrefix(s, "cache-rw:")}), nil
	}
	return nil, fmt.Errorf("unknown --scope %q", s)
}

func tokenFile(apiKey, refreshToken string, expiresAt utils.ExpiresAt) map[string]any {
	until := "0"
	if expiresAt.DoesExpire() {
		until = strconv.FormatInt(expiresAt.Epoch(), 10)
	}
	return map[string]any{"authToken": apiKey, "refreshToken": refreshToken, "validUntil": until}
}

func run(op, addr string, key sdkhelp.TokenFile, cache, item, value, scope, ttl string) (map[string]any, error) {
	ctx, cancel := sdkhelp.Ctx()
	defer cancel()
	switch op {
	case "generate", "refresh", "disposable":
		a, err := sdkhelp.AuthClient(key.AuthToken, addr)
		if err != nil {
			return nil, err
		}
		defer a.Close()
		switch op {
		case "generate":
			sc, err := permissionScope(scope)
			if err != nil {
				return nil, err
			}
			exp, err := expiresIn(ttl)
			if err != nil {
				return nil, err
			}
			resp, err := a.GenerateApiKey(ctx, &momento.GenerateApiKeyRequest{Scope: sc, ExpiresIn: exp})
			if err != nil {
				return nil, err
			}
			s := resp.(*authResponses.GenerateApiKeySuccess)
			return tokenFile(s.ApiKey, s.RefreshToken, s.ExpiresAt), nil
		case "refresh":
			resp, err := a.RefreshApiKey(ctx, &momento.RefreshApiKeyRequest{RefreshToken: key.RefreshToken})
			if err != nil {
				return nil, err
			}
			s := resp.(*authResponses.RefreshApiKeySuccess)
			apiKey := s.ApiKey
			// The pinned Go SDK returns the raw key from RefreshApiKey; wrap it like GenerateApiKey does.
			if !sdkhelp.IsEnvelope(apiKey) {
				apiKey = sdkhelp.Envelope(s.Endpoint, s.ApiKey)
			}
			return tokenFile(apiKey, s.RefreshToken, s.ExpiresAt), nil
		default:
			exp, err := expiresIn(ttl)
			if err != nil {
				return nil, err
			}
			resp, err := a.GenerateDisposableToken(ctx, &momento.GenerateDisposableTokenRequest{
				Scope:     momento.CacheKeyReadWrite(momento.CacheName{Name: cache}, momento.String(item)),
				ExpiresIn: exp,
			})
			if err != nil {
				return nil, err
			}
			s := resp.(*authResponses.GenerateDisposableTokenSuccess)
			return map[string]any{"authToken": s.ApiKey, "refreshToken": "", "validUntil": strconv.FormatUint(s.ValidUntil, 10)}, nil
		}
	case "create-cache", "set", "get":
		c, err := sdkhelp.CacheClient(key.AuthToken, addr)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		switch op {
		case "create-cache":
			resp, err := c.CreateCache(ctx, &momento.CreateCacheRequest{CacheName: cache})
			if err != nil {
				return nil, err
			}
			_, exists := resp.(*responses.CreateCacheAlreadyExists)
			return map[string]any{"ok": true, "alreadyExists": exists}, nil
		case "set":
			if _, err := c.Set(ctx, &momento.SetRequest{CacheName: cache, Key: momento.String(item), Value: momento.String(value)}); err != nil {
				return nil, err
			}
			return map[string]any{"ok": true}, nil
		default:
			resp, err := c.Get(ctx, &momento.GetRequest{CacheName: cache, Key: momento.String(item)})
			if err != nil {
				return nil, err
			}
			if hit, ok := resp.(*responses.GetHit); ok {
				return map[string]any{"ok": true, "hit": true, "value": hit.ValueString()}, nil
			}
			return map[string]any{"ok": true, "hit": false}, nil
		}
	}
	return nil, fmt.Errorf("unknown operation %q", op)
}
