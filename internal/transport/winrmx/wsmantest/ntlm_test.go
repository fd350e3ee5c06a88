package wsmantest

import (
	"strings"
	"testing"

	"github.com/Azure/go-ntlmssp"
)

// The server's NTLM check against the client side masterzen/winrm uses:
// the right password verifies, a wrong one, another user, or an answer to
// a different challenge (a replay) does not.
func TestVerifyAuthenticate(t *testing.T) {
	users := map[string]string{"svc-vigil": "Corr3ct-Horse", "admin": "Ä-pässwort-日本"}
	lookup := (&Server{Users: users}).password
	tests := []struct {
		name, user, password string
		replay               bool
		wantErr              string
	}{
		{"right password", "svc-vigil", "Corr3ct-Horse", false, ""},
		{"user in another case", "SVC-VIGIL", "Corr3ct-Horse", false, ""},
		{"non-ASCII password", "admin", "Ä-pässwort-日本", false, ""},
		{"wrong password", "svc-vigil", "corr3ct-horse", false, "wrong password"},
		{"unknown user", "mallory", "Corr3ct-Horse", false, "unknown user"},
		{"answer to another challenge", "svc-vigil", "Corr3ct-Horse", true, "wrong password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, sc, err := challengeMessage("VIGILTEST", "WIN-TEST")
			if err != nil {
				t.Fatal(err)
			}
			auth, err := ntlmssp.ProcessChallenge(ch, tc.user, tc.password, true)
			if err != nil {
				t.Fatal(err)
			}
			if tc.replay {
				_, sc, _ = challengeMessage("VIGILTEST", "WIN-TEST")
			}
			a, err := verifyAuthenticate(auth, sc, lookup)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want %q", err, tc.wantErr)
			case err == nil && (!strings.EqualFold(a.User, tc.user) || a.Domain != "VIGILTEST"):
				t.Fatalf("authenticated %+v", a)
			}
		})
	}
}

func FuzzVerifyAuthenticate(f *testing.F) {
	ch, sc, _ := challengeMessage("VIGILTEST", "WIN-TEST")
	good, _ := ntlmssp.ProcessChallenge(ch, "svc-vigil", "Corr3ct-Horse", true)
	f.Add(good)
	f.Add([]byte("NTLMSSP\x00\x03\x00\x00\x00"))
	f.Add(ch)
	lookup := (&Server{Users: map[string]string{"svc-vigil": "Corr3ct-Horse"}}).password
	f.Fuzz(func(t *testing.T, msg []byte) {
		// Any byte string: no panic, and only the genuine message passes.
		if _, err := verifyAuthenticate(msg, sc, lookup); err == nil && string(msg) != string(good) {
			// A different encoding of the same answer (padding after the
			// fields) may verify; the NT response itself must be equal.
			nt, _ := varField(msg, 20)
			gnt, _ := varField(good, 20)
			if string(nt) != string(gnt) {
				t.Fatalf("forged message verified: %x", msg)
			}
		}
	})
}
