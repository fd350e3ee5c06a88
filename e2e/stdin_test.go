package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport/sshx"
)

// TestRunInputRealSSHD: a command's standard input reaches it whole over
// a real OpenSSH server and is closed after, which is how the agent hands
// a database client its login (collect/sap_dbread.go); the command line
// the server ran never holds what went in on stdin.
func TestRunInputRealSSHD(t *testing.T) {
	sshd := startSSHD(t)
	spec := inventory.HostSpec{ID: 1, Name: "local", Address: "127.0.0.1", Port: sshd.port, Transport: inventory.TransportSSH,
		Credential: &inventory.Credential{Username: sshd.user, PrivateKey: sshd.keyPEM}}
	sess, err := sshx.Dial(context.Background(), spec, sshx.Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	tests := []struct {
		name, cmd string
		in        []byte
		want      string
	}{
		{"echoed back", "cat", []byte("line one\nline two\n"), "line one\nline two\n"},
		{"first line read by the shell", `IFS= read -r pw; printf '%s' "${#pw}"`, []byte("s3cret pass\nrest\n"), "11"},
		{"end of input is seen", "wc -c", big, "1048576"},
		{"empty input", "wc -c", []byte{}, "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := sess.RunInput(ctx, tc.cmd, tc.in)
			if err != nil || strings.TrimSpace(string(out)) != strings.TrimSpace(tc.want) {
				t.Fatalf("RunInput(%q) = %q, %v; want %q", tc.cmd, out, err, tc.want)
			}
		})
	}
}
