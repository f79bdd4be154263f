// bench/run's driver for Momento's official Go SDK (`go_sdk`): request JSON on stdin, one JSON
// line of results out (bench/clients/README.md). Exit code 77 = the call is not in this SDK.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/momentohq/client-sdk-go/auth"
	"github.com/momentohq/client-sdk-go/config"
	"github.com/momentohq/client-sdk-go/momento"
	"github.com/momentohq/client-sdk-go/utils"
)

type request struct {
	Call            string `json:"call"`
	N               int    `json:"n"`
	Threads         int    `json:"threads"`
	Warmup          int    `json:"warmup"`
	Address         string `json:"address"`
	SuperEnvelope   string `json:"super_envelope"`
	RefreshEnvelope string `json:"refresh_envelope"`
	RefreshToken    string `json:"refresh_token"`
	V1              string `json:"v1"`
	Disposable      string `json:"disposable"`
	Cache           string `json:"cache"`
}

func cpuSeconds() float64 {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return float64(u.Utime.Sec+u.Stime.Sec) + float64(u.Utime.Usec+u.Stime.Usec)/1e6
}

func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	var v int64
	for _, line := range splitLines(string(b)) {
		if n, _ := fmt.Sscanf(line, "VmRSS: %d kB", &v); n == 1 {
			return v
		}
	}
	return -1
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(1)
}

func measure(req request, op func()) map[string]any {
	for i := 0; i < req.Warmup; i++ {
		op()
	}
	threads := req.Threads
	if threads < 1 {
		threads = 1
	}
	var lat []float64
	c0 := cpuSeconds()
	t0 := time.Now()
	if threads > 1 {
		var next int64
		var wg sync.WaitGroup
		for t := 0; t < threads; t++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for atomic.AddInt64(&next, 1) <= int64(req.N) {
					op()
				}
			}()
		}
		wg.Wait()
	} else if len(req.Call) >= 5 && req.Call[:5] == "parse" {
		for i := 0; i < req.N; i++ {
			op()
		}
	} else {
		lat = make([]float64, 0, req.N)
		for i := 0; i < req.N; i++ {
			a := time.Now()
			op()
			lat = append(lat, float64(time.Since(a).Nanoseconds()))
		}
	}
	out := map[string]any{"n": req.N, "threads": threads, "wall_s": time.Since(t0).Seconds(),
		"cpu_s": cpuSeconds() - c0, "rss_kib": rssKiB()}
	if lat != nil {
		out["lat_ns"] = lat
	}
	return out
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		die("request: %v", err)
	}
	var out map[string]any
	switch req.Call {
	case "parse_v1", "parse_disposable":
		// The pinned SDK has one entry point for both (no separate disposable-token parser).
		s := req.V1
		if req.Call == "parse_disposable" {
			s = req.Disposable
		}
		out = measure(req, func() {
			if _, err := auth.FromString(s); err != nil {
				die("parse: %v", err)
			}
		})
	case "parse_v2":
		fmt.Println(`{"skip":"client-sdk-go v1.38.0 has no v2 API key parser"}`)
		os.Exit(77)
	default:
		key := req.SuperEnvelope
		if req.Call == "refresh" {
			key = req.RefreshEnvelope
		}
		p, err := auth.FromString(key)
		if err != nil {
			die("credential: %v", err)
		}
		ep := auth.Endpoint{Endpoint: req.Address, InsecureConnection: true}
		p, err = p.WithEndpoints(auth.AllEndpoints{ControlEndpoint: ep, CacheEndpoint: ep, TokenEndpoint: ep, StorageEndpoint: ep})
		if err != nil {
			die("endpoints: %v", err)
		}
		a, err := momento.NewAuthClient(config.AuthDefault(), p)
		if err != nil {
			die("client: %v", err)
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
		out = measure(req, func() {
			if err := op(); err != nil {
				die("%s: %v", req.Call, err)
			}
		})
	}
	out["version"] = "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/momentohq/client-sdk-go" {
				out["version"] = d.Version
			}
		}
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
