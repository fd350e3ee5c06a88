package sshx_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	gssh "github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/sshkey"
	"github.com/vigil-project/vigil/internal/transport/sshx"
)

// startAgent serves an ssh-agent holding keys on a unix socket, as
// SSH_AUTH_SOCK would.
func startAgent(t *testing.T, keys ...ed25519.PrivateKey) string {
	t.Helper()
	kr := agent.NewKeyring()
	for _, k := range keys {
		if err := kr.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _ = agent.ServeAgent(kr, c) }()
		}
	}()
	return sock
}

func edKey(t *testing.T) (ed25519.PrivateKey, string, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := gossh.NewPublicKey(priv.Public())
	return priv, string(pem.EncodeToMemory(block)), sshkey.Marshal(pub)
}

func TestSSHAgentAuth(t *testing.T) {
	agentPriv, _, agentPub := edKey(t)
	_, ownPEM, ownPub := edKey(t)
	// The server accepts only the agent's key and records every key offered.
	srv := &testServer{srv: &gssh.Server{}}
	srv.srv.PublicKeyHandler = func(_ gssh.Context, k gssh.PublicKey) bool {
		srv.recordKey(k)
		return sshkey.Marshal(k) == agentPub
	}
	srv.start(t)
	sock := startAgent(t, agentPriv)

	host := func(cred inventory.Credential) inventory.HostSpec {
		return inventory.HostSpec{Address: "127.0.0.1", Port: srv.port(), Transport: "ssh", Credential: &cred}
	}
	tests := []struct {
		name     string
		spec     inventory.HostSpec
		socket   string
		wantKind string
		// offered: the keys the server must have seen, in this order.
		offered []string
	}{
		{"agent key alone", host(inventory.Credential{Username: "u"}), sock, "", []string{agentPub}},
		{"own key first, then the agent's", host(inventory.Credential{Username: "u", PrivateKey: ownPEM}), sock, "", []string{ownPub, agentPub}},
		{"without ssh_agent only the own key", host(inventory.Credential{Username: "u", PrivateKey: ownPEM}), "", inventory.ErrKindAuth, []string{ownPub}},
		{"username only and no agent", host(inventory.Credential{Username: "u"}), "", inventory.ErrKindConfig, nil},
		{"agent socket missing", host(inventory.Credential{Username: "u"}), filepath.Join(t.TempDir(), "none.sock"), inventory.ErrKindConfig, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.mu.Lock()
			srv.keys = nil
			srv.mu.Unlock()
			sess, err := sshx.Dial(context.Background(), tc.spec, sshx.Options{Timeout: 5 * time.Second, AgentSocket: tc.socket})
			if tc.wantKind != "" {
				var se *sshx.Error
				if !errors.As(err, &se) || se.Kind != tc.wantKind {
					t.Fatalf("err = %v, want kind %s", err, tc.wantKind)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				out, err := sess.Run(context.Background(), "true")
				sess.Close()
				if err != nil || string(out) != "ok\n" {
					t.Fatalf("run: %v %q", err, out)
				}
			}
			if got := srv.offered(); !slices.Equal(got, tc.offered) {
				t.Errorf("keys offered %q, want %q", got, tc.offered)
			}
		})
	}
}

// Servers that use PAM often offer only keyboard-interactive: the
// credential's password answers its prompts.
func TestKeyboardInteractive(t *testing.T) {
	srv := &testServer{srv: &gssh.Server{}}
	srv.srv.KeyboardInteractiveHandler = func(_ gssh.Context, challenge gossh.KeyboardInteractiveChallenge) bool {
		srv.logins.Add(1)
		answers, err := challenge("", "", []string{"Password: "}, []bool{false})
		return err == nil && len(answers) == 1 && answers[0] == "s3cret"
	}
	srv.start(t)
	for _, tc := range []struct {
		pw       string
		wantKind string
	}{{"s3cret", ""}, {"wrong", inventory.ErrKindAuth}} {
		spec := inventory.HostSpec{Address: "127.0.0.1", Port: srv.port(), Credential: &inventory.Credential{Username: "u", Password: tc.pw}}
		sess, err := sshx.Dial(context.Background(), spec, sshx.Options{Timeout: 5 * time.Second})
		if tc.wantKind == "" {
			if err != nil {
				t.Fatalf("keyboard-interactive login: %v", err)
			}
			sess.Close()
			continue
		}
		var se *sshx.Error
		if !errors.As(err, &se) || se.Kind != tc.wantKind {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if srv.logins.Load() < 2 {
		t.Errorf("server saw %d keyboard-interactive logins", srv.logins.Load())
	}
}
