package notify

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
	"time"
)

// Report is a scheduled report sent by e-mail: a plain-text summary and the
// report as a self-contained HTML document (its style sheet inline), which
// mail clients show and which also comes as an attachment to open in a
// browser and print.
type Report struct {
	Subject  string
	Text     string
	HTML     []byte
	FileName string // of the attachment, e.g. "web-servers-2026-06-01.html"
}

// buildMessage renders m: a report, or alert events (BuildMail).
func buildMessage(from string, to []string, m *Message) []byte {
	if m.Report != nil {
		return BuildReportMail(from, to, m)
	}
	return BuildMail(from, to, m)
}

// BuildReportMail renders a report message: multipart/mixed with a
// multipart/alternative body (text, HTML) and the HTML as an attachment.
func BuildReportMail(from string, to []string, m *Message) []byte {
	r := m.Report
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	dom := "vigil.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 {
		dom = from[at+1:]
	}
	at := m.SentAt
	if at.IsZero() {
		at = time.Now()
	}
	var body bytes.Buffer
	mixed := multipart.NewWriter(&body)

	var alt bytes.Buffer
	aw := multipart.NewWriter(&alt)
	qpPart(aw, `text/plain; charset="utf-8"`, []byte(r.Text))
	qpPart(aw, `text/html; charset="utf-8"`, r.HTML)
	_ = aw.Close()
	ph := textproto.MIMEHeader{}
	ph.Set("Content-Type", `multipart/alternative; boundary="`+aw.Boundary()+`"`)
	w, _ := mixed.CreatePart(ph)
	_, _ = w.Write(alt.Bytes())

	ah := textproto.MIMEHeader{}
	ah.Set("Content-Type", `text/html; charset="utf-8"`)
	ah.Set("Content-Transfer-Encoding", "base64")
	ah.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": r.FileName}))
	w, _ = mixed.CreatePart(ah)
	enc := base64.StdEncoding.EncodeToString(r.HTML)
	for len(enc) > 76 {
		_, _ = w.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	_, _ = w.Write([]byte(enc + "\r\n"))
	_ = mixed.Close()

	var out bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&out, "%s: %s\r\n", k, v) }
	hdr("From", from)
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", r.Subject))
	hdr("Date", at.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id)+"@"+dom+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `multipart/mixed; boundary="`+mixed.Boundary()+`"`)
	hdr("Auto-Submitted", "auto-generated")
	out.WriteString("\r\n")
	out.Write(body.Bytes())
	return out.Bytes()
}

func qpPart(mw *multipart.Writer, ctype string, body []byte) {
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", ctype)
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	w, _ := mw.CreatePart(h)
	qp := quotedprintable.NewWriter(w)
	_, _ = qp.Write(bytes.ReplaceAll(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n")))
	_ = qp.Close()
}
