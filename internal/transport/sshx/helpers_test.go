package sshx_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	gssh "github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/demo"
	"github.com/vigil-project/vigil/internal/sshkey"
)

// testServer is an in-process SSH server whose login methods, algorithms
// and channel types each test chooses. Commands answer "ok".
type testServer struct {
	srv  *gssh.Server
	ln   net.Listener
	key  gossh.Signer
	mu   sync.Mutex
	keys []string // public keys offered for login, in order, once each
	// forwards are the direct-tcpip destinations requested.
	forwards []string
	sessions atomic.Int64 // session channels opened (commands run)
	logins   atomic.Int64 // password/keyboard-interactive checks
}

func newSigner(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// start serves s.srv on a free 127.0.0.1 port with s.key (a new ed25519
// key when nil).
func (s *testServer) start(t testing.TB) {
	t.Helper()
	if s.key == nil {
		s.key = newSigner(t)
	}
	s.srv.AddHostKey(s.key)
	if s.srv.Handler == nil {
		s.srv.Handler = func(sess gssh.Session) {
			s.sessions.Add(1)
			_, _ = io.WriteString(sess, "ok\n")
		}
	}
	var err error
	if s.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go func() {
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, gssh.ErrServerClosed) {
			_ = err // listener closed by Cleanup
		}
	}()
	t.Cleanup(func() { s.srv.Close() })
}

func (s *testServer) port() int       { return s.ln.Addr().(*net.TCPAddr).Port }
func (s *testServer) hostKey() string { return sshkey.Marshal(s.key.PublicKey()) }

// passwordServer accepts user/password by password and keyboard-interactive.
func passwordServer(user, password string) *testServer {
	s := &testServer{srv: &gssh.Server{}}
	s.srv.PasswordHandler = func(ctx gssh.Context, pw string) bool {
		s.logins.Add(1)
		return ctx.User() == user && subtle.ConstantTimeCompare([]byte(pw), []byte(password)) == 1
	}
	return s
}

// recordKey notes a login key once, in the order it was first offered.
func (s *testServer) recordKey(k gossh.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := sshkey.Marshal(k)
	for _, seen := range s.keys {
		if seen == m {
			return
		}
	}
	s.keys = append(s.keys, m)
}

func (s *testServer) offered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

// bastion is a jump host: it allows direct-tcpip to the destinations
// allow() accepts and records each request.
func bastion(user, password string, allow func(host string, port uint32) bool) *testServer {
	s := passwordServer(user, password)
	s.srv.LocalPortForwardingCallback = func(_ gssh.Context, host string, port uint32) bool {
		s.mu.Lock()
		s.forwards = append(s.forwards, net.JoinHostPort(host, strconv.FormatUint(uint64(port), 10)))
		s.mu.Unlock()
		return allow(host, port)
	}
	s.srv.ChannelHandlers = map[string]gssh.ChannelHandler{
		"session":      gssh.DefaultSessionHandler,
		"direct-tcpip": gssh.DirectTCPIPHandler,
	}
	return s
}

func (s *testServer) forwarded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.forwards...)
}

func sshkeyOf(rs *demo.ReplayServer) string { return sshkey.Marshal(rs.HostKey) }

func sshkeyMarshal(s gossh.Signer) string { return sshkey.Marshal(s.PublicKey()) }

// silentListener accepts connections and never writes: a host that hangs
// mid-handshake.
func silentListener(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().(*net.TCPAddr).Port
}
