// Package demo runs Vigil's demo fleet: SSH servers that replay recorded
// probe outputs of real distributions, so that the agent's real SSH and
// parsing code runs against them. Used by 'vigil demo' and the benchmarks.
package demo

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path"
	"strings"
	"sync/atomic"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/collect"
)

//go:embed fleet
var fleetFS embed.FS

// Recording is one host's recorded probe outputs, keyed by probe name.
type Recording struct {
	Name    string
	Outputs map[string][]byte
}

// LoadRecording reads one recorded host from the embedded fleet.
func LoadRecording(name string) (*Recording, error) {
	dir := path.Join("fleet", name)
	des, err := fs.ReadDir(fleetFS, dir)
	if err != nil {
		return nil, fmt.Errorf("demo host %q: %w", name, err)
	}
	r := &Recording{Name: name, Outputs: map[string][]byte{}}
	for _, de := range des {
		b, err := fs.ReadFile(fleetFS, path.Join(dir, de.Name()))
		if err != nil {
			return nil, err
		}
		r.Outputs[de.Name()] = b
	}
	return r, nil
}

// Recordings lists the names of the embedded demo hosts.
func Recordings() []string {
	des, _ := fs.ReadDir(fleetFS, "fleet")
	var out []string
	for _, de := range des {
		if de.IsDir() {
			out = append(out, de.Name())
		}
	}
	return out
}

// ReplayServer is a real SSH server (password login) that answers each
// command of the agent's catalogue with a recording. Any other command
// fails with status 127, as a shell would: it proves the agent only sends
// catalogue commands.
type ReplayServer struct {
	Addr      string
	User      string
	Password  string
	HostKey   gossh.PublicKey
	rec       *Recording
	srv       *ssh.Server
	ln        net.Listener
	probeKeys map[string]string // command → output file
	Commands  atomic.Int64      // commands answered, for tests
	// AuthAttempts counts password checks: a client that refused the host
	// key must never get this far.
	AuthAttempts atomic.Int64
}

// StartReplay serves rec on addr ("127.0.0.1:0" for a free port).
func StartReplay(rec *Recording, addr, user, password string) (*ReplayServer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	rs := &ReplayServer{User: user, Password: password, HostKey: signer.PublicKey(), rec: rec, probeKeys: map[string]string{}}
	for key, cmd := range collect.Commands() {
		file, _, _ := strings.Cut(key, "/") // "packages/debian" → "packages"
		rs.probeKeys[cmd] = file
	}
	// SAP discovery is recorded as "sap" where a host has SAP systems.
	rs.probeKeys[collect.SAPCommand()] = "sap"
	// Compliance item probes are recorded as item-<probe>; a host without
	// a recording answers 127, which the agent reports as an item error.
	for name, cmd := range collect.ItemCommands() {
		rs.probeKeys[cmd] = "item-" + name
	}
	rs.srv = &ssh.Server{
		Handler: rs.handle,
		PasswordHandler: func(ctx ssh.Context, pw string) bool {
			rs.AuthAttempts.Add(1)
			return subtle.ConstantTimeCompare([]byte(ctx.User()), []byte(user)) == 1 &&
				subtle.ConstantTimeCompare([]byte(pw), []byte(password)) == 1
		},
	}
	rs.srv.AddHostKey(signer)
	if rs.ln, err = net.Listen("tcp", addr); err != nil {
		return nil, fmt.Errorf("demo ssh listen: %w", err)
	}
	rs.Addr = rs.ln.Addr().String()
	go func() {
		if err := rs.srv.Serve(rs.ln); err != nil && !errors.Is(err, ssh.ErrServerClosed) {
			_ = err // the listener closed: Close was called
		}
	}()
	return rs, nil
}

func (rs *ReplayServer) handle(s ssh.Session) {
	// The agent sends its probes as one batch script: answer each command
	// in it from the recording, as the host's shell would have.
	if out, ok := collect.AnswerBatch(s.RawCommand(), rs.answer); ok {
		rs.Commands.Add(1)
		_, _ = s.Write(out)
		_ = s.Exit(0)
		return
	}
	out, errText, code := rs.answer(s.RawCommand())
	if code != 0 {
		fmt.Fprint(s.Stderr(), errText)
		_ = s.Exit(code)
		return
	}
	rs.Commands.Add(1)
	_, _ = s.Write(out)
	_ = s.Exit(0)
}

// noSAP is what SAP discovery prints on a host without /usr/sap.
var noSAP = []byte("==> absent <==\n")

// answer gives one recorded command's output, or a shell's "not found".
func (rs *ReplayServer) answer(cmd string) ([]byte, string, int) {
	file, ok := rs.probeKeys[cmd]
	out, have := rs.rec.Outputs[file]
	if ok && !have && file == "sap" {
		return noSAP, "", 0 // recorded hosts without SAP have no /usr/sap
	}
	if !ok || !have {
		return nil, "sh: command not in the recording of " + rs.rec.Name + "\n", 127
	}
	return out, "", 0
}

// Port returns the listening port.
func (rs *ReplayServer) Port() int { return rs.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server.
func (rs *ReplayServer) Close() error {
	return rs.srv.Close()
}
