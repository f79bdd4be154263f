// bench/run's driver for our Go binding (`go_binding`, bindings/go): the request line on stdin,
// then batches on request (bench/clients/README.md). Each call is the binding's public API, as an
// application would make it.
package main

import (
	"context"

	"momento-auth/bench/driver"
	"momento-auth/momentoauth"
)

func main() {
	req := driver.Read()
	version := momentoauth.LibraryVersion()
	switch req.Call {
	case "parse_v1", "parse_v2", "parse_disposable":
		parse := map[string]func() (*momentoauth.Credential, error){
			"parse_v1": func() (*momentoauth.Credential, error) { return momentoauth.CredentialFromString(req.V1) },
			"parse_v2": func() (*momentoauth.Credential, error) {
				return momentoauth.CredentialFromApiKeyV2(req.V2Key, req.V2Endpoint)
			},
			"parse_disposable": func() (*momentoauth.Credential, error) {
				return momentoauth.CredentialFromDisposableToken(req.Disposable)
			},
		}[req.Call]
		driver.Serve(req, version, func() {
			c, err := parse()
			if err != nil {
				driver.Die("parse: %v", err)
			}
			c.Close()
		})
	default:
		key := req.SuperEnvelope
		if req.Call == "refresh" {
			key = req.RefreshEnvelope
		}
		cred, err := momentoauth.CredentialFromString(key, momentoauth.WithEndpoint(req.Address), momentoauth.WithInsecure())
		if err != nil {
			driver.Die("credential: %v", err)
		}
		client, err := momentoauth.NewAuthClient(cred)
		if err != nil {
			driver.Die("client: %v", err)
		}
		defer client.Close()
		ctx := context.Background()
		var op func() (*momentoauth.ApiKeyResult, error)
		switch req.Call {
		case "refresh":
			op = func() (*momentoauth.ApiKeyResult, error) { return client.RefreshApiKey(ctx, req.RefreshToken) }
		case "generate":
			op = func() (*momentoauth.ApiKeyResult, error) {
				return client.GenerateApiKey(ctx, momentoauth.AllDataReadWrite, momentoauth.ExpiresInHours(1))
			}
		default:
			scope := momentoauth.Permissions{momentoauth.CacheItemPermission{
				Role: momentoauth.CacheReadWrite, Cache: momentoauth.CacheName(req.Cache), Item: momentoauth.ItemKey([]byte("k"))}}
			op = func() (*momentoauth.ApiKeyResult, error) {
				return client.GenerateDisposableToken(ctx, scope, momentoauth.ExpiresInMinutes(5), "")
			}
		}
		driver.Serve(req, version, func() {
			if _, err := op(); err != nil {
				driver.Die("%s: %v", req.Call, err)
			}
		})
	}
}
