// Package sshx is the agent's SSH transport: one connection per host, with
// password, keyboard-interactive, private-key and ssh-agent login, a pinned
// host key (trust on first use, then strict), an optional jump host, modern
// algorithms unless legacy ones are switched on for a host, and one exec
// channel per probe command.
package sshx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// Error is a failed Dial, classified as an inventory error kind.
type Error struct {
	Kind string // inventory.ErrKind*
	// Hop says which connection failed: HopJump (the bastion) or
	// HopTarget; empty for a configuration error found before dialling.
	Hop string
	Err error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Hops of a connection through a jump host.
const (
	HopJump   = "jump"
	HopTarget = "target"
)

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
	// Timeout bounds TCP connect, SSH handshake and login of each hop;
	// default 15s.
	Timeout time.Duration
	// AgentSocket is an ssh-agent socket (SSH_AUTH_SOCK) whose keys are
	// offered after the credential's own key, on every hop. Empty: none.
	AgentSocket string
}

// Session is an open SSH connection, possibly through a jump host.
type Session struct {
	client  *ssh.Client
	jump    *ssh.Client // nil without a jump host
	hostKey string      // authorized_keys format
	jumpKey string
}

// Dial connects and logs in, through spec.Jump when set: it logs into the
// bastion, opens a direct-tcpip channel to the target and runs the target's
// SSH handshake inside it, so nothing is executed on the bastion and the
// bastion never sees the target's credential. The session's HostKey and
// JumpHostKey are the keys presented, for the server to pin on first use.
func Dial(ctx context.Context, spec inventory.HostSpec, opts Options) (*Session, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 15 * time.Second
	}
	var ag agent.ExtendedAgent
	if opts.AgentSocket != "" {
		conn, err := (&net.Dialer{Timeout: opts.Timeout}).DialContext(ctx, "unix", opts.AgentSocket)
		if err != nil {
			return nil, &Error{Kind: inventory.ErrKindConfig, Err: fmt.Errorf("ssh-agent (ssh_agent: true) not reachable at %s: %w", opts.AgentSocket, err)}
		}
		// Signing happens during the handshakes only: the socket can go
		// once Dial returns.
		defer conn.Close()
		ag = agent.NewClient(conn)
	}
	target, err := newHop(HopTarget, spec.Address, spec.Port, spec.Credential, spec.HostKey, spec.LegacyAlgorithms, ag)
	if err != nil {
		return nil, err
	}
	if spec.Jump == nil {
		conn, err := dialTCP(ctx, target, opts.Timeout)
		if err != nil {
			return nil, err
		}
		c, key, err := target.handshake(ctx, conn, opts.Timeout)
		if err != nil {
			return nil, err
		}
		return &Session{client: c, hostKey: key}, nil
	}

	// Legacy algorithms are for the old target only: the bastion is the
	// one machine an operator can keep current.
	jump, err := newHop(HopJump, spec.Jump.Address, spec.Jump.Port, spec.Jump.Credential, spec.Jump.HostKey, false, ag)
	if err != nil {
		return nil, err
	}
	target.via = jump.addr
	conn, err := dialTCP(ctx, jump, opts.Timeout)
	if err != nil {
		return nil, err
	}
	jc, jumpKey, err := jump.handshake(ctx, conn, opts.Timeout)
	if err != nil {
		return nil, err
	}
	// direct-tcpip: the bastion connects to the target on our behalf.
	cctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	tconn, err := jc.DialContext(cctx, "tcp", target.addr)
	timedOut := cctx.Err() != nil
	cancel()
	if err != nil {
		jc.Close()
		kind := inventory.ErrKindUnreachable
		if timedOut {
			kind = inventory.ErrKindTimeout
		}
		return nil, &Error{Kind: kind, Hop: HopTarget, Err: fmt.Errorf("%s: jump host %s could not connect to it: %w", target.addr, jump.addr, err)}
	}
	c, key, err := target.handshake(ctx, tconn, opts.Timeout)
	if err != nil {
		jc.Close()
		return nil, err
	}
	return &Session{client: c, jump: jc, hostKey: key, jumpKey: jumpKey}, nil
}

func dialTCP(ctx context.Context, h *hop, timeout time.Duration) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", h.addr)
	if err != nil {
		kind := inventory.ErrKindUnreachable
		if errors.Is(err, context.DeadlineExceeded) {
			kind = inventory.ErrKindTimeout
		}
		return nil, &Error{Kind: kind, Hop: h.name, Err: fmt.Errorf("%sconnect %s: %w", h.prefix(), h.addr, err)}
	}
	return conn, nil
}

// HostKey returns the key the host presented, in authorized_keys format.
func (s *Session) HostKey() string { return s.hostKey }

// JumpHostKey returns the key the jump host presented, or "" without one.
func (s *Session) JumpHostKey() string { return s.jumpKey }

// Close closes the connection and the one to the jump host.
func (s *Session) Close() error {
	err := s.client.Close()
	if s.jump != nil {
		if jerr := s.jump.Close(); err == nil {
			err = jerr
		}
	}
	return err
}

// Run runs one command in its own exec channel. Output beyond
// transport.MaxOutput is an error rather than a silently cut result.
func (s *Session) Run(ctx context.Context, command string) ([]byte, error) {
	return s.run(ctx, command, nil)
}

// RunInput is Run with stdin fed to the command, then closed.
func (s *Session) RunInput(ctx context.Context, command string, stdin []byte) ([]byte, error) {
	return s.run(ctx, command, stdin)
}

func (s *Session) run(ctx context.Context, command string, stdin []byte) ([]byte, error) {
	sess, err := s.client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("open channel: %w", err)
	}
	defer sess.Close()
	var stdout limitedBuffer
	var stderr limitedBuffer
	stdout.max, stderr.max = transport.MaxOutput, 64<<10
	sess.Stdout, sess.Stderr = &stdout, &stderr
	if stdin != nil {
		sess.Stdin = bytes.NewReader(stdin)
	}
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
