package winrmx_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
	"github.com/vigil-project/vigil/internal/transport/winrmx"
	"github.com/vigil-project/vigil/internal/transport/winrmx/wsmantest"
)

// echo answers PowerShell commands with their decoded script, "exit N"
// scripts with that code and a CLIXML error, and "sleep" scripts by waiting
// until the client gives up.
func echo(ctx context.Context, cmd string) wsmantest.Output {
	script, ok := winrmx.DecodePowerShellCommand(cmd)
	switch {
	case !ok:
		return wsmantest.Output{Stderr: []byte("not powershell"), ExitCode: 9009}
	case strings.HasPrefix(script, "exit "):
		code, _ := strconv.Atoi(script[5:])
		return wsmantest.Output{ExitCode: code, Stderr: []byte(`#< CLIXML
<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">Get-MpComputerStatus : Zugriff verweigert_x000D__x000A_</S><S S="Error">    + CategoryInfo          : PermissionDenied_x000D__x000A_</S></Objs>`)}
	case script == "sleep":
		<-ctx.Done()
		return wsmantest.Output{ExitCode: 1}
	case script == "slow":
		select {
		case <-time.After(2500 * time.Millisecond):
			return wsmantest.Output{Stdout: []byte("done")}
		case <-ctx.Done():
			return wsmantest.Output{ExitCode: 1}
		}
	case script == "big":
		return wsmantest.Output{Stdout: bytes.Repeat([]byte("0123456789abcdef"), 20000)}
	}
	return wsmantest.Output{Stdout: []byte(script)}
}

func start(t *testing.T, tls bool, basic, ntlm bool) (*wsmantest.Server, *httptest.Server) {
	t.Helper()
	s := &wsmantest.Server{Users: map[string]string{"vigil": "S3cret!pässwort"}, Basic: basic, NTLM: ntlm, Exec: echo, ChunkSize: 50000, OperationTimeout: 200 * time.Millisecond}
	srv := wsmantest.Start(s, tls)
	t.Cleanup(srv.Close)
	return s, srv
}

func spec(t *testing.T, srv *httptest.Server, user, pw string, opts *inventory.WinRMOptions) inventory.HostSpec {
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return inventory.HostSpec{ID: 1, Name: "win", Address: host, Port: p, Transport: inventory.TransportWinRM,
		Credential: &inventory.Credential{Username: user, Password: pw}, WinRM: opts}
}

func caPEM(srv *httptest.Server) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
}

func TestLoginAndRun(t *testing.T) {
	tests := []struct {
		name        string
		tls         bool
		basic, ntlm bool
		user        string
		opts        func(*httptest.Server) *inventory.WinRMOptions
	}{
		{"ntlm over http", false, false, true, "vigil", func(*httptest.Server) *inventory.WinRMOptions { return &inventory.WinRMOptions{} }},
		{"ntlm over https with domain user", true, false, true, `VIGILTEST\vigil`, func(s *httptest.Server) *inventory.WinRMOptions {
			return &inventory.WinRMOptions{HTTPS: true, CAPEM: caPEM(s)}
		}},
		{"basic over https, insecure", true, true, false, "vigil", func(*httptest.Server) *inventory.WinRMOptions {
			return &inventory.WinRMOptions{HTTPS: true, Insecure: true, Auth: "basic"}
		}},
		{"ntlm when both are offered", true, true, true, "VIGIL", func(*httptest.Server) *inventory.WinRMOptions {
			return &inventory.WinRMOptions{HTTPS: true, Insecure: true}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := start(t, tc.tls, tc.basic, tc.ntlm)
			ctx := context.Background()
			sess, err := winrmx.Dial(ctx, spec(t, srv, tc.user, "S3cret!pässwort", tc.opts(srv)), winrmx.Options{Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			script := `Get-ItemProperty 'HKLM:\SOFTWARE\x' | % { "$($_.a) & ""quoted"" | > <" } # ünïcödé 日本語`
			out, err := sess.Run(ctx, winrmx.PowerShellCommand(script))
			if err != nil || string(out) != script {
				t.Fatalf("run: %q, %v", out, err)
			}
			out, err = sess.Run(ctx, winrmx.PowerShellCommand("big"))
			if err != nil || len(out) != 320000 {
				t.Fatalf("big output: %d bytes, %v", len(out), err)
			}
			_, err = sess.Run(ctx, winrmx.PowerShellCommand("exit 3"))
			var exit *transport.ExitError
			if !errors.As(err, &exit) || exit.Code != 3 || exit.Stderr != "Get-MpComputerStatus : Zugriff verweigert\n    + CategoryInfo          : PermissionDenied" {
				t.Fatalf("exit: %#v", err)
			}
			if err := sess.Close(); err != nil {
				t.Fatal(err)
			}
			st := s.Stats()
			if st.ShellsCreated != 1 || st.ShellsDeleted != 1 || s.OpenShells() != 0 || st.Commands != 3 || st.Signals != 3 {
				t.Fatalf("one shell for all commands, each signalled, shell deleted: %+v", st)
			}
			if st.Receives < 4 {
				t.Fatalf("a 320 kB output takes several Receives at 50 kB each: %d receives", st.Receives)
			}
			switch {
			case tc.ntlm && st.NTLMLogins != 1:
				t.Fatalf("NTLM authenticates the connection once: %d logins", st.NTLMLogins)
			case !tc.ntlm && st.BasicLogins < 5:
				t.Fatalf("basic logins %d", st.BasicLogins)
			}
		})
	}
}

func TestLoginFailures(t *testing.T) {
	_, ntlmSrv := start(t, false, false, true)
	_, basicSrv := start(t, true, true, false)
	_, tlsSrv := start(t, true, false, true)
	closed := httptest.NewServer(nil)
	closed.Close()
	tests := []struct {
		name string
		spec inventory.HostSpec
		kind string
		msg  string
	}{
		{"ntlm wrong password", spec(t, ntlmSrv, "vigil", "wrong", &inventory.WinRMOptions{}), inventory.ErrKindAuth, "login refused"},
		{"ntlm unknown user", spec(t, ntlmSrv, "mallory", "S3cret!pässwort", &inventory.WinRMOptions{}), inventory.ErrKindAuth, "login refused"},
		{"basic wrong password", spec(t, basicSrv, "vigil", "wrong", &inventory.WinRMOptions{HTTPS: true, Insecure: true, Auth: "basic"}), inventory.ErrKindAuth, "login refused"},
		{"basic where only ntlm is offered", spec(t, tlsSrv, "vigil", "S3cret!pässwort", &inventory.WinRMOptions{HTTPS: true, Insecure: true, Auth: "basic"}), inventory.ErrKindAuth, "login refused"},
		{"untrusted certificate", spec(t, tlsSrv, "vigil", "S3cret!pässwort", &inventory.WinRMOptions{HTTPS: true}), inventory.ErrKindConfig, "not trusted"},
		{"https to an http listener", spec(t, ntlmSrv, "vigil", "S3cret!pässwort", &inventory.WinRMOptions{HTTPS: true, Insecure: true}), inventory.ErrKindUnreachable, "connection failed"},
		{"nothing listening", spec(t, closed, "vigil", "x", &inventory.WinRMOptions{}), inventory.ErrKindUnreachable, "connection failed"},
		{"https by default", spec(t, ntlmSrv, "vigil", "S3cret!pässwort", nil), inventory.ErrKindUnreachable, "connection failed"},
		{"basic over http", spec(t, basicSrv, "vigil", "x", &inventory.WinRMOptions{Auth: "basic"}), inventory.ErrKindConfig, "in clear"},
		{"unknown auth", spec(t, basicSrv, "vigil", "x", &inventory.WinRMOptions{Auth: "kerberos"}), inventory.ErrKindConfig, "not supported"},
		{"bad CA", spec(t, basicSrv, "vigil", "x", &inventory.WinRMOptions{HTTPS: true, CAPEM: "nope"}), inventory.ErrKindConfig, "PEM"},
		{"no credential", inventory.HostSpec{Address: "127.0.0.1", Transport: "winrm"}, inventory.ErrKindConfig, "no credential"},
		{"key instead of password", inventory.HostSpec{Address: "127.0.0.1", Transport: "winrm", Credential: &inventory.Credential{Username: "u", PrivateKey: "k"}}, inventory.ErrKindConfig, "password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := winrmx.Dial(context.Background(), tc.spec, winrmx.Options{Timeout: 3 * time.Second})
			var we *winrmx.Error
			if !errors.As(err, &we) || we.Kind != tc.kind || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v (%#v), want kind %s containing %q", err, we, tc.kind, tc.msg)
			}
			if strings.Contains(err.Error(), "S3cret") {
				t.Fatalf("error text carries the password: %v", err)
			}
		})
	}
}

func TestLoginTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and never answer
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	sp := inventory.HostSpec{Address: host, Port: p, Credential: &inventory.Credential{Username: "u", Password: "p"}, WinRM: &inventory.WinRMOptions{}}
	start := time.Now()
	_, err = winrmx.Dial(context.Background(), sp, winrmx.Options{Timeout: 300 * time.Millisecond})
	var we *winrmx.Error
	if !errors.As(err, &we) || we.Kind != inventory.ErrKindTimeout {
		t.Fatalf("got %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
}

func TestCommandTimeoutKeepsSession(t *testing.T) {
	s, srv := start(t, false, false, true)
	ctx := context.Background()
	sess, err := winrmx.Dial(ctx, spec(t, srv, "vigil", "S3cret!pässwort", &inventory.WinRMOptions{}), winrmx.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	pctx, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	_, err = sess.Run(pctx, winrmx.PowerShellCommand("sleep"))
	var exit *transport.ExitError
	if !errors.As(err, &exit) || !strings.Contains(exit.Stderr, "timed out") {
		t.Fatalf("timed-out command: %v", err)
	}
	out, err := sess.Run(ctx, winrmx.PowerShellCommand("after"))
	if err != nil || string(out) != "after" {
		t.Fatalf("session unusable after a timeout: %q %v", out, err)
	}
	if st := s.Stats(); st.Signals < 2 {
		t.Fatalf("the timed-out command was not signalled: %+v", st)
	}
}

// A command quieter than the WS-Management OperationTimeout (which the
// transport keeps below its HTTP response timeout) is waited for across
// several w:TimedOut Receives, as on Windows, not failed.
func TestSlowCommandOutlivesOperationTimeout(t *testing.T) {
	s := &wsmantest.Server{Users: map[string]string{"vigil": "pw"}, NTLM: true, Exec: echo}
	srv := wsmantest.Start(s, false)
	defer srv.Close()
	ctx := context.Background()
	sess, err := winrmx.Dial(ctx, spec(t, srv, "vigil", "pw", &inventory.WinRMOptions{}), winrmx.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.Run(ctx, winrmx.PowerShellCommand("slow"))
	if err != nil || string(out) != "done" {
		t.Fatalf("%q %v", out, err)
	}
	if st := s.Stats(); st.Receives < 3 {
		t.Fatalf("%d Receives: the 1s operation timeout should have answered at least two with w:TimedOut", st.Receives)
	}
}

func TestPowerShellCommand(t *testing.T) {
	for _, script := range []string{"", "Get-Date", "'a' + \"b\" | % { $_ } & exit 0\r\n# Größe 日本", strings.Repeat("x", 3000)} {
		cmd := winrmx.PowerShellCommand(script)
		if strings.ContainsAny(cmd[len("powershell.exe"):], `"'&|<>^%`) {
			t.Fatalf("command line carries characters cmd would interpret: %s", cmd)
		}
		got, ok := winrmx.DecodePowerShellCommand(cmd)
		if !ok || got != script {
			t.Fatalf("round trip: %q %v", got, ok)
		}
	}
	if _, ok := winrmx.DecodePowerShellCommand("cmd /c dir"); ok {
		t.Fatal("decoded a non-PowerShell command")
	}
}

func TestCleanStderr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain error\r\n", "plain error"},
		{`#< CLIXML
<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV></PR></MS></Obj><S S="Error">Access &lt;denied&gt;_x000D__x000A_</S></Objs>`, "Access <denied>"},
		{"#< CLIXML\n<Objs></Objs>", ""},
	}
	for _, tc := range tests {
		if got := winrmx.CleanStderr([]byte(tc.in)); got != tc.want {
			t.Errorf("CleanStderr(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// RunInput sends stdin through WS-Management Send requests and marks its
// end; the command sees the bytes whole, in several requests when large,
// and the command line never carries them.
func TestRunInput(t *testing.T) {
	s := &wsmantest.Server{Users: map[string]string{"vigil": "pw"}, NTLM: true, OperationTimeout: 200 * time.Millisecond,
		ExecInput: func(ctx context.Context, cmd string, stdin io.Reader) wsmantest.Output {
			b, err := io.ReadAll(stdin)
			if err != nil {
				return wsmantest.Output{ExitCode: 1, Stderr: []byte(err.Error())}
			}
			return wsmantest.Output{Stdout: []byte(fmt.Sprintf("%d %x", len(b), sha256.Sum256(b)))}
		}}
	srv := wsmantest.Start(s, false)
	t.Cleanup(srv.Close)
	sess, err := winrmx.Dial(context.Background(), spec(t, srv, "vigil", "pw", &inventory.WinRMOptions{}), winrmx.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	for _, in := range [][]byte{[]byte("db-pass\nSELECT 1\n"), {}, bytes.Repeat([]byte("x"), 400<<10)} {
		out, err := sess.RunInput(context.Background(), winrmx.PowerShellCommand("read"), in)
		want := fmt.Sprintf("%d %x", len(in), sha256.Sum256(in))
		if err != nil || string(out) != want {
			t.Fatalf("RunInput(%d bytes) = %q, %v; want %q", len(in), out, err, want)
		}
	}
	st := s.Stats()
	if st.Sends < 4 {
		t.Errorf("%d Send requests for 3 inputs, one of 400 KiB", st.Sends)
	}
	for _, cl := range st.CommandLines {
		if strings.Contains(cl, "db-pass") {
			t.Errorf("stdin on the command line: %s", cl)
		}
	}
}
