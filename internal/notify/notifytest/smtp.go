// Package notifytest runs real receivers for notification tests: an SMTP
// server (github.com/emersion/go-smtp) on a loopback port that speaks
// STARTTLS and AUTH PLAIN/LOGIN and refuses auth before TLS, and records
// every message it accepts.
package notifytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one message the server accepted.
type Mail struct {
	From     string
	To       []string
	Data     []byte
	User     string // the authenticated user, "" without AUTH
	Mech     string
	TLS      bool // STARTTLS was in force
	Received time.Time
}

// SMTPServer is a running test SMTP server.
type SMTPServer struct {
	Host string
	Port int
	User string
	Pass string
	// RootCAs trusts the server's self-signed certificate (for 127.0.0.1).
	RootCAs *x509.CertPool
	// Mechs are the AUTH mechanisms offered (default PLAIN and LOGIN).
	Mechs []string

	mu    sync.Mutex
	mails []Mail
	// FailNext makes the next n DATA commands fail with 451.
	failNext int
}

// StartSMTP starts a server with STARTTLS and AUTH on a loopback port; it
// stops when t ends.
func StartSMTP(t testing.TB, user, pass string) *SMTPServer {
	t.Helper()
	return start(t, user, pass, false)
}

// StartSMTPS starts a server that speaks TLS from the first byte (port 465
// style, "implicit TLS").
func StartSMTPS(t testing.TB, user, pass string) *SMTPServer {
	t.Helper()
	return start(t, user, pass, true)
}

func start(t testing.TB, user, pass string, implicit bool) *SMTPServer {
	t.Helper()
	cert, pool := selfSigned(t)
	s := &SMTPServer{Host: "127.0.0.1", User: user, Pass: pass, RootCAs: pool, Mechs: []string{sasl.Plain, sasl.Login}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, c: c}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	if implicit {
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return s
}

// Addr is host:port.
func (s *SMTPServer) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Mails returns the messages accepted so far.
func (s *SMTPServer) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// FailNext makes the next n messages fail at DATA with a temporary error.
func (s *SMTPServer) FailNext(n int) {
	s.mu.Lock()
	s.failNext = n
	s.mu.Unlock()
}

type session struct {
	s    *SMTPServer
	c    *smtp.Conn
	m    Mail
	user string
	mech string
}

func (ss *session) tls() bool {
	_, ok := ss.c.TLSConnectionState()
	return ok
}

func (ss *session) AuthMechanisms() []string { return ss.s.Mechs }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if !ss.tls() {
		return nil, errors.New("auth requires STARTTLS first")
	}
	check := func(user, pass string) error {
		if user != ss.s.User || pass != ss.s.Pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "invalid credentials"}
		}
		ss.user, ss.mech = user, mech
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.User != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.m = Mail{From: from, User: ss.user, Mech: ss.mech, TLS: ss.tls()}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.m.To = append(ss.m.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.failNext > 0 {
		ss.s.failNext--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	ss.m.Data = bytes.Clone(b)
	ss.m.Received = time.Now()
	ss.s.mails = append(ss.s.mails, ss.m)
	return nil
}

func (ss *session) Reset()        { ss.m = Mail{} }
func (ss *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl does not
// provide: ask for the user name, then the password.
type loginServer struct {
	check      func(user, pass string) error
	user, pass string
	step       int
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if resp != nil { // initial response carries the user name
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(resp)
		l.step++
		return []byte("Password:"), false, nil
	case 2:
		l.pass = string(resp)
		l.step++
		return nil, true, l.check(l.user, l.pass)
	}
	return nil, false, errors.New("unexpected LOGIN response")
}

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vigil test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pool
}
