package notify_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/notify"
)

// FuzzVerify: whatever headers and body a receiver is sent, Verify never
// panics, accepts only a signature made with the secret over that exact
// timestamp and body, and always accepts one that was.
func FuzzVerify(f *testing.F) {
	f.Add("s3cret", "1796198400", "sha256=00", []byte(`{"version":1}`))
	f.Add("", "", "", []byte{})
	f.Add("k", "-1", "sha256=zz", []byte("x"))
	f.Add("k", "99999999999999999999", "md5=abc", []byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, secret, ts, sig string, body []byte) {
		now := time.Unix(1796198400, 0)
		h := http.Header{}
		h.Set(notify.HeaderTimestamp, ts)
		h.Set(notify.HeaderSignature, sig)
		err := notify.Verify(secret, h, body, now, 5*time.Minute)
		if n, perr := strconv.ParseInt(ts, 10, 64); err == nil {
			if perr != nil || sig != "sha256="+notify.Sign(secret, n, body) {
				t.Fatalf("verified a foreign signature %q over %q", sig, ts)
			}
		}
		good := notify.SignatureHeaders(secret, now, body)
		if secret != "" {
			if err := notify.Verify(secret, good, body, now, 5*time.Minute); err != nil {
				t.Fatalf("own signature refused: %v", err)
			}
		}
	})
}
