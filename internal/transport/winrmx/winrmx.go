// Package winrmx is the agent's WinRM transport: WS-Management over HTTPS
// (5986, the default) or HTTP (5985), with NTLM (the default) or Basic
// login, one remote shell per host and one command per probe.
//
// Commands are command lines for the remote cmd shell; the PowerShell probes
// of package collect arrive already wrapped by PowerShellCommand, so no
// quoting of script text ever happens here.
package winrmx

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/masterzen/winrm"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// Auth methods.
const (
	AuthNTLM  = "ntlm"
	AuthBasic = "basic"
)

// Default ports of the WinRM listeners.
const (
	PortHTTPS = 5986
	PortHTTP  = 5985
)

// Error classifies a connection or login failure as an inventory error kind.
type Error struct {
	Kind string // inventory.ErrKind*
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Options for Dial.
type Options struct {
	// Timeout bounds the TCP connect and each wait for a response header;
	// default 15s. A probe's own deadline comes from its context.
	Timeout time.Duration
}

// Session is an open WinRM shell on one host.
type Session struct {
	client *winrm.Client
	shell  *winrm.Shell
	addr   string
	closed sync.Once
}

// Dial checks the options, logs in and opens the remote shell. The shell is
// the first request, so a wrong password surfaces here as ErrKindAuth.
func Dial(ctx context.Context, spec inventory.HostSpec, opts Options) (*Session, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 15 * time.Second
	}
	w, auth, caPEM, err := checkSpec(spec)
	if err != nil {
		return nil, &Error{Kind: inventory.ErrKindConfig, Err: err}
	}
	port := spec.Port
	if port == 0 {
		port = PortHTTP
		if w.HTTPS {
			port = PortHTTPS
		}
	}
	addr := net.JoinHostPort(spec.Address, strconv.Itoa(port))
	ep := winrm.NewEndpoint(spec.Address, port, w.HTTPS, w.Insecure, caPEM, nil, nil, opts.Timeout)
	dialer := &net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second}
	dial := func(network, a string) (net.Conn, error) { return dialer.DialContext(ctx, network, a) }
	// WS-Management's OperationTimeout must end before the HTTP client
	// gives up waiting for a response header, so a Receive on a quiet
	// command comes back as the w:TimedOut fault (and is repeated) rather
	// than as a transport error.
	op := max(opts.Timeout-5*time.Second, opts.Timeout/2, time.Second)
	params := winrm.NewParameters(fmt.Sprintf("PT%dS", int(op.Seconds())), "en-US", 153600)
	params.Dial = dial
	if auth == AuthNTLM {
		params.TransportDecorator = func() winrm.Transporter { return winrm.NewClientNTLMWithDial(dial) }
	}
	client, err := winrm.NewClientWithParameters(ep, spec.Credential.Username, spec.Credential.Password, params)
	if err != nil {
		return nil, &Error{Kind: inventory.ErrKindConfig, Err: fmt.Errorf("%s: %w", addr, err)}
	}
	type result struct {
		shell *winrm.Shell
		err   error
	}
	// CreateShell takes no context: run it aside so a cancelled scan does
	// not wait for the response-header timeout.
	done := make(chan result, 1)
	go func() {
		sh, err := client.CreateShell()
		done <- result{sh, err}
	}()
	select {
	case <-ctx.Done():
		go func() {
			if r := <-done; r.shell != nil {
				_ = r.shell.Close()
			}
		}()
		kind := inventory.ErrKindTimeout
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			kind = inventory.ErrKindUnreachable
		}
		return nil, &Error{Kind: kind, Err: fmt.Errorf("%s: WinRM login: %w", addr, ctx.Err())}
	case r := <-done:
		if r.err != nil {
			return nil, classify(addr, auth, r.err)
		}
		return &Session{client: client, shell: r.shell, addr: addr}, nil
	}
}

// checkSpec validates what Dial needs of a host before any connection: a
// password credential, a known auth method that does not send a password in
// clear, and a CA that parses. Nil WinRM options mean HTTPS with NTLM.
func checkSpec(spec inventory.HostSpec) (w *inventory.WinRMOptions, auth string, caPEM []byte, err error) {
	if spec.Credential == nil || spec.Credential.Username == "" {
		return nil, "", nil, errors.New("no credential configured for this host (set one on the host or the workspace default)")
	}
	if spec.Credential.Password == "" {
		return nil, "", nil, errors.New("WinRM needs a password credential (private keys are for SSH)")
	}
	w = spec.WinRM
	if w == nil {
		w = &inventory.WinRMOptions{HTTPS: true}
	}
	auth = strings.ToLower(w.Auth)
	if auth == "" {
		auth = AuthNTLM
	}
	switch {
	case auth != AuthNTLM && auth != AuthBasic:
		return nil, "", nil, fmt.Errorf("WinRM auth %q not supported (use ntlm or basic)", w.Auth)
	case auth == AuthBasic && !w.HTTPS:
		// WinRM refuses this too by default (AllowUnencrypted=false).
		return nil, "", nil, errors.New("basic auth over HTTP would send the password in clear: use HTTPS, or NTLM")
	}
	if w.CAPEM != "" {
		caPEM = []byte(w.CAPEM)
		if !x509.NewCertPool().AppendCertsFromPEM(caPEM) {
			return nil, "", nil, errors.New("WinRM CA certificate is not valid PEM")
		}
	}
	return w, auth, caPEM, nil
}

var httpStatusRE = regexp.MustCompile(`http (?:response )?error:? (\d{3})`)

// classify maps what masterzen/winrm and net/http report to an error kind.
// The library flattens HTTP failures into strings ("http response error:
// 401 - invalid content type"), so the status is read back from the text.
func classify(addr, auth string, err error) error {
	msg := err.Error()
	var cert *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var ne net.Error
	var ue *url.Error
	status := 0
	if m := httpStatusRE.FindStringSubmatch(msg); m != nil {
		status, _ = strconv.Atoi(m[1])
	}
	switch {
	case status == 401:
		return &Error{Kind: inventory.ErrKindAuth, Err: fmt.Errorf("%s: WinRM login refused (%s auth): wrong username or password, or the listener does not accept %s", addr, auth, auth)}
	case strings.Contains(msg, "AccessDenied") || strings.Contains(msg, "Access is denied"):
		return &Error{Kind: inventory.ErrKindAuth, Err: fmt.Errorf("%s: WinRM access denied: the user must be in Administrators or Remote Management Users", addr)}
	case errors.As(err, &cert) || errors.As(err, &uae) || errors.As(err, &hostErr):
		return &Error{Kind: inventory.ErrKindConfig, Err: fmt.Errorf("%s: the WinRM listener's TLS certificate is not trusted (set the host's CA certificate, or allow insecure for a self-signed listener): %w", addr, err)}
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: inventory.ErrKindTimeout, Err: fmt.Errorf("%s: WinRM timed out: %w", addr, err)}
	case errors.As(err, &ue), errors.As(err, &ne):
		return &Error{Kind: inventory.ErrKindUnreachable, Err: fmt.Errorf("%s: WinRM connection failed: %w", addr, err)}
	case status != 0:
		return &Error{Kind: inventory.ErrKindUnreachable, Err: fmt.Errorf("%s: WinRM service answered HTTP %d: %s", addr, status, truncate(msg, 300))}
	default:
		return &Error{Kind: inventory.ErrKindUnreachable, Err: fmt.Errorf("%s: WinRM: %s", addr, truncate(msg, 300))}
	}
}

// Close deletes the remote shell. It is safe to call more than once.
func (s *Session) Close() error {
	var err error
	s.closed.Do(func() { err = s.shell.Close() })
	return err
}

// Run runs one command line in the session's shell. A command that ran and
// exited non-zero returns *transport.ExitError with its error text (PowerShell's
// CLIXML error stream made readable); a timed-out command is terminated and
// reported the same way so the remaining probes still run. Any other error
// means the shell or the connection is gone.
func (s *Session) Run(ctx context.Context, command string) ([]byte, error) {
	return s.run(ctx, command, nil)
}

// RunInput is Run with stdin sent to the command (WS-Management Send
// requests), then its end.
func (s *Session) RunInput(ctx context.Context, command string, stdin []byte) ([]byte, error) {
	return s.run(ctx, command, stdin)
}

func (s *Session) run(ctx context.Context, command string, stdin []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, &transport.ExitError{Code: -1, Stderr: "command timed out: " + err.Error()}
	}
	cmd, err := s.shell.ExecuteWithContext(ctx, command)
	if err != nil {
		return nil, fmt.Errorf("%s: start command: %w", s.addr, err)
	}
	if stdin != nil {
		// A failed Send ends the command's input early; the command's own
		// error then says what it missed.
		go func() {
			if len(stdin) > 0 {
				_, _ = cmd.Stdin.Write(stdin)
			}
			_ = cmd.Stdin.Close()
		}()
	}
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = transport.MaxOutput, 64<<10
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); stdout.drain(cmd.Stdout) }()
	go func() { defer wg.Done(); stderr.drain(cmd.Stderr) }()
	cmd.Wait()
	wg.Wait()
	code := cmd.ExitCode()
	// WinRM keeps a finished command until it is signalled; the library
	// already signalled a cancelled one.
	if ctx.Err() == nil {
		_ = cmd.Close()
	}
	if ctx.Err() != nil {
		return nil, &transport.ExitError{Code: -1, Stderr: "command timed out: " + ctx.Err().Error()}
	}
	if stdout.over {
		return nil, &transport.ExitError{Code: -1, Stderr: fmt.Sprintf("output larger than %d bytes", transport.MaxOutput)}
	}
	if code != 0 {
		return stdout.Bytes(), &transport.ExitError{Code: code, Stderr: CleanStderr(stderr.Bytes())}
	}
	return stdout.Bytes(), nil
}

// PowerShellCommand is transport.PowerShell, for callers that only know winrmx.
func PowerShellCommand(script string) string { return transport.PowerShell(script) }

// DecodePowerShellCommand is transport.DecodePowerShell.
func DecodePowerShellCommand(command string) (string, bool) {
	return transport.DecodePowerShell(command)
}

var clixmlErrRE = regexp.MustCompile(`<S S="Error">([^<]*)</S>`)

// CleanStderr turns PowerShell's serialised error stream ("#< CLIXML" with
// <S S="Error"> records and _x000D__x000A_ escapes), which powershell.exe
// writes when its stderr is not a console, into plain text. Other text is
// returned trimmed.
func CleanStderr(b []byte) string {
	s := string(bytes.TrimSpace(b))
	if !strings.HasPrefix(s, "#< CLIXML") {
		return s
	}
	var out strings.Builder
	for _, m := range clixmlErrRE.FindAllStringSubmatch(s, -1) {
		t := html.UnescapeString(m[1])
		t = strings.NewReplacer("_x000D_", "", "_x000A_", "\n").Replace(t)
		out.WriteString(t)
	}
	return strings.TrimSpace(out.String())
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

type limitedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		b.over = true
		return len(p), nil // keep draining so the reader goroutine ends
	}
	return b.Buffer.Write(p)
}

// drain reads r to its end through Write, so the limit applies.
func (b *limitedBuffer) drain(r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		k, err := r.Read(buf)
		if k > 0 {
			_, _ = b.Write(buf[:k])
		}
		if err != nil {
			return
		}
	}
}
