// Package driver is what bench/run's Go drivers share: the request line on stdin, a warm-up,
// a ready line, then one batch of calls per line asked for (bench/clients/README.md).
package driver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Request is the driver protocol's request.
type Request struct {
	Call            string `json:"call"`
	Threads         int    `json:"threads"`
	Warmup          int    `json:"warmup"`
	Address         string `json:"address"`
	SuperEnvelope   string `json:"super_envelope"`
	RefreshEnvelope string `json:"refresh_envelope"`
	RefreshToken    string `json:"refresh_token"`
	V1              string `json:"v1"`
	V2Key           string `json:"v2_key"`
	V2Endpoint      string `json:"v2_endpoint"`
	Disposable      string `json:"disposable"`
	Cache           string `json:"cache"`
}

var stdin = bufio.NewReader(os.Stdin)

// Read decodes the request line from stdin.
func Read() Request {
	var req Request
	line, err := stdin.ReadBytes('\n')
	if err != nil && len(line) == 0 {
		Die("request: %v", err)
	}
	if err := json.Unmarshal(line, &req); err != nil {
		Die("request: %v", err)
	}
	return req
}

// Die reports a failure on stderr and exits 1.
func Die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(1)
}

// Skip says the contender lacks the call (exit code 77).
func Skip(why string) {
	b, _ := json.Marshal(map[string]string{"skip": why})
	fmt.Println(string(b))
	os.Exit(77)
}

func emit(out map[string]any) {
	b, _ := json.Marshal(out)
	os.Stdout.Write(append(b, '\n'))
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
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return v
		}
	}
	return -1
}

// Serve warms up, says it is ready, then answers each line of stdin (a count) with one batch;
// it returns at the end of stdin.
func Serve(req Request, version string, op func()) {
	for i := 0; i < req.Warmup; i++ {
		op()
	}
	emit(map[string]any{"ready": true, "version": version})
	for {
		line, err := stdin.ReadString('\n')
		if s := strings.TrimSpace(line); s != "" {
			n, perr := strconv.Atoi(s)
			if perr != nil {
				Die("batch: %v", perr)
			}
			emit(batch(req, n, op))
		}
		if err != nil {
			return
		}
	}
}

// batch runs op n times: one goroutine records each call's latency; with threads > 1 that many
// goroutines share the calls and only the totals count.
func batch(req Request, n int, op func()) map[string]any {
	threads := max(req.Threads, 1)
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
				for atomic.AddInt64(&next, 1) <= int64(n) {
					op()
				}
			}()
		}
		wg.Wait()
	} else if strings.HasPrefix(req.Call, "parse") {
		for i := 0; i < n; i++ {
			op()
		}
	} else {
		lat = make([]float64, 0, n)
		for i := 0; i < n; i++ {
			a := time.Now()
			op()
			lat = append(lat, float64(time.Since(a).Nanoseconds()))
		}
	}
	out := map[string]any{"n": n, "threads": threads, "wall_s": time.Since(t0).Seconds(),
		"cpu_s": cpuSeconds() - c0, "rss_kib": rssKiB()}
	if lat != nil {
		out["lat_ns"] = lat
	}
	return out
}
