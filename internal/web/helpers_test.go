package web

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/sshkey"
	"github.com/vigil-project/vigil/internal/store/sqlite"
)

const adminPassword = "correct horse battery"

// env is a web app on a real SQLite store with a bootstrapped admin.
type env struct {
	t       *testing.T
	svc     *service.Service
	h       http.Handler
	ws      *domain.Workspace
	admin   service.Actor
	agentID int64
	logs    *syncBuffer
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, secrets.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	sealer, err := secrets.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	svc := service.New(st, sealer, log)
	res, err := svc.Bootstrap(ctx, adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.GetUserByLogin(ctx, service.AdminLogin)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(svc, log, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, svc: svc, h: h, ws: res.Workspace, logs: logs,
		admin: service.Actor{UserID: u.ID, Login: u.Login, WorkspaceID: res.Workspace.ID, Role: domain.RoleAdmin}}
	ag, _, err := svc.CreateAgentKey(ctx, e.ws.ID, "agent-1")
	if err != nil {
		t.Fatal(err)
	}
	e.agentID = ag.ID
	return e
}

// session is a logged-in browser: its cookie value and CSRF token.
type session struct {
	cookie string
	csrf   string
}

func (e *env) session(a service.Actor) session {
	e.t.Helper()
	id, sess, err := e.svc.StartSession(context.Background(), &a)
	if err != nil {
		e.t.Fatal(err)
	}
	return session{cookie: id, csrf: sess.CSRFToken}
}

var userSeq atomic.Int64

// user adds a user with the given role to the workspace.
func (e *env) user(role string) service.Actor {
	e.t.Helper()
	ctx := context.Background()
	u := &domain.User{Login: fmt.Sprintf("%s-%d", role, userSeq.Add(1)), PasswordHash: "unused"}
	if err := e.svc.Store.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.Store.SetMembership(ctx, domain.Membership{WorkspaceID: e.ws.ID, UserID: u.ID, Role: role}); err != nil {
		e.t.Fatal(err)
	}
	return service.Actor{UserID: u.ID, Login: u.Login, WorkspaceID: e.ws.ID, Role: role}
}

// req describes one request; the zero session is logged out.
type req struct {
	method  string
	path    string
	form    url.Values
	sess    session
	headers map[string]string
	cookies []*http.Cookie
}

func (e *env) do(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	if r.sess.cookie != "" {
		hr.AddCookie(&http.Cookie{Name: httpx.SessionCookie, Value: r.sess.cookie})
	}
	for _, c := range r.cookies {
		hr.AddCookie(c)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, hr)
	return w
}

// get fetches a page as s and fails unless the status is want.
func (e *env) get(s session, path string, want int) string {
	e.t.Helper()
	w := e.do(req{path: path, sess: s})
	if w.Code != want {
		e.t.Fatalf("GET %s: status %d, want %d\n%s", path, w.Code, want, w.Body.String())
	}
	return w.Body.String()
}

// withCSRF returns form plus the session's CSRF token.
func withCSRF(s session, form url.Values) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	out.Set(httpx.CSRFField, s.csrf)
	return out
}

func (e *env) host(name string) *domain.Host {
	e.t.Helper()
	addr := "10.0.0." + fmt.Sprint(len(name))
	h, err := e.svc.CreateHost(context.Background(), e.admin, domain.HostInput{Name: &name, Address: &addr})
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

var reportSeq atomic.Int64

// report builds a successful report for host h started at started.
func report(h *domain.Host, started time.Time, pkgs ...inventory.Package) *inventory.HostReport {
	return &inventory.HostReport{
		SchemaVersion: inventory.SchemaVersion,
		ReportID:      fmt.Sprintf("r-%d", reportSeq.Add(1)),
		HostID:        h.ID,
		StartedAt:     started,
		FinishedAt:    started.Add(1500 * time.Millisecond),
		Status:        inventory.StatusOK,
		System: inventory.System{
			Hostname: "web-01.example.net",
			OS: inventory.OS{Family: "debian", ID: "debian", VersionID: "12", Name: "Debian GNU/Linux",
				PrettyName: "Debian GNU/Linux 12 (bookworm)", Codename: "bookworm"},
			Kernel: inventory.Kernel{Name: "Linux", Release: "6.1.0-18-amd64", Version: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1", Machine: "x86_64"},
			Uptime: inventory.Uptime{Seconds: 3*86400 + 5*3600, BootTime: started.Add(-(3*24 + 5) * time.Hour)},
			CPU:    inventory.CPU{Model: "AMD EPYC 7302P 16-Core Processor", Sockets: 1, Cores: 16, Threads: 32},
			Memory: inventory.Memory{TotalBytes: 64 << 30, AvailableBytes: 48 << 30},
		},
		Packages: pkgs,
	}
}

func (e *env) ingest(r *inventory.HostReport) {
	e.t.Helper()
	if _, err := e.svc.Store.IngestReport(context.Background(), e.ws.ID, e.agentID, r, e.svc.Now()); err != nil {
		e.t.Fatal(err)
	}
}

func deb(name, version, source string) inventory.Package {
	return inventory.Package{Name: name, Version: version, Arch: "amd64", SourceName: source, Ecosystem: inventory.EcosystemDeb}
}

// hostKey returns a fresh ed25519 host key in authorized_keys format and
// its fingerprint.
func hostKey(t *testing.T) (string, string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sshkey.Marshal(k), ssh.FingerprintSHA256(k)
}

func wantContains(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("body does not contain %q\n%s", s, body)
		}
	}
}

func wantNotContains(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(body, s) {
			t.Errorf("body contains %q but must not", s)
		}
	}
}

func cookieNamed(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}
