// Package sdkhelp holds what the Go interop tests and the sdktool program share: starting a
// momento-auth-server, building Momento Go SDK clients that talk plaintext to it, and reading the
// SDK's errors.
package sdkhelp

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/momentohq/client-sdk-go/auth"
	"github.com/momentohq/client-sdk-go/config"
	"github.com/momentohq/client-sdk-go/momento"
	"google.golang.org/grpc/status"
)

// Server is one running momento-auth-server with its own data directory.
type Server struct {
	Addr      string
	Dir       string
	Bootstrap TokenFile
	cmd       *exec.Cmd
	exited    chan struct{}
}

// TokenFile is the Download-JSON shape (docs/wire.md section 11).
type TokenFile struct {
	AuthToken    string `json:"authToken"`
	RefreshToken string `json:"refreshToken"`
	ValidUntil   any    `json:"validUntil"`
}

var listenLine = regexp.MustCompile(`^listening on (\S+)\s*$`)

// StartServer launches bin on a free loopback port and waits (bounded) for its address line and
// its bootstrap key file.
func StartServer(bin string, extraArgs ...string) (*Server, error) {
	dir, err := os.MkdirTemp("", "interop-go-")
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		return nil, err
	}
	bootstrap := filepath.Join(dir, "bootstrap.json")
	args := append([]string{"--listen", "127.0.0.1:0", "--data-dir", dataDir, "--bootstrap", bootstrap}, extraArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, cmd: cmd, exited: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			if first {
				lines <- sc.Text()
				first = false
			}
		}
		if first {
			close(lines)
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	select {
	case line, ok := <-lines:
		m := listenLine.FindStringSubmatch(line)
		if !ok || m == nil {
			s.Stop()
			return nil, fmt.Errorf("unexpected first stdout line %q", line)
		}
		s.Addr = m[1]
	case <-time.After(20 * time.Second):
		s.Stop()
		return nil, errors.New("server did not report its address in time")
	}
	for i := 0; i < 100; i++ {
		raw, err := os.ReadFile(bootstrap)
		if err == nil && json.Unmarshal(raw, &s.Bootstrap) == nil && s.Bootstrap.AuthToken != "" {
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.Stop()
	return nil, errors.New("server did not write a readable bootstrap file")
}

// Stop asks the server to exit, kills it if it does not, and removes its directory.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	_ = os.RemoveAll(s.Dir)
}

// Provider parses a credential string with the SDK and points all endpoints at addr, plaintext.
func Provider(credential, addr string) (auth.CredentialProvider, error) {
	p, err := auth.FromString(credential)
	if err != nil {
		return nil, err
	}
	ep := auth.Endpoint{Endpoint: addr, InsecureConnection: true}
	return p.WithEndpoints(auth.AllEndpoints{ControlEndpoint: ep, CacheEndpoint: ep, TokenEndpoint: ep, StorageEndpoint: ep})
}

// AuthClient builds the SDK's auth client for credential against addr.
func AuthClient(credential, addr string) (momento.AuthClient, error) {
	p, err := Provider(credential, addr)
	if err != nil {
		return nil, err
	}
	return momento.NewAuthClient(config.AuthDefault(), p)
}

// CacheClient builds the SDK's cache client for credential against addr.
func CacheClient(credential, addr string) (momento.CacheClient, error) {
	p, err := Provider(credential, addr)
	if err != nil {
		return nil, err
	}
	return momento.NewCacheClientWithEagerConnectTimeout(config.LaptopLatest(), p, time.Minute, 0)
}

// Envelope builds the v1 credential string from an endpoint and a raw key (docs/wire.md section 4.4).
func Envelope(endpoint, apiKey string) string {
	raw, _ := json.Marshal(map[string]string{"endpoint": endpoint, "api_key": apiKey})
	return base64.StdEncoding.EncodeToString(raw)
}

// DecodeEnvelope returns the endpoint and raw key of a v1 credential string.
func DecodeEnvelope(envelope string) (endpoint, apiKey string, err error) {
	raw, err := base64.StdEncoding.DecodeString(envelope)
	if err != nil {
		return "", "", err
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", "", err
	}
	return m["endpoint"], m["api_key"], nil
}

// IsEnvelope tells whether s decodes as a v1 envelope with both members set.
func IsEnvelope(s string) bool {
	e, k, err := DecodeEnvelope(s)
	return err == nil && e != "" && k != ""
}

// ErrorInfo is what an SDK error says: the SDK code, the gRPC code and the server's details text.
type ErrorInfo struct {
	SDKCode   string
	WrappedIn string // outer SDK code when the SDK wrapped the service error (see Inspect)
	GRPCCode  int
	Details   string
	Canonical string
}

type codedError interface {
	error
	Code() string
	OriginalErr() error
}

// canonical maps the Go SDK's error codes to the JS names docs/wire.md section 10.1 uses.
var canonical = map[string]string{
	"PermissionError":         "PERMISSION_ERROR",
	"AuthenticationError":     "AUTHENTICATION_ERROR",
	"InvalidArgumentError":    "INVALID_ARGUMENT_ERROR",
	"NotFoundError":           "NOT_FOUND_ERROR",
	"AlreadyExistsError":      "ALREADY_EXISTS_ERROR",
	"InternalServerError":     "INTERNAL_SERVER_ERROR",
	"ServerUnavailableError":  "SERVER_UNAVAILABLE",
	"TimeoutError":            "TIMEOUT_ERROR",
	"BadRequestError":         "BAD_REQUEST_ERROR",
	"LimitExceededError":      "LIMIT_EXCEEDED_ERROR",
	"UnknownServiceError":     "UNKNOWN_SERVICE_ERROR",
	"FailedPreconditionError": "FAILED_PRECONDITION_ERROR",
	"CanceledError":           "CANCELLED_ERROR",
	"ConnectionError":         "CONNECTION_ERROR",
}

// Inspect extracts ErrorInfo from an error returned by the SDK.
func Inspect(err error) ErrorInfo {
	info := ErrorInfo{GRPCCode: -1, Details: err.Error()}
	var ce codedError
	if errors.As(err, &ce) {
		// The pinned SDK's GenerateDisposableToken converts an already converted error once more,
		// so the service error arrives wrapped in a ClientSdkError; look through that wrapper.
		for i := 0; i < 4 && ce.Code() == "ClientSdkError"; i++ {
			var inner codedError
			if !errors.As(ce.OriginalErr(), &inner) {
				break
			}
			info.WrappedIn = ce.Code()
			ce = inner
		}
		info.SDKCode = ce.Code()
		if orig := ce.OriginalErr(); orig != nil {
			if st, ok := status.FromError(orig); ok {
				info.GRPCCode = int(st.Code())
				info.Details = st.Message()
			}
		}
	}
	if st, ok := status.FromError(err); ok && info.GRPCCode < 0 {
		info.GRPCCode = int(st.Code())
		info.Details = st.Message()
	}
	info.Canonical = canonical[info.SDKCode]
	if info.Canonical == "" {
		// Some SDK codes are already spelled canonically, e.g. cache-not-found variants.
		switch {
		case strings.Contains(info.SDKCode, "NotFound"):
			info.Canonical = "NOT_FOUND_ERROR"
		case strings.Contains(info.SDKCode, "AlreadyExists"):
			info.Canonical = "ALREADY_EXISTS_ERROR"
		default:
			info.Canonical = info.SDKCode
		}
	}
	return info
}

// Ctx is a bounded context for one SDK call.
func Ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 20*time.Second)
}
