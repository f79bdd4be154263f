// bench/run's driver for Momento's official Go SDK (`go_sdk`): the request line on stdin, then
// batches on request (bench/clients/README.md). Exit code 77 = the call is not in this SDK.
package main

import (
	"context"
	"runtime/debug"

	"momento-auth/bench/driver"

	"github.com/momentohq/client-sdk-go/auth"
	"github.com/momentohq/client-sdk-go/config"
	"github.com/momentohq/client-sdk-go/momento"
	"github.com/momentohq/client-sdk-go/utils"
)

func main() {
	req := driver.Read()
	version := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/momentohq/client-sdk-go" {
				version = d.Version
			}
		}
	}
	switch req.Call {
	case "parse_v1", "parse_disposable":
		// The pinned SDK has one entry point for both (no separate disposable-token parser).
		s := req.V1
		if req.Call == "parse_disposable" {
			s = req.Disposable
		}
		driver.Serve(req, version, func() {
			if _, err := auth.FromString(s); err != nil {
				driver.Die("parse: %v", err)
			}
		})
	case "parse_v2":
		driver.Skip("client-sdk-go v1.38.0 has no v2 API key parser")
	default:
		key := req.SuperEnvelope
		if req.Call == "refresh" {
			key = req.RefreshEnvelope
		}
		p, err := auth.FromString(key)
		if err != nil {
			driver.Die("credential: %v", err)
		}
		ep := auth.Endpoint{Endpoint: req.Address, InsecureConnection: true}
		p, err = p.WithEndpoints(auth.AllEndpoints{ControlEndpoint: ep, CacheEndpoint: ep, TokenEndpoint: ep, StorageEndpoint: ep})
		if err != nil {
			driver.Die("endpoints: %v", err)
		}
		a, err := momento.NewAuthClient(config.AuthDefault(), p)
		if err != nil {
			driver.Die("client: %v", err)
		}
		defer a.Close()
		ctx := context.Background()
		var op func() error
		switch req.Call {
		case "refresh":
			r := &momento.RefreshApiKeyRequest{RefreshToken: req.RefreshToken}
			op = func() error { _, err := a.RefreshApiKey(ctx, r); return err }
		case "generate":
			r := &momento.GenerateApiKeyRequest{Scope: momento.AllDataReadWrite, ExpiresIn: utils.ExpiresInSeconds(3600)}
			op = func() error { _, err := a.GenerateApiKey(ctx, r); return err }
		default:
			r := &momento.GenerateDisposableTokenRequest{
				Scope:     momento.CacheKeyReadWrite(momento.CacheName{Name: req.Cache}, momento.String("k")),
				ExpiresIn: utils.ExpiresInSeconds(300),
			}
			op = func() error { _, err := a.GenerateDisposableToken(ctx, r); return err }
		}
		driver.Serve(req, version, func() {
			if err := op(); err != nil {
				driver.Die("%s: %v", req.Call, err)
			}
		})
	}
}
