package sshx_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/demo"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/sshkey"
	"github.com/vigil-project/vigil/internal/transport"
	"github.com/vigil-project/vigil/internal/transport/sshx"
)

func TestDialAndRun(t *testing.T) {
	rec, err := demo.LoadRecording("debian12")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := demo.StartReplay(rec, "127.0.0.1:0", "scan", "right")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherSigner, _ := gossh.NewSignerFromKey(other)
	realKey := sshkey.Marshal(rs.HostKey)
	closed := closedPort(t)

	spec := func(pw, pinned string, port int) inventory.HostSpec {
		return inventory.HostSpec{ID: 1, Name: "t", Address: "127.0.0.1", Port: port, Transport: "ssh", HostKey: pinned,
			Credential: &inventory.Credential{Username: "scan", Password: pw}}
	}
	tests := []struct {
		name     string
		spec     inventory.HostSpec
		wantKind string
	}{
		{"first use pins nothing yet", spec("right", "", rs.Port()), ""},
		{"pinned key matches", spec("right", realKey, rs.Port()), ""},
		{"wrong password", spec("wrong", realKey, rs.Port()), inventory.ErrKindAuth},
		{"changed host key sends no credentials", spec("right", sshkey.Marshal(otherSigner.PublicKey()), rs.Port()), inventory.ErrKindHostKeyChanged},
		{"unreachable", spec("right", "", closed), inventory.ErrKindUnreachable},
		{"no credential", inventory.HostSpec{Address: "127.0.0.1", Port: rs.Port()}, inventory.ErrKindConfig},
		{"garbled pinned key", spec("right", "ssh-ed25519 !!!", rs.Port()), inventory.ErrKindConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := rs.AuthAttempts.Load()
			sess, err := sshx.Dial(context.Background(), tc.spec, sshx.Options{Timeout: 5 * time.Second})
			attempts := rs.AuthAttempts.Load() - before
			if tc.wantKind != "" {
				var se *sshx.Error
				if !errors.As(err, &se) || se.Kind != tc.wantKind {
					t.Fatalf("err = %v, want kind %s", err, tc.wantKind)
				}
				if tc.wantKind == inventory.ErrKindHostKeyChanged && attempts != 0 {
					t.Fatalf("client authenticated %d times to a host with a changed key", attempts)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			if attempts < 1 {
				t.Errorf("server saw %d logins", attempts)
			}
			if sess.HostKey() != realKey {
				t.Errorf("HostKey() = %q, want %q", sess.HostKey(), realKey)
			}
			out, err := sess.Run(context.Background(), collect.Commands()["os"])
			if err != nil || !strings.Contains(string(out), `VERSION_ID="12"`) {
				t.Fatalf("os probe: %v %q", err, out)
			}
			_, err = sess.Run(context.Background(), "rm -rf /")
			var ee *transport.ExitError
			if !errors.As(err, &ee) || ee.Code != 127 {
				t.Fatalf("command outside the recording: %v", err)
			}
		})
	}
}

func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}
