// Package wsmantest is a WS-Management (WinRM) server for tests: it speaks
// the SOAP envelopes of the Windows Remote Shell (Create, Command, Send,
// Receive, Signal, Delete) that github.com/masterzen/winrm sends and parses, with
// Basic and NTLM authentication, and answers each command through a
// function the test supplies (usually a replay of recorded PowerShell
// outputs).
//
// Authentication is checked for real: Basic compares the user's password;
// NTLM answers the NEGOTIATE with a CHALLENGE and verifies the client's
// NTLMv2 response against the password (see ntlm.go). As on Windows, an NTLM
// login authenticates the TCP connection, not each request.
package wsmantest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Output is what a command printed and how it exited.
type Output struct {
	Stdout, Stderr []byte
	ExitCode       int
}

// Exec runs one command line. ctx is cancelled when the client signals the
// command to terminate or deletes its shell.
type Exec func(ctx context.Context, command string) Output

// ExecInput is Exec with the command's standard input: what the client
// sends (Send requests) until it marks the end, or the command is
// cancelled.
type ExecInput func(ctx context.Context, command string, stdin io.Reader) Output

// Server is the WS-Management handler. Set the fields before serving.
type Server struct {
	// Users maps user names (compared case-insensitively, without any
	// DOMAIN\ prefix) to passwords.
	Users map[string]string
	Basic bool // accept Basic authentication
	NTLM  bool // accept NTLM (offered as Negotiate)
	// Domain and Computer are the names the NTLM CHALLENGE announces.
	Domain, Computer string
	Exec             Exec
	// ExecInput, when set, runs commands instead of Exec, with stdin.
	ExecInput ExecInput
	// OperationTimeout is how long a Receive waits for a running command
	// before answering with the w:TimedOut fault. Zero: the request's own
	// w:OperationTimeout header, as Windows does (60s without one).
	OperationTimeout time.Duration
	// ChunkSize bounds the stdout bytes of one Receive response, so large
	// outputs take several round trips as they do on Windows; default 64 KiB.
	ChunkSize int

	mu     sync.Mutex
	shells map[string]*shell
	stats  Stats
}

// Stats counts what the server saw, for assertions.
type Stats struct {
	ShellsCreated, ShellsDeleted, Commands, Signals, Receives, Sends int
	AuthFailures, NTLMLogins, BasicLogins                            int
	// Commands lists the command lines run, in order.
	CommandLines []string
}

type shell struct {
	commands map[string]*command
}

type command struct {
	done   chan struct{}
	cancel context.CancelFunc
	out    Output
	sent   int // stdout bytes already returned
	errOut bool
	stdin  *inputBuffer
}

// inputBuffer holds what Send requests delivered until the command reads
// it; a read waits for more or for the end.
type inputBuffer struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool
}

func newInputBuffer() *inputBuffer {
	b := &inputBuffer{}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *inputBuffer) write(p []byte, end bool) {
	b.mu.Lock()
	b.buf = append(b.buf, p...)
	b.closed = b.closed || end
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *inputBuffer) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.buf) == 0 && !b.closed {
		b.cond.Wait()
	}
	if len(b.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.CommandLines = append([]string(nil), s.stats.CommandLines...)
	return st
}

// OpenShells is the number of shells created and not deleted.
func (s *Server) OpenShells() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.shells)
}

type connKey struct{}

// connState is the NTLM state of one TCP connection.
type connState struct {
	mu        sync.Mutex
	challenge *[8]byte
	authed    bool
}

// Start serves s on a new httptest server, over TLS when tls is set (the
// listener's certificate is srv.Certificate()).
func Start(s *Server, tls bool) *httptest.Server {
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, &connState{})
	}
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	return srv
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/wsman" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if !s.authenticate(w, r) {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/soap+xml") {
		http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		s.fault(w, "", "s:Sender", "w:SchemaValidationError", "The SOAP XML in the message does not match the corresponding XML schema definition: "+err.Error())
		return
	}
	h := env.Header
	if h.ResourceURI != resourceCmd {
		s.fault(w, h.MessageID, "s:Sender", "w:DestinationUnreachable", "The WS-Management service cannot process the request because the resource URI is not supported.")
		return
	}
	switch h.Action {
	case actionCreate:
		s.create(w, h)
	case actionCommand:
		s.command(w, r, h, env.Body.CommandLine)
	case actionReceive:
		s.receive(w, r, h, env.Body.Receive)
	case actionSend:
		s.send(w, h, env.Body.Send)
	case actionSignal:
		s.signal(w, h, env.Body.Signal)
	case actionDelete:
		s.delete(w, h)
	default:
		s.fault(w, h.MessageID, "s:Sender", "a:ActionNotSupported", "The action is not supported by the service.")
	}
}

// authenticate admits the request or answers 401 as Windows does: an empty
// body, one WWW-Authenticate header per accepted scheme.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	cs, _ := r.Context().Value(connKey{}).(*connState)
	if cs == nil {
		cs = &connState{}
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.authed {
		return true
	}
	deny := func(extra string) bool {
		if s.NTLM {
			w.Header().Add("WWW-Authenticate", "Negotiate"+extra)
		}
		if s.Basic && extra == "" {
			w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
		}
		w.WriteHeader(http.StatusUnauthorized)
		return false
	}
	authz := r.Header.Get("Authorization")
	scheme, data, _ := strings.Cut(authz, " ")
	switch {
	case authz == "":
		return deny("")
	case scheme == "Basic" && s.Basic:
		u, p, ok := r.BasicAuth()
		if ok && s.checkPassword(u, p) {
			s.count(func(st *Stats) { st.BasicLogins++ })
			return true // Basic authenticates each request, not the connection
		}
		s.count(func(st *Stats) { st.AuthFailures++ })
		return deny("")
	case (scheme == "Negotiate" || scheme == "NTLM") && s.NTLM:
		msg, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return deny("")
		}
		t, err := ntlmMessageType(msg)
		if err != nil {
			s.count(func(st *Stats) { st.AuthFailures++ })
			return deny("")
		}
		switch t {
		case 1:
			ch, sc, err := challengeMessage(s.domain(), s.computer())
			if err != nil {
				return deny("")
			}
			cs.challenge = &sc
			return deny(" " + base64.StdEncoding.EncodeToString(ch))
		case 3:
			if cs.challenge == nil {
				return deny("")
			}
			_, err := verifyAuthenticate(msg, *cs.challenge, s.password)
			cs.challenge = nil
			if err != nil {
				s.count(func(st *Stats) { st.AuthFailures++ })
				return deny("")
			}
			cs.authed = true
			s.count(func(st *Stats) { st.NTLMLogins++ })
			return true
		}
		return deny("")
	default:
		return deny("")
	}
}

func (s *Server) domain() string {
	if s.Domain == "" {
		return "VIGILTEST"
	}
	return s.Domain
}

func (s *Server) computer() string {
	if s.Computer == "" {
		return "WIN-TEST"
	}
	return s.Computer
}

func (s *Server) password(user string) (string, bool) {
	if _, u, ok := strings.Cut(user, `\`); ok {
		user = u
	}
	for name, pw := range s.Users {
		if strings.EqualFold(name, user) {
			return pw, true
		}
	}
	return "", false
}

func (s *Server) checkPassword(user, pw string) bool {
	want, ok := s.password(user)
	return ok && want == pw
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

func (s *Server) create(w http.ResponseWriter, h header) {
	id := newID()
	s.mu.Lock()
	if s.shells == nil {
		s.shells = map[string]*shell{}
	}
	s.shells[id] = &shell{commands: map[string]*command{}}
	s.stats.ShellsCreated++
	s.mu.Unlock()
	body := fmt.Sprintf(`<x:ResourceCreated><a:Address>http://localhost:5985/wsman</a:Address><a:ReferenceParameters>`+
		`<w:ResourceURI>%s</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector></w:SelectorSet>`+
		`</a:ReferenceParameters></x:ResourceCreated><rsp:Shell xmlns:rsp="%s"><rsp:ShellId>%s</rsp:ShellId>`+
		`<rsp:ResourceUri>%s</rsp:ResourceUri><rsp:Owner>vigil</rsp:Owner><rsp:ClientIP>127.0.0.1</rsp:ClientIP>`+
		`<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams>`+
		`<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
		resourceCmd, id, nsShell, id, resourceCmd)
	s.reply(w, actionCreate+"Response", h.MessageID, body)
}

func (s *Server) shell(w http.ResponseWriter, h header) *shell {
	s.mu.Lock()
	sh := s.shells[h.shellID()]
	s.mu.Unlock()
	if sh == nil {
		s.fault(w, h.MessageID, "s:Sender", "w:InvalidSelectors",
			fmt.Sprintf("The request for the Windows Remote Shell with ShellId %s failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server.", h.shellID()))
	}
	return sh
}

func (s *Server) command(w http.ResponseWriter, r *http.Request, h header, cl *commandLine) {
	sh := s.shell(w, h)
	if sh == nil {
		return
	}
	if cl == nil {
		s.fault(w, h.MessageID, "s:Sender", "w:SchemaValidationError", "CommandLine missing")
		return
	}
	line := strings.TrimSpace(cl.Command)
	for _, a := range cl.Arguments {
		line += " " + a
	}
	id := newID()
	ctx, cancel := context.WithCancel(context.Background())
	c := &command{done: make(chan struct{}), cancel: cancel, stdin: newInputBuffer()}
	// A cancelled command's input ends, so that a read of it returns.
	context.AfterFunc(ctx, func() { c.stdin.write(nil, true) })
	s.mu.Lock()
	sh.commands[id] = c
	s.stats.Commands++
	s.stats.CommandLines = append(s.stats.CommandLines, line)
	s.mu.Unlock()
	go func() {
		defer close(c.done)
		if s.ExecInput != nil {
			c.out = s.ExecInput(ctx, line, c.stdin)
			return
		}
		if s.Exec == nil {
			c.out = Output{Stderr: []byte("'" + line + "' is not recognized as an internal or external command"), ExitCode: 1}
			return
		}
		c.out = s.Exec(ctx, line)
	}()
	s.reply(w, nsShell+"/CommandResponse", h.MessageID, `<rsp:CommandResponse><rsp:CommandId>`+id+`</rsp:CommandId></rsp:CommandResponse>`)
}

func (s *Server) lookup(w http.ResponseWriter, h header, id string) *command {
	sh := s.shell(w, h)
	if sh == nil {
		return nil
	}
	s.mu.Lock()
	c := sh.commands[id]
	s.mu.Unlock()
	if c == nil {
		s.fault(w, h.MessageID, "s:Sender", "w:InvalidParameter", "The command ID "+id+" is not valid for this shell.")
	}
	return c
}

func (s *Server) receive(w http.ResponseWriter, r *http.Request, h header, rc *receive) {
	if rc == nil {
		s.fault(w, h.MessageID, "s:Sender", "w:SchemaValidationError", "Receive missing")
		return
	}
	c := s.lookup(w, h, rc.DesiredStream.CommandID)
	if c == nil {
		return
	}
	s.count(func(st *Stats) { st.Receives++ })
	wait := s.OperationTimeout
	if wait == 0 {
		wait = h.operationTimeout()
	}
	select {
	case <-c.done:
	case <-time.After(wait):
		s.fault(w, h.MessageID, "s:Receiver", "w:TimedOut", "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.")
		return
	case <-r.Context().Done():
		return
	}
	chunk := s.ChunkSize
	if chunk <= 0 {
		chunk = 64 << 10
	}
	id := rc.DesiredStream.CommandID
	var b strings.Builder
	b.WriteString("<rsp:ReceiveResponse>")
	s.mu.Lock()
	end := min(c.sent+chunk, len(c.out.Stdout))
	part := c.out.Stdout[c.sent:end]
	c.sent = end
	last := end == len(c.out.Stdout)
	sendErr := last && !c.errOut
	if sendErr {
		c.errOut = true
	}
	s.mu.Unlock()
	if len(part) > 0 {
		fmt.Fprintf(&b, `<rsp:Stream Name="stdout" CommandId="%s">%s</rsp:Stream>`, id, base64.StdEncoding.EncodeToString(part))
	}
	if last {
		fmt.Fprintf(&b, `<rsp:Stream Name="stdout" CommandId="%s" End="true"></rsp:Stream>`, id)
		if sendErr && len(c.out.Stderr) > 0 {
			fmt.Fprintf(&b, `<rsp:Stream Name="stderr" CommandId="%s">%s</rsp:Stream>`, id, base64.StdEncoding.EncodeToString(c.out.Stderr))
		}
		fmt.Fprintf(&b, `<rsp:Stream Name="stderr" CommandId="%s" End="true"></rsp:Stream>`, id)
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s/CommandState/Done"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState>`, id, nsShell, c.out.ExitCode)
	} else {
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s/CommandState/Running"></rsp:CommandState>`, id, nsShell)
	}
	b.WriteString("</rsp:ReceiveResponse>")
	s.reply(w, nsShell+"/ReceiveResponse", h.MessageID, b.String())
}

// send delivers a Send request's stdin bytes to the command.
func (s *Server) send(w http.ResponseWriter, h header, sd *send) {
	if sd == nil || !strings.EqualFold(sd.Stream.Name, "stdin") {
		s.fault(w, h.MessageID, "s:Sender", "w:SchemaValidationError", "Send without a stdin Stream")
		return
	}
	c := s.lookup(w, h, sd.Stream.CommandID)
	if c == nil {
		return
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sd.Stream.Data))
	if err != nil {
		s.fault(w, h.MessageID, "s:Sender", "w:SchemaValidationError", "Stream is not base64: "+err.Error())
		return
	}
	s.count(func(st *Stats) { st.Sends++ })
	c.stdin.write(data, sd.Stream.End == "true")
	s.reply(w, nsShell+"/SendResponse", h.MessageID, `<rsp:SendResponse/>`)
}

func (s *Server) signal(w http.ResponseWriter, h header, sg *signal) {
	if sg == nil {
		s.fault(w, h.MessageID, "s:Sender", "w:SchemaValidationError", "Signal missing")
		return
	}
	c := s.lookup(w, h, sg.CommandID)
	if c == nil {
		return
	}
	c.cancel()
	s.mu.Lock()
	if sh := s.shells[h.shellID()]; sh != nil {
		delete(sh.commands, sg.CommandID)
	}
	s.stats.Signals++
	s.mu.Unlock()
	s.reply(w, nsShell+"/SignalResponse", h.MessageID, `<rsp:SignalResponse/>`)
}

func (s *Server) delete(w http.ResponseWriter, h header) {
	sh := s.shell(w, h)
	if sh == nil {
		return
	}
	s.mu.Lock()
	for _, c := range sh.commands {
		c.cancel()
	}
	delete(s.shells, h.shellID())
	s.stats.ShellsDeleted++
	s.mu.Unlock()
	s.reply(w, actionDelete+"Response", h.MessageID, "")
}

func (s *Server) reply(w http.ResponseWriter, action, relatesTo, body string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	fmt.Fprintf(w, `<s:Envelope xml:lang="en-US" xmlns:s="%s" xmlns:a="%s" xmlns:x="%s" xmlns:w="%s" xmlns:rsp="%s" xmlns:p="%s">`+
		`<s:Header><a:Action>%s</a:Action><a:MessageID>uuid:%s</a:MessageID><a:To>%s</a:To><a:RelatesTo>%s</a:RelatesTo></s:Header>`+
		`<s:Body>%s</s:Body></s:Envelope>`,
		nsSOAP, nsAddressing, nsTransfer, nsWSMan, nsShell, nsWSManMSFT, action, newID(), anonymous, xmlEscape(relatesTo), body)
}

// fault answers HTTP 500 with a SOAP fault, as WinRM does.
func (s *Server) fault(w http.ResponseWriter, relatesTo, code, subcode, reason string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<s:Envelope xml:lang="en-US" xmlns:s="%s" xmlns:a="%s" xmlns:w="%s"><s:Header><a:Action>%s</a:Action>`+
		`<a:MessageID>uuid:%s</a:MessageID><a:To>%s</a:To><a:RelatesTo>%s</a:RelatesTo></s:Header><s:Body><s:Fault>`+
		`<s:Code><s:Value>%s</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code>`+
		`<s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="%s" Code="2150858793" Machine="%s">`+
		`<f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`,
		nsSOAP, nsAddressing, nsWSMan, nsWSMan+"/fault", newID(), anonymous, xmlEscape(relatesTo),
		code, subcode, xmlEscape(reason), nsWSManFault, s.computer(), xmlEscape(reason))
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := strings.ToUpper(hex.EncodeToString(b))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

const (
	nsSOAP       = "http://www.w3.org/2003/05/soap-envelope"
	nsAddressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsTransfer   = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	nsWSMan      = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsWSManMSFT  = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
	nsWSManFault = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
	nsShell      = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	anonymous    = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
	resourceCmd  = nsShell + "/cmd"

	actionCreate  = nsTransfer + "/Create"
	actionDelete  = nsTransfer + "/Delete"
	actionCommand = nsShell + "/Command"
	actionReceive = nsShell + "/Receive"
	actionSignal  = nsShell + "/Signal"
	actionSend    = nsShell + "/Send"
)

// The request envelope, as far as the server reads it. encoding/xml matches
// by namespace URI, so the client's prefixes do not matter.
type envelope struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  header   `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body    struct {
		CommandLine *commandLine `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandLine"`
		Receive     *receive     `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Receive"`
		Signal      *signal      `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Signal"`
		Send        *send        `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Send"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

type header struct {
	Action      string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
	MessageID   string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
	ResourceURI string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd ResourceURI"`
	// OperationTimeout is an xs:duration such as PT60S or PT9.5S.
	OperationTimeout string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OperationTimeout"`
	Selectors        []struct {
		Name  string `xml:"Name,attr"`
		Value string `xml:",chardata"`
	} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet>Selector"`
}

// operationTimeout reads the header's PTnS duration; 60s when absent or
// in another form.
func (h header) operationTimeout() time.Duration {
	v := strings.TrimSpace(h.OperationTimeout)
	if sec, ok := strings.CutPrefix(v, "PT"); ok {
		if n, err := strconv.ParseFloat(strings.TrimSuffix(sec, "S"), 64); err == nil && strings.HasSuffix(sec, "S") && n > 0 && n <= 3600 {
			return time.Duration(n * float64(time.Second))
		}
	}
	return 60 * time.Second
}

func (h header) shellID() string {
	for _, s := range h.Selectors {
		if s.Name == "ShellId" {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

type commandLine struct {
	Command   string   `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Command"`
	Arguments []string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Arguments"`
}

type receive struct {
	DesiredStream struct {
		CommandID string `xml:"CommandId,attr"`
		Streams   string `xml:",chardata"`
	} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell DesiredStream"`
}

type send struct {
	Stream struct {
		Name      string `xml:"Name,attr"`
		CommandID string `xml:"CommandId,attr"`
		End       string `xml:"End,attr"`
		Data      string `xml:",chardata"`
	} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
}

type signal struct {
	CommandID string `xml:"CommandId,attr"`
	Code      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Code"`
}
