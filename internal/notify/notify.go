// Package notify delivers alert notifications to channels: a generic
// webhook with an HMAC-SHA256 signature, Slack and Microsoft Teams incoming
// webhooks, and e-mail over SMTP. One Send is one attempt; retries are the
// job queue's business, so every function here returns promptly with the
// outcome (and the HTTP status when there was one).
package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/version"
)

// Message is what one notification says.
type Message struct {
	WorkspaceID    int64
	NotificationID int64
	Kind           string // firing, changed, reminder, resolved, digest, test
	Events         []alert.Event
	SentAt         time.Time

	// Report, when set, makes the message a scheduled report (e-mail only;
	// see report_mail.go) instead of alert events.
	Report *Report
}

// Subject is the message's one-line summary (e-mail subject, chat title).
func (m *Message) Subject() string {
	if m.Report != nil {
		return m.Report.Subject
	}
	switch {
	case m.Kind == alert.KindDigest:
		return fmt.Sprintf("Vigil digest: %d alert update(s)", len(m.Events))
	case len(m.Events) == 1:
		return "Vigil " + m.Events[0].Headline()
	default:
		return fmt.Sprintf("Vigil: %d alert update(s)", len(m.Events))
	}
}

// Result is what the receiving end answered.
type Result struct {
	ResponseCode int // HTTP status, or the SMTP reply code of a failure
}

// Sender delivers messages. The zero value works; tests set TLSConfig to
// trust their own SMTP server's certificate.
type Sender struct {
	HTTP *http.Client
	// TLSConfig is the base TLS configuration for SMTP; ServerName is set
	// per channel.
	TLSConfig *tls.Config
	// Timeout bounds one attempt (default 20s).
	Timeout time.Duration
}

func (s *Sender) httpClient() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return &http.Client{Timeout: s.timeout()}
}

func (s *Sender) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 20 * time.Second
}

// Send delivers m to the channel with its opened secrets.
func (s *Sender) Send(ctx context.Context, ch *alert.Channel, sec alert.ChannelSecrets, m *Message) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	if m.Report != nil && ch.Kind != alert.ChannelEmail {
		return Result{}, fmt.Errorf("reports are sent by e-mail only, not to a %s channel", ch.Kind)
	}
	switch ch.Kind {
	case alert.ChannelWebhook:
		body, err := WebhookBody(m)
		if err != nil {
			return Result{}, err
		}
		return s.post(ctx, ch.Config.URL, body, SignatureHeaders(sec.WebhookSecret, m.SentAt, body))
	case alert.ChannelSlack:
		body, err := SlackBody(m)
		if err != nil {
			return Result{}, err
		}
		return s.post(ctx, sec.URL, body, nil)
	case alert.ChannelTeams:
		body, err := TeamsBody(m)
		if err != nil {
			return Result{}, err
		}
		return s.post(ctx, sec.URL, body, nil)
	case alert.ChannelEmail:
		return s.sendMail(ctx, &ch.Config, sec.Password, m)
	}
	return Result{}, fmt.Errorf("unknown channel kind %q", ch.Kind)
}

// post sends a JSON body; any 2xx is success. The response body is read
// (a little of it, for the error message) so the connection is reused.
func (s *Sender) post(ctx context.Context, url string, body []byte, headers http.Header) (Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return Result{}, fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Vigil/"+version.Version)
	for k, v := range headers {
		req.Header[k] = v
	}
	resp, err := s.httpClient().Do(req)
	if err != nil {
		// The URL of Slack and Teams is a credential: url.Error would
		// repeat it in the message that is stored and shown.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			err = ue.Unwrap()
		}
		return Result{}, fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	res := Result{ResponseCode: resp.StatusCode}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.TrimSpace(string(snippet))
		if msg != "" {
			msg = ": " + msg
		}
		return res, fmt.Errorf("webhook answered %s%s", resp.Status, msg)
	}
	return res, nil
}
