// Package e2e runs the real binary end to end: 'vigil serve' on SQLite and
// PostgreSQL, 'vigil agent scan --once' against Debian's OpenSSH sshd, the
// REST API, and the web app in headless Chromium.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/sshkey"
	"github.com/vigil-project/vigil/internal/store/postgres"
)

var vigilBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigil-e2e-bin-")
	if err != nil {
		panic(err)
	}
	vigilBin = filepath.Join(dir, "vigil")
	build := exec.Command("go", "build", "-o", vigilBin, "../cmd/vigil")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build vigil:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const adminPassword = "e2e-admin-pass"

// vigilServer is a running 'vigil serve'.
type vigilServer struct {
	url     string
	dataDir string
	dbURL   string
	stderr  *syncBuffer
}

func (s *vigilServer) dbArgs() []string {
	args := []string{"--data", s.dataDir}
	if s.dbURL != "" {
		args = append(args, "--db", s.dbURL)
	}
	return args
}

var listenRE = regexp.MustCompile(`"vigil server listening" url=(\S+)`)

func startServer(t *testing.T, dbURL string) *vigilServer {
	t.Helper()
	s := &vigilServer{dataDir: t.TempDir(), dbURL: dbURL, stderr: &syncBuffer{}}
	cmd := exec.Command(vigilBin, append([]string{"serve", "--listen", "127.0.0.1:0"}, s.dbArgs()...)...)
	cmd.Env = append(os.Environ(), "VIGIL_ADMIN_PASSWORD="+adminPassword)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		pw.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", s.stderr.String())
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			s.stderr.WriteString(line + "\n")
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case s.url = <-found:
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not start:\n%s", s.stderr.String())
	}
	return s
}

// admin runs 'vigil admin ...' and returns the last line of stdout.
func (s *vigilServer) admin(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(vigilBin, append(append([]string{"admin"}, args...), s.dbArgs()...)...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("vigil admin %v: %v\n%s", args, err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

func (s *vigilServer) api(t *testing.T, token, method, path string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

type apiHost struct {
	ID                 int64  `json:"id"`
	Name               string `json:"name"`
	PackageCount       int    `json:"package_count"`
	LastError          string `json:"last_error"`
	LastErrorKind      string `json:"last_error_kind"`
	LastScanAt         *time.Time
	HostKeyFingerprint string `json:"host_key_fingerprint"`
	OS                 struct {
		ID        string `json:"id"`
		VersionID string `json:"version_id"`
	} `json:"os"`
}

// countPackages counts a host's current packages of one ecosystem.
func (s *vigilServer) countPackages(t *testing.T, token string, hostID int64, ecosystem string) int {
	t.Helper()
	var out struct {
		Total    int
		Packages []struct{ Ecosystem string }
	}
	if code := s.api(t, token, "GET", fmt.Sprintf("/api/v1/hosts/%d/packages?limit=10000", hostID), nil, &out); code != 200 {
		t.Fatalf("packages: HTTP %d", code)
	}
	if out.Total != len(out.Packages) {
		t.Fatalf("packages: %d of %d in one page", len(out.Packages), out.Total)
	}
	n := 0
	for _, p := range out.Packages {
		if p.Ecosystem == ecosystem {
			n++
		}
	}
	return n
}

func (s *vigilServer) hosts(t *testing.T, token string) map[string]apiHost {
	t.Helper()
	var hs []apiHost
	if code := s.api(t, token, "GET", "/api/v1/hosts", nil, &hs); code != 200 {
		t.Fatalf("list hosts: %d", code)
	}
	m := map[string]apiHost{}
	for _, h := range hs {
		m[h.Name] = h
	}
	return m
}

func runAgent(t *testing.T, configFile string) string {
	t.Helper()
	out, err := exec.Command(vigilBin, "agent", "scan", "--once", "--config", configFile).CombinedOutput()
	if err != nil {
		t.Fatalf("agent scan: %v\n%s", err, out)
	}
	return string(out)
}

// localOS reads this machine's os-release ID and VERSION_ID.
func localOS(t *testing.T) (id, version string) {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		t.Skip("no /etc/os-release")
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, "=")
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			id = v
		case "VERSION_ID":
			version = v
		}
	}
	return id, version
}

// dpkgInstalled counts what dpkg-query -W reports as installed here.
func dpkgInstalled(t *testing.T) int {
	out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status}\n").Output()
	if err != nil {
		t.Skipf("dpkg-query: %v (the end-to-end test compares with dpkg)", err)
	}
	n := 0
	for _, l := range strings.Split(string(out), "\n") {
		if l == "installed" {
			n++
		}
	}
	return n
}

func TestEndToEnd(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dbURL := ""
			if db == "postgres" {
				dbURL = postgres.TestURL(t)
			}
			endToEnd(t, dbURL, db == "sqlite")
		})
	}
}

func endToEnd(t *testing.T, dbURL string, withBrowser bool) {
	wantID, wantVersion := localOS(t)
	wantPkgs := dpkgInstalled(t)
	sshd := startSSHD(t)
	srv := startServer(t, dbURL)
	agentKey := srv.admin(t, "agent-key", "--name", "e2e-agent")
	token := srv.admin(t, "api-token", "--name", "e2e")
	if !strings.HasPrefix(agentKey, "vga_") || !strings.HasPrefix(token, "vgt_") {
		t.Fatalf("key %q token %q", agentKey, token)
	}

	add := func(body map[string]any) {
		t.Helper()
		var out map[string]any
		if code := srv.api(t, token, "POST", "/api/v1/hosts", body, &out); code != 201 {
			t.Fatalf("add host %v: %d %v", body["name"], code, out)
		}
	}
	add(map[string]any{"name": "sshd", "address": "127.0.0.1", "port": sshd.port, "transport": "ssh",
		"username": sshd.user, "private_key": sshd.keyPEM})
	add(map[string]any{"name": "wrong-password", "address": "127.0.0.1", "port": sshd.port, "transport": "ssh",
		"username": sshd.user, "password": "not-the-password"})
	add(map[string]any{"name": "unreachable", "address": "127.0.0.1", "port": freePort(t), "transport": "ssh",
		"username": "nobody", "password": "x"})

	spool := filepath.Join(t.TempDir(), "spool")
	cfgFile := filepath.Join(t.TempDir(), "agent.yaml")
	cfg := fmt.Sprintf("api_url: %s\napi_key: %s\nspool_dir: %s\nconcurrency: 4\nconnect_timeout: 5s\n", srv.url, agentKey, spool)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runAgent(t, cfgFile)
	if !strings.Contains(out, "scanned 3 hosts: 1 ok, 2 failed") {
		t.Fatalf("agent output:\n%s", out)
	}

	hs := srv.hosts(t, token)
	good := hs["sshd"]
	if good.LastError != "" || good.OS.ID != wantID || good.OS.VersionID != wantVersion {
		t.Fatalf("scanned host: %+v, want os %s %s", good, wantID, wantVersion)
	}
	// package_count also holds the system-wide Python distributions; the
	// dpkg ones must be exactly what dpkg-query reports.
	if deb := srv.countPackages(t, token, good.ID, "deb"); deb != wantPkgs || good.PackageCount < deb {
		t.Fatalf("%d dpkg packages (package_count %d), dpkg-query reports %d installed", deb, good.PackageCount, wantPkgs)
	}
	if want := sshkey.Fingerprint(sshd.hostKey); good.HostKeyFingerprint != want {
		t.Fatalf("pinned host key %q, sshd has %q", good.HostKeyFingerprint, want)
	}
	if h := hs["wrong-password"]; h.LastErrorKind != "auth" || h.PackageCount != 0 {
		t.Errorf("wrong password host: %+v", h)
	}
	if h := hs["unreachable"]; h.LastErrorKind != "unreachable" || !strings.Contains(h.LastError, "connect") {
		t.Errorf("unreachable host: %+v", h)
	}
	if entries, _ := os.ReadDir(spool); countJSON(entries) != 0 {
		t.Errorf("spool still holds %d reports after a successful push", countJSON(entries))
	}
	var snap struct {
		Report struct {
			Packages []struct{ Name, Ecosystem string }
		}
	}
	if code := srv.api(t, token, "GET", fmt.Sprintf("/api/v1/hosts/%d/snapshots/latest", good.ID), nil, &snap); code != 200 || len(snap.Report.Packages) != good.PackageCount {
		t.Fatalf("latest snapshot: %d, %d packages", code, len(snap.Report.Packages))
	}

	// agent check: one table line per host, failures named, non-zero exit.
	checkOut, err := exec.Command(vigilBin, "agent", "check", "--config", cfgFile).CombinedOutput()
	if err == nil {
		t.Errorf("agent check succeeded with two broken hosts:\n%s", checkOut)
	}
	for _, want := range []string{"config:  ok", "server:  ok", "sshd", "login ok " + good.HostKeyFingerprint,
		"wrong-password", "login refused", "unreachable", "connect", "2 of 3 hosts failed"} {
		if !strings.Contains(string(checkOut), want) {
			t.Errorf("agent check output lacks %q:\n%s", want, checkOut)
		}
	}

	checkFindings(t, srv, token, good.ID)

	if withBrowser {
		browserLogin(t, srv.url, "sshd")
	}

	// The host is reinstalled (or impersonated): its key changes. The agent
	// must refuse to log in, keep the previous inventory, and say why.
	accepted := strings.Count(sshd.log(), "Accepted publickey")
	sshd.restartWithNewKey()
	runAgent(t, cfgFile)
	hs = srv.hosts(t, token)
	changed := hs["sshd"]
	if changed.LastErrorKind != "host_key_changed" || !strings.Contains(changed.LastError, "host key changed") {
		t.Fatalf("after key change: %+v", changed)
	}
	if changed.PackageCount != good.PackageCount {
		t.Errorf("key change lost the inventory: %d packages", changed.PackageCount)
	}
	if n := strings.Count(sshd.log(), "Accepted publickey"); n != accepted {
		t.Errorf("agent logged in to a host with a changed key (%d logins before, %d after)", accepted, n)
	}
	if strings.Count(sshd.log(), "Failed publickey") > 0 {
		t.Errorf("agent offered its key to a host with a changed key:\n%s", sshd.log())
	}
}

func countJSON(des []os.DirEntry) int {
	n := 0
	for _, de := range des {
		if strings.HasSuffix(de.Name(), ".json") {
			n++
		}
	}
	return n
}

// syncBuffer is the server's log: written by the goroutine that reads the
// server's stderr, read by the test while the server runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.WriteString(s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
