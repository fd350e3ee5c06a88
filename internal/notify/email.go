package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
)

// sendMail sends m over SMTP. A password is only ever sent over TLS:
// "starttls" refuses a server that does not offer STARTTLS, and "none" (for
// a local relay) refuses to authenticate at all.
func (s *Sender) sendMail(ctx context.Context, cf *alert.ChannelConfig, password string, m *Message) (Result, error) {
	addr := net.JoinHostPort(cf.SMTPHost, strconv.Itoa(cf.SMTPPort))
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		tlsConf = s.TLSConfig.Clone()
	}
	tlsConf.ServerName = cf.SMTPHost

	d := net.Dialer{}
	var conn net.Conn
	var err error
	if cf.Security == alert.SecurityTLS {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsConf}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return Result{}, fmt.Errorf("smtp connect %s: %w", addr, err)
	}
	// net/smtp has no context: the deadline bounds the whole conversation.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, cf.SMTPHost)
	if err != nil {
		conn.Close()
		return smtpResult(err), fmt.Errorf("smtp greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello("vigil"); err != nil {
		return smtpResult(err), fmt.Errorf("smtp EHLO: %w", err)
	}
	if cf.Security == alert.SecuritySTARTTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return Result{}, fmt.Errorf("smtp server %s does not offer STARTTLS (set security to tls for implicit TLS)", addr)
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return smtpResult(err), fmt.Errorf("smtp STARTTLS: %w", err)
		}
	}
	if cf.Username != "" {
		if cf.Security == alert.SecurityNone {
			return Result{}, errors.New("smtp: refusing to send a password without TLS (security is none)")
		}
		auth, err := pickAuth(c, cf.Username, password, cf.SMTPHost)
		if err != nil {
			return Result{}, err
		}
		if err := c.Auth(auth); err != nil {
			return smtpResult(err), fmt.Errorf("smtp AUTH: %w", err)
		}
	}
	if err := c.Mail(cf.From); err != nil {
		return smtpResult(err), fmt.Errorf("smtp MAIL FROM: %w", err)
	}
	for _, to := range cf.To {
		if err := c.Rcpt(to); err != nil {
			return smtpResult(err), fmt.Errorf("smtp RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return smtpResult(err), fmt.Errorf("smtp DATA: %w", err)
	}
	if _, err := w.Write(buildMessage(cf.From, cf.To, m)); err != nil {
		return Result{}, fmt.Errorf("smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return smtpResult(err), fmt.Errorf("smtp end of data: %w", err)
	}
	_ = c.Quit()
	return Result{ResponseCode: 250}, nil
}

// pickAuth prefers PLAIN and falls back to LOGIN (Office 365 and some
// appliances offer only LOGIN). Both are only used over TLS (see sendMail).
func pickAuth(c *smtp.Client, user, pass, host string) (smtp.Auth, error) {
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return nil, errors.New("smtp server offers no AUTH; remove the username to send without")
	}
	fields := strings.Fields(strings.ToUpper(mechs))
	for _, m := range fields {
		if m == "PLAIN" {
			return plainAuth{user: user, pass: pass}, nil
		}
	}
	for _, m := range fields {
		if m == "LOGIN" {
			return &loginAuth{user: user, pass: pass}, nil
		}
	}
	return nil, fmt.Errorf("smtp server offers AUTH %s; Vigil speaks PLAIN and LOGIN", mechs)
}

// plainAuth is RFC 4616 PLAIN. net/smtp's PlainAuth also checks TLS, but
// judges it by the server name it was given, which a test relay on
// 127.0.0.1 with STARTTLS does not satisfy; sendMail enforces TLS itself.
type plainAuth struct{ user, pass string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("smtp PLAIN: unexpected server challenge")
	}
	return nil, nil
}

// loginAuth is the LOGIN mechanism: the server asks for the user name and
// the password in turn.
type loginAuth struct {
	user, pass string
	step       int
}

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) { return "LOGIN", nil, nil }

func (a *loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch q := strings.ToLower(strings.TrimSpace(string(challenge))); {
	case strings.HasPrefix(q, "user"):
		return []byte(a.user), nil
	case strings.HasPrefix(q, "pass"):
		return []byte(a.pass), nil
	case a.step == 1:
		return []byte(a.user), nil
	case a.step == 2:
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("smtp LOGIN: unexpected challenge %q", challenge)
}

func smtpResult(err error) Result {
	var te *textproto.Error
	if errors.As(err, &te) {
		return Result{ResponseCode: te.Code}
	}
	return Result{}
}

// BuildMail renders the RFC 5322 message: UTF-8 plain text, quoted-
// printable, with an encoded subject.
func BuildMail(from string, to []string, m *Message) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := "vigil.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 {
		domain = from[at+1:]
	}
	at := m.SentAt
	if at.IsZero() {
		at = time.Now()
	}
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", from)
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.Subject()))
	hdr("Date", at.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `text/plain; charset="utf-8"`)
	hdr("Content-Transfer-Encoding", "quoted-printable")
	hdr("Auto-Submitted", "auto-generated")
	if m.NotificationID != 0 {
		hdr("X-Vigil-Notification", strconv.FormatInt(m.NotificationID, 10))
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(TextBody(m), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}
