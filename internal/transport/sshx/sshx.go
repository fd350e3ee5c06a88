// Package sshx is the agent's SSH transport: one connection per host, with
// password or private-key login, a pinned host key (trust on first use, then
// strict), and one exec channel per probe command.
package sshx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/sshkey"
	"github.com/vigil-project/vigil/internal/transport"
)

// ErrorKind classifies a dial failure as an inventory error kind.
type Error struct {
	Kind string // inventory.ErrKind*
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// HostKeyChangedError is returned when the host presents a key other than the
// pinned one. The handshake stops before any credential is sent.
type HostKeyChangedError struct {
	Pinned, Presented string // SHA256 fingerprints
}

func (e *HostKeyChangedError) Error() string {
	return fmt.Sprintf("host key changed: pinned %s, host presented %s; refusing to log in (if the change is expected, reset the host key on the server)", e.Pinned, e.Presented)
}

// Options for Dial.
type Options struct {
	Timeout time.Duration // connect + handshake + login; default 15s
}

// Session is an open SSH connection.
type Session struct {
	client  *ssh.Client
	hostKey string // authorized_keys format
}

// Dial connects and logs in. The returned session's HostKey is the key the
// host presented (to be pinned by the server when nothing was pinned).
func Dial(ctx context.Context, spec inventory.HostSpec, opts Options) (*Session, error) {
	if spec.Credential == nil || spec.Credential.Username == "" {
		return nil, &Error{Kind: inventory.ErrKindConfig, Err: errors.New("no credential configured for this host (set one on the host or the workspace default)")}
	}
	if opts.Timeout == 0 {
		opts.Timeout = 15 * time.Second
	}
	auth, err := authMethods(spec.Credential)
	if err != nil {
		return nil, &Error{Kind: inventory.ErrKindConfig, Err: err}
	}
	var pinned ssh.PublicKey
	if spec.HostKey != "" {
		if pinned, _, _, _, err = ssh.ParseAuthorizedKey([]byte(spec.HostKey)); err != nil {
			return nil, &Error{Kind: inventory.ErrKindConfig, Err: fmt.Errorf("pinned host key unreadable: %w", err)}
		}
	}
	var seen ssh.PublicKey
	var mu sync.Mutex
	cfg := &ssh.ClientConfig{
		User:    spec.Credential.Username,
		Auth:    auth,
		Timeout: opts.Timeout,
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			mu.Lock()
			seen = key
			mu.Unlock()
			if pinned == nil {
				return nil // trust on first use: the server pins what we report
			}
			if !bytes.Equal(key.Marshal(), pinned.Marshal()) {
				return &HostKeyChangedError{Pinned: ssh.FingerprintSHA256(pinned), Presented: ssh.FingerprintSHA256(key)}
			}
			return nil
		},
	}
	if pinned != nil {
		cfg.HostKeyAlgorithms = sshkey.Algorithms(pinned.Type())
	}
	port := spec.Port
	if port == 0 {
		port = 22
	}
	addr := net.JoinHostPort(spec.Address, strconv.Itoa(port))

	dctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		kind := inventory.ErrKindUnreachable
		if errors.Is(err, context.DeadlineExceeded) {
			kind = inventory.ErrKindTimeout
		}
		return nil, &Error{Kind: kind, Err: fmt.Errorf("connect %s: %w", addr, err)}
	}
	// The handshake has no context: a deadline on the socket bounds it, and
	// closing the socket on cancel stops it early.
	_ = conn.SetDeadline(time.Now().Add(opts.Timeout))
	stop := context.AfterFunc(dctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	stop()
	if err != nil {
		conn.Close()
		return nil, classify(addr, err)
	}
	_ = conn.SetDeadline(time.Time{})
	s := &Session{client: ssh.NewClient(c, chans, reqs)}
	mu.Lock()
	if seen != nil {
		s.hostKey = sshkey.Marshal(seen)
	}
	mu.Unlock()
	return s, nil
}

func classify(addr string, err error) error {
	var changed *HostKeyChangedError
	switch {
	case errors.As(err, &changed):
		return &Error{Kind: inventory.ErrKindHostKeyChanged, Err: fmt.Errorf("%s: %w", addr, changed)}
	case isAuthError(err):
		return &Error{Kind: inventory.ErrKindAuth, Err: fmt.Errorf("%s: login refused: wrong username, password or key (%v)", addr, err)}
	case isTimeout(err):
		return &Error{Kind: inventory.ErrKindTimeout, Err: fmt.Errorf("%s: SSH handshake timed out", addr)}
	default:
		return &Error{Kind: inventory.ErrKindUnreachable, Err: fmt.Errorf("%s: SSH handshake failed: %w", addr, err)}
	}
}

func isAuthError(err error) bool {
	var se *ssh.ServerAuthError
	if errors.As(err, &se) {
		return true
	}
	// x/crypto/ssh reports exhausted methods as a plain error.
	return bytes.Contains([]byte(err.Error()), []byte("unable to authenticate"))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func authMethods(c *inventory.Credential) ([]ssh.AuthMethod, error) {
	switch {
	case c.PrivateKey != "":
		var signer ssh.Signer
		var err error
		if c.Passphrase != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(c.PrivateKey), []byte(c.Passphrase))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(c.PrivateKey))
		}
		if err != nil {
			return nil, fmt.Errorf("private key unusable: %w", err)
		}
		return []ssh.AuthMethod{ssh.PublicKeys(signer)}, nil
	case c.Password != "":
		pw := c.Password
		// Many servers only offer keyboard-interactive for passwords.
		ki := ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range answers {
				answers[i] = pw
			}
			return answers, nil
		})
		return []ssh.AuthMethod{ssh.Password(pw), ki}, nil
	default:
		return nil, errors.New("credential has neither a password nor a private key")
	}
}

// HostKey returns the key the host presented, in authorized_keys format.
func (s *Session) HostKey() string { return s.hostKey }

// Close closes the connection.
func (s *Session) Close() error { return s.client.Close() }

// Run runs one command in its own exec channel. Output beyond
// transport.MaxOutput is an error rather than a silently cut result.
func (s *Session) Run(ctx context.Context, command string) ([]byte, error) {
	sess, err := s.client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("open channel: %w", err)
	}
	defer sess.Close()
	var stdout limitedBuffer
	var stderr limitedBuffer
	stdout.max, stderr.max = transport.MaxOutput, 64<<10
	sess.Stdout, sess.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	go func() { done <- sess.Run(command) }()
	select {
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGKILL)
		sess.Close()
		// The command is dead but the connection is fine: report it like
		// a failed command so the remaining probes still run.
		return nil, &transport.ExitError{Code: -1, Stderr: "command timed out: " + ctx.Err().Error()}
	case err = <-done:
	}
	if stdout.over {
		return nil, &transport.ExitError{Code: -1, Stderr: fmt.Sprintf("output larger than %d bytes", transport.MaxOutput)}
	}
	var exit *ssh.ExitError
	if errors.As(err, &exit) {
		return stdout.Bytes(), &transport.ExitError{Code: exit.ExitStatus(), Stderr: string(bytes.TrimSpace(stderr.Bytes()))}
	}
	var missing *ssh.ExitMissingError
	if errors.As(err, &missing) {
		return stdout.Bytes(), &transport.ExitError{Code: -1, Stderr: "command ended without an exit status"}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return stdout.Bytes(), nil
}

type limitedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		b.over = true
		return len(p), nil // keep draining so the remote side is not blocked
	}
	return b.Buffer.Write(p)
}
