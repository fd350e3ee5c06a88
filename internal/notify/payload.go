package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
)

// WebhookVersion is the version of the generic webhook body (docs/alerts.md).
const WebhookVersion = 1

// Webhook headers.
const (
	HeaderSignature = "X-Vigil-Signature"
	HeaderTimestamp = "X-Vigil-Timestamp"
	HeaderDelivery  = "X-Vigil-Delivery"
)

// WebhookPayload is the generic webhook's JSON body.
type WebhookPayload struct {
	Version        int           `json:"version"`
	NotificationID int64         `json:"notification_id"`
	WorkspaceID    int64         `json:"workspace_id"`
	Kind           string        `json:"kind"`
	SentAt         time.Time     `json:"sent_at"`
	Events         []alert.Event `json:"events"`
}

// WebhookBody encodes m as the generic webhook body.
func WebhookBody(m *Message) ([]byte, error) {
	return json.Marshal(WebhookPayload{Version: WebhookVersion, NotificationID: m.NotificationID,
		WorkspaceID: m.WorkspaceID, Kind: m.Kind, SentAt: m.SentAt.UTC(), Events: m.Events})
}

// Sign returns the signature of a webhook delivery: hex HMAC-SHA256, keyed
// with the channel secret, of the timestamp (Unix seconds), a dot, and the
// body. The timestamp is signed so that a captured delivery cannot be
// replayed later under a fresh timestamp.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// SignatureHeaders are the headers of a signed delivery; without a secret
// only the timestamp is sent.
func SignatureHeaders(secret string, at time.Time, body []byte) http.Header {
	ts := at.Unix()
	h := http.Header{}
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	if secret != "" {
		h.Set(HeaderSignature, "sha256="+Sign(secret, ts, body))
	}
	return h
}

// Verify checks a delivery as a receiver should: the signature matches (in
// constant time) and the timestamp is within tolerance of now.
func Verify(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(header.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%s: not a Unix time", HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%s: %s away from now, more than %s", HeaderTimestamp, d.Round(time.Second), tolerance)
	}
	got, ok := strings.CutPrefix(header.Get(HeaderSignature), "sha256=")
	if !ok {
		return fmt.Errorf("%s: missing or not sha256=", HeaderSignature)
	}
	gotMAC, err := hex.DecodeString(got)
	if err != nil {
		return fmt.Errorf("%s: not hex", HeaderSignature)
	}
	want, _ := hex.DecodeString(Sign(secret, ts, body))
	if !hmac.Equal(gotMAC, want) {
		return fmt.Errorf("%s: does not match", HeaderSignature)
	}
	return nil
}

// lines renders the events as short text lines, shared by chat and e-mail.
func eventLines(e alert.Event) []string {
	out := []string{e.Headline()}
	if e.RuleName != "" {
		out = append(out, "Rule: "+e.RuleName)
	}
	keys := make([]string, 0, len(e.Details))
	for k, v := range e.Details {
		if v != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s: %s", k, e.Details[k]))
	}
	return out
}

// SlackBody is a Slack incoming-webhook message: a text fallback and one
// section block per event (at most 45: Slack allows 50 blocks).
func SlackBody(m *Message) ([]byte, error) {
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type block struct {
		Type string `json:"type"`
		Text *text  `json:"text,omitempty"`
	}
	blocks := []block{{Type: "header", Text: &text{Type: "plain_text", Text: clip(m.Subject(), 150)}}}
	for i, e := range m.Events {
		if i == 45 {
			blocks = append(blocks, block{Type: "section", Text: &text{Type: "mrkdwn",
				Text: fmt.Sprintf("… and %d more", len(m.Events)-i)}})
			break
		}
		l := eventLines(e)
		blocks = append(blocks, block{Type: "section", Text: &text{Type: "mrkdwn",
			Text: clip("*"+slackEscape(l[0])+"*\n"+slackEscape(strings.Join(l[1:], "\n")), 3000)}})
	}
	return json.Marshal(struct {
		Text   string  `json:"text"`
		Blocks []block `json:"blocks"`
	}{Text: m.Subject(), Blocks: blocks})
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning to.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// TeamsBody is a Microsoft Teams incoming-webhook MessageCard.
func TeamsBody(m *Message) ([]byte, error) {
	type fact struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	type section struct {
		ActivityTitle string `json:"activityTitle"`
		Facts         []fact `json:"facts,omitempty"`
	}
	color := "2E7D32" // resolved, test: green
	var sections []section
	for i, e := range m.Events {
		if i == 40 {
			sections = append(sections, section{ActivityTitle: fmt.Sprintf("… and %d more", len(m.Events)-i)})
			break
		}
		if e.Kind != alert.KindResolved && e.Kind != alert.KindTest {
			color = "C62828"
		}
		s := section{ActivityTitle: e.Headline()}
		if e.RuleName != "" {
			s.Facts = append(s.Facts, fact{"Rule", e.RuleName})
		}
		if e.HostName != "" {
			s.Facts = append(s.Facts, fact{"Host", e.HostName})
		}
		keys := make([]string, 0, len(e.Details))
		for k := range e.Details {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if e.Details[k] != "" {
				s.Facts = append(s.Facts, fact{k, e.Details[k]})
			}
		}
		sections = append(sections, s)
	}
	return json.Marshal(map[string]any{
		"@type":      "MessageCard",
		"@context":   "https://schema.org/extensions",
		"summary":    m.Subject(),
		"title":      m.Subject(),
		"themeColor": color,
		"sections":   sections,
	})
}

// TextBody is the plain-text e-mail body.
func TextBody(m *Message) string {
	var b strings.Builder
	b.WriteString(m.Subject())
	b.WriteString("\n\n")
	for _, e := range m.Events {
		for _, l := range eventLines(e) {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	b.WriteString("-- \nSent by Vigil")
	if m.NotificationID != 0 {
		fmt.Fprintf(&b, ", notification %d", m.NotificationID)
	}
	b.WriteByte('\n')
	return b.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
