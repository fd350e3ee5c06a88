package demo

import (
	"context"
	"embed"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net"
	"net/http/httptest"
	"path"
	"strconv"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/transport/winrmx/wsmantest"
)

//go:embed windows
var windowsFS embed.FS

// WindowsRecordings lists the embedded demo Windows hosts.
func WindowsRecordings() []string {
	des, _ := fs.ReadDir(windowsFS, "windows")
	var out []string
	for _, de := range des {
		if de.IsDir() {
			out = append(out, de.Name())
		}
	}
	return out
}

// WindowsReplay is a demo Windows host: a WS-Management server on
// 127.0.0.1 over HTTPS with NTLM, answering the agent's PowerShell probes
// with a recording's outputs.
type WindowsReplay struct {
	srv   *httptest.Server
	Port  int
	User  string
	CAPEM string // the listener's self-signed certificate, to pin as its CA
}

// StartWindowsReplay serves the named recording to user with password.
func StartWindowsReplay(name, user, password string) (*WindowsReplay, error) {
	dir := path.Join("windows", name)
	if _, err := fs.Stat(windowsFS, dir); err != nil {
		return nil, fmt.Errorf("demo Windows host %q: %w", name, err)
	}
	s := &wsmantest.Server{
		Users: map[string]string{user: password}, NTLM: true, Computer: name,
		Exec: func(_ context.Context, cmd string) wsmantest.Output {
			if cmd == collect.SAPWindowsCommand() {
				return wsmantest.Output{Stdout: noSAP} // no SAP on the demo Windows hosts
			}
			probe, ok := collect.WindowsProbeOf(cmd)
			if !ok {
				return wsmantest.Output{Stderr: []byte("'" + cmd + "' is not recognized as an internal or external command"), ExitCode: 1}
			}
			out, err := fs.ReadFile(windowsFS, path.Join(dir, probe+".json"))
			if err != nil {
				return wsmantest.Output{Stderr: []byte(probe + ": not recorded on this demo host"), ExitCode: 1}
			}
			return wsmantest.Output{Stdout: out}
		},
	}
	srv := wsmantest.Start(s, true)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return &WindowsReplay{srv: srv, Port: p, User: user, CAPEM: string(ca)}, nil
}

// Close stops the server.
func (w *WindowsReplay) Close() { w.srv.Close() }
