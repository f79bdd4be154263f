package momentoauth_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// testServer is a momento-auth-server (MOMENTO_SERVER_BIN) on a free loopback port with its own
// data directory; every wait is bounded and the process is always reaped.
type testServer struct {
	Addr     string
	Dir      string
	SuperKey string
	cmd      *exec.Cmd
	exited   chan struct{}
}

var listening = regexp.MustCompile(`^listening on (\S+)\s*$`)

func startServer(t testing.TB, args ...string) *testServer {
	t.Helper()
	bin := os.Getenv("MOMENTO_SERVER_BIN")
	if bin == "" {
		t.Skip("MOMENTO_SERVER_BIN is not set (ctest sets it)")
	}
	dir := t.TempDir()
	boot := filepath.Join(dir, "bootstrap.json")
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--bootstrap", boot, "--log-format", "off")
	cmd.Args = append(cmd.Args, args...)
	s := &testServer{Dir: dir, cmd: cmd, exited: make(chan struct{})}
	s.Addr = listen(t, cmd, 20*time.Second, func() {
		go func() { _ = cmd.Wait(); close(s.exited) }()
		t.Cleanup(s.stop)
	})
	for i := 0; i < 100 && s.SuperKey == ""; i++ {
		var f struct {
			AuthToken string `json:"authToken"`
		}
		if b, err := os.ReadFile(boot); err == nil && json.Unmarshal(b, &f) == nil {
			s.SuperKey = f.AuthToken
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if s.SuperKey == "" {
		t.Fatal("no bootstrap key")
	}
	return s
}

func (s *testServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *testServer) String() string { return fmt.Sprintf("server(%s)", s.Addr) }

// listen starts cmd, whose first line of output is "listening on HOST:PORT", and returns that
// address; onStart runs once the process exists (to arrange its stop). The rest of the output is
// drained.
func listen(t testing.TB, cmd *exec.Cmd, within time.Duration, onStart func()) string {
	t.Helper()
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	onStart()
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		first <- sc.Text()
		for sc.Scan() {
		}
	}()
	select {
	case line := <-first:
		m := listening.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s: unexpected first line %q", cmd.Path, line)
		}
		return m[1]
	case <-time.After(within):
		t.Fatalf("%s did not report its address in time", cmd.Path)
	}
	return ""
}

// startMoto starts a local AWS Secrets Manager (tests/support/moto_server.py in the test venv)
// and returns its endpoint URL; it is stopped when the test ends.
func startMoto(t testing.TB) string {
	t.Helper()
	py, helper := os.Getenv("MOMENTO_TEST_PYTHON"), os.Getenv("MOMENTO_MOTO_HELPER")
	if py == "" || helper == "" {
		t.Skip("MOMENTO_TEST_PYTHON / MOMENTO_MOTO_HELPER are not set (ctest sets them)")
	}
	cmd := exec.Command(py, helper, "serve", "--listen", "127.0.0.1:0")
	// moto's imports take a while
	return "http://" + listen(t, cmd, 60*time.Second, func() {
		t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	})
}
