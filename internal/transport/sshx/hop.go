package sshx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/sshkey"
)

// hop is one SSH login on the way to the target: the target itself, or the
// jump host in front of it.
type hop struct {
	name   string // HopJump or HopTarget
	addr   string // host:port
	via    string // the jump host's address, for a target behind one
	cfg    *ssh.ClientConfig
	pinned ssh.PublicKey
}

func newHop(name, address string, port int, cred *inventory.Credential, hostKey string, legacy bool, ag agent.ExtendedAgent) (*hop, error) {
	if port == 0 {
		port = 22
	}
	h := &hop{name: name, addr: net.JoinHostPort(address, strconv.Itoa(port))}
	if cred == nil || cred.Username == "" {
		msg := "no credential configured for this host (set one on the host or the workspace default)"
		if name == HopJump {
			msg = "no credential configured for jump host " + h.addr
		}
		return nil, &Error{Kind: inventory.ErrKindConfig, Hop: name, Err: errors.New(msg)}
	}
	auth, err := authMethods(cred, ag)
	if err != nil {
		return nil, &Error{Kind: inventory.ErrKindConfig, Hop: name, Err: fmt.Errorf("%s%w", h.prefix(), err)}
	}
	if hostKey != "" {
		if h.pinned, _, _, _, err = ssh.ParseAuthorizedKey([]byte(hostKey)); err != nil {
			return nil, &Error{Kind: inventory.ErrKindConfig, Hop: name, Err: fmt.Errorf("%spinned host key unreadable: %w", h.prefix(), err)}
		}
	}
	h.cfg = &ssh.ClientConfig{
		Config:            algorithms(legacy),
		User:              cred.Username,
		Auth:              auth,
		HostKeyAlgorithms: hostKeyAlgorithms(h.pinned, legacy),
	}
	return h, nil
}

// prefix names the jump host in messages, so an operator knows which of
// the two logins failed.
func (h *hop) prefix() string {
	if h.name == HopJump {
		return "jump host: "
	}
	return ""
}

// handshake runs the SSH handshake and login over conn and returns the
// client and the host key presented. It closes conn on failure.
func (h *hop) handshake(ctx context.Context, conn net.Conn, timeout time.Duration) (*ssh.Client, string, error) {
	var seen ssh.PublicKey
	var mu sync.Mutex
	cfg := *h.cfg
	cfg.HostKeyCallback = func(_ string, _ net.Addr, key ssh.PublicKey) error {
		mu.Lock()
		seen = key
		mu.Unlock()
		if h.pinned == nil {
			return nil // trust on first use: the server pins what we report
		}
		if !bytes.Equal(key.Marshal(), h.pinned.Marshal()) {
			return &HostKeyChangedError{Pinned: ssh.FingerprintSHA256(h.pinned), Presented: ssh.FingerprintSHA256(key)}
		}
		return nil
	}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The handshake has no context. A socket deadline bounds it on a TCP
	// connection; a channel through a jump host has no deadlines, so
	// closing the connection when the context ends is what stops it there.
	_ = conn.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(hctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, h.addr, &cfg)
	stopped := stop()
	if err != nil {
		conn.Close()
		if !stopped {
			return nil, "", &Error{Kind: inventory.ErrKindTimeout, Hop: h.name, Err: fmt.Errorf("%s: SSH handshake timed out", h.label())}
		}
		return nil, "", h.classify(err)
	}
	if !stopped {
		// The context ended just as the handshake finished: the
		// connection is already closed.
		c.Close()
		return nil, "", &Error{Kind: inventory.ErrKindTimeout, Hop: h.name, Err: fmt.Errorf("%s: SSH handshake timed out", h.label())}
	}
	_ = conn.SetDeadline(time.Time{})
	mu.Lock()
	defer mu.Unlock()
	key := ""
	if seen != nil {
		key = sshkey.Marshal(seen)
	}
	return ssh.NewClient(c, chans, reqs), key, nil
}

// label is how messages name this hop's host.
func (h *hop) label() string {
	switch {
	case h.name == HopJump:
		return "jump host " + h.addr
	case h.via != "":
		return h.addr + " (through jump host " + h.via + ")"
	}
	return h.addr
}

func (h *hop) classify(err error) error {
	var changed *HostKeyChangedError
	e := &Error{Hop: h.name}
	switch {
	case errors.As(err, &changed):
		e.Kind, e.Err = inventory.ErrKindHostKeyChanged, fmt.Errorf("%s: %w", h.label(), changed)
	case isAuthError(err):
		e.Kind, e.Err = inventory.ErrKindAuth, fmt.Errorf("%s: login refused: wrong username, password or key (%v)", h.label(), err)
	case isTimeout(err):
		e.Kind, e.Err = inventory.ErrKindTimeout, fmt.Errorf("%s: SSH handshake timed out", h.label())
	case strings.Contains(err.Error(), "no common algorithm"):
		hint := "the host offers only old algorithms; upgrade its SSH server, or switch on legacy algorithms for this host"
		if h.name == HopJump {
			hint = "the jump host offers only old algorithms; legacy algorithms apply to the target only, so upgrade the jump host's SSH server"
		}
		e.Kind, e.Err = inventory.ErrKindUnreachable, fmt.Errorf("%s: SSH handshake failed: %w (%s)", h.label(), err, hint)
	default:
		e.Kind, e.Err = inventory.ErrKindUnreachable, fmt.Errorf("%s: SSH handshake failed: %w", h.label(), err)
	}
	return e
}

func isAuthError(err error) bool {
	var se *ssh.ServerAuthError
	if errors.As(err, &se) {
		return true
	}
	// x/crypto/ssh reports exhausted methods as a plain error.
	return strings.Contains(err.Error(), "unable to authenticate")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
