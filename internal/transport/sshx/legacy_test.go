package sshx_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	gssh "github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport/sshx"
)

// Old servers (OpenSSH before 7.2, network gear) speak only SHA-1 key
// exchanges, CBC ciphers or ssh-rsa host signatures. The agent refuses them
// unless the host has legacy algorithms switched on, and then logs in.
func TestLegacyAlgorithms(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaSigner, err := gossh.NewSignerFromKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	// Signs only with ssh-rsa (SHA-1), like a server that predates RFC 8332.
	sha1Only, err := gossh.NewSignerWithAlgorithms(rsaSigner.(gossh.AlgorithmSigner), []string{gossh.KeyAlgoRSA})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  gossh.Config
		key  gossh.Signer
	}{
		{"diffie-hellman-group1-sha1 only", gossh.Config{KeyExchanges: []string{gossh.InsecureKeyExchangeDH1SHA1}}, nil},
		{"diffie-hellman-group14-sha1 only", gossh.Config{KeyExchanges: []string{gossh.InsecureKeyExchangeDH14SHA1}}, nil},
		{"CBC ciphers only", gossh.Config{Ciphers: []string{gossh.InsecureCipherAES128CBC, gossh.InsecureCipherTripleDESCBC}}, nil},
		{"ssh-rsa SHA-1 host key only", gossh.Config{}, sha1Only},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := passwordServer("u", "pw")
			srv.key = tc.key
			srv.srv.ServerConfigCallback = func(gssh.Context) *gossh.ServerConfig {
				return &gossh.ServerConfig{Config: tc.cfg}
			}
			srv.start(t)
			spec := inventory.HostSpec{Address: "127.0.0.1", Port: srv.port(), Credential: &inventory.Credential{Username: "u", Password: "pw"}}

			_, err := sshx.Dial(context.Background(), spec, sshx.Options{Timeout: 5 * time.Second})
			var se *sshx.Error
			if !errors.As(err, &se) || se.Kind != inventory.ErrKindUnreachable || !strings.Contains(err.Error(), "switch on legacy algorithms") {
				t.Fatalf("legacy-only server with legacy off: %v", err)
			}
			if srv.logins.Load() != 0 {
				t.Fatalf("password sent over a refused handshake")
			}

			spec.LegacyAlgorithms = true
			sess, err := sshx.Dial(context.Background(), spec, sshx.Options{Timeout: 5 * time.Second})
			if err != nil {
				t.Fatalf("legacy on: %v", err)
			}
			defer sess.Close()
			// Pinned from here on, the same key must keep working.
			spec.HostKey = sess.HostKey()
			sess2, err := sshx.Dial(context.Background(), spec, sshx.Options{Timeout: 5 * time.Second})
			if err != nil {
				t.Fatalf("legacy on, key pinned: %v", err)
			}
			sess2.Close()
		})
	}
}
